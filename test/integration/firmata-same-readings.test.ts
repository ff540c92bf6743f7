/**
 * The same device gives the same readings on the in-process emulated board and on a Firmata board
 * served by the emulator, for the same seed. Design: the emulated world is a function of the seed,
 * the clock time and the sequence of bus transfers; the engine runs each I2C request on its
 * emulated board at the clock time it arrives. Over a zero-latency line (an in-memory stream pair)
 * on one virtual clock the two paths see the same transfers at the same times, so the samples are
 * equal value for value. (Over a real pty with the system clock they differ only by where the
 * slowly varying signals are at the moment of each read: see the CLI test.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { Device } from '../../sdk/device/device.js';
import { loadDeviceFile } from '../../sdk/runtime/device-file.js';
import type { Sample } from '../../sdk/core/sample.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataEngine } from '../../boards/emulated/firmata/engine.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { streamPair } from '../support/pty.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function samplesOf(device: Device, clock: VirtualClock, ms: number): Promise<Sample[]> {
  const seen: Sample[] = [];
  device.on('sample', (sample) => seen.push(sample));
  await device.start();
  await clock.advance(ms);
  await device.stop();
  return seen;
}

describe('run on Firmata gives the same readings as the in-process emulated board', () => {
  it.each([1, 7])('examples/env-node, seed %i, 30 s of virtual time: equal samples', async (seed) => {
    const loaded = await loadDeviceFile('examples/env-node');
    const start = Date.UTC(2026, 5, 1, 12);

    const localClock = new VirtualClock({ start });
    const local = new EmulatedBoard({ definition: loaded.model.board, clock: localClock, seed });
    loaded.emulation!(local, new SeededRandom(seed).fork('emulation'));
    cleanup.push(() => local.close());
    const expected = await samplesOf(new Device(loaded.model, { board: local, serialNumber: 'SN' }), localClock, 30_000);

    const clock = new VirtualClock({ start });
    const served = new EmulatedBoard({ definition: loaded.model.board, clock, seed });
    loaded.emulation!(served, new SeededRandom(seed).fork('emulation'));
    cleanup.push(() => served.close());
    const [hostEnd, boardEnd] = streamPair();
    const engine = new FirmataEngine({ board: served, write: (bytes) => boardEnd.write(Buffer.from(bytes)) });
    boardEnd.on('data', (chunk: Buffer) => engine.receive(chunk));
    const opening = FirmataBoard.open({ line: () => hostEnd, clock, definition: loaded.model.board, reconnect: false });
    const firmata = await clock.runUntilSettled(opening, 5000);
    cleanup.push(() => firmata.close());
    const actual = await samplesOf(new Device(loaded.model, { board: firmata, serialNumber: 'SN' }), clock, 30_000);

    expect(expected.length).toBeGreaterThanOrEqual(90); // 3 channels at 1 Hz
    expect(actual.map((s) => [s.channel, s.time, s.value, s.quality.level])).toEqual(expected.map((s) => [s.channel, s.time, s.value, s.quality.level]));
    expect(actual.every((s) => s.quality.level === 'good')).toBe(true);
    expect(engine.stats.i2cReplies).toBeGreaterThan(30);
    expect(engine.stats.parser.skippedBytes).toBe(0);
  });
});
