/**
 * Firmata over a real pseudo-terminal (socat) with the real serialport 13 bindings:
 *
 * 1. Analog samples/s at 57,600 and 115,200 baud. A pty has no line rate, so the engine's end is
 *    paced at baud/10 bytes per second (8N1: 10 bits a byte), as a UART would send, and kept full of
 *    ANALOG_MESSAGEs for 6 channels. The host side counts the samples it decodes: sensorkit's
 *    FirmataBoard and, in the same run on the same line, firmata.js (johnny-five's) as the raw peer.
 *    Theoretical limit: (baud/10) / 3 bytes per analog message, all channels together.
 *    Also: what the emulated board itself reports (6 channels at its shortest interval, 10 ms).
 * 2. Round-trip latency of an I2C read (register 0xD0, 1 byte) over the pty, unpaced: FirmataBoard
 *    `readRegister` against firmata.js `i2cReadOnce`, with the wire time it would add on a UART.
 *
 *   node --import ./bin/register-ts.js test/bench/firmata.bench.ts [--seconds=3] [--reads=500]
 */
import { createRequire } from 'node:module';
import { SerialPort } from 'serialport';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataEngine } from '../../boards/emulated/firmata/engine.js';
import { PtyLink } from '../../boards/emulated/firmata/pty-link.js';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import { constant } from '../../boards/emulated/signals.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { serialLine } from '../../boards/firmata/serial-line.js';
import { encodeFirmata } from '../../boards/firmata/protocol/index.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { findPeer } from '../support/peers.js';
import { option } from './options.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Firmata = require('firmata') as any;

const SECONDS = option('seconds', 3);
const READS = option('reads', 500);
const CHANNELS = 6;
const socat = findPeer('socat');
if (socat === undefined) {
  console.log('socat is not installed (apt-get install -y socat): Firmata benchmark skipped');
  process.exit(0);
}
const SOCAT: string = socat;

/** Writes to the engine's end at most baud/10 bytes per second; `flood` keeps it full of analog messages. */
class PacedLine {
  readonly #port: SerialPort;
  readonly #bytesPerMs: number;
  #queue: Buffer[] = [];
  #credit = 0;
  #last = performance.now();
  #timer: NodeJS.Timeout;
  #flood = false;
  #next = 0;

  constructor(port: SerialPort, baud: number | undefined) {
    this.#port = port;
    this.#bytesPerMs = baud === undefined ? Number.POSITIVE_INFINITY : baud / 10 / 1000;
    this.#timer = setInterval(() => this.#pump(), 1);
  }

  write(bytes: Uint8Array): void {
    this.#queue.push(Buffer.from(bytes));
    if (this.#bytesPerMs === Number.POSITIVE_INFINITY) this.#pump();
  }

  flood(on: boolean): void {
    this.#flood = on;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #pump(): void {
    const now = performance.now();
    this.#credit = Math.min(this.#credit + (now - this.#last) * this.#bytesPerMs, 4096);
    this.#last = now;
    const out: Buffer[] = [];
    while (this.#credit >= 1) {
      if (this.#queue.length === 0) {
        if (!this.#flood) break;
        const channel = this.#next++ % CHANNELS;
        this.#queue.push(Buffer.from(encodeFirmata({ type: 'analog', channel, value: (this.#next * 7) % 1024 })));
      }
      const head = this.#queue[0]!;
      if (head.length > this.#credit && this.#bytesPerMs !== Number.POSITIVE_INFINITY) break;
      out.push(this.#queue.shift()!);
      this.#credit -= head.length;
    }
    if (out.length > 0) this.#port.write(Buffer.concat(out));
  }
}

/** An emulated Uno behind the engine on a fresh pty, its output paced at `baud`. */
async function rig(baud: number | undefined) {
  const clock = new SystemClock();
  const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 });
  for (let c = 0; c < CHANNELS; c++) board.attachAnalog(`A${c}`, constant(c / 2));
  board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(1) }));
  const link = new PtyLink({ socat: SOCAT });
  let line: PacedLine | undefined;
  let port: SerialPort | undefined;
  const engine = new FirmataEngine({ board, write: (bytes) => line?.write(bytes) });
  link.on('pair', (pair) => {
    port = new SerialPort({ path: pair.enginePath, baudRate: 57_600 });
    port.on('data', (chunk: Buffer) => engine.receive(chunk));
    port.on('error', () => undefined);
    line = new PacedLine(port, baud);
  });
  link.on('session', () => engine.announce());
  const path = (await link.start()).clientPath;
  return {
    path,
    board,
    flood: (on: boolean) => line?.flood(on),
    async close() {
      line?.stop();
      engine.close();
      if (port?.isOpen) await new Promise<void>((resolve) => port!.close(() => resolve()));
      await link.close();
      await board.close();
    },
  };
}

/** Counts samples/s decoded by `subscribe` over SECONDS while the line is flooded. */
async function rate(r: Awaited<ReturnType<typeof rig>>, subscribe: (count: () => void) => void): Promise<number> {
  let count = 0;
  subscribe(() => count++);
  r.flood(true);
  await new Promise((resolve) => setTimeout(resolve, 300)); // fill the line first
  const from = count;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const perSecond = ((count - from) * 1000) / (performance.now() - started);
  r.flood(false);
  return perSecond;
}

