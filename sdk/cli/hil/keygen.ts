/** `sensorkit hil keygen --out DIR`: a key pair that signs run records. */
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError } from '../../core/errors.js';
import { writeSigningKey, type SignatureAlgorithm } from '../../../ota/keys/keys.js';
import { recordKeyId } from '../../../hil/record/sign.js';
import { UsageError } from '../usage.js';

export const KEYGEN_HELP = `Usage: sensorkit hil keygen --out DIR [--alg p256|ed25519]

Writes a key pair that signs run records: DIR/private.pem (PKCS#8, mode 0600) and DIR/public.pem
(SPKI), and prints the key id records name (SHA-256 of the SPKI). Never overwrites a key.

Options:
  --out DIR              where to write the key pair (created if missing)
  --alg p256|ed25519     ECDSA P-256, COSE ES256 (default), or Ed25519, COSE EdDSA
  -h, --help             show this help
`;

/**
 * Runs `sensorkit hil keygen`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await keygenCommand(['--out', 'keys/station-1']) // 0
 * ```
 */
export async function keygenCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { out: { type: 'string' }, alg: { type: 'string', default: 'p256' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(KEYGEN_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`hil keygen takes no arguments, got ${positionals.join(' ')}`);
  if (values.out === undefined || values.out === '') throw new UsageError('hil keygen: --out DIR is required');
  if (values.alg !== 'p256' && values.alg !== 'ed25519') throw new UsageError(`--alg: expected p256 or ed25519, got "${values.alg}"`);
  let pair;
  try {
    pair = await writeSigningKey(values.out, values.alg as SignatureAlgorithm);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StorageError(join(values.out, 'private.pem'), code === 'EEXIST' ? 'a key already exists; not overwritten' : `cannot write: ${code ?? (error as Error).message}`, { cause: error });
  }
  const keyId = recordKeyId(createPublicKey(pair.publicPem));
  process.stdout.write(`${pair.algorithm === 'p256' ? 'ES256 (P-256)' : 'EdDSA (Ed25519)'} key ${keyId}\n  private: ${join(values.out, 'private.pem')} (0600)\n  public:  ${join(values.out, 'public.pem')}\n`);
  return 0;
}
