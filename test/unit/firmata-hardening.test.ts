/**
 * FirmataBoard and the Firmata engine under the faults found in review: a late I2C reply, reads
 * pending when the line closes or the board is closed, a close() during a reconnection, an engine
 * closed on a board that lives on, and bad control commands. Virtual clock, in-memory lines.
 */
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataEngine } from '../../boards/emulated/firmata/engine.js';
import { runControlCommand } from '../../boards/emulated/firmata/control.js';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import { constant } from '../../boards/emulated/signals.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import type { FirmataBoardOptions } from '../../boards/firmata/options.js';
import { SYSEX } from '../../boards/firmata/protocol/constants.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { BusError, StateError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { streamPair } from '../support/pty.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** An emulated Uno behind an engine whose I2C replies can be held back (a slow or stalled board). */
function rig(clock: VirtualClock) {
  const emulated = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 2 });
  emulated.attachAnalog('A0', constant(1));
  emulated.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(2) }));
  cleanup.push(() => emulated.close());
  const [host, boardEnd] = streamPair();
  const held: Buffer[] = [];
  const line = { hold: false };
  const engine = new FirmataEngine({
    board: emulated,
    write: (bytes) => {
      const isI2cReply = bytes[0] === 0xf0 && bytes[1] === SYSEX.I2C_REPLY;
      if (line.hold && isI2cReply) held.push(Buffer.from(bytes));
      else boardEnd.write(Buffer.from(bytes));
    },
  });
  boardEnd.on('data', (chunk: Buffer) => engine.receive(chunk));
  return { emulated, engine, host, boardEnd, held, line };
}

async function open(clock: VirtualClock, options: Omit<FirmataBoardOptions, 'clock'>): Promise<FirmataBoard> {
  const board = await clock.runUntilSettled(FirmataBoard.open({ clock, reconnect: false, definition: 'arduino-uno', ...options }), 10_000);
  cleanup.push(() => board.close());
  return board;
}

describe('FirmataBoard I2C replies', () => {
  it('a reply arriving after its read timed out is dropped and counted, never handed to the next read', async () => {
    const clock = new VirtualClock();
    const { host, boardEnd, held, line } = rig(clock);
    const board = await open(clock, { line: () => host, requestTimeoutMs: 500 });
    const bme = board.openI2c({ address: 0x76 });
    await clock.runUntilSettled(bme.writeRegister(0xf4, [0x25]));

    line.hold = true;
    const first = bme.readRegister(0xf4, 1);
    await expect(clock.runUntilSettled(first)).rejects.toMatchObject({ code: 'ERR_BUS_TIMEOUT', message: 'i2c0@0x76: no I2C_REPLY within 500 ms' });
    expect(held).toHaveLength(1); // the board answered [0x25], too late

    await clock.runUntilSettled(bme.writeRegister(0xf4, [0x27]));
    const second = bme.readRegister(0xf4, 1);
    await clock.advance(10);
    line.hold = false;
    boardEnd.write(held.shift()!); // the first read's late reply
    expect(Array.from(await clock.runUntilSettled(second))).toEqual([0x27]);
    expect(board.i2cReplyStats).toMatchObject({ late: 1, delivered: 1 });
  });

  it('a reply that never comes holds its register for one more time limit only: later reads go on', async () => {
    const clock = new VirtualClock();
    const { host, held, line } = rig(clock);
    const board = await open(clock, { line: () => host, requestTimeoutMs: 500 });
    const bme = board.openI2c({ address: 0x76 });
    line.hold = true;
    await expect(clock.runUntilSettled(bme.readRegister(0xd0, 1))).rejects.toBeInstanceOf(BusError);
    held.length = 0; // lost on the line
    line.hold = false;
    await clock.advance(500);
    for (let i = 0; i < 3; i++) expect(Array.from(await clock.runUntilSettled(bme.readRegister(0xd0, 1)))).toEqual([0x60]);
    expect(board.i2cReplyStats).toMatchObject({ late: 0, delivered: 3 });
  });

  it('a reply of the wrong length is not taken for the read', async () => {
    const clock = new VirtualClock();
    const { host, boardEnd, held, line } = rig(clock);
    const board = await open(clock, { line: () => host, requestTimeoutMs: 500 });
    const bme = board.openI2c({ address: 0x76 });
    line.hold = true;
    const read = bme.readRegister(0xd0, 2);
    await clock.advance(0);
    expect(held).toHaveLength(1);
    // The same register's reply, one byte long (as a continuous read of 0xD0, 1 would bring).
    boardEnd.write(Buffer.from([0xf0, SYSEX.I2C_REPLY, 0x76, 0x00, 0x50, 0x01, 0x60, 0x00, 0xf7]));
    await clock.advance(0);
    boardEnd.write(held.shift()!);
    expect(Array.from(await clock.runUntilSettled(read))).toHaveLength(2);
    expect(board.i2cReplyStats).toMatchObject({ wrongLength: 1, delivered: 1 });
  });

  it('a read too long for one Firmata frame fails at once with ArgumentError, not after a misleading timeout', async () => {
    const clock = new VirtualClock();
    const { host } = rig(clock);
    const board = await open(clock, { line: () => host, requestTimeoutMs: 500 });
    const bme = board.openI2c({ address: 0x76 });
    const started = clock.now();
    await expect(clock.runUntilSettled(bme.read(3000))).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringContaining('from 1 to 2045') });
    await expect(clock.runUntilSettled(bme.write(new Uint8Array(3000)))).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    expect(clock.now()).toBe(started);
    expect(Array.from(await clock.runUntilSettled(bme.read(2045)))).toHaveLength(2045);
    expect(board.parserStats.malformed).toBe(0);
  });
});

