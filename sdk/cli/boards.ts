/**
 * `sensorkit boards list`: list serial ports and the boards on them.
 */
import { UsageError } from './usage.js';

export const BOARDS_HELP = `Usage: sensorkit boards list [options]
`;

/** Runs the `boards` verb; resolves with the exit code. */
export async function boardsCommand(argv: readonly string[]): Promise<number> {
  throw new UsageError(`boards: not available yet (${argv.join(' ')})`);
}
