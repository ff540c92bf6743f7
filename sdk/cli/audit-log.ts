/** `sensorkit audit-log`: the tamper-evident audit log: verify, show. */
export const AUDIT_LOG_HELP = `Usage: sensorkit audit-log [options]
`;

/**
 * Runs `sensorkit audit-log …`.
 *
 * @example
 * ```ts
 * process.exitCode = await auditLogCommand(['--help'])
 * ```
 */
export async function auditLogCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(AUDIT_LOG_HELP);
  return argv.length === 0 ? 2 : 2;
}
