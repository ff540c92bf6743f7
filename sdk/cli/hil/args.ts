/** Command-line parsing shared by the `hil` verbs. */
import { UsageError } from '../usage.js';

/**
 * Runs a `node:util` `parseArgs` call and turns its errors, some of which span three lines
 * (`--seed -1`: "argument is ambiguous … use '--seed=-XYZ'"), into a one-line {@link UsageError}.
 *
 * @example
 * ```ts
 * const { values } = parseOneLine(() => parseArgs({ args, options: { seed: { type: 'string' } } }))
 * ```
 */
export function parseOneLine<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!(error instanceof TypeError) || typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw error;
    throw new UsageError(error.message.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' '));
  }
}

/**
 * Parses `--seed`: a decimal integer from 0 to 2^53 − 1, written with digits only (`1e3` and
 * `0x10` are refused, so that the seed in a record is the one typed).
 *
 * @example
 * ```ts
 * parseSeed('42') // 42
 * ```
 */
export function parseSeed(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--seed: expected a number, got "${text}"`);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`--seed: expected an integer from 0 to ${Number.MAX_SAFE_INTEGER} in decimal digits, got "${text}"`);
  return value;
}
