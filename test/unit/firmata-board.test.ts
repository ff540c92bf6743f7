/** FirmataBoard on a virtual clock over an in-memory line: pin maps, typed errors, counted garbage. */
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataEngine } from '../../boards/emulated/firmata/engine.js';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import { constant } from '../../boards/emulated/signals.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import type { FirmataBoardOptions } from '../../boards/firmata/options.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { BusError, PinError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { streamPair } from '../support/pty.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function served(definition: string, clock: VirtualClock): { host: Duplex; engine: FirmataEngine; boardEnd: Duplex; board: EmulatedBoard } {
  const board = new EmulatedBoard({ definition, clock, seed: 2 });
  if (board.definition.analogPins.length > 0) board.attachAnalog('A0', constant(1));
  board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(2) }));
  cleanup.push(() => board.close());
  const [host, boardEnd] = streamPair();
  const engine = new FirmataEngine({ board, write: (bytes) => boardEnd.write(Buffer.from(bytes)) });
  boardEnd.on('data', (chunk: Buffer) => engine.receive(chunk));
  return { host, engine, boardEnd, board };
}

async function open(clock: VirtualClock, options: Omit<FirmataBoardOptions, 'clock'>): Promise<FirmataBoard> {
  const board = await clock.runUntilSettled(FirmataBoard.open({ clock, reconnect: false, ...options }), 10_000);
  cleanup.push(() => board.close());
  return board;
}

