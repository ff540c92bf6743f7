/**
 * `sensorkit emulate firmata`: serve an emulated board over a real protocol (Firmata on a pseudo-terminal).
 */
import { UsageError } from './usage.js';

export const EMULATE_HELP = `Usage: sensorkit emulate firmata [options]
`;

/** Runs the `emulate` verb; resolves with the exit code. */
export async function emulateCommand(argv: readonly string[]): Promise<number> {
  throw new UsageError(`emulate: not available yet (${argv.join(' ')})`);
}
