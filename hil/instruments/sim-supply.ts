/**
 * A simulated DC power supply: a set voltage and current limit, an output switch, a resistive load,
 * and the disturbances of immunity testing — voltage dips and short interruptions of the DC input
 * power port in the manner of IEC 61000-4-29 (and of IEC 61000-4-11 for AC ports): the output falls
 * to a residual voltage for a duration, then returns.
 *
 * `depthPercent` is how far the voltage falls: a dip of depth 30 % leaves 70 % of the set voltage
 * (IEC 61000-4-29's 70 % test level); an interruption leaves 0 %. Overlapping events take the
 * lowest residual. With a load R and limit I, the output is min(V·residual, I·R) (constant current).
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { InstrumentError } from './errors.js';
import type { InstrumentQuantity, InstrumentReading } from './instrument.js';
import { SimulatedInstrument, quantize, type InstrumentSignal, type SimulatedInstrumentOptions } from './sim-common.js';

/** A dip or an interruption, on the supply's clock. */
export interface SupplyEvent {
  readonly kind: 'dip' | 'interruption';
  /** Start and end on the clock, ms (the output is back at `end`). */
  readonly start: number;
  readonly end: number;
  /** The output during the event, % of the set voltage. */
  readonly residualPercent: number;
}

/** Options of {@link SimulatedPowerSupply}. */
export interface SimulatedPowerSupplyOptions extends SimulatedInstrumentOptions {
  /** Highest settable voltage, V. Default 30. */
  readonly maxVoltage?: number;
  /** Highest settable current limit, A. Default 5. */
  readonly maxCurrent?: number;
  /** The load on the output, Ohm. Default Infinity (no load: no current). */
  readonly loadResistance?: number;
}

/** Readback: resolution, noise σ, accuracy ±(% of reading + offset) of voltage and current. */
const READBACK = {
  'voltage-dc': { resolution: 1e-3, noise: 0.5e-3, percent: 0.05, offset: 5e-3 },
  'current-dc': { resolution: 1e-4, noise: 0.05e-3, percent: 0.1, offset: 1e-3 },
} as const;

interface Setting {
  readonly at: number;
  readonly voltage: number;
  readonly currentLimit: number;
  readonly on: boolean;
}

/**
 * A simulated power supply on the harness's clock. The output is on from the start, at 0 V with
 * a 1 A limit, so `source('voltage-dc', …)` alone drives it.
 *
 * @example
 * ```ts
 * const supply = new SimulatedPowerSupply({ clock, seed: 1, loadResistance: 240 })
 * await supply.source('voltage-dc', 24, 'V')
 * supply.dip({ depthPercent: 30, durationMs: 500 })  // 70 % of 24 V for half a second, from now
 * supply.interrupt({ durationMs: 20, atMs: clock.now() + 2000 })
 * await target.drive('supply-voltage', supply.output(), 'V')
 * ```
 */
export class SimulatedPowerSupply extends SimulatedInstrument {
  readonly measures: readonly InstrumentQuantity[] = ['voltage-dc', 'current-dc'];
  readonly sources: readonly InstrumentQuantity[] = ['voltage-dc', 'current-dc'];
  readonly maxVoltage: number;
  readonly maxCurrent: number;
  readonly loadResistance: number;
  readonly #settings: Setting[];
  readonly #events: SupplyEvent[] = [];

  constructor(options: SimulatedPowerSupplyOptions) {
    super('supply', 'SIM-PSU', options);
    this.maxVoltage = positive('maxVoltage', options.maxVoltage ?? 30);
    this.maxCurrent = positive('maxCurrent', options.maxCurrent ?? 5);
    this.loadResistance = positive('loadResistance', options.loadResistance ?? Number.POSITIVE_INFINITY, true);
    this.#settings = [{ at: Number.NEGATIVE_INFINITY, voltage: 0, currentLimit: Math.min(1, this.maxCurrent), on: true }];
  }

  /** The settings now: set voltage (V), current limit (A) and whether the output is on. */
  get setting(): { readonly voltage: number; readonly currentLimit: number; readonly on: boolean } {
    const { voltage, currentLimit, on } = this.#settings.at(-1)!;
    return { voltage, currentLimit, on };
  }

  /** The dips and interruptions so far, in order of start. */
  get events(): readonly SupplyEvent[] {
    return this.#events;
  }

  /** Switches the output on or off (SCPI `OUTP ON|OFF`). */
  setOutput(on: boolean): void {
    this.assertOpen(on ? 'output on' : 'output off');
    this.#set({ on });
  }

