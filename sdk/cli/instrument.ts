/** `sensorkit instrument`: simulated SCPI instruments for dry runs of test plans. */
export const INSTRUMENT_HELP = `Usage: sensorkit instrument simulate dmm|calibrator|supply|chamber [--port N]
`;

/**
 * Runs `sensorkit instrument …`.
 *
 * @example
 * ```ts
 * process.exitCode = await instrumentCommand(['simulate', 'dmm', '--port', '5025'])
 * ```
 */
export async function instrumentCommand(argv: readonly string[]): Promise<number> {
  process.stdout.write(INSTRUMENT_HELP);
  return argv.length === 0 ? 2 : 2;
}
