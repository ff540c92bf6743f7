/** `sensorkit ota fleet simulate`: simulated devices rehearsing a rollout against an update server. */
import { UsageError } from '../usage.js';

export const FLEET_SIMULATE_HELP = `Usage: sensorkit ota fleet simulate --devices N --server URL [options]
`;

/**
 * Runs `sensorkit ota fleet simulate`.
 *
 * @example
 * ```ts
 * await fleetSimulateCommand(['--devices', '100', '--server', 'http://127.0.0.1:8081/'])
 * ```
 */
export async function fleetSimulateCommand(argv: readonly string[]): Promise<number> {
  throw new UsageError(`fleet simulate is not available yet (${argv.length} arguments)`);
}
