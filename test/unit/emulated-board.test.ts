import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError, BusError, PinError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { MODES } from '../../sdk/io/board.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import type { I2cPeripheral } from '../../boards/emulated/peripheral.js';
import { constant, gaussianNoise, ramp, settable } from '../../boards/emulated/signals.js';

/** A register file with a pointer; register 0x00 counts clock milliseconds (low byte). */
class FakeRegisters implements I2cPeripheral {
  readonly name = 'FAKE';
  readonly registers = new Uint8Array(256);
  readonly address: number;
  #pointer = 0;
  constructor(address = 0x40) {
    this.address = address;
  }
  write(bytes: Uint8Array, timeMs: number): void {
    this.#pointer = bytes[0] ?? 0;
    for (let i = 1; i < bytes.length; i++) this.registers[(this.#pointer + i - 1) & 0xff] = bytes[i]!;
    void timeMs;
  }
  read(count: number, timeMs: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const register = (this.#pointer + i) & 0xff;
      out[i] = register === 0 ? Math.floor(timeMs) & 0xff : this.registers[register]!;
    }
    return out;
  }
}

function uno(seed = 1, extra: { adcNoiseVolts?: number } = {}) {
  const clock = new VirtualClock();
  const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed, ...extra });
  return { clock, board, t0: clock.now() };
}

/** Settles a promise that does not depend on the clock (microtasks only). */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('EmulatedBoard: construction and pins', () => {
  it('builds the IO-plugin pins from the definition', () => {
    const { board } = uno();
    expect(board.pins).toHaveLength(20);
    expect(board.analogPins).toEqual([14, 15, 16, 17, 18, 19]);
    expect(board.pins[14]).toMatchObject({ analogChannel: 0, mode: MODES.ANALOG, report: 0, value: 0 });
    expect(board.pins[14]!.supportedModes).toContain(MODES.ANALOG);
    expect(board.pins[18]!.supportedModes).toContain(MODES.I2C); // A4 = SDA
    expect(board.pins[3]!.supportedModes).toContain(MODES.PWM);
    expect(board.pins[2]!.supportedModes).not.toContain(MODES.PWM);
    expect(board.pins[2]!.analogChannel).toBe(127);
    expect(board.defaultLed).toBe(13);
    expect(board.isReady).toBe(true);
    expect(board.RESOLUTION.ADC).toBe(1023);
    expect(board.MODES).toBe(MODES);
  });

  it('emits "connect" then "ready" after construction, not during it', async () => {
    const { board } = uno();
    const events: string[] = [];
    board.on('connect', () => events.push('connect'));
    board.on('ready', () => events.push('ready'));
    expect(events).toEqual([]);
    await new Promise<void>((resolve) => board.once('ready', () => resolve()));
    expect(events).toEqual(['connect', 'ready']);
  });

  it('normalizes names and numbers, and rejects pins the board lacks', () => {
    const { board } = uno();
    expect(board.normalize('A0')).toBe(14);
    expect(board.normalize(14)).toBe(14);
    expect(board.normalize('D13')).toBe(13);
    expect(board.normalize('13')).toBe(13);
    expect(() => board.normalize(20)).toThrow(PinError);
    expect(() => board.normalize('GPIO17')).toThrow('pin "GPIO17" does not exist on Arduino Uno (ATmega328P)');
    const pi = new EmulatedBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), seed: 1 });
    expect(pi.normalize('GPIO17')).toBe(17);
    expect(pi.analogPins).toEqual([]);
  });

  it('rejects bad options with precise errors', () => {
    const clock = new VirtualClock();
    expect(() => new EmulatedBoard({ definition: 'arduino-mega', clock, seed: 1 })).toThrow(
      'definition: unknown board "arduino-mega" (known: arduino-uno, raspberry-pi-4)',
    );
    expect(() => new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1.5 })).toThrow(ValidationError);
    expect(() => new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1.5 })).toThrow('seed: Expected `seed` to be an integer, got 1.5');
    expect(() => new EmulatedBoard({ definition: 'arduino-uno', clock: {} as never, seed: 1 })).toThrow('clock: expected a Clock');
    expect(() => new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1, i2cTimeoutMs: 0 })).toThrow(ValidationError);
  });

  it('refuses analog inputs a board does not have', () => {
    const pi = new EmulatedBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), seed: 1 });
    expect(() => pi.openAnalogInput({ pin: 'A0' })).toThrow(PinError);
    expect(() => pi.openAnalogInput({ pin: 'GPIO4' })).toThrow('Raspberry Pi 4 Model B has no analog inputs (no on-board ADC)');
    const { board } = uno();
    expect(() => board.openAnalogInput({ pin: 'D2' })).toThrow('pin "D2" is not an analog input of Arduino Uno (ATmega328P) (analog pins: A0, A1, A2, A3, A4, A5)');
    expect(() => board.attachAnalog('D2', constant(1))).toThrow(PinError);
    expect(() => board.pinMode('D2', MODES.ANALOG)).toThrow(PinError);
    board.pinMode(2, MODES.ANALOG); // a number in ANALOG mode is a channel, as Firmata: A2
    expect(board.pins[16]!.mode).toBe(MODES.ANALOG);
    expect(() => board.pinMode(2, MODES.PWM)).toThrow('pin D2 does not support mode PWM (0x03)');
  });
});

