/**
 * `sensorkit identity`: the device's key pair and certificate: `init` (a new key and a
 * self-signed certificate), `show`, `csr` (a PKCS#10 request for a factory CA) and `import-cert`
 * (install the certificate the CA issued). The provisioning secret that encrypts the key comes
 * from the environment, never from the command line.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import {
  DEFAULT_IDENTITY_DIR,
  PROVISIONING_SECRET_ENV,
  PROVISIONING_SECRET_FILE_ENV,
  describeIdentity,
  importIdentityCertificate,
  initIdentity,
  loadIdentity,
  opcuaApplicationUri,
  provisioningSecret,
  writeIdentityCsr,
  type AltNames,
  type IdentitySubject,
} from '../../security/identity/index.js';
import { UsageError, parseNumberOption } from './usage.js';

export const IDENTITY_HELP = `Usage: sensorkit identity <init|show|csr|import-cert> [options]

The device identity: one key pair (P-256, Ed25519 or RSA-3072) and its X.509 certificate, for
MQTT mutual TLS, signing records, the update server and, when RSA, the OPC UA application
certificate (opcua.identity). Its folder holds key.pem (owner-only, 0600) or key.enc.json
(encrypted at rest), cert.pem and csr.pem.

  identity init --cn NAME        a new key pair and a self-signed certificate (development)
  identity show [--json]         subject, issuer, key type, fingerprint, validity
  identity csr [--out FILE]      a PKCS#10 request for a factory CA (PEM on stdout, and csr.pem)
  identity import-cert FILE      install the certificate the CA issued (it must hold this key)

Options:
  --dir DIR            the identity folder (default: ${DEFAULT_IDENTITY_DIR})
  --key-type TYPE      init: p256 (default), ed25519, or rsa (3072 bits: also the OPC UA
                       application certificate; subjectAltName then defaults to the URI
                       urn:sensorkit:<cn> and this host's name). --type is the same
  --cn NAME            subject common name, e.g. the device id (init: required; csr: default
                       the certificate's)
  --org NAME           subject organisation (the manufacturer)
  --serial TEXT        subject serialNumber (the device's serial number)
  --uri URI            subjectAltName URI (repeatable)
  --dns NAME           subjectAltName DNS name (repeatable)
  --days N             init: validity of the self-signed certificate (default: 365)
  --encrypt            init: encrypt the key (AES-256-GCM, key from scrypt) under the provisioning
                       secret in $${PROVISIONING_SECRET_ENV} or the file named by
                       $${PROVISIONING_SECRET_FILE_ENV} (never given on the command line)
  --ca FILE            import-cert: the CA certificate it must be issued by
  --out FILE           csr: write the request here instead of standard output
  --json               show: one JSON object
  -h, --help           show this help

Examples:
  sensorkit identity init --cn acme-env-node-0042 --org "Acme Sensors" --serial 0042
  sensorkit identity init --key-type rsa --cn acme-env-node-0042    # one identity for MQTT and OPC UA
  SENSORKIT_PROVISIONING_SECRET_FILE=/run/secrets/prov sensorkit identity init --cn dev-7 --encrypt
  sensorkit identity csr --out dev-7.csr && sensorkit identity import-cert dev-7.crt --ca factory-ca.pem
`;

const OPTIONS = {
  dir: { type: 'string' },
  'key-type': { type: 'string' },
  type: { type: 'string' },
  cn: { type: 'string' },
  org: { type: 'string' },
  serial: { type: 'string' },
  uri: { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  days: { type: 'string' },
  encrypt: { type: 'boolean', default: false },
  ca: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Runs `sensorkit identity …`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await identityCommand(['show', '--dir', '.sensorkit/identity'])
 * ```
 */