describe('FirmataBoard', () => {
  it('derives a pin map from the capability and analog-mapping replies', async () => {
    const clock = new VirtualClock();
    const { host } = served('arduino-uno', clock);
    const board = await open(clock, { line: () => host });
    expect(board.definition).toMatchObject({ id: 'firmata', adc: { resolution: 10, referenceVoltage: 5 } });
    expect(board.definition.analogPins.map((p) => [p.name, p.pin, p.channel])).toEqual([0, 1, 2, 3, 4, 5].map((c) => [`A${c}`, 14 + c, c]));
    expect(board.definition.i2cBuses).toEqual([{ name: 'i2c0', sda: 'A4', scl: 'A5', maxHz: 400_000 }]);
    expect(board.analogPins).toEqual([14, 15, 16, 17, 18, 19]);
    expect(board.RESOLUTION.ADC).toBe(1023);
    const a0 = board.openAnalogInput({ pin: 'A0' });
    expect(await clock.runUntilSettled(a0.read())).toBe(205);
  });

  it('refuses a definition the board does not match, naming the pin', async () => {
    const clock = new VirtualClock();
    const { host } = served('raspberry-pi-4', clock);
    const error = await clock.runUntilSettled(FirmataBoard.open({ line: () => host, clock, definition: 'arduino-uno', reconnect: false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PinError);
    expect((error as Error).message).toMatch(/A0 \(14\) is not analog channel 0/);
  });

  it('a silent line: a BusError after the handshake timeout that says the line is silent', async () => {
    const clock = new VirtualClock();
    const [host] = streamPair();
    const start = clock.now();
    const error = await clock.runUntilSettled(FirmataBoard.open({ line: () => host, clock, handshakeTimeoutMs: 2000, describe: '/dev/ttyACM0 at 57600 baud' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe('ERR_BUS_TIMEOUT');
    expect((error as Error).message).toMatch(/^no Firmata handshake on \/dev\/ttyACM0 at 57600 baud within 2000 ms \(no REPORT_VERSION\): the line is silent/);
    expect(clock.now() - start).toBe(2000);
  });

  it('a wrong baud rate (every byte garbled): a BusError that points at the baud rate, no crash', async () => {
    const clock = new VirtualClock();
    const [host, boardEnd] = streamPair();
    // A UART at the wrong rate turns each frame into noise: answer every byte with garbled bytes.
    const random = new SeededRandom(9);
    boardEnd.on('data', (chunk: Buffer) => boardEnd.write(Buffer.from(Array.from({ length: chunk.length * 3 }, () => Math.floor(random.next() * 256) & 0x7f))));
    const error = await clock.runUntilSettled(FirmataBoard.open({ line: () => host, clock, handshakeTimeoutMs: 1000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusError);
    expect((error as Error).message).toMatch(/bytes arrived but formed no valid frame: check the baud rate \(StandardFirmata uses 57600\)/);
  });

  it('garbage and unknown sysex from the board are skipped and counted; readings go on', async () => {
    const clock = new VirtualClock();
    const { host, boardEnd } = served('arduino-uno', clock);
    const board = await open(clock, { line: () => host, definition: 'arduino-uno' });
    const a0 = board.openAnalogInput({ pin: 'A0' });
    expect(await clock.runUntilSettled(a0.read())).toBe(205);
    boardEnd.write(Buffer.from([0x33, 0xf0, 0x55, 0x01, 0xf7, 0xe0, 0x01, 0xf1]));
    await clock.advance(100);
    expect(await clock.runUntilSettled(a0.read())).toBe(205);
    expect(board.parserStats).toMatchObject({ stray: 1, unknown: 2, truncated: 1 });
  });

  it('I2C: a timeout fault rejects with ERR_BUS_TIMEOUT; an absent device with ERR_I2C_NAK at once', async () => {
    const clock = new VirtualClock();
    const { host, board: emulated } = served('arduino-uno', clock);
    const board = await open(clock, { line: () => host, definition: 'arduino-uno', requestTimeoutMs: 500 });
    const bme = board.openI2c({ address: 0x76 });
    expect(Array.from(await clock.runUntilSettled(bme.readRegister(0xd0, 1)))).toEqual([0x60]);
    emulated.faults.inject({ target: 'i2c0@0x76', kind: 'timeout' });
    await expect(clock.runUntilSettled(bme.readRegister(0xd0, 1))).rejects.toMatchObject({ code: 'ERR_BUS_TIMEOUT', message: expect.stringContaining('did not answer') });
    const nobody = board.openI2c({ address: 0x50 });
    const started = clock.now();
    await expect(clock.runUntilSettled(nobody.read(2))).rejects.toMatchObject({ code: 'ERR_I2C_NAK' });
    expect(clock.now()).toBe(started);
  });

  it('digital IO: the first report is delivered, then each change; writes reach the board', async () => {
    const clock = new VirtualClock();
    const { host, board: emulated } = served('arduino-uno', clock);
    const board = await open(clock, { line: () => host, definition: 'arduino-uno' });
    const seen: number[] = [];
    board.pinMode(2, board.MODES.INPUT);
    board.digitalRead(2, (value) => seen.push(value));
    await clock.advance(0);
    expect(seen).toEqual([0]);
    emulated.setDigitalInput(2, 1);
    await clock.advance(0);
    expect(seen).toEqual([0, 1]);
    board.digitalWrite(13, 1);
    await clock.advance(0);
    expect(emulated.pins[13]!.value).toBe(1);
    expect(() => board.pinMode('D2', board.MODES.ANALOG)).toThrow(PinError);
  });

  it('a lost line: reads fail, the board reopens it on its clock and asks again for what it had asked', async () => {
    const clock = new VirtualClock();
    const emulated = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 2 });
    emulated.attachAnalog('A0', constant(1));
    emulated.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(2) }));
    cleanup.push(() => emulated.close());
    const engine = new FirmataEngine({ board: emulated, write: (bytes) => current?.boardEnd.write(Buffer.from(bytes)) });
    let current: { host: Duplex; boardEnd: Duplex } | undefined;
    let opens = 0;
    const line = (): Duplex => {
      opens++;
      const [host, boardEnd] = streamPair();
      boardEnd.on('data', (chunk: Buffer) => engine.receive(chunk));
      current = { host, boardEnd };
      engine.announce(); // a reopened USB-serial line resets the board
      return host;
    };
    const board = await open(clock, { line, definition: 'arduino-uno', reconnect: true, reconnectDelayMs: 1000, samplingIntervalMs: 50 });
    const a0 = board.openAnalogInput({ pin: 'A0' });
    const replies: number[][] = [];
    board.i2cRead(0x76, 0xd0, 1, (bytes) => replies.push(bytes));
    expect(await clock.runUntilSettled(a0.read())).toBe(205);
    await clock.advance(200);
    const before = replies.length;
    expect(before).toBeGreaterThan(0);

    const lostAt = clock.now();
    current!.host.destroy();
    await clock.advance(0);
    expect(board.isReady).toBe(false);
    await expect(a0.read()).rejects.toMatchObject({ code: 'ERR_BUS_TIMEOUT', message: 'analog input A0: the Firmata line is down' });
    await expect(board.openI2c({ address: 0x76 }).read(1)).rejects.toMatchObject({ code: 'ERR_BUS_TIMEOUT' });
    await clock.advance(1000);
    expect(board.isReady).toBe(true);
    expect(opens).toBe(2);
    expect(board.gaps).toEqual([{ lostAt, restoredAt: expect.any(Number), reason: 'the line closed' }]);
    // Reporting and the continuous read were asked for again on the new line.
    expect(await clock.runUntilSettled(a0.read())).toBe(205);
    await clock.advance(200);
    expect(replies.length).toBeGreaterThan(before);
    expect(engine.stats.sessions).toBe(2);
  });
});
