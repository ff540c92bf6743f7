/** `sensorkit hil verify DIR/record.json [--key PUB]`: is a record intact, and who signed it. */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError } from '../../core/errors.js';
import { readPublicKey } from '../../../ota/keys/keys.js';
import { verifyRecord } from '../../../hil/record/sign.js';
import { readInput } from '../ota/options.js';
import { UsageError } from '../usage.js';

export const VERIFY_HELP = `Usage: sensorkit hil verify DIR/record.json|DIR [--key PUBLIC.pem]...

Checks a run record's COSE_Sign1 signature over its canonical content (RFC 8785 JSON without the
signature member) and that the file is the exact text that was written. With --key, the record
must be signed by that key (repeat --key to accept any of several); without, the public key the
record carries is used: changes are found, but not who signed.

A folder stands for its record.json; the folder of a run on several devices (with summary.json)
stands for every device's record.

Exits 0 and prints one line per record when it verifies; prints the reason and exits 1 when a byte of
the results changed, the key is wrong, or the record is not signed; exits 2 when the file or key
cannot be read.

Options:
  --key FILE             SPKI public key PEM (from \`sensorkit hil keygen\`); repeatable
  -h, --help             show this help
`;

/** The records a path stands for: a file, a run's folder, or a station run's folder (summary.json). */
async function recordFiles(path: string): Promise<string[]> {
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    if (existsSync(join(path, 'record.json')) || !existsSync(join(path, 'summary.json'))) return [join(path, 'record.json')];
    const summary = JSON.parse(await readFile(join(path, 'summary.json'), 'utf8')) as { runs?: { dir?: unknown }[] };
    const dirs = (summary.runs ?? []).map((run) => run.dir).filter((dir): dir is string => typeof dir === 'string');
    if (dirs.length === 0) throw new StorageError(join(path, 'summary.json'), 'names no run with a record');
    return dirs.map((dir) => join(path, dir, 'record.json'));
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError(path, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

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
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { key: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(VERIFY_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil verify takes one record.json, got ${positionals.length}`);
  const files = await recordFiles(positionals[0]!);
  const keys = values.key === undefined ? undefined : await readPublicKeys(values.key);
  let refused = 0;
  for (const file of files) {
    const result = verifyRecord(await readInput(file), keys);
    if (!result.ok) {
      process.stderr.write(`sensorkit: ${file}: ${result.message}\n`);
      refused++;
      continue;
    }
    const r = result.record;
    const who = result.trusted ? 'the key given' : 'the key it carries; give --key to check who signed';
    process.stdout.write(
      `ok: ${file}: signed ${result.algorithm} by ${result.keyId} (${who}); ${r.plan.id} ${r.plan.version} on ${r.target.description}, device ${r.device.model} ${r.device.serialNumber}, outcome ${r.outcome}\n`,
    );
  }
  return refused === 0 ? 0 : 1;
}