describe('EmulatedBoard: analog', () => {
  it('reads the attached signal through the 10-bit ADC on the bus path', async () => {
    const { board } = uno();
    const volts = settable(2.5);
    board.attachAnalog('A0', volts);
    const a0 = board.openAnalogInput({ pin: 'A0' });
    expect(a0).toMatchObject({ pin: 'A0', resolution: 10, referenceVoltage: 5 });
    expect(await a0.read()).toBe(512);
    volts.set(1);
    expect(await a0.read()).toBe(205); // 1 V · 1024 / 5 = 204.8
    volts.set(6);
    expect(await a0.read()).toBe(1023);
    expect(await board.openAnalogInput({ pin: 'A1' }).read()).toBe(0); // unattached: tied to ground
    a0.close();
    await expect(a0.read()).rejects.toBeInstanceOf(StateError);
  });

  it('reports analogRead every sampling interval on the clock, by channel or pin number', async () => {
    const { board, clock, t0 } = uno();
    board.attachAnalog('A0', ramp({ from: 0, slopePerSecond: 5, start: t0 }));
    board.attachAnalog(1, constant(5));
    const a0: [number, number][] = [];
    const a1: number[] = [];
    const events: number[] = [];
    board.analogRead(0, (value) => a0.push([clock.now() - t0, value]));
    board.analogRead(15, (value) => a1.push(value));
    board.on('analog-read-0', (value: number) => events.push(value));
    await clock.advance(18);
    expect(a0).toEqual([]);
    await clock.advance(19 * 4 + 1);
    expect(a0.map(([t]) => t)).toEqual([19, 38, 57, 76, 95]);
    expect(a0.map(([, v]) => v)).toEqual([19, 38, 57, 76, 95].map((ms) => Math.round(((5 * ms) / 1000 / 5) * 1024)));
    expect(events).toEqual(a0.map(([, v]) => v));
    expect(a1).toEqual([1023, 1023, 1023, 1023, 1023]);
    expect(board.pins[14]!.report).toBe(1);

    board.samplingInterval(50);
    const before = a0.length;
    await clock.advance(100);
    expect(a0.slice(before).map(([t]) => t)).toEqual([145, 195]);
    expect(board.getSamplingInterval()).toBe(50);
    // One rule on every board: rounded, clamped to 1 … 16383 ms (Firmata's 14-bit SAMPLING_INTERVAL field).
    board.samplingInterval(0.2);
    expect(board.getSamplingInterval()).toBe(1);
    board.samplingInterval(65_535);
    expect(board.getSamplingInterval()).toBe(16_383);
  });
});

