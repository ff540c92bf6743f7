/**
 * The board contract suite: one set of expectations that every sensorkit board must meet through
 * the IO-plugin and bus contracts (modes and pins, analog reads, digital and PWM where the board
 * has GPIO, the sampling-interval rule, I2C on an emulated BME280 at 0x76, typed errors with codes,
 * an idempotent `close()` after which every operation is refused with `StateError`).
 *
 * A fixture wires the same world on each board: 2.5 V (or the board's own input) on analog channel
 * 0 and a BME280 (chip id 0x60) at 0x76 on the first I2C bus, nothing at 0x40.
 */
import { once, type EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MODES } from '../../sdk/io/board.js';
import type { IoPluginBoard } from '../../sdk/io/io-plugin-board.js';
import { SAMPLING_INTERVAL_MS } from '../../sdk/io/limits.js';
import { ArgumentError, BusError, NotSupportedError, PinError, SensorkitError, StateError } from '../../sdk/core/errors.js';

/** One board under test, with the world wired on it. */
export interface BoardFixture {
  readonly board: IoPluginBoard;
  /** Lets the board's clock run until `promise` settles (a virtual clock advances; a real one is waited on, with a limit). */
  settle<T>(promise: Promise<T>): Promise<T>;
  /** What analogRead(0) reports (the wired input). */
  readonly analogCounts: number;
  /**
   * GPIO: the emulated board that sees the pins (the board itself, or the one behind the Firmata
   * line) and drives an input from outside; undefined for a board without GPIO.
   */
  readonly gpio?: { readonly peer: EventEmitter; drive(pin: number, level: 0 | 1): void };
  /** Releases what the fixture made besides the board (an emulator, a temporary folder). */
  dispose(): Promise<void>;
}

function code(error: unknown): string | undefined {
  expect(error).toBeInstanceOf(SensorkitError);
  return (error as SensorkitError).code;
}

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** The next `count` values a handler-taking call delivers. */
function collect<T>(count: number, start: (handler: (value: T) => void) => void): Promise<T[]> {
  return new Promise((resolve) => {
    const values: T[] = [];
    start((value) => {
      if (values.length < count) values.push(value);
      if (values.length === count) resolve(values);
    });
  });
}

/** Values a handler receives, taken one by one in arrival order. */
class Arrivals<T> {
  readonly #values: T[] = [];
  readonly #waiting: ((value: T) => void)[] = [];

  readonly push = (value: T): void => {
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#values.push(value);
    else waiter(value);
  };

