/**
 * `sensorkit hil verify DIR/record.json|DIR (--key PUB | --any-key)`: is a record intact, and
 * signed by a key the verifier trusts.
 */
import type { KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import { StorageError } from '../../core/errors.js';
import { readPublicKey } from '../../../ota/keys/keys.js';
import { verifyRecord } from '../../../hil/record/sign.js';
import { readInput } from '../ota/options.js';
import { parseOneLine } from './args.js';
import { claimProblem, recordSet } from './station-folder.js';
import { UsageError } from '../usage.js';

export const VERIFY_HELP = `Usage: sensorkit hil verify DIR/record.json|DIR (--key PUBLIC.pem... | --any-key)

Checks a run record's COSE_Sign1 signature over its canonical content (RFC 8785 JSON without the
signature member) and that the file is the exact text that was written. With --key, the record
must be signed by that key (repeat --key to accept any of several). Without --key, the signature
is checked against the public key the record carries: a change is found, but anyone can re-sign a
changed record with a key of their own, so the record is not accepted unless --any-key says that
an intact record is enough.

A folder stands for its record.json. The folder of a run on several devices stands for every
*/record.json in it; its summary.json must list each of them once, and only them, with the outcome
and serial number the records carry.

Exits 0 and prints one line per record when every record verifies. Exits 1 with the reason when a
byte of the results changed, the key is wrong, the record is not signed, the signer was not checked
(no --key and no --any-key), or summary.json disagrees with the folder. Exits 2 when the file or key
cannot be read.

Options:
  --key FILE             SPKI public key PEM (from \`sensorkit hil keygen\`); repeatable
  --any-key              accept a record signed by any key, checking only that it is intact
  -h, --help             show this help
`;

/**
 * Reads public keys for `--key`, as one-line errors naming the file.
 *
 * @example
 * ```ts
 * const keys = await readPublicKeys(['keys/public.pem'])
 * ```
 */
export async function readPublicKeys(files: readonly string[]): Promise<KeyObject[]> {
  return Promise.all(
    files.map((file) =>
      readPublicKey(file).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new StorageError(file, `cannot read --key: ${code}`, { cause: error });
        throw new UsageError(`--key ${file}: not a P-256 or Ed25519 public key in PEM: ${(error as Error).message.split('\n')[0]}`);
      }),
    ),
  );
}

/**
 * Runs `sensorkit hil verify`; resolves with 0 when every record verifies, 1 when one is refused.
 *
 * @example
 * ```ts
 * await verifyCommand(['out/record.json', '--key', 'keys/public.pem']) // 0
 * ```
 */
export async function verifyCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOneLine(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { key: { type: 'string', multiple: true }, 'any-key': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    }),
  );
  if (values.help) return void process.stdout.write(VERIFY_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil verify takes one record.json, got ${positionals.length}`);
  if (values.key !== undefined && values['any-key']) throw new UsageError('give --key or --any-key, not both');
  const keys = values.key === undefined ? undefined : await readPublicKeys(values.key);
  const set = await recordSet(positionals[0]!);
  let refused = 0;
  const refuse = (line: string): void => {
    process.stderr.write(`sensorkit: ${line}\n`);
    refused++;
  };
  for (const problem of set.problems) refuse(problem);
  for (const file of set.files) {
    const result = verifyRecord(await readInput(file), keys);
    if (!result.ok) {
      refuse(`${file}: ${result.message}`);
      continue;
    }
    if (!result.trusted && !values['any-key']) {
      refuse(`${file}: signature intact, but the signer was not checked: give --key PUBLIC.pem (signed by ${result.keyId}), or --any-key to accept any signer`);
      continue;
    }
    const r = result.record;
    const claim = set.claims.get(file);
    const contradiction = claim === undefined ? undefined : claimProblem(claim, r);
    if (contradiction !== undefined) {
      refuse(`${file}: ${contradiction}`);
      continue;
    }
    const who = result.trusted ? 'the key given' : 'any key accepted: the signer was not checked';
    process.stdout.write(
      `ok: ${file}: signed ${result.algorithm} by ${result.keyId} (${who}); ${r.plan.id} ${r.plan.version} on ${r.target.description}, device ${r.device.model} ${r.device.serialNumber}, outcome ${r.outcome}\n`,
    );
  }
  return refused === 0 ? 0 : 1;
}