describe('EmulatedBoard: digital', () => {
  it('holds outputs, emits writes and reports inputs on change', async () => {
    const { board, clock } = uno();
    const writes: unknown[] = [];
    board.on('digital-write', (event) => writes.push(event));
    board.pinMode(13, MODES.OUTPUT).digitalWrite(13, 1);
    expect(board.pins[13]!.value).toBe(1);
    expect(writes).toEqual([{ pin: 13, value: 1 }]);

    board.pinMode('D2', MODES.INPUT);
    const reads: number[] = [];
    board.digitalRead(2, (value) => reads.push(value));
    expect(reads).toEqual([]);
    await clock.advance(0);
    expect(reads).toEqual([0]); // the current state when reporting starts
    board.setDigitalInput(2, 1);
    board.setDigitalInput(2, 1);
    board.setDigitalInput(2, 0);
    expect(reads).toEqual([0, 1, 0]);
    expect(() => board.setDigitalInput(13, 0)).toThrow('pin D13 is an output');
  });

  it('writes PWM only on PWM pins', () => {
    const { board } = uno();
    board.pwmWrite(3, 128);
    expect(board.pins[3]).toMatchObject({ mode: MODES.PWM, value: 128 });
    expect(() => board.analogWrite(2, 10)).toThrow(PinError);
    expect(() => board.pwmWrite(3, 300)).toThrow(ArgumentError);
  });
});

describe('EmulatedBoard: I2C', () => {
  it('routes the IO-plugin calls to the peripheral, once and continuously on the clock', async () => {
    const { board, clock, t0 } = uno();
    const part = new FakeRegisters();
    board.attachI2c(part);
    board.i2cConfig({ delay: 0 });
    board.i2cWrite(0x40, [0x10, 0xab, 0xcd]);
    board.i2cWriteReg(0x40, 0x20, 0x7f);
    const once: number[][] = [];
    board.i2cReadOnce(0x40, 0x10, 2, (bytes) => once.push(bytes));
    board.i2cReadOnce(0x40, 0x20, 1, (bytes) => once.push(bytes));
    await clock.advance(0);
    expect(once).toEqual([[0xab, 0xcd], [0x7f]]);

    const continuous: [number, number[]][] = [];
    board.i2cRead(0x40, 0x00, 1, (bytes) => continuous.push([clock.now() - t0, bytes]));
    await clock.advance(57);
    expect(continuous.map(([t]) => t)).toEqual([19, 38, 57]);
    expect(continuous.map(([, bytes]) => bytes[0])).toEqual([19, 38, 57].map((ms) => (t0 + ms) & 0xff));
    board.i2cStop(0x40);
    await clock.advance(100);
    expect(continuous).toHaveLength(3);
  });

  it('opens ECMA-419 devices; an address nobody answers NAKs like hardware', async () => {
    const { board } = uno();
    board.attachI2c(new FakeRegisters(0x40));
    const device = board.openI2c({ address: 0x40 });
    expect(device).toMatchObject({ bus: 'i2c0', address: 0x40, hz: 100_000 });
    await device.writeRegister(0x30, [1, 2, 3]);
    expect([...(await device.readRegister(0x30, 3))]).toEqual([1, 2, 3]);
    await device.write([0x31]);
    expect([...(await device.read(1))]).toEqual([2]);
    const missing = await settle(board.openI2c({ address: 0x41 }).read(1));
    expect(missing.error).toBeInstanceOf(BusError);
    expect((missing.error as BusError).code).toBe('ERR_I2C_NAK');
    expect(() => board.attachI2c(new FakeRegisters(0x40))).toThrow('i2c0@0x40 is already used by FAKE');
    expect(() => board.openI2c({ address: 0x40, hz: 1_000_000 })).toThrow(ArgumentError);
    expect(() => board.openI2c({ bus: 'i2c1', address: 0x40 })).toThrow('has no I2C bus "i2c1" (buses: i2c0)');
    device.close();
    expect((await settle(device.read(1))).error).toBeInstanceOf(StateError);
  });
});

