/** `sensorkit operator`: operator keys and roles for signed commands: keygen, trust, revoke. */
export const OPERATOR_HELP = `Usage: sensorkit operator [options]
`;

/**
 * Runs `sensorkit operator …`.
 *
 * @example
 * ```ts
 * process.exitCode = await operatorCommand(['--help'])
 * ```
 */
export async function operatorCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(OPERATOR_HELP);
  return argv.length === 0 ? 2 : 2;
}
