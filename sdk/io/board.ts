/**
 * The board contract. A board speaks two languages:
 *
 * 1. the johnny-five IO-plugin contract (`MODES`, `pins`, `pinMode`, `analogRead`, `digitalRead`,
 *    `digitalWrite`, `i2cConfig`, `i2cRead`, `i2cReadOnce`, `i2cWrite` …), so johnny-five components
 *    run on any sensorkit board: `new five.Board({ io: board })`;
 * 2. ECMA-419-style bus objects (`openAnalogInput`, `openI2c`) that sensorkit drivers receive. A
 *    driver never opens hardware itself; it is handed its bus, so it runs on an emulated bus for free.
 *
 * Bus operations are asynchronous because on a Firmata board each transfer is a round trip over a
 * serial line. Failures reject with `BusError` (`ERR_I2C_NAK`, `ERR_BUS_TIMEOUT`).
 *
 * Every sensorkit board implements both by extending `IoPluginBoard` (io-plugin-board.ts), which
 * writes the IO-plugin surface and its rules once over a few board primitives.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { BoardDefinition } from './board-definitions.js';

/** Firmata pin modes, as johnny-five expects them in `io.MODES`. */
export const MODES = Object.freeze({
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  SERVO: 0x04,
  SHIFT: 0x05,
  I2C: 0x06,
  ONEWIRE: 0x07,
  STEPPER: 0x08,
  SERIAL: 0x0a,
  PULLUP: 0x0b,
  IGNORE: 0x7f,
} as const);

/** One of the values of {@link MODES}. */
export type PinMode = (typeof MODES)[keyof typeof MODES];

/** One entry of `io.pins`, as johnny-five reads it. */
export interface IoPin {
  supportedModes: number[];
  mode: number | undefined;
  value: number;
  report: number;
  /** Index of the analog channel for analog-capable pins, 127 otherwise (Firmata's convention). */
  analogChannel: number;
}

/** Options of `i2cConfig` (johnny-five passes either a number or an object). */
export interface I2cConfigOptions {
  delay?: number;
  address?: number;
  bus?: string | number;
}

/** Callback receiving the bytes of an I2C read. */
export type I2cReadHandler = (bytes: number[]) => void;

/**
 * The johnny-five IO-plugin contract (see johnny-five's IO Plugins document). Pins are numbers in
 * `pins` order; `analogRead` takes the analog channel number (0 for A0) as johnny-five passes it.
 */