  /** A voltage dip: the output falls by `depthPercent` % for `durationMs`, from `atMs` (default now). */
  dip(options: { depthPercent: number; durationMs: number; atMs?: number }): SupplyEvent {
    const depth = options?.depthPercent;
    if (!Number.isFinite(depth) || depth <= 0 || depth > 100) throw new ArgumentError(`Expected \`depthPercent\` to be a number above 0 and up to 100, got ${String(depth)}`);
    return this.#event(depth === 100 ? 'interruption' : 'dip', 100 - depth, options.durationMs, options.atMs, 'dip');
  }

  /** A short interruption: the output falls to 0 V for `durationMs`, from `atMs` (default now). */
  interrupt(options: { durationMs: number; atMs?: number }): SupplyEvent {
    return this.#event('interruption', 0, options?.durationMs, options?.atMs, 'interrupt');
  }

  /** The output voltage (V, the default) or the load current (A) as a signal. */
  override output(quantity: InstrumentQuantity = 'voltage-dc'): InstrumentSignal {
    if (quantity === 'current-dc') return { quantity, unit: 'A', valueAt: (timeMs) => this.currentAt(timeMs) };
    if (quantity !== 'voltage-dc') return super.output(quantity);
    return { quantity, unit: 'V', valueAt: (timeMs) => this.#voltageAt(timeMs) };
  }

  /** The load current at `timeMs`, A. */
  currentAt(timeMs: number): number {
    return this.#voltageAt(timeMs) / this.loadResistance;
  }

  protected apply(quantity: InstrumentQuantity, value: number): void {
    const max = quantity === 'voltage-dc' ? this.maxVoltage : this.maxCurrent;
    if (value < 0 || value > max) {
      throw new InstrumentError('instrument-error', { instrument: this.id, command: `source ${quantity}` }, `-222,"Data out of range" (${value} ${quantity === 'voltage-dc' ? 'V' : 'A'} is outside 0 to ${max})`, {
        instrumentCode: -222,
        instrumentMessage: 'Data out of range',
      });
    }
    this.#set(quantity === 'voltage-dc' ? { voltage: value } : { currentLimit: value });
  }

  protected read(quantity: InstrumentQuantity): InstrumentReading {
    const time = this.clock.now();
    const spec = READBACK[quantity as 'voltage-dc' | 'current-dc'];
    const truth = quantity === 'voltage-dc' ? this.#voltageAt(time) : this.currentAt(time);
    const value = quantize(truth + this.random.gaussian(0, spec.noise), spec.resolution);
    return {
      quantity,
      value,
      unit: quantity === 'voltage-dc' ? 'V' : 'A',
      time,
      resolution: spec.resolution,
      accuracy: (Math.abs(value) * spec.percent) / 100 + spec.offset,
    };
  }

  #set(change: Partial<Omit<Setting, 'at'>>): void {
    const last = this.#settings.at(-1)!;
    this.#settings.push({ ...last, ...change, at: this.clock.now() });
  }

  #event(kind: SupplyEvent['kind'], residualPercent: number, durationMs: number, atMs: number | undefined, command: string): SupplyEvent {
    this.assertOpen(command);
    if (!Number.isFinite(durationMs) || durationMs <= 0) throw new ArgumentError(`Expected \`durationMs\` to be a finite number above 0, got ${String(durationMs)}`);
    const start = atMs ?? this.clock.now();
    if (!Number.isFinite(start)) throw new ArgumentError(`Expected \`atMs\` to be a finite time, got ${String(atMs)}`);
    const event: SupplyEvent = { kind, start, end: start + durationMs, residualPercent };
    this.#events.push(event);
    this.#events.sort((a, b) => a.start - b.start);
    return event;
  }

  #voltageAt(timeMs: number): number {
    let setting = this.#settings[0]!;
    for (let i = this.#settings.length - 1; i >= 0; i--) {
      if (this.#settings[i]!.at <= timeMs) {
        setting = this.#settings[i]!;
        break;
      }
    }
    if (!setting.on) return 0;
    let residual = 100;
    for (const event of this.#events) if (event.start <= timeMs && timeMs < event.end) residual = Math.min(residual, event.residualPercent);
    return Math.min((setting.voltage * residual) / 100, setting.currentLimit * this.loadResistance);
  }
}

function positive(name: string, value: number, allowInfinity = false): number {
  if (!(value > 0) || (!allowInfinity && !Number.isFinite(value))) throw new ArgumentError(`Expected \`${name}\` to be a number above 0, got ${String(value)}`);
  return value;
}
