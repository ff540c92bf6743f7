/**
 * The emulated board: a `Board` (the shared IO-plugin adapter over its primitives) whose pins read
 * attached signal models and whose I2C buses route to attached peripheral models, all on the
 * injected clock and a seeded generator. Same seed and same clock give the same values byte for
 * byte; each noise source forks its own stream, so adding one source does not change another.
 */
import type { AnalogInput, AnalogInputOptions, Edge } from '../../sdk/io/board.js';
import { MODES } from '../../sdk/io/board.js';
import type { AnalogPinDefinition, BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { I2cTransfer } from '../../sdk/io/i2c-device.js';
import { IoPluginBoard } from '../../sdk/io/io-plugin-board.js';
import { resolveBoardDefinition } from '../../sdk/io/pin-map.js';
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { BusError, PinError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { I2cPeripheral, Signal } from './peripheral.js';
import { AnalogFrontEnd } from './analog-front-end.js';
import { numberProblem, show } from './expect.js';
import { FaultInjector, type Faults } from './faults.js';
import { EmulatedI2cBus } from './i2c-bus.js';

/**
 * The most bytes one emulated I2C transfer carries: Linux i2c-dev's limit (drivers/i2c/i2c-dev.c),
 * the largest of sensorkit's real boards, so the emulator never refuses what a real board accepts.
 */
export const EMULATED_I2C_MAX_BYTES = 8192;

/** Options of {@link EmulatedBoard}. */
export interface EmulatedBoardOptions {
  /** A board definition or the id of a built-in one ("arduino-uno", "raspberry-pi-4"). */
  definition: BoardDefinition | string;
  clock: Clock;
  /** Seed of every noise source on the board (an integer). */
  seed: number;
  /** IO-plugin name. Default: "Emulated " + the definition's name. */
  name?: string;
  /** Input-referred ADC noise σ, V. Default 0 (an ideal converter; add noise to signals instead). */
  adcNoiseVolts?: number;
  /** Wait of an injected I2C `timeout` fault, ms of clock time. Default 25. */
  i2cTimeoutMs?: number;
}

/**
 * An emulated board.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock()
 * const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 })
 * board.attachAnalog('A0', constant(2.5))
 * const counts = await board.openAnalogInput({ pin: 'A0' }).read() // 512
 * board.faults.inject({ target: 'A0', kind: 'open-circuit', durationMs: 100 })
 * ```
 */
export class EmulatedBoard extends IoPluginBoard {
  readonly seed: number;
  /** Fault injection: `inject`, `clearAll`, `active`. */
  readonly faults: Faults;

  readonly #injector: FaultInjector;
  readonly #analog: AnalogFrontEnd;
  readonly #buses = new Map<string, EmulatedI2cBus>();
  readonly #timers = new Set<Timer>();
  /** Pulse trains wired to digital pins, by pin index. */
  readonly #pulseTrains = new Map<number, PulseTrain>();

  constructor(options: EmulatedBoardOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('', `expected an options object, got ${show(options)}`);
    const definition = resolveBoardDefinition(options.definition);
    if (typeof options.clock?.now !== 'function' || typeof options.clock.schedule !== 'function') {
      throw new ValidationError('clock', 'expected a Clock (an object with now() and schedule())');
    }
    const seedProblem = numberProblem('seed', options.seed, { integer: true });
    if (seedProblem !== undefined) throw new ValidationError('seed', seedProblem);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '')) {
      throw new ValidationError('name', `expected a non-empty string, got ${show(options.name)}`);
    }
    const noiseProblem = numberProblem('adcNoiseVolts', options.adcNoiseVolts ?? 0, { min: 0 });
    if (noiseProblem !== undefined) throw new ValidationError('adcNoiseVolts', noiseProblem);
    const timeoutMs = options.i2cTimeoutMs ?? 25;
    const timeoutProblem = numberProblem('i2cTimeoutMs', timeoutMs, { above: 0 });
    if (timeoutProblem !== undefined) throw new ValidationError('i2cTimeoutMs', timeoutProblem);
    super({
      definition,
      clock: options.clock,
      name: options.name ?? `Emulated ${definition.name}`,
      reports: 'polled',
      i2cMaxBytes: EMULATED_I2C_MAX_BYTES,
    });

    this.seed = options.seed;
    // A root that is never drawn from: fork(label) then depends only on the seed and the label.
    const root = new SeededRandom(options.seed);
    this.#injector = new FaultInjector({
      clock: this.clock,
      random: root,
      analogPins: definition.analogPins.map((pin) => pin.name),
      i2cBuses: definition.i2cBuses.map((bus) => bus.name),
      onActivate: (fault) => this.#analog.captureStuck(fault),
    });
    this.faults = this.#injector;
    const noiseVolts = options.adcNoiseVolts ?? 0;
    this.#analog = new AnalogFrontEnd({ definition, clock: this.clock, random: root, noiseVolts, faults: this.#injector });
    for (const bus of definition.i2cBuses) {
      this.#buses.set(bus.name, new EmulatedI2cBus({ name: bus.name, maxHz: bus.maxHz, clock: this.clock, faults: this.#injector, timeoutMs }));
    }
  }

  // ── attaching the world ─────────────────────────────────────────────────────────────────────

  /** Connects a signal (volts) to an analog pin ("A0", channel or pin number); replaces any previous one. */
  attachAnalog(pin: number | string, signalVolts: Signal): this {
    const analog = this.pinMap.analog(pin);
    if (typeof signalVolts?.valueAt !== 'function') throw new ValidationError('signalVolts', 'expected a Signal (an object with valueAt(timeMs))');
    this.#analog.attach(analog, signalVolts);
    return this;
  }

  /** Connects an I2C peripheral model to a bus (default: the board's first I2C bus). */
  attachI2c(peripheral: I2cPeripheral, options: { bus?: string } = {}): this {
    if (typeof peripheral?.read !== 'function' || typeof peripheral.write !== 'function') {
      throw new ValidationError('peripheral', 'expected an I2cPeripheral (address, name, read(), write())');
    }
    const name = options.bus ?? this.definition.i2cBuses[0]?.name;
    const bus = name === undefined ? undefined : this.#buses.get(name);
    if (bus === undefined) {
      const known = [...this.#buses.keys()];
      throw new PinError(`${this.definition.name} has no I2C bus ${show(name)} (buses: ${known.length === 0 ? 'none' : known.join(', ')})`);
    }
    bus.attach(peripheral);
    return this;
  }

  /**
   * Wires a part's pulse output to a digital pin: a data-ready line such as the emulated ADS1115's
   * `readyLine(clock)`. Each pulse is one falling and one rising edge to `openEdgeCounter`, counted
   * however short it is (the part's model counts them on the clock, as an interrupt input would).
   *
   * @example
   * ```ts
   * const adc = new Ads1115Peripheral({ inputs: [constant(1.25)] })
   * board.attachI2c(adc).attachPulseTrain('D2', adc.readyLine(board.clock))
   * board.openEdgeCounter({ pin: 'D2' }).count() // conversions since
   * ```
   */
  attachPulseTrain(pin: number | string, train: PulseTrain): this {
    const index = this.pinMap.normalize(pin);
    this.pinMap.expectMode(index, MODES.INPUT);
    if (typeof train?.pulses !== 'function') throw new ValidationError('train', 'expected a pulse train (an object with pulses())');
    if (this.#pulseTrains.has(index)) throw new PinError(`pin ${this.pinMap.nameOf(index)} already has a pulse train`);
    this.#pulseTrains.set(index, train);
    return this;
  }

  /** Drives an input pin from outside (a button, a limit switch). */
  setDigitalInput(pin: number | string, value: number): this {
    const index = this.pinMap.normalize(pin);
    const mode = this.pins[index]!.mode;
    if (mode === MODES.OUTPUT || mode === MODES.PWM) {
      throw new PinError(`pin ${this.pinMap.nameOf(index)} is an output; an external signal cannot drive it`);
    }
    this.#setDigital(index, value ? 1 : 0);
    return this;
  }

  // ── primitives ──────────────────────────────────────────────────────────────────────────────

  openAnalogInput(options: AnalogInputOptions): AnalogInput {
    this.expectOpen();
    const pin = options?.pin;
    const analog = this.definition.analogPins.find((candidate) => candidate.name === pin);
    if (analog === undefined) throw this.pinMap.notAnalog(pin);
    return this.#analog.open(analog, () => !this.isClosed);
  }

  protected convertAnalog(analog: AnalogPinDefinition): number {
    const counts = this.#analog.convert(analog);
    if (counts instanceof BusError) throw counts;
    return counts;
  }

  protected transferI2c(bus: string, address: number, transfer: I2cTransfer): Promise<Uint8Array> {
    const emulated = this.#buses.get(bus);
    if (emulated === undefined) return Promise.reject(new PinError(`${this.definition.name} has no I2C bus ${show(bus)}`));
    return emulated.transfer(address, transfer);
  }

  /** Emits "digital-write" (the Firmata emulator listens) and reports the level to digitalRead listeners. */
  protected override writeDigitalPin(pin: number, level: 0 | 1): void {
    this.emit(`digital-write-${pin}`, level);
    this.emit('digital-write', { pin, value: level });
    this.#setDigital(pin, level);
  }

  /**
   * Enabling a report makes a Firmata board send the current state right away: here, on the clock,
   * to the pin's listeners only ("digital-read" itself carries changes, which the Firmata emulator forwards).
   */
  protected override watchDigitalPin(pin: number): void {
    const timer = this.clock.schedule(this.clock.now(), () => {
      this.#timers.delete(timer);
      this.emit(`digital-read-${pin}`, this.pins[pin]!.value);
    });
    this.#timers.add(timer);
  }

  /** A pin with a pulse train counts its pulses: two edges each with `'both'`. */
  protected override edgeSource(pin: number, edge: Edge): (() => number) | undefined {
    const train = this.#pulseTrains.get(pin);
    if (train === undefined) return undefined;
    return edge === 'both' ? () => 2 * train.pulses() : () => train.pulses();
  }

  protected override writeAnalogValue(pin: number, value: number): void {
    this.emit('analog-write', { pin, value });
  }

  /** Cancels every timer and rejects transfers still waiting. */
  protected closeBoard(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#injector.clearAll();
    for (const bus of this.#buses.values()) bus.close();
  }

  #setDigital(index: number, value: number): void {
    const record = this.pins[index]!;
    if (record.value === value) return;
    record.value = value;
    if (record.report === 1) this.emitDigitalRead(index, value);
  }
}

/** Pulses a part put out so far on a line (monotonic), e.g. a data-ready output. */
export interface PulseTrain {
  pulses(): number;
}
