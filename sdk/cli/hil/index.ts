/** `sensorkit hil`: run, verify and replay test plans. */
export const HIL_HELP = `Usage: sensorkit hil run|verify|replay|list|keygen [options]
`;

/**
 * Runs `sensorkit hil …`.
 *
 * @example
 * ```ts
 * process.exitCode = await hilCommand(['list'])
 * ```
 */
export async function hilCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(HIL_HELP);
  return argv.length === 0 ? 2 : 2;
}
