/**
 * `sensorkit opcua trust THUMBPRINT`: manage the OPC UA server's PKI (trust a client certificate).
 */
import { UsageError } from './usage.js';

export const OPCUA_HELP = `Usage: sensorkit opcua trust THUMBPRINT [options]
`;

/** Runs the `opcua` verb; resolves with the exit code. */
export async function opcuaCommand(argv: readonly string[]): Promise<number> {
  throw new UsageError(`opcua: not available yet (${argv.join(' ')})`);
}
