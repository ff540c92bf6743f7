/**
 * The password guesser of the OPC UA login flood test, as its own process:
 *   node --import ./bin/register-ts.js test/integration/opcua-login-flooder.ts URL CLIENT_PKI USER COUNT
 * opens one secure channel (Basic256Sha256, SignAndEncrypt) with the client certificate in
 * CLIENT_PKI (trusted by the server beforehand), then activates COUNT sessions at once, each with
 * USER and a wrong password; prints the outcomes as one JSON array (`ok` or the status name) and
 * exits 0.
 */
import { MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, UserTokenType } from 'node-opcua';

const [url, clientPki, user, countText] = process.argv.slice(2);
if (url === undefined || clientPki === undefined || user === undefined) throw new Error('usage: opcua-login-flooder.ts URL CLIENT_PKI USER COUNT');
const count = Number(countText ?? 100);
const client = OPCUAClient.create({
  applicationName: 'sensorkit-test-client',
  endpointMustExist: false,
  connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
  securityMode: MessageSecurityMode.SignAndEncrypt,
  securityPolicy: SecurityPolicy.Basic256Sha256,
  clientCertificateManager: new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: true }),
});
await client.connect(url);
const outcomes = await Promise.all(
  Array.from({ length: count }, (_, i) =>
    client.createSession({ type: UserTokenType.UserName, userName: user, password: `wrong-guess-${i}` }).then(
      async (session) => {
        await session.close();
        return 'ok';
      },
      (error: Error) => /Bad[A-Za-z]+/.exec(error.message)?.[0] ?? error.message,
    ),
  ),
);
await client.disconnect();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
process.exit(0);