export async function identityCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(IDENTITY_HELP);
    return 0;
  }
  const [action, ...rest] = positionals;
  const dir = values.dir ?? DEFAULT_IDENTITY_DIR;
  let altNames: AltNames = { ...(values.uri ? { uris: values.uri } : {}), ...(values.dns ? { dnsNames: values.dns } : {}) };
  const subjectFrom = (): IdentitySubject | undefined =>
    values.cn === undefined ? undefined : { commonName: values.cn, ...(values.org === undefined ? {} : { organization: values.org }), ...(values.serial === undefined ? {} : { serialNumber: values.serial }) };
  const noArguments = (): void => {
    if (rest.length > 0) throw new UsageError(`identity ${action} takes no arguments, got ${rest.join(' ')}`);
  };
  switch (action) {
    case 'init': {
      noArguments();
      const subject = subjectFrom();
      if (subject === undefined) throw new UsageError('identity init: --cn NAME is required (e.g. the device id)');
      if (values['key-type'] !== undefined && values.type !== undefined && values['key-type'] !== values.type) throw new UsageError('--key-type and --type differ; give one');
      const keyType = values['key-type'] ?? values.type ?? 'p256';
      if (keyType !== 'p256' && keyType !== 'ed25519' && keyType !== 'rsa') throw new UsageError(`--key-type: expected p256, ed25519 or rsa, got "${keyType}"`);
      if (keyType === 'rsa') {
        // The OPC UA application certificate names the server's application URI and host (IEC 62541-6 §6.2.2).
        if (altNames.uris === undefined) altNames = { ...altNames, uris: [opcuaApplicationUri(subject.commonName)] };
        if (altNames.dnsNames === undefined) altNames = { ...altNames, dnsNames: [hostname()] };
      }
      const secret = values.encrypt ? provisioningSecret() : undefined;
      if (values.encrypt && secret === undefined) throw new UsageError(`--encrypt: set $${PROVISIONING_SECRET_ENV} or $${PROVISIONING_SECRET_FILE_ENV} (the secret is never given on the command line)`);
      const days = values.days === undefined ? undefined : parseNumberOption('--days', values.days, { integer: true, min: 1, max: 36_500 });
      const identity = await initIdentity({ dir, keyType, subject, altNames, ...(days === undefined ? {} : { days }), ...(secret === undefined ? {} : { secret }) });
      process.stdout.write(`${dir}: ${identity.keyType} key (${identity.encrypted ? 'encrypted' : 'owner-only file'}), self-signed certificate ${identity.fingerprint}\n`);
      if (keyType === 'rsa') process.stdout.write(`subjectAltName ${identity.certificate?.subjectAltName ?? '-'} (the OPC UA application URI and host: opcua.identity)\n`);
      return 0;
    }
    case 'show': {
      noArguments();
      const identity = await loadIdentity(dir, { secret: provisioningSecret() });
      const summary = describeIdentity(identity, Date.now());
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ dir, ...summary })}\n`);
        return 0;
      }
      const lines = [
        `identity    ${dir}`,
        `subject     ${summary.subject ?? '(no certificate)'}`,
        `issuer      ${summary.issuer === undefined ? '-' : summary.selfSigned ? `${summary.issuer} (self-signed)` : summary.issuer}`,
        `key         ${summary.keyType} (${summary.keyStorage})`,
        `fingerprint SHA-256 ${summary.fingerprint}`,
        `valid       ${summary.notBefore ?? '-'} to ${summary.notAfter ?? '-'}${summary.daysLeft === undefined ? '' : summary.daysLeft < 0 ? ' (expired)' : ` (${summary.daysLeft} days left)`}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
    case 'csr': {
      noArguments();
      const identity = await loadIdentity(dir, { secret: provisioningSecret() });
      const text = await writeIdentityCsr(identity, subjectFrom(), altNames.uris || altNames.dnsNames ? altNames : undefined);
      if (values.out === undefined) process.stdout.write(text);
      else {
        await writeFile(values.out, text);
        process.stdout.write(`${values.out}: certificate request for ${identity.fingerprint}\n`);
      }
      return 0;
    }
    case 'import-cert': {
      if (rest.length !== 1) throw new UsageError(`identity import-cert takes one FILE, got ${rest.length}`);
      const secret = provisioningSecret();
      const identity = await loadIdentity(dir, { secret });
      const ca = values.ca === undefined ? undefined : await readText(values.ca);
      const installed = await importIdentityCertificate(identity, await readText(rest[0]!), { ...(ca === undefined ? {} : { ca }), ...(secret === undefined ? {} : { secret }) });
      const summary = describeIdentity(installed, Date.now());
      process.stdout.write(`${dir}: installed ${summary.subject} issued by ${summary.issuer}, valid to ${summary.notAfter}\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('identity: expected init, show, csr or import-cert');
    default:
      throw new UsageError(`identity: unknown action "${action}"; expected init, show, csr or import-cert`);
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
