/**
 * Run-time fault injection for the emulated board: what a broken wire, a hung part or a noisy
 * cable looks like to the software, injected at a clock time for a clock duration.
 *
 * Targets are an analog pin name ("A0") or an I2C bus and address ("i2c0@0x76"). What each kind
 * does, on the IO-plugin path (`analogRead`, `i2cRead` …) and the bus path (`AnalogInput`,
 * `I2cDevice`) alike:
 *
 * | kind           | analog pin                                         | I2C address                                        |
 * |----------------|----------------------------------------------------|----------------------------------------------------|
 * | `stuck`        | the pin voltage freezes at its value at the start  | each read returns what the same read (register, length) first returned while stuck; writes still reach the part |
 * | `open-circuit` | reads full scale (`wiring: 'pull-up'`, default: a pull-up or the high side of a divider wins) or 0 (`'pull-down'`) | every transfer NAKs (`ERR_I2C_NAK`) |
 * | `noise-burst`  | adds Gaussian noise of `sigma` V                   | not applicable (rejected at injection)             |
 * | `dropout`      | a read fails: `AnalogInput.read()` rejects with `BusError` `ERR_BUS_TIMEOUT` at once; `analogRead` skips that report | reads reject with `ERR_BUS_TIMEOUT` at once; writes succeed |
 * | `nak`          | not applicable                                     | every transfer rejects with `ERR_I2C_NAK`          |
 * | `timeout`      | not applicable                                     | every transfer rejects with `ERR_BUS_TIMEOUT` after `timeoutMs` (default 25 ms) on the board's clock |
 *
 * `dropout` takes an optional `probability` (default 1) for an intermittent contact; the draws come
 * from the board's seeded generator, so they repeat run after run.
 */
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { i2cTarget } from '../../sdk/io/board.js';
import { ValidationError } from '../../sdk/core/errors.js';
import type { SeededRandom } from '../../sdk/core/random.js';
import { numberProblem, show } from './expect.js';

/** The fault kinds. */
export type FaultKind = 'stuck' | 'open-circuit' | 'noise-burst' | 'dropout' | 'nak' | 'timeout';

interface FaultTiming {
  /** "A0" or "i2c0@0x76". */
  target: string;
  /** Clock time (ms) the fault starts. Default: now. */
  startMs?: number;
  /** How long it lasts, ms of clock time. Default: until cleared. */
  durationMs?: number;
}

/** What to inject. */
export type FaultSpec = FaultTiming &
  (
    | { kind: 'stuck' }
    | { kind: 'open-circuit'; wiring?: 'pull-up' | 'pull-down' }
    | { kind: 'noise-burst'; sigma: number }
    | { kind: 'dropout'; probability?: number }
    | { kind: 'nak' }
    | { kind: 'timeout'; timeoutMs?: number }
  );

/** An injected fault. */
export interface FaultHandle {
  readonly id: number;
  /** Canonical target: "A0" or "i2c0@0x76" (address as two lower-case hex digits). */
  readonly target: string;
  readonly kind: FaultKind;
  readonly startMs: number;
  /** Clock time the fault ends by itself; `Infinity` when it lasts until cleared. */
  readonly endMs: number;
  /** True between its start and its end or `clear()`. */
  readonly active: boolean;
  /** Ends the fault now (idempotent). */
  clear(): void;
}

/** The fault API of an emulated board (`board.faults`). */
export interface Faults {
  inject(spec: FaultSpec): FaultHandle;
  /** Ends every fault, pending ones included. */
  clearAll(): void;
  /** The faults active now, in injection order. */
  active(): FaultHandle[];
}

/** A parsed fault target. */
export type FaultTarget = { type: 'analog'; pin: string } | { type: 'i2c'; bus: string; address: number };

/**
 * Parses "A0" or "i2c0@0x76"; returns `undefined` when the text is neither.
 *
 * @example
 * ```ts
 * parseFaultTarget('i2c1@0x48') // { type: 'i2c', bus: 'i2c1', address: 0x48 }
 * ```
 */
