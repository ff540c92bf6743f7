/** Command-line usage errors and option parsing shared by the verbs. */
import { SensorkitError } from '../core/errors.js';

/** A wrong command line: printed as one line with a hint to `--help`, exit code 2. */
export class UsageError extends SensorkitError {
  constructor(message: string) {
    super('ERR_VALIDATION', message);
  }
}

/** Parses a numeric option, with a precise message naming the option. */
export function parseNumberOption(name: string, text: string, rule: { integer?: boolean; min?: number; max?: number }): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${name}: expected a number, got "${text}"`);
  if (rule.integer && !Number.isInteger(value)) throw new UsageError(`${name}: expected an integer, got "${text}"`);
  if (rule.min !== undefined && value < rule.min) throw new UsageError(`${name}: must be at least ${rule.min}, got ${text}`);
  if (rule.max !== undefined && value > rule.max) throw new UsageError(`${name}: must be at most ${rule.max}, got ${text}`);
  return value;
}