async function firmataJs(path: string): Promise<{ io: any; port: SerialPort }> {
  const port = new SerialPort({ path, baudRate: 57_600 });
  const io = new Firmata.Board(port);
  await new Promise<void>((resolve) => io.once('ready', () => resolve()));
  return { io, port };
}

const closePort = (port: SerialPort): Promise<void> => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));

console.log(`\nFirmata over a socat pty, serialport 13 — ${SECONDS} s per figure; node ${process.version}\n`);
console.log(`${'analog samples/s'.padEnd(44)}${'theoretical'.padStart(13)}${'sensorkit'.padStart(12)}${'firmata.js'.padStart(12)}`);
for (const baud of [57_600, 115_200]) {
  const theoretical = baud / 10 / 3;
  const ours = await rig(baud);
  const board = await FirmataBoard.open({ line: serialLine(ours.path), clock: new SystemClock(), reconnect: false });
  const mine = await rate(ours, (count) => board.on('analog-read', count));
  await board.close();
  await ours.close();
  const theirs = await rig(baud);
  const peer = await firmataJs(theirs.path);
  const raw = await rate(theirs, (count) => peer.io.on('analog-read', count));
  await closePort(peer.port);
  await theirs.close();
  const label = `${baud.toLocaleString('en')} baud, ${CHANNELS} channels, paced line`;
  console.log(`${label.padEnd(44)}${theoretical.toFixed(0).padStart(13)}${mine.toFixed(0).padStart(12)}${raw.toFixed(0).padStart(12)}`);
}
{
  const unpaced = await rig(undefined);
  const board = await FirmataBoard.open({ line: serialLine(unpaced.path), clock: new SystemClock(), reconnect: false });
  const mine = await rate(unpaced, (count) => board.on('analog-read', count));
  await board.close();
  await unpaced.close();
  const theirs = await rig(undefined);
  const peer = await firmataJs(theirs.path);
  const raw = await rate(theirs, (count) => peer.io.on('analog-read', count));
  await closePort(peer.port);
  await theirs.close();
  console.log(`${'pty, no line rate (parser headroom)'.padEnd(44)}${'—'.padStart(13)}${mine.toFixed(0).padStart(12)}${raw.toFixed(0).padStart(12)}`);
}
{
  // The emulated board's own reporting: 6 channels every 10 ms (its shortest interval, as firmata.js clamps).
  const own = await rig(57_600);
  const board = await FirmataBoard.open({ line: serialLine(own.path), clock: new SystemClock(), reconnect: false, samplingIntervalMs: 10 });
  for (let c = 0; c < CHANNELS; c++) board.openAnalogInput({ pin: `A${c}` });
  let count = 0;
  board.on('analog-read', () => count++);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const from = count;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const mine = ((count - from) * 1000) / (performance.now() - started);
  await board.close();
  await own.close();
  console.log(`${'emulated Uno reporting, 6 ch × 10 ms'.padEnd(44)}${(CHANNELS * 100).toFixed(0).padStart(13)}${mine.toFixed(0).padStart(12)}${'—'.padStart(12)}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

console.log(`\n${'I2C read round trip (0xD0, 1 byte), ms'.padEnd(44)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}`);
{
  const r = await rig(undefined);
  const board = await FirmataBoard.open({ line: serialLine(r.path), clock: new SystemClock(), reconnect: false });
  const bme = board.openI2c({ address: 0x76 });
  const times: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now();
    await bme.readRegister(0xd0, 1);
    times.push(performance.now() - t0);
  }
  await board.close();
  await r.close();
  times.sort((a, b) => a - b);
  console.log(`${'sensorkit FirmataBoard.readRegister'.padEnd(44)}${percentile(times, 50).toFixed(3).padStart(9)}${percentile(times, 99).toFixed(3).padStart(9)}${times.at(-1)!.toFixed(3).padStart(9)}`);
}
{
  const r = await rig(undefined);
  const peer = await firmataJs(r.path);
  peer.io.i2cConfig();
  const times: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => peer.io.i2cReadOnce(0x76, 0xd0, 1, () => resolve()));
    times.push(performance.now() - t0);
  }
  await closePort(peer.port);
  await r.close();
  times.sort((a, b) => a - b);
  console.log(`${'firmata.js i2cReadOnce (raw peer)'.padEnd(44)}${percentile(times, 50).toFixed(3).padStart(9)}${percentile(times, 99).toFixed(3).padStart(9)}${times.at(-1)!.toFixed(3).padStart(9)}`);
}
// Request F0 76 addr mode reg×2 count×2 F7 (9 bytes) + reply F0 77 addr×2 reg×2 data×2 F7 (9 bytes).
for (const baud of [57_600, 115_200]) console.log(`${`+ wire time on a real UART at ${baud.toLocaleString('en')} baud`.padEnd(44)}${((18 * 10 * 1000) / baud).toFixed(3).padStart(9)}`);
console.log('\nsamples/s: host-side decoded analog messages per second; theoretical = (baud/10) / 3 bytes per ANALOG_MESSAGE.\n');
process.exit(0);
