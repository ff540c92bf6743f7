/**
 * `sensorkit run [DEVICE]`: runs a device on a board and shows its readings.
 */
import { parseArgs } from 'node:util';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { SystemClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { Device } from '../device/device.js';
import { loadDeviceFile } from '../device/load.js';
import type { Sample } from '../model/sample.js';
import { decimalsFor, renderTable } from './live-table.js';
import { UsageError, parseNumberOption } from './usage.js';

export const RUN_HELP = `Usage: sensorkit run [DEVICE] [options]

Runs a device and shows the latest value, unit and quality of each channel.

  DEVICE               a device file (.ts or .js) or a folder with device.ts/device.js
                       (default: examples/env-node)

Options:
  --board NAME         board to run on: emulated (default: emulated)
  --seed N             seed of the emulated board's random signals (default: 1)
  --duration SECONDS   stop after this many seconds (default: run until Ctrl-C)
  --json               print one JSON object per reported reading:
                       {"channel","value","unit","quality","time"}; events go to stderr
  --serial TEXT        serial number, when the model takes it from the board or environment
  -h, --help           show this help
`;

const BOARDS = ['emulated'] as const;

/** Runs the `run` verb; resolves with the exit code. */
export async function runCommand(argv: readonly string[], defaultDevice: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      board: { type: 'string', default: 'emulated' },
      seed: { type: 'string', default: '1' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      serial: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`run takes one DEVICE, got ${positionals.length}: ${positionals.join(' ')}`);
  if (!(BOARDS as readonly string[]).includes(values.board)) {
    throw new UsageError(`--board: unknown board "${values.board}"; available: ${BOARDS.join(', ')}`);
  }
  const seed = parseNumberOption('--seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const durationS = values.duration === undefined ? undefined : parseNumberOption('--duration', values.duration, { min: 0.001 });

  const loaded = await loadDeviceFile(positionals[0] ?? defaultDevice);
  const clock = new SystemClock();
  const board = new EmulatedBoard({ definition: loaded.model.board, clock, seed });
  loaded.emulation?.(board, new SeededRandom(seed).fork('emulation'));
  const device = new Device(loaded.model, { board, serialNumber: values.serial ?? `EMU-${seed}` });
  loaded.setup?.(device);

  const out = process.stdout;
  const log = (line: string): void => {
    (values.json ? process.stderr : out).write(`${line}\n`);
  };
  device.on('fault', (event) =>
    log(event.state === 'raised' ? `! ${event.channel}: ${event.quality.level} (${event.quality.reason ?? ''}) ${event.quality.detail ?? ''}`.trimEnd() : `✓ ${event.channel}: fault cleared`),
  );
  device.on('alarm', (event) => log(`${event.state === 'active' ? '▲ alarm' : '▽ cleared'} ${event.alarm} on ${event.channel}: ${event.message} (value ${event.value}, limit ${event.limit})`));
  if (values.json) {
    const decimals = new Map(loaded.model.channels.map((channel) => [channel.id, decimalsFor(channel.resolution)]));
    device.on('report', (sample) => out.write(`${JSON.stringify(toJsonReading(sample, decimals.get(sample.channel) ?? 6))}\n`));
  }

  log(`sensorkit: ${loaded.model.id} (${loaded.model.identity.manufacturer} ${loaded.model.identity.model}, serial ${device.serialNumber}) on the emulated ${loaded.model.board.name}, seed ${seed}`);
  await device.start();
  const stopTable = values.json ? () => undefined : startTable(device, out);

  await waitForStop(durationS);
  stopTable();
  await device.stop();
  await board.close();
  if (!values.json) out.write('stopped\n');
  return 0;
}

/** The `--json` line of one reading; the value is rounded to the decimals its resolution warrants. */
export function toJsonReading(sample: Sample, decimals: number): Record<string, unknown> {
  return {
    channel: sample.channel,
    value: sample.value === null ? null : Number(sample.value.toFixed(decimals)),
    unit: sample.unit,
    quality: sample.quality.level,
    ...(sample.quality.reason ? { reason: sample.quality.reason } : {}),
    time: new Date(sample.time).toISOString(),
  };
}

function startTable(device: Device, out: NodeJS.WriteStream): () => void {
  const tty = out.isTTY === true;
  let drawn = 0;
  const draw = (): void => {
    const lines = renderTable(device.model, (id) => device.latest(id), tty);
    if (tty) {
      // Redraw in place: move up over the previous table and clear it.
      out.write(`${drawn ? `\u001b[${drawn}A` : ''}\u001b[0J${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      out.write(`${lines.join('\n')}\n\n`);
    }
  };
  // A log line printed between redraws must not be overwritten: forget the drawn height.
  const offFault = device.on('fault', () => (drawn = 0));
  const offAlarm = device.on('alarm', () => (drawn = 0));
  const timer = setInterval(draw, tty ? 250 : 1000);
  draw();
  return () => {
    clearInterval(timer);
    offFault();
    offAlarm();
    draw();
  };
}

function waitForStop(durationS: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      clearTimeout(timer);
      resolve();
    };
    const timer = durationS === undefined ? undefined : setTimeout(finish, durationS * 1000);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
}
