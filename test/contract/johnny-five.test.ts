/**
 * The IO-plugin contract, checked by the real thing: johnny-five 2.1 components run on the
 * EmulatedBoard. johnny-five paces its components with real setInterval, so the virtual clock is
 * driven in a loop with real turns of the event loop between steps, until the awaited event
 * arrives or a real-time bound passes (no guessed sleeps).
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { settable } from '../../boards/emulated/signals.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const five = require('johnny-five') as any;

const LIMIT_MS = 5000;

/** Advances the virtual clock in sampling-interval steps, yielding to real timers, until `done()`. */
async function driveUntil(clock: VirtualClock, done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + LIMIT_MS;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${LIMIT_MS} ms waiting for ${what}`);
    await clock.advance(19);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Resolves on the first `event` of `emitter`, or rejects after a real-time bound. */
function nextEvent(emitter: { once(event: string, listener: () => void): unknown }, event: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${LIMIT_MS} ms`)), LIMIT_MS);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('johnny-five 2.1 on the EmulatedBoard', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0)) await step();
  });

  async function readyBoard() {
    const clock = new VirtualClock();
    const io = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 7 });
    cleanup.push(() => io.close());
    const board = new five.Board({ io, repl: false, debug: false, sigint: false });
    await nextEvent(board, 'ready');
    return { clock, io, board };
  }

  it('becomes ready with the board pin map', async () => {
    const { io, board } = await readyBoard();
    expect(board.isReady).toBe(true);
    expect(board.io).toBe(io);
    expect(board.pins.length).toBe(20);
    expect(board.type).toBe('UNO');
  });

  it('five.Sensor on A0 sees the attached signal, and follows it', async () => {
    const { clock, io, board } = await readyBoard();
    const volts = settable(2.5);
    io.attachAnalog('A0', volts);
    const sensor = new five.Sensor({ pin: 'A0', freq: 50, board });
    cleanup.push(() => sensor.disable());
    const seen: number[] = [];
    sensor.on('data', (value: number) => seen.push(value));

    await driveUntil(clock, () => seen.includes(512), 'a reading of 2.5 V (512 counts)');
    expect(io.pins[14]!.value).toBe(512);
    volts.set(1);
    await driveUntil(clock, () => seen.at(-1) === 205, 'a reading of 1 V (205 counts)');
    // Once the new value is through the sensor's median filter, it stays.
    const settled = seen.length;
    await driveUntil(clock, () => seen.length >= settled + 3, 'three more readings');
    expect(seen.slice(settled - 1)).toEqual(Array(seen.length - settled + 1).fill(205));
  });

  it('five.Led(13).on() and off() drive the pin', async () => {
    const { io, board } = await readyBoard();
    const writes: { pin: number; value: number }[] = [];
    io.on('digital-write', (event: { pin: number; value: number }) => writes.push(event));
    const led = new five.Led({ pin: 13, board });
    expect(io.pins[13]!.mode).toBe(io.MODES.OUTPUT);
    led.on();
    expect(io.pins[13]!.value).toBe(1);
    led.off();
    expect(io.pins[13]!.value).toBe(0);
    expect(writes).toEqual([
      { pin: 13, value: 1 },
      { pin: 13, value: 0 },
    ]);
  });
});
