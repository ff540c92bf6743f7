/**
 * `sensorkit ota keygen|sign|verify|serve|campaign|provision|update`: signed over-the-air updates.
 * The commands live in ota/cli/; this verb only hands the arguments over.
 */
import { OTA_USAGE, runOta } from '../../ota/cli/index.js';

export const OTA_HELP = OTA_USAGE;

/** Runs the `ota` verb; resolves with the exit code. */
export async function otaCommand(argv: readonly string[]): Promise<number> {
  return runOta(argv);
}
