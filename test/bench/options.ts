/**
 * Benchmark options from the command line (`--name=value` or `--name value`) or the environment
 * (`BENCH_NAME`), so `npm run bench -- --seconds=1` gives a quick run.
 */

/**
 * A positive number option, or `fallback` when it is not given.
 *
 * @example
 * ```ts
 * const seconds = option('seconds', 10) // --seconds=2 or BENCH_SECONDS=2
 * ```
 */
export function option(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  let text: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith(`--${name}=`)) text = arg.slice(name.length + 3);
    else if (arg === `--${name}`) text = args[i + 1];
  }
  text ??= process.env[`BENCH_${name.toUpperCase()}`];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0 && Number.isFinite(value))) throw new TypeError(`Expected \`--${name}\` to be a number above 0, got ${JSON.stringify(text)}`);
  return value;
}