describe('FirmataBoard pending reads settle', () => {
  it('when the line closes: analog and I2C reads reject with BusError at once', async () => {
    const clock = new VirtualClock();
    const { host, line } = rig(clock);
    const board = await open(clock, { line: () => host, requestTimeoutMs: 500 });
    line.hold = true;
    const i2c = board.openI2c({ address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
    const analog = board.openAnalogInput({ pin: 'A1' }).read().catch((e: unknown) => e);
    const started = clock.now();
    host.destroy();
    await clock.advance(0);
    expect(await i2c).toMatchObject({ code: 'ERR_BUS_TIMEOUT', message: 'i2c0@0x76: the line closed' });
    expect(await analog).toBeInstanceOf(BusError);
    expect(clock.now()).toBe(started);
  });

  it('when the board is closed: they reject with StateError "the board is closed", and reads after it too', async () => {
    const clock = new VirtualClock();
    const { host, line } = rig(clock);
    const board = await open(clock, { line: () => host, requestTimeoutMs: 500 });
    const bme = board.openI2c({ address: 0x76 });
    line.hold = true;
    const i2c = bme.readRegister(0xd0, 1).catch((e: unknown) => e);
    const analog = board.openAnalogInput({ pin: 'A1' }).read().catch((e: unknown) => e);
    await board.close();
    expect(await i2c).toMatchObject({ name: 'StateError', message: 'i2c0@0x76: the board is closed' });
    expect(await analog).toBeInstanceOf(StateError);
    await expect(bme.readRegister(0xd0, 1)).rejects.toMatchObject({ name: 'StateError', message: 'i2c0@0x76: the board is closed' });
    await expect(bme.writeRegister(0xf4, [0x27])).rejects.toBeInstanceOf(StateError);
    expect(() => board.openI2c({ address: 0x76 })).toThrow(StateError);
  });

  it('close() during a reconnection closes the line being opened at once (no handshake left running)', async () => {
    const clock = new VirtualClock();
    const { host } = rig(clock);
    const silent: Duplex[] = [];
    let opens = 0;
    const board = await open(clock, {
      line: () => {
        if (opens++ === 0) return host;
        const [reopened] = streamPair(); // nothing answers on the reopened line
        silent.push(reopened);
        return reopened;
      },
      reconnect: true,
      reconnectDelayMs: 100,
      handshakeTimeoutMs: 60_000,
    });
    const failed: unknown[] = [];
    board.on('reconnect-failed', (error) => failed.push(error));
    host.destroy();
    await clock.advance(100);
    expect(silent).toHaveLength(1);
    expect(silent[0]!.destroyed).toBe(false);
    const closing = board.close();
    expect(silent[0]!.destroyed).toBe(true);
    await closing;
    await clock.advance(120_000);
    expect(opens).toBe(2);
    expect(failed).toEqual([]);
  });
});

describe('FirmataEngine on a board that lives on', () => {
  it('close() removes every listener it added to the board', async () => {
    const clock = new VirtualClock();
    const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 });
    cleanup.push(() => board.close());
    const before = board.eventNames().map((name) => [name, board.listenerCount(name)]);
    for (let i = 0; i < 3; i++) {
      const engine = new FirmataEngine({ board, write: () => undefined });
      engine.receive(Buffer.from([0xf4, 0x02, 0x00, 0xd0, 0x01])); // pin 2 INPUT, report port 0
      await clock.advance(0);
      engine.close();
    }
    expect(board.eventNames().map((name) => [name, board.listenerCount(name)]).filter(([, count]) => count !== 0)).toEqual(before);
  });
});

describe('control commands', () => {
  const target = () => {
    const board = new EmulatedBoard({ definition: 'arduino-uno', clock: new VirtualClock(), seed: 1 });
    cleanup.push(() => board.close());
    return { board, target: { faults: board.faults, stats: () => ({}) as never, drop: () => undefined } };
  };

  it.each([
    ['fault A0 dropout probability=', /^error: probability= needs a value$/],
    ['fault A0 stuck 100 200', /^error: DURATION_MS given twice/],
    ['fault A0 stuck sigma=0.2', /^error: sigma= applies to noise-burst faults only, not stuck$/],
    ['fault A0 open-circuit wiring=pull-up wiring=pull-down', /^error: wiring= given twice$/],
    ['clear now', /^error: clear takes no arguments, got "now"$/],
    ['stats --json', /^error: stats takes no arguments/],
  ])('%s → one line of error, nothing injected', (line, reply) => {
    const { board, target: t } = target();
    const answer = runControlCommand(line, t);
    expect(answer).toMatch(reply);
    expect(answer).not.toContain('\n');
    expect(board.faults.active()).toEqual([]);
  });

  it('help lists every command and says how errors look', () => {
    const { target: t } = target();
    const help = runControlCommand('help', t);
    for (const command of ['fault TARGET KIND', 'clear', 'faults', 'stats', 'drop', 'help']) expect(help).toContain(command);
    expect(help).toMatch(/one line starting "error:"/);
  });
});
