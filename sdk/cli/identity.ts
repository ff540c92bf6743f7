/** `sensorkit identity`: device identity: key pair and certificate (init, show, csr). */
export const IDENTITY_HELP = `Usage: sensorkit identity [options]
`;

/**
 * Runs `sensorkit identity …`.
 *
 * @example
 * ```ts
 * process.exitCode = await identityCommand(['--help'])
 * ```
 */
export async function identityCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(IDENTITY_HELP);
  return argv.length === 0 ? 2 : 2;
}