  next(): Promise<T> {
    if (this.#values.length > 0) return Promise.resolve(this.#values.shift()!);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

/**
 * Registers the contract suite for one board.
 *
 * @example
 * ```ts
 * boardContract('EmulatedBoard', async () => emulatedFixture())
 * ```
 */
export function boardContract(name: string, make: () => Promise<BoardFixture>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip === true)(`board contract: ${name}`, () => {
    async function withBoard(test: (fixture: BoardFixture) => Promise<void>): Promise<void> {
      const fixture = await make();
      try {
        await test(fixture);
      } finally {
        await fixture.board.close();
        await fixture.dispose();
      }
    }

    it('speaks the IO-plugin shape: MODES, pins with capabilities, analog pins, ready', () =>
      withBoard(async ({ board }) => {
        expect(board.MODES).toEqual(MODES);
        expect(board.pins.length).toBeGreaterThan(0);
        for (const pin of board.pins) {
          expect(Array.isArray(pin.supportedModes)).toBe(true);
          expect(Number.isInteger(pin.analogChannel)).toBe(true);
        }
        expect(board.analogPins.length).toBeGreaterThan(0);
        for (const index of board.analogPins) {
          expect(board.pins[index]!.supportedModes).toContain(MODES.ANALOG);
          expect(board.pins[index]!.analogChannel).not.toBe(127);
        }
        const first = board.definition.analogPins[0]!;
        expect(board.normalize(first.name)).toBe(first.pin);
        expect(board.isReady).toBe(true);
        expect(board.RESOLUTION.ADC).toBe(2 ** board.definition.adc!.resolution - 1);
      }));

    it('reports analog channel 0 in range every sampling interval, and reads it as a bus', () =>
      withBoard(async ({ board, settle, analogCounts }) => {
        board.samplingInterval(20);
        const reports = await settle(collect<number>(3, (handler) => board.analogRead(0, handler)));
        expect(reports).toEqual([analogCounts, analogCounts, analogCounts]);
        const input = board.openAnalogInput({ pin: board.definition.analogPins[0]!.name });
        const counts = await settle(input.read());
        expect(counts).toBeGreaterThanOrEqual(0);
        expect(counts).toBeLessThanOrEqual(board.RESOLUTION.ADC!);
        expect(counts).toBe(analogCounts);
        input.close();
      }));

    it('refuses a bad pin and a bad mode with PinError (ERR_PIN)', () =>
      withBoard(async ({ board }) => {
        expect(code(thrown(() => board.normalize('NOPE')))).toBe('ERR_PIN');
        expect(thrown(() => board.pinMode(board.pins.length, MODES.ANALOG))).toBeInstanceOf(PinError);
        const digital = board.pins.findIndex((pin) => pin.analogChannel === 127);
        expect(thrown(() => board.pinMode(board.definition.digitalPins[digital]!, MODES.ANALOG))).toBeInstanceOf(PinError);
        expect(code(thrown(() => board.pinMode(board.definition.analogPins[0]!.name, 0x42)))).toBe('ERR_PIN');
        expect(code(thrown(() => board.analogRead(board.definition.digitalPins[digital]!, () => undefined)))).toBe('ERR_PIN');
        expect(code(thrown(() => board.openAnalogInput({ pin: 'NOPE' })))).toBe('ERR_PIN');
      }));

    it('keeps one sampling-interval rule: whole ms, clamped to 1 … 16383, ArgumentError for a non-number', () =>
      withBoard(async ({ board }) => {
        expect(board.getSamplingInterval()).toBe(SAMPLING_INTERVAL_MS.default);
        expect(board.samplingInterval(50).getSamplingInterval()).toBe(50);
        expect(board.setSamplingInterval(24.6).getSamplingInterval()).toBe(25);
        expect(board.samplingInterval(0).getSamplingInterval()).toBe(1);
        expect(board.samplingInterval(65_535).getSamplingInterval()).toBe(16_383);
        expect(thrown(() => board.samplingInterval(Number.NaN))).toBeInstanceOf(ArgumentError);
        expect(code(thrown(() => board.samplingInterval('10' as unknown as number)))).toBe('ERR_ARGUMENT');
      }));

    it('digital: writes an output, reads an input back on change; or says GPIO is not supported', () =>
      withBoard(async ({ board, settle, gpio }) => {
        if (gpio === undefined) {
          for (const call of [() => board.digitalWrite(2, 1), () => board.digitalRead(2, () => undefined), () => board.pinMode(2, MODES.OUTPUT)]) {
            expect(code(thrown(call))).toBe('ERR_NOT_SUPPORTED');
          }
          expect(board.pins.every((pin) => !pin.supportedModes.includes(MODES.OUTPUT))).toBe(true);
          return;
        }
        const output = board.pins.findIndex((pin, index) => index > 1 && pin.supportedModes.includes(MODES.OUTPUT) && pin.analogChannel === 127 && index !== 2);
        const written = once(gpio.peer, `digital-write-${output}`);
        board.digitalWrite(output, 1);
        expect(board.pins[output]).toMatchObject({ mode: MODES.OUTPUT, value: 1 });
        expect(await settle(written)).toEqual([1]);

        board.pinMode(2, MODES.INPUT);
        const levels = new Arrivals<number>();
        board.digitalRead(2, levels.push);
        expect(await settle(levels.next())).toBe(0);
        gpio.drive(2, 1);
        expect(await settle(levels.next())).toBe(1);
        expect(board.pins[2]!.value).toBe(1);
      }));

    it('PWM and servo: 0 … RESOLUTION.PWM, 0 … 180° or 544 … 2400 µs, on capable pins only; ArgumentError beyond, PinError elsewhere', () =>
      withBoard(async ({ board, settle, gpio }) => {
        if (gpio === undefined) {
          expect(thrown(() => board.pwmWrite(2, 10))).toBeInstanceOf(NotSupportedError);
          expect(thrown(() => board.servoWrite(2, 90))).toBeInstanceOf(NotSupportedError);
          return;
        }
        const pwm = board.pins.findIndex((pin) => pin.supportedModes.includes(MODES.PWM));
        const plain = board.pins.findIndex((pin) => !pin.supportedModes.includes(MODES.PWM));
        expect(board.RESOLUTION.PWM).toBe(255);
        const written = once(gpio.peer, 'analog-write');
        board.pwmWrite(pwm, 128);
        expect(board.pins[pwm]).toMatchObject({ mode: MODES.PWM, value: 128 });
        expect(await settle(written)).toEqual([{ pin: pwm, value: 128 }]);
        expect(code(thrown(() => board.pwmWrite(pwm, board.RESOLUTION.PWM + 1)))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.pwmWrite(pwm, -1)))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.pwmWrite(pwm, Number.NaN)))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.pwmWrite(plain, 10)))).toBe('ERR_PIN');

        // A servo on the same pin: degrees 0 … 180, or a pulse width of 544 … 2400 µs.
        const moved = once(gpio.peer, 'analog-write');
        board.servoWrite(pwm, 90);
        expect(board.pins[pwm]).toMatchObject({ mode: MODES.SERVO, value: 90 });
        expect(await settle(moved)).toEqual([{ pin: pwm, value: 90 }]);
        const pulsed = once(gpio.peer, 'analog-write');
        board.servoWrite(pwm, 1500);
        expect(await settle(pulsed)).toEqual([{ pin: pwm, value: 1500 }]);
        expect(code(thrown(() => board.servoWrite(pwm, 300)))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.servoWrite(plain, 90)))).toBe('ERR_PIN');
      }));

    it('I2C: reads the BME280 chip id at 0x76 through the IO plugin and as a bus device, writes a register and reads it back', () =>
      withBoard(async ({ board, settle }) => {
        expect(await settle(collect<number[]>(1, (handler) => board.i2cReadOnce(0x76, 0xd0, 1, handler)))).toEqual([[0x60]]);
        const bme = board.openI2c({ address: 0x76 });
        expect(Array.from(await settle(bme.readRegister(0xd0, 1)))).toEqual([0x60]);
        await settle(bme.writeRegister(0xf4, [0x24]));
        expect(Array.from(await settle(bme.readRegister(0xf4, 1)))).toEqual([0x24]);
        board.i2cWrite(0x76, 0xf4, [0x20]);
        expect(await settle(collect<number[]>(1, (handler) => board.i2cReadOnce(0x76, 0xf4, 1, handler)))).toEqual([[0x20]]);
        bme.close();
        await expect(bme.readRegister(0xd0, 1)).rejects.toBeInstanceOf(StateError);
      }));

    it('I2C: a continuous read repeats every sampling interval until i2cStop', () =>
      withBoard(async ({ board, settle }) => {
        board.samplingInterval(20);
        expect(await settle(collect<number[]>(2, (handler) => board.i2cRead(0x76, 0xd0, 1, handler)))).toEqual([[0x60], [0x60]]);
        board.i2cStop(0x76);
      }));

    it('I2C: nobody at 0x40 is a NAK (BusError); bad address, count and bus are typed errors', () =>
      withBoard(async ({ board, settle }) => {
        const error = await settle(board.openI2c({ address: 0x40 }).readRegister(0x00, 1)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BusError);
        expect(code(error)).toBe('ERR_I2C_NAK');
        expect(code(thrown(() => board.openI2c({ address: 0x80 })))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.openI2c({ address: 0x03 })))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.openI2c({ bus: 'nope', address: 0x76 })))).toBe('ERR_PIN');
        expect(code(thrown(() => board.i2cReadOnce(0x78, 0xd0, 1, () => undefined)))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.i2cReadOnce(0x76, 0xd0, board.i2cMaxBytes + 1, () => undefined)))).toBe('ERR_ARGUMENT');
        expect(code(thrown(() => board.i2cWrite(0x76, [0x100])))).toBe('ERR_ARGUMENT');
        await expect(board.openI2c({ address: 0x76 }).read(0)).rejects.toBeInstanceOf(ArgumentError);
      }));

    it('close() is idempotent; afterwards every operation is refused with StateError', () =>
      withBoard(async ({ board }) => {
        const bme = board.openI2c({ address: 0x76 });
        let closes = 0;
        board.on('close', () => closes++);
        await board.close();
        await board.close();
        expect(closes).toBe(1);
        expect(board.isReady).toBe(false);
        const refused = [
          () => board.pinMode(board.definition.analogPins[0]!.name, MODES.ANALOG),
          () => board.analogRead(0, () => undefined),
          () => board.digitalWrite(2, 1),
          () => board.digitalRead(2, () => undefined),
          () => board.pwmWrite(3, 1),
          () => board.i2cConfig(),
          () => board.i2cWrite(0x76, [0xf4, 0]),
          () => board.i2cRead(0x76, 0xd0, 1, () => undefined),
          () => board.i2cReadOnce(0x76, 0xd0, 1, () => undefined),
          () => board.samplingInterval(50),
          () => board.openI2c({ address: 0x76 }),
          () => board.openAnalogInput({ pin: board.definition.analogPins[0]!.name }),
        ];
        for (const call of refused) expect(code(thrown(call))).toBe('ERR_STATE');
        await expect(bme.readRegister(0xd0, 1)).rejects.toBeInstanceOf(StateError);
      }));
  });
}