export interface IoPlugin extends EventEmitter {
  readonly MODES: typeof MODES;
  readonly HIGH: 1;
  readonly LOW: 0;
  /** Full-scale values: ADC counts (null without an ADC), DAC (none), PWM duty. */
  readonly RESOLUTION: { readonly ADC: number | null; readonly DAC: null; readonly PWM: number };
  readonly pins: IoPin[];
  readonly analogPins: number[];
  readonly name: string;
  readonly isReady: boolean;
  readonly defaultLed?: number;
  pinMode(pin: number | string, mode: number): this;
  analogRead(pin: number | string, handler: (value: number) => void): void;
  reportAnalogPin(pin: number | string, value: 0 | 1): void;
  digitalRead(pin: number | string, handler: (value: number) => void): void;
  digitalWrite(pin: number | string, value: number): this;
  analogWrite(pin: number | string, value: number): this;
  pwmWrite(pin: number | string, value: number): this;
  /** Degrees 0 … 180, or a pulse width of 544 … 2400 µs. */
  servoWrite(pin: number | string, value: number): this;
  /** Reporting interval, ms: rounded and clamped to 1 … 16383 (see `SAMPLING_INTERVAL_MS`). */
  samplingInterval(ms: number): this;
  setSamplingInterval(ms: number): this;
  getSamplingInterval(): number;
  i2cConfig(options?: number | I2cConfigOptions): this;
  i2cStop(options: number | { address: number }): void;
  i2cWrite(address: number, registerOrBytes: number | number[], bytes?: number | number[]): this;
  i2cWriteReg(address: number, register: number, byte: number): this;
  i2cRead(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this;
  i2cReadOnce(
    address: number,
    registerOrCount: number,
    countOrHandler: number | I2cReadHandler,
    handler?: I2cReadHandler,
  ): this;
  /** Maps a pin name ("A0", "GPIO17", 13) to its index in `pins`. */
  normalize(pin: number | string): number;
}

/**
 * An analog input (ECMA-419 `AnalogInput`): reads raw ADC counts. Convert with
 * `volts = counts / (2 ** resolution - 1) * referenceVoltage`.
 */
export interface AnalogInput {
  /** Pin name as given, e.g. "A0". */
  readonly pin: string;
  /** ADC resolution in bits. */
  readonly resolution: number;
  /** ADC reference voltage, V. */
  readonly referenceVoltage: number;
  /** One conversion, in counts (0 … 2^resolution − 1). */
  read(): Promise<number>;
  close(): void;
}

/**
 * An I2C peripheral at one address (ECMA-419 `I2C`/`SMBus`, asynchronous).
 */
export interface I2cDevice {
  /** Bus name, e.g. "i2c1". */
  readonly bus: string;
  /** 7-bit address. */
  readonly address: number;
  /** Bus clock, Hz. */
  readonly hz: number;
  /** Reads `count` bytes from the current register pointer. */
  read(count: number): Promise<Uint8Array>;
  /** Writes raw bytes (register pointer first, if any). */
  write(bytes: ArrayLike<number>): Promise<void>;
  /** Writes the register pointer, then reads `count` bytes (repeated start). */
  readRegister(register: number, count: number): Promise<Uint8Array>;
  /** Writes `bytes` starting at `register`. */
  writeRegister(register: number, bytes: ArrayLike<number>): Promise<void>;
  close(): void;
}

/** Which transitions of a digital input an {@link EdgeCounter} counts. */
export type Edge = 'rising' | 'falling' | 'both';

/**
 * Counts the edges of a digital input, as an edge-triggered GPIO interrupt does: a part's
 * data-ready line (the ADS1115's ALERT/RDY, an accelerometer's INT), read by its driver to tell a
 * new conversion from one already read and to count the ones it missed.
 *
 * On a board that sees its pins only through level reports (Firmata), a pulse shorter than the
 * board's reporting is not seen; emulated boards count every pulse of an attached pulse train.
 */
export interface EdgeCounter {
  /** Pin name as given, e.g. "D2". */
  readonly pin: string;
  readonly edge: Edge;
  /** Edges counted since the counter was opened (monotonic). */
  count(): number;
  /** Stops counting; `count()` keeps its last value. */
  close(): void;
}

/** Options of {@link Board.openEdgeCounter}. */
export interface EdgeCounterOptions {
  /** Digital pin name from the board definition, e.g. "D2" or "GPIO17". */
  pin: string;
  /** Default `'falling'`: an active-low ready line (the ADS1115's ALERT/RDY with COMP_POL 0). */
  edge?: Edge;
}

/** Options of {@link Board.openAnalogInput}. */
export interface AnalogInputOptions {
  /** Pin name from the board definition, e.g. "A0". */
  pin: string;
}

/** Options of {@link Board.openI2c}. */
export interface I2cDeviceOptions {
  /** Bus name from the board definition; default: the board's first I2C bus. */
  bus?: string;
  /** 7-bit address, 0x08 … 0x77. */
  address: number;
  /** Bus clock in Hz; default 100 kHz. */
  hz?: number;
}

/**
 * A sensorkit board: the IO-plugin contract plus bus factories and its definition (pin map).
 *
 * @example
 * ```ts
 * const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 })
 * const a0 = board.openAnalogInput({ pin: 'A0' })
 * const counts = await a0.read()
 * ```
 */
export interface Board extends IoPlugin {
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  openAnalogInput(options: AnalogInputOptions): AnalogInput;
  openI2c(options: I2cDeviceOptions): I2cDevice;
  /**
   * Counts edges on a digital input (sets it to INPUT). Throws `PinError` for a pin that cannot
   * be an input, `NotSupportedError` on a board without GPIO.
   */
  openEdgeCounter(options: EdgeCounterOptions): EdgeCounter;
  /** Releases every bus and timer the board holds. */
  close(): Promise<void>;
}

/**
 * How sensorkit names an I2C target in messages, provenance and fault targets: `i2c1@0x76`.
 *
 * @example
 * ```ts
 * i2cTarget('i2c1', 0x76) // 'i2c1@0x76'
 * ```
 */
export function i2cTarget(bus: string, address: number): string {
  return `${bus}@0x${address.toString(16).padStart(2, '0')}`;
}
