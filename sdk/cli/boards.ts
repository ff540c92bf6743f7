/**
 * `sensorkit boards list`: list serial ports and the boards on them.
 */
import { parseArgs } from 'node:util';
import { listSerialPorts } from '../../boards/firmata/serial-line.js';
import { UsageError } from './usage.js';

export const BOARDS_HELP = `Usage: sensorkit boards list [options]

Lists the serial ports a Firmata board can be on (USB CDC-ACM and USB-serial adapters), with a
readable description. Open one with: sensorkit run DEVICE --board firmata:PATH

Options:
  --json        one JSON object per port: {"path","description","byId",…}
  --dev DIR     scan this folder instead of /dev (for tests)
  -h, --help    show this help
`;

/**
 * Runs the `boards` verb; resolves with the exit code. Throws `UsageError` for a wrong command line.
 *
 * @example
 * ```ts
 * process.exitCode = await boardsCommand(['list', '--json'])
 * ```
 */
export async function boardsCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      dev: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(BOARDS_HELP);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (action !== 'list') throw new UsageError(action === undefined ? 'boards: which action? (list)' : `boards: unknown action "${action}" (available: list)`);
  if (extra.length > 0) throw new UsageError(`boards list takes no arguments, got: ${extra.join(' ')}`);
  const { ports, note } = await listSerialPorts(values.dev === undefined ? {} : { devRoot: values.dev, useSerialport: false });
  if (note !== undefined) process.stderr.write(`sensorkit: note: ${note}\n`);
  if (values.json) {
    for (const port of ports) process.stdout.write(`${JSON.stringify(port)}\n`);
    return 0;
  }
  if (ports.length === 0) {
    process.stdout.write('no serial ports found (an Arduino appears as /dev/ttyACM* or /dev/ttyUSB*; `sensorkit emulate firmata` makes an emulated one)\n');
    return 0;
  }
  const width = Math.max(...ports.map((port) => port.path.length));
  for (const port of ports) process.stdout.write(`${port.path.padEnd(width)}  ${port.description}${port.byId ? `  (${port.byId})` : ''}\n`);
  return 0;
}