describe('EmulatedBoard: faults', () => {
  it('stuck freezes an analog pin at the injection value until the duration ends', async () => {
    const { board, clock, t0 } = uno();
    board.attachAnalog('A0', ramp({ from: 0, slopePerSecond: 1, start: t0 }));
    const a0 = board.openAnalogInput({ pin: 'A0' });
    await clock.advance(1000); // 1 V
    const handle = board.faults.inject({ target: 'A0', kind: 'stuck', durationMs: 2000 });
    expect(handle.active).toBe(true);
    await clock.advance(1000); // the signal is at 2 V now
    expect(await a0.read()).toBe(205);
    await clock.advance(1000); // 3 V, the fault has ended
    expect(handle.active).toBe(false);
    expect(board.faults.active()).toEqual([]);
    expect(await a0.read()).toBe(614);
  });

  it('open-circuit reads full scale with a pull-up and 0 with a pull-down; on I2C it NAKs', async () => {
    const { board } = uno();
    board.attachAnalog('A0', constant(2.5));
    board.attachI2c(new FakeRegisters(0x40));
    const a0 = board.openAnalogInput({ pin: 'A0' });
    const up = board.faults.inject({ target: 'A0', kind: 'open-circuit' });
    expect(await a0.read()).toBe(1023);
    up.clear();
    const down = board.faults.inject({ target: 'A0', kind: 'open-circuit', wiring: 'pull-down' });
    expect(await a0.read()).toBe(0);
    down.clear();
    expect(await a0.read()).toBe(512);
    board.faults.inject({ target: 'i2c0@0x40', kind: 'open-circuit' });
    const result = await settle(board.openI2c({ address: 0x40 }).read(1));
    expect((result.error as BusError).code).toBe('ERR_I2C_NAK');
  });

  it('noise-burst adds noise of the given sigma for its duration, on the IO-plugin path too', async () => {
    const { board, clock } = uno();
    board.attachAnalog('A0', constant(2.5));
    const values: number[] = [];
    board.analogRead(0, (value) => values.push(value));
    board.faults.inject({ target: 'A0', kind: 'noise-burst', sigma: 0.05, startMs: clock.now() + 1000, durationMs: 19 * 200 });
    await clock.advance(999);
    expect(new Set(values)).toEqual(new Set([512]));
    const quiet = values.length;
    await clock.advance(19 * 200);
    const burst = values.slice(quiet);
    const volts = burst.map((v) => (v * 5) / 1024);
    const mean = volts.reduce((a, b) => a + b, 0) / volts.length;
    const sd = Math.sqrt(volts.reduce((a, b) => a + (b - mean) ** 2, 0) / volts.length);
    expect(sd).toBeGreaterThan(0.04);
    expect(sd).toBeLessThan(0.06);
    const after = values.length;
    await clock.advance(19 * 10);
    expect(new Set(values.slice(after))).toEqual(new Set([512]));
  });

  it('dropout rejects analog reads with ERR_BUS_TIMEOUT and skips analogRead reports', async () => {
    const { board, clock } = uno();
    board.attachAnalog('A0', constant(1));
    const a0 = board.openAnalogInput({ pin: 'A0' });
    const reports: number[] = [];
    board.analogRead(0, (value) => reports.push(value));
    board.faults.inject({ target: 'A0', kind: 'dropout', durationMs: 95 });
    const failed = await settle(a0.read());
    expect(failed.error).toBeInstanceOf(BusError);
    expect((failed.error as BusError).code).toBe('ERR_BUS_TIMEOUT');
    await clock.advance(94);
    expect(reports).toEqual([]); // the reports at 19, 38, 57 and 76 ms were dropped
    await clock.advance(1);
    expect(reports).toEqual([205]); // the fault ends at 95 ms, so that report arrives
  });

  it('an intermittent dropout fails a seeded share of reads', async () => {
    const outcomes = async (seed: number) => {
      const { board } = uno(seed);
      board.attachAnalog('A0', constant(1));
      const a0 = board.openAnalogInput({ pin: 'A0' });
      board.faults.inject({ target: 'A0', kind: 'dropout', probability: 0.3 });
      const results: boolean[] = [];
      for (let i = 0; i < 400; i++) results.push((await settle(a0.read())).error === undefined);
      return results;
    };
    const a = await outcomes(5);
    const failures = a.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(80);
    expect(failures).toBeLessThan(160);
    expect(await outcomes(5)).toEqual(a);
  });

  it('nak rejects I2C transfers; the IO-plugin path reports it as a "string" event', async () => {
    const { board, clock } = uno();
    board.attachI2c(new FakeRegisters(0x40));
    const strings: string[] = [];
    board.on('string', (text: string) => strings.push(text));
    const nak = board.faults.inject({ target: 'i2c0@0x40', kind: 'nak', durationMs: 10 });
    const device = board.openI2c({ address: 0x40 });
    const failed = await settle(device.readRegister(0, 1));
    expect((failed.error as BusError).code).toBe('ERR_I2C_NAK');
    const replies: number[][] = [];
    board.i2cReadOnce(0x40, 0x00, 1, (bytes) => replies.push(bytes));
    await clock.advance(0);
    expect(replies).toEqual([]);
    expect(strings).toEqual(['I2C: i2c0@0x40 did not acknowledge (injected nak)']);
    await clock.advance(10);
    expect(nak.active).toBe(false);
    expect((await settle(device.readRegister(0, 1))).error).toBeUndefined();
  });

  it('timeout rejects after the bus timeout on the injected clock', async () => {
    const { board, clock } = uno();
    board.attachI2c(new FakeRegisters(0x40));
    board.faults.inject({ target: 'i2c0@0x40', kind: 'timeout' });
    let outcome: unknown;
    board
      .openI2c({ address: 0x40 })
      .read(1)
      .then(
        () => (outcome = 'resolved'),
        (error: unknown) => (outcome = error),
      );
    await clock.advance(24);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toBeInstanceOf(BusError);
    expect((outcome as BusError).code).toBe('ERR_BUS_TIMEOUT');

    board.faults.clearAll();
    board.faults.inject({ target: 'i2c0@0x40', kind: 'timeout', timeoutMs: 100 });
    outcome = undefined;
    board
      .openI2c({ address: 0x40 })
      .write([1])
      .catch((error: unknown) => (outcome = error));
    await clock.advance(99);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect((outcome as BusError).code).toBe('ERR_BUS_TIMEOUT');

    board.faults.clearAll();
    board.faults.inject({ target: 'i2c0@0x40', kind: 'timeout', durationMs: 50 });
    await clock.advance(50);
    expect(board.faults.active()).toEqual([]);
    expect([...(await board.openI2c({ address: 0x40 }).readRegister(0x00, 1))]).toHaveLength(1);
  });

  it('stuck on I2C replays the first reply of each read while it lasts', async () => {
    const { board, clock, t0 } = uno();
    board.attachI2c(new FakeRegisters(0x40));
    const device = board.openI2c({ address: 0x40 });
    board.faults.inject({ target: 'i2c0@0x40', kind: 'stuck', durationMs: 50 });
    const first = [...(await device.readRegister(0x00, 1))];
    expect(first).toEqual([t0 & 0xff]);
    await clock.advance(30);
    expect([...(await device.readRegister(0x00, 1))]).toEqual(first);
    await clock.advance(30);
    expect([...(await device.readRegister(0x00, 1))]).toEqual([(t0 + 60) & 0xff]);
  });

  it('starts faults at startMs, lists the active ones and clears them all', async () => {
    const { board, clock } = uno();
    board.attachAnalog('A0', constant(2.5));
    const a0 = board.openAnalogInput({ pin: 'A0' });
    const later = board.faults.inject({ target: 'A0', kind: 'open-circuit', startMs: clock.now() + 100 });
    const now = board.faults.inject({ target: 'i2c0@0x76', kind: 'nak' });
    expect(board.faults.active()).toEqual([now]);
    expect(await a0.read()).toBe(512);
    await clock.advance(100);
    expect(board.faults.active()).toEqual([later, now]);
    expect(later).toMatchObject({ target: 'A0', kind: 'open-circuit', endMs: Infinity });
    expect(await a0.read()).toBe(1023);
    board.faults.clearAll();
    expect(board.faults.active()).toEqual([]);
    expect(await a0.read()).toBe(512);
  });

  it('rejects faults that do not apply to the target', () => {
    const { board } = uno();
    expect(() => board.faults.inject({ target: 'i2c0@0x76', kind: 'noise-burst', sigma: 1 })).toThrow('"noise-burst" does not apply to an I2C target');
    expect(() => board.faults.inject({ target: 'A0', kind: 'nak' })).toThrow('"nak" does not apply to an analog pin');
    expect(() => board.faults.inject({ target: 'A9', kind: 'stuck' })).toThrow('"A9" is not an analog pin of this board');
    expect(() => board.faults.inject({ target: 'i2c3@0x76', kind: 'nak' })).toThrow('this board has no I2C bus "i2c3"');
    expect(() => board.faults.inject({ target: 'A0', kind: 'noise-burst', sigma: -1 })).toThrow(ValidationError);
    expect(() => board.faults.inject({ target: 'A0', kind: 'stuck', durationMs: 0 })).toThrow(ValidationError);
  });

  it('a fault that ended before it was injected never shows', async () => {
    const { board, clock } = uno();
    board.attachAnalog('A0', constant(2.5));
    await clock.advance(1000);
    const past = board.faults.inject({ target: 'A0', kind: 'open-circuit', startMs: clock.now() - 500, durationMs: 100 });
    expect(past.active).toBe(false);
    expect(board.faults.active()).toEqual([]);
    expect(await board.openAnalogInput({ pin: 'A0' }).read()).toBe(512);
    expect(clock.pending).toBe(0);
  });
});