export function parseFaultTarget(target: string): FaultTarget | undefined {
  const i2c = /^([A-Za-z][\w-]*)@0x([0-9a-fA-F]{1,2})$/.exec(target);
  if (i2c !== null) {
    const address = Number.parseInt(i2c[2]!, 16);
    return address <= 0x7f ? { type: 'i2c', bus: i2c[1]!, address } : undefined;
  }
  return /^[A-Za-z][\w-]*$/.test(target) ? { type: 'analog', pin: target } : undefined;
}

/** An injected fault as the board sees it (internal state included). */
export interface InjectedFault extends FaultHandle {
  readonly spec: FaultSpec;
  readonly parsed: FaultTarget;
  /** This fault's own generator (noise bursts, dropout draws). */
  readonly random: SeededRandom;
  /** Analog `stuck`: the voltage captured at the start. */
  frozenVolts?: number;
  /** I2C `stuck`: replies by "register:length". */
  readonly replies: Map<string, Uint8Array>;
}

/** Options of {@link FaultInjector}. */
export interface FaultInjectorOptions {
  readonly clock: Clock;
  /** The board's root generator; each fault forks its own stream from it. */
  readonly random: SeededRandom;
  readonly analogPins: readonly string[];
  readonly i2cBuses: readonly string[];
  /** Called when a fault becomes active (the board captures a stuck value here). */
  readonly onActivate?: (fault: InjectedFault) => void;
}

const ANALOG_KINDS: readonly FaultKind[] = ['stuck', 'open-circuit', 'noise-burst', 'dropout'];
const I2C_KINDS: readonly FaultKind[] = ['stuck', 'open-circuit', 'dropout', 'nak', 'timeout'];

interface Entry {
  readonly fault: InjectedFault;
  readonly status: { state: 'pending' | 'active' | 'cleared' };
  readonly timers: Timer[];
}

/**
 * Keeps the injected faults of one board and runs their start and end on the board's clock.
 *
 * @example
 * ```ts
 * const stuck = board.faults.inject({ target: 'A0', kind: 'stuck', durationMs: 500 })
 * board.faults.inject({ target: 'i2c0@0x76', kind: 'timeout', startMs: clock.now() + 100 })
 * stuck.clear()
 * ```
 */
export class FaultInjector implements Faults {
  readonly #options: FaultInjectorOptions;
  readonly #entries: Entry[] = [];
  readonly #streams = new Map<string, number>();
  #nextId = 1;

  constructor(options: FaultInjectorOptions) {
    this.#options = options;
  }

