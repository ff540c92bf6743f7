/** `sensorkit cmd`: send a signed command to a device. */
export const CMD_HELP = `Usage: sensorkit cmd [options]
`;

/**
 * Runs `sensorkit cmd …`.
 *
 * @example
 * ```ts
 * process.exitCode = await cmdCommand(['--help'])
 * ```
 */
export async function cmdCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(CMD_HELP);
  return argv.length === 0 ? 2 : 2;
}