describe('EmulatedBoard: determinism and lifecycle', () => {
  async function sequence(seed: number, withOtherSource = false): Promise<number[]> {
    const { board, clock } = uno(seed, { adcNoiseVolts: 0.01 });
    board.attachAnalog('A0', gaussianNoise(constant(2.5), { sigma: 0.02, random: new SeededRandom(seed).fork('signal:A0') }));
    if (withOtherSource) {
      board.attachAnalog('A1', constant(1));
      board.analogRead(1, () => undefined);
      board.faults.inject({ target: 'A1', kind: 'noise-burst', sigma: 0.1 });
    }
    board.faults.inject({ target: 'A0', kind: 'noise-burst', sigma: 0.03, startMs: clock.now() + 200 });
    const values: number[] = [];
    board.analogRead(0, (value) => values.push(value));
    await clock.advance(19 * 50);
    await board.close();
    return values;
  }

  it('same seed and clock give the same values; another seed differs', async () => {
    const a = await sequence(42);
    expect(a).toHaveLength(50);
    expect(await sequence(42)).toEqual(a);
    expect(await sequence(43)).not.toEqual(a);
  });

  it("adding a noise source elsewhere does not change a pin's noise", async () => {
    expect(await sequence(42, true)).toEqual(await sequence(42));
  });

  it('close() cancels every timer and rejects transfers still waiting', async () => {
    const { board, clock } = uno();
    board.attachI2c(new FakeRegisters(0x40));
    board.analogRead(0, () => undefined);
    board.digitalRead(2, () => undefined);
    board.i2cRead(0x40, 1, () => undefined);
    board.faults.inject({ target: 'A0', kind: 'stuck', startMs: clock.now() + 10, durationMs: 1000 });
    board.faults.inject({ target: 'i2c0@0x41', kind: 'timeout' });
    const waiting = settle(board.openI2c({ address: 0x41 }).read(1));
    let closed = false;
    board.on('close', () => (closed = true));
    expect(clock.pending).toBeGreaterThan(0);
    await board.close();
    expect(clock.pending).toBe(0);
    expect(closed).toBe(true);
    expect((await waiting).error).toBeInstanceOf(StateError);
    expect(() => board.openAnalogInput({ pin: 'A0' })).toThrow(StateError);
  });
});