  inject(spec: FaultSpec): FaultHandle {
    const { clock } = this.#options;
    const parsed = this.#validate(spec);
    const target = parsed.type === 'analog' ? parsed.pin : i2cTarget(parsed.bus, parsed.address);
    const now = clock.now();
    const startMs = spec.startMs ?? now;
    const endMs = startMs + (spec.durationMs ?? Infinity);
    // Label the stream by target and kind (not by global order) so that adding a fault elsewhere
    // does not change this one's noise.
    const label = `${target}/${spec.kind}`;
    const n = this.#streams.get(label) ?? 0;
    this.#streams.set(label, n + 1);
    const random = this.#options.random.fork(`fault:${label}#${n}`);

    const timers: Timer[] = [];
    const status: Entry['status'] = { state: 'pending' };
    const fault: InjectedFault = {
      id: this.#nextId++,
      target,
      kind: spec.kind,
      startMs,
      endMs,
      spec,
      parsed,
      random,
      replies: new Map(),
      get active() {
        return status.state === 'active';
      },
      clear: () => this.#clear(entry),
    };
    const entry: Entry = { fault, status, timers };
    if (endMs <= now) {
      status.state = 'cleared'; // entirely in the past: it never shows
      return fault;
    }
    this.#entries.push(entry);
    if (startMs <= now) this.#activate(entry);
    else timers.push(clock.schedule(startMs, () => this.#activate(entry)));
    if (Number.isFinite(endMs)) timers.push(clock.schedule(endMs, () => this.#clear(entry)));
    return fault;
  }

  clearAll(): void {
    for (const entry of [...this.#entries]) this.#clear(entry);
  }

  active(): FaultHandle[] {
    return this.#entries.filter((entry) => entry.status.state === 'active').map((entry) => entry.fault);
  }

  /** Active faults on a canonical target, in injection order. */
  on(target: string): InjectedFault[] {
    const found: InjectedFault[] = [];
    for (const entry of this.#entries) if (entry.status.state === 'active' && entry.fault.target === target) found.push(entry.fault);
    return found;
  }

  #activate(entry: Entry): void {
    if (entry.status.state !== 'pending') return;
    entry.status.state = 'active';
    this.#options.onActivate?.(entry.fault);
  }

  #clear(entry: Entry): void {
    if (entry.status.state === 'cleared') return;
    entry.status.state = 'cleared';
    for (const timer of entry.timers) timer.cancel();
    const index = this.#entries.indexOf(entry);
    if (index >= 0) this.#entries.splice(index, 1);
  }

  #validate(spec: FaultSpec): FaultTarget {
    if (typeof spec !== 'object' || spec === null) throw new ValidationError('fault', `expected an object, got ${show(spec)}`);
    const kinds: readonly FaultKind[] = [...new Set([...ANALOG_KINDS, ...I2C_KINDS])];
    if (!kinds.includes(spec.kind)) {
      throw new ValidationError('fault.kind', `expected one of ${kinds.map((k) => `"${k}"`).join(', ')}, got ${show(spec.kind)}`);
    }
    const parsed = typeof spec.target === 'string' ? parseFaultTarget(spec.target) : undefined;
    if (parsed === undefined) {
      throw new ValidationError('fault.target', `expected an analog pin like "A0" or an I2C target like "i2c0@0x76", got ${show(spec.target)}`);
    }
    if (parsed.type === 'analog' && !this.#options.analogPins.includes(parsed.pin)) {
      const known = this.#options.analogPins.length === 0 ? 'none' : this.#options.analogPins.join(', ');
      throw new ValidationError('fault.target', `${show(spec.target)} is not an analog pin of this board (analog pins: ${known})`);
    }
    if (parsed.type === 'i2c' && !this.#options.i2cBuses.includes(parsed.bus)) {
      throw new ValidationError('fault.target', `this board has no I2C bus ${show(parsed.bus)} (buses: ${this.#options.i2cBuses.join(', ')})`);
    }
    const allowed = parsed.type === 'analog' ? ANALOG_KINDS : I2C_KINDS;
    if (!allowed.includes(spec.kind)) {
      throw new ValidationError('fault.kind', `"${spec.kind}" does not apply to ${parsed.type === 'analog' ? 'an analog pin' : 'an I2C target'} (use one of ${allowed.join(', ')})`);
    }
    check('fault.startMs', spec.startMs, {});
    check('fault.durationMs', spec.durationMs, { above: 0 });
    if (spec.kind === 'noise-burst') check('fault.sigma', spec.sigma, { min: 0 }, true);
    if (spec.kind === 'dropout') check('fault.probability', spec.probability, { min: 0, max: 1 });
    if (spec.kind === 'timeout') check('fault.timeoutMs', spec.timeoutMs, { above: 0 });
    if (spec.kind === 'open-circuit' && spec.wiring !== undefined && spec.wiring !== 'pull-up' && spec.wiring !== 'pull-down') {
      throw new ValidationError('fault.wiring', `expected "pull-up" or "pull-down", got ${show(spec.wiring)}`);
    }
    return parsed;
  }
}

function check(path: string, value: unknown, rule: Parameters<typeof numberProblem>[2], required = false): void {
  if (value === undefined && !required) return;
  const problem = numberProblem(path.slice(path.lastIndexOf('.') + 1), value, rule);
  if (problem !== undefined) throw new ValidationError(path, problem);
}
