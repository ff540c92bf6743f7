/**
 * Unmodified johnny-five 2.1 (with its firmata.js) talks to the emulated board over a real
 * pseudo-terminal made by socat, through the real serialport 13 bindings: johnny-five accepts a
 * serialport 13 `SerialPort` instance as its `port`. The engine announces the version when the line
 * opens, as a board's reset does, so the handshake does not wait for firmata.js's 5 s fallback.
 */
import { createRequire } from 'node:module';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import { constant } from '../../boards/emulated/signals.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { serialLine } from '../../boards/firmata/serial-line.js';
import { findPeer } from '../support/peers.js';
import { startPtyEmulator, type PtyEmulator } from '../support/pty.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const five = require('johnny-five') as any;

const socat = findPeer('socat');
const LIMIT_MS = 5000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${LIMIT_MS} ms waiting for ${what}`)), LIMIT_MS).unref())]);
}

describe.skipIf(socat === undefined)('johnny-five 2.1 over a real pty (socat) and serialport 13', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function connect(): Promise<{ emulator: PtyEmulator; board: any; port: SerialPort; handshakeMs: number }> {
    const emulator = await startPtyEmulator({
      socat: socat!,
      seed: 3,
      wire: (b) => {
        b.attachAnalog('A0', constant(2.5));
        const random = new SeededRandom(3);
        b.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random }));
      },
    });
    cleanup.push(() => emulator.close());
    const started = performance.now();
    const port = new SerialPort({ path: emulator.path, baudRate: 57_600 });
    cleanup.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
    const board = new five.Board({ port, repl: false, debug: false, sigint: false, timeout: LIMIT_MS });
    await within(new Promise<void>((resolve, reject) => {
      board.once('ready', () => resolve());
      board.once('error', (error: Error) => reject(error));
    }), 'the handshake');
    return { emulator, board, port, handshakeMs: performance.now() - started };
  }

  it('completes the handshake in under 1 s, with the pin map from the capability and analog-mapping replies', async () => {
    const { board, emulator, handshakeMs } = await connect();
    expect(handshakeMs).toBeLessThan(1000);
    expect(board.io.firmware.name).toBe('sensorkit-emulated-firmata.ino');
    expect(board.io.pins.length).toBe(20);
    expect(board.io.analogPins).toEqual([14, 15, 16, 17, 18, 19]);
    expect(board.io.pins[3].supportedModes).toContain(board.io.MODES.PWM);
    expect(emulator.server.stats.sessions).toBe(1);
  });

  it('reads a five.Sensor on A0 (2.5 V on a 10-bit 5 V ADC → 512)', async () => {
    const { board } = await connect();
    const sensor = new five.Sensor({ pin: 'A0', freq: 25, board });
    cleanup.push(() => sensor.disable());
    const value = await within(new Promise<number>((resolve) => sensor.on('data', function (this: { value: number }) {
      if (this.value === 512) resolve(this.value);
    })), 'a sensor reading of 512');
    expect(value).toBe(512);
  });

  it('reads an I2C device: the BME280 chip id once, then its registers continuously', async () => {
    const { board, emulator } = await connect();
    board.io.i2cConfig();
    const id = await within(new Promise<number[]>((resolve) => board.io.i2cReadOnce(0x76, 0xd0, 1, resolve)), 'the chip id');
    expect(id).toEqual([0x60]);
    const replies: number[][] = [];
    board.io.i2cRead(0x76, 0x88, 6, (bytes: number[]) => replies.push(bytes));
    await within(new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (replies.length >= 3) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    }), 'three continuous reads');
    // Calibration registers do not change between reads.
    expect(replies[0]).toHaveLength(6);
    expect(replies[1]).toEqual(replies[0]);
    expect(emulator.server.stats.parser.skippedBytes).toBe(0);
  });

  it('johnny-five also runs on sensorkit\'s FirmataBoard as an IO plugin (Sensor and I2C)', async () => {
    const emulator = await startPtyEmulator({
      socat: socat!,
      wire: (b) => {
        b.attachAnalog('A1', constant(1));
        b.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(4) }));
      },
    });
    cleanup.push(() => emulator.close());
    const io = await FirmataBoard.open({ line: serialLine(emulator.path), clock: new SystemClock(), definition: 'arduino-uno' });
    cleanup.push(() => io.close());
    const board = new five.Board({ io, repl: false, debug: false, sigint: false });
    await within(new Promise<void>((resolve) => board.once('ready', () => resolve())), 'ready');
    const sensor = new five.Sensor({ pin: 'A1', freq: 25, board });
    cleanup.push(() => sensor.disable());
    await within(new Promise<void>((resolve) => sensor.on('data', function (this: { value: number }) {
      if (this.value === 205) resolve();
    })), 'a reading of 1 V (205 counts)');
    board.io.i2cConfig();
    const id = await within(new Promise<number[]>((resolve) => board.io.i2cReadOnce(0x76, 0xd0, 1, resolve)), 'the chip id');
    expect(id).toEqual([0x60]);
  });
});
