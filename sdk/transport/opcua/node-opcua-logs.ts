/**
 * node-opcua's warnings and errors go to standard output by default, which would corrupt what a
 * command prints there (`sensorkit run --json`, `sensorkit model --format nodeset`). This routes
 * them to a sink of the caller's choice (the CLI: standard error), one line each.
 *
 * Its PKCS#1 v1.5 self-test warning on Node 20 (NODE-OPCUA-W27) is dropped: none of the policies
 * sensorkit offers uses PKCS#1 v1.5 (Basic256Sha256 and Aes128_Sha256_RsaOaep use RSA-OAEP,
 * Aes256_Sha256_RsaPss uses RSA-OAEP-256 and PSS).
 */
import { setErrorLogger, setWarningLogger } from 'node-opcua';

/**
 * Sends node-opcua's warning and error lines to `write`.
 *
 * @example
 * ```ts
 * routeNodeOpcuaLogs((line) => process.stderr.write(`${line}\n`))
 * ```
 */
export function routeNodeOpcuaLogs(write: (line: string) => void): void {
  let droppingW27 = false;
  const route = (level: string) => (_context?: unknown, ...args: unknown[]) => {
    const text = args.map((arg) => (typeof arg === 'string' ? arg : String(arg))).join(' ').trim();
    // W27 comes as two calls: the code, then its advice on the next line.
    if (text.includes('NODE-OPCUA-W27')) return void (droppingW27 = true);
    if (droppingW27 && text.includes('security-revert')) return void (droppingW27 = false);
    droppingW27 = false;
    for (const line of text.split('\n')) if (line.trim() !== '') write(`opcua ${level}: ${line.trimEnd()}`);
  };
  setWarningLogger(route('warning'));
  setErrorLogger(route('error'));
}
