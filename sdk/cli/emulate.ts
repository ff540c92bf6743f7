/**
 * `sensorkit emulate firmata`: serve an emulated board over a real protocol (Firmata on a pseudo-terminal).
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FirmataPtyServer } from '../../boards/emulated/firmata/pty-server.js';
import { CONTROL_HELP, runControlCommand } from '../../boards/emulated/firmata/control.js';
import { SystemClock } from '../core/clock.js';
import { loadDeviceFile } from '../runtime/device-file.js';
import { createEmulatedBoard } from '../runtime/device-source.js';
import { UsageError, parseNumberOption } from './usage.js';

const DEFAULT_DEVICE = fileURLToPath(new URL('../../examples/env-node', import.meta.url));

export const EMULATE_HELP = `Usage: sensorkit emulate firmata [options]

Serves a device's emulated board (its parts, signals and faults) behind a Firmata 2.5 engine on a
pseudo-terminal made by socat. The FIRST line of output is the path a Firmata host opens (any baud
rate: a pty has none); it stays the same when the host closes and reopens it. Then, e.g.:

  sensorkit run examples/env-node --board firmata:PATH

Options:
  --device DEVICE   device file or folder whose emulation() wires the board (default: examples/env-node)
  --seed N          seed of the emulated board (default: 1; same seed, same world as \`run --seed N\`)
  --link PATH       where to create the client's symlink (default: a new temporary folder)
  --socat PATH      socat executable (default: socat on PATH)
  --exit-on-eof     stop when stdin ends (for scripts)
  -h, --help        show this help

Commands on stdin, one per line, while it runs (replies on stdout):
${CONTROL_HELP.replace(/^commands:\n/, '')}
Ctrl-C stops the emulator (and its socat; on Linux with util-linux setpriv, socat also ends if the
emulator is killed).
`;

/**
 * Runs the `emulate` verb until Ctrl-C (or the end of stdin with --exit-on-eof); resolves with the
 * exit code. Throws `UsageError` for a wrong command line, `StateError` when socat cannot start.
 *
 * @example
 * ```ts
 * process.exitCode = await emulateCommand(['firmata', '--seed', '7'])
 * ```
 */
export async function emulateCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      device: { type: 'string' },
      seed: { type: 'string', default: '1' },
      link: { type: 'string' },
      socat: { type: 'string' },
      'exit-on-eof': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(EMULATE_HELP);
    return 0;
  }
  const [protocol, ...extra] = positionals;
  if (protocol === undefined) throw new UsageError('emulate: which protocol? (firmata)');
  if (protocol !== 'firmata') throw new UsageError(`emulate: unknown protocol "${protocol}" (available: firmata)`);
  if (extra.length > 0) throw new UsageError(`emulate firmata takes no further arguments, got: ${extra.join(' ')}`);
  const seed = parseNumberOption('--seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 });

  // Signals are caught from here on, so a Ctrl-C while socat starts still stops socat.
  let stopped = false;
  let wake = (): void => undefined;
  const stop = (): void => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await serve(values, seed, () => stopped, (resolve) => (wake = resolve));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function serve(
  values: { device?: string | undefined; link?: string | undefined; socat?: string | undefined; 'exit-on-eof'?: boolean | undefined },
  seed: number,
  stopped: () => boolean,
  onStop: (resolve: () => void) => void,
): Promise<number> {
  const loaded = await loadDeviceFile(values.device ?? DEFAULT_DEVICE);
  const clock = new SystemClock();
  const board = await createEmulatedBoard(loaded, clock, seed, (line) => process.stderr.write(`sensorkit: warning: ${line}\n`));
  const server = new FirmataPtyServer({
    board,
    firmwareName: `sensorkit-${loaded.model.id}.ino`,
    ...(values.link === undefined ? {} : { clientLink: values.link }),
    ...(values.socat === undefined ? {} : { socat: values.socat }),
  });
  let path: string;
  try {
    path = await server.start();
  } catch (error) {
    await server.close();
    await board.close();
    throw error;
  }
  server.on('error', (error) => process.stderr.write(`sensorkit: emulate: ${error.message}\n`));
  const out = process.stdout;
  out.write(`${path}\n`);
  out.write(`emulating ${loaded.model.board.name} for ${loaded.model.id}, seed ${seed}, Firmata 2.5 on ${path} (${server.pty ?? 'pty'}); type "help" for commands\n`);
  server.on('session', () => out.write('session: a host opened the line\n'));

  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    const reply = runControlCommand(line, { faults: board.faults, stats: () => server.stats, drop: () => server.drop() });
    if (reply !== '') out.write(`${reply}\n`);
  });
  await new Promise<void>((resolve) => {
    onStop(resolve);
    if (values['exit-on-eof']) lines.once('close', resolve);
    if (stopped()) resolve();
  });
  lines.close();
  await server.close();
  await board.close();
  return 0;
}
