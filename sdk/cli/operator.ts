/**
 * `sensorkit operator`: operator keys and the trust store a device checks signed commands against:
 * keygen, trust (with a role), revoke, list. Nothing here talks to a device.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError } from '../core/errors.js';
import { OPERATOR_ROLES, OperatorTrustStore, isOperatorRole, writeOperatorKey } from '../../security/operators/index.js';
import { UsageError } from './usage.js';

/** The trust store's default path. */
export const DEFAULT_OPERATORS_FILE = '.sensorkit/operators.json';

/** `sensorkit operator`: operator keys and roles for signed commands: keygen, trust, revoke. */
export const OPERATOR_HELP = `Usage: sensorkit operator <keygen|trust|revoke|list> … [options]

Operator keys sign commands and setting changes (COSE_Sign1, Ed25519 or ECDSA P-256); a device
runs a signed request only from a key in its trust store whose role suffices. Roles, lowest first:
${OPERATOR_ROLES.join(' < ')}. By default a command needs an operator and a setting an engineer;
the device model may say otherwise per command or setting.

  operator keygen --out DIR --name NAME    a key pair: DIR/NAME.key (private, 0600), DIR/NAME.pub
  operator trust FILE.pub --role ROLE      trust a public key with a role (again: change its role)
  operator revoke KEYID                    revoke a key (its id, or a unique prefix of 8+ hex digits);
                                           a revoked key cannot be trusted again
  operator list                            keys in the trust store, with roles and revocations

Options:
  --out DIR          keygen: folder of the key files
  --name NAME        keygen: the key's name; trust: the operator's name (default: FILE without .pub)
  --alg ALG          keygen: ed25519 (default) or p256
  --role ROLE        trust: ${OPERATOR_ROLES.join(', ')}
  --store FILE       trust store (default: ${DEFAULT_OPERATORS_FILE})
  --json             list: JSON
  -h, --help         show this help

Examples:
  sensorkit operator keygen --out keys --name alice
  sensorkit operator trust keys/alice.pub --role engineer --store /etc/sensorkit/operators.json
  sensorkit operator revoke 3f9a0c1d --store /etc/sensorkit/operators.json
`;

/**
 * Runs `sensorkit operator …`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await operatorCommand(['keygen', '--out', 'keys', '--name', 'alice'])
 * ```
 */
export async function operatorCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      alg: { type: 'string' },
      role: { type: 'string' },
      store: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(OPERATOR_HELP);
    return 0;
  }
  const [action, ...rest] = positionals;
  const out = process.stdout;
  const storeFile = resolve(values.store ?? DEFAULT_OPERATORS_FILE);
  switch (action) {
    case 'keygen': {
      expectArguments('keygen', rest, 0);
      if (values.out === undefined) throw new UsageError('operator keygen: --out DIR is required');
      if (values.name === undefined) throw new UsageError('operator keygen: --name NAME is required');
      const alg = values.alg ?? 'ed25519';
      if (alg !== 'ed25519' && alg !== 'p256') throw new UsageError(`operator keygen: --alg must be ed25519 or p256, got "${alg}"`);
      const files = await writeOperatorKey(resolve(values.out), values.name, alg);
      out.write(`key ${files.keyId} (${alg}) for ${files.name}\n  private ${files.privateKeyFile} (keep it secret)\n  public  ${files.publicKeyFile} (trust it on devices: sensorkit operator trust ${files.publicKeyFile} --role ROLE)\n`);
      return 0;
    }
    case 'trust': {
      const [file] = expectArguments('trust', rest, 1);
      if (values.role === undefined) throw new UsageError(`operator trust: --role is required (${OPERATOR_ROLES.join(', ')})`);
      if (!isOperatorRole(values.role)) throw new UsageError(`operator trust: --role must be one of ${OPERATOR_ROLES.join(', ')}, got "${values.role}"`);
      let pem: string;
      try {
        pem = await readFile(file!, 'utf8');
      } catch (error) {
        throw new StorageError(file!, `cannot read: ${(error as Error).message}`, { cause: error });
      }
      const store = await OperatorTrustStore.load(storeFile);
      const name = values.name ?? basename(file!).replace(/\.(pub|pem)$/, '');
      const trusted = await store.trust(pem, { role: values.role, name });
      out.write(`trusted ${trusted.keyId} ${trusted.name} as ${trusted.role} in ${storeFile}\n`);
      return 0;
    }
    case 'revoke': {
      const [keyId] = expectArguments('revoke', rest, 1);
      const store = await OperatorTrustStore.load(storeFile);
      const revoked = await store.revoke(keyId!);
      out.write(`revoked ${revoked.keyId} ${revoked.name} (${revoked.role}) on ${revoked.revoked} in ${storeFile}\n`);
      return 0;
    }
    case 'list': {
      expectArguments('list', rest, 0);
      const operators = (await OperatorTrustStore.load(storeFile)).list();
      if (values.json) {
        out.write(`${JSON.stringify(operators.map(({ publicKey: _publicKey, ...operator }) => operator), null, 2)}\n`);
        return 0;
      }
      if (operators.length === 0) out.write(`no operator keys in ${storeFile}\n`);
      for (const operator of operators) {
        out.write(`${operator.keyId}  ${operator.role.padEnd(14)}  ${operator.name.padEnd(16)}  ${operator.revoked === undefined ? `trusted ${operator.added}` : `REVOKED ${operator.revoked}`}\n`);
      }
      return 0;
    }
    case undefined:
      throw new UsageError('operator: expected keygen, trust, revoke or list');
    default:
      throw new UsageError(`operator: unknown action "${action}"; expected keygen, trust, revoke or list`);
  }
}

function expectArguments(action: string, rest: readonly string[], count: number): string[] {
  if (rest.length !== count) throw new UsageError(`operator ${action}: expected ${count === 0 ? 'no arguments' : `${count} argument${count > 1 ? 's' : ''}`}, got ${rest.length}`);
  return [...rest];
}
