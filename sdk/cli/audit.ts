/** `sensorkit audit`: hardening audit of how a device would run (IEC 62443-4-2). */
export const AUDIT_HELP = `Usage: sensorkit audit [options]
`;

/**
 * Runs `sensorkit audit …`.
 *
 * @example
 * ```ts
 * process.exitCode = await auditCommand(['--help'])
 * ```
 */
export async function auditCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(AUDIT_HELP);
  return argv.length === 0 ? 2 : 2;
}
