/**
 * `sensorkit ota keygen|sign|verify|serve`: signed over-the-air updates: keys, manifests, verification, update server.
 */
import { UsageError } from './usage.js';

export const OTA_HELP = `Usage: sensorkit ota keygen|sign|verify|serve [options]
`;

/** Runs the `ota` verb; resolves with the exit code. */
export async function otaCommand(argv: readonly string[]): Promise<number> {
  throw new UsageError(`ota: not available yet (${argv.join(' ')})`);
}
