/** `sensorkit hil list`: the plans shipped with sensorkit. */
import { parseArgs } from 'node:util';
import { shippedPlans } from '../../../hil/plan/index.js';
import { UsageError } from '../usage.js';

export const LIST_HELP = `Usage: sensorkit hil list [--json]

Lists the test plans shipped with sensorkit; \`sensorkit hil run NAME\` runs one by its name.

Options:
  --json                 one JSON array of {"id", "file", "description"}
  -h, --help             show this help
`;

/**
 * Runs `sensorkit hil list`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await listCommand([]) // prints "env-node-temperature  …"
 * ```
 */
export async function listCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) return void process.stdout.write(LIST_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`hil list takes no arguments, got ${positionals.join(' ')}`);
  const plans = shippedPlans();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(plans.map((p) => ({ id: p.id, file: p.file, description: p.description })))}\n`);
    return 0;
  }
  const width = Math.max(4, ...plans.map((p) => p.id.length));
  process.stdout.write(`${'PLAN'.padEnd(width)}  DESCRIPTION\n${plans.map((p) => `${p.id.padEnd(width)}  ${p.description}`).join('\n')}\n`);
  return 0;
}
