/**
 * Declared truths of the emulated world: errors injected on a physical input (`temperature:offset=3`)
 * so that a test method can show it finds them. Each kind acts on the true value the input carries
 * before the part sees it, in the input's unit; the plan's reference stays the undistorted value.
 *
 * | kind | value | what the part sees of a true value v at time t |
 * |---|---|---|
 * | `offset` | a, input unit | v + a |
 * | `gain` | g, a factor | g·v |
 * | `nonlinearity` | b, input unit | v + b·(1 − u²), u = (2v − lo − hi)/(hi − lo) over the channel's range: b at mid-range, 0 at both ends (a terminal-based bow) |
 * | `hysteresis` | h, input unit | v − h/2 after a rise, v + h/2 after a fall: down − up = h |
 * | `lag` | τ, s | first-order lag, y += (v − y)(1 − e^(−Δt/τ)) (exact for steps) |
 * | `noise` | σ, input unit | v + σ·N(0, 1), seeded |
 * | `drift` | r, input unit per hour | v + r·(t − t₀)/1 h, t₀ the target's opening |
 *
 * They apply in the table's order (gain first, noise last).
 */
import type { InputDistortion } from '../../boards/emulated/physical-inputs.js';
import { describe } from '../../sdk/core/check.js';
import { ValidationError } from '../../sdk/core/errors.js';
import type { SeededRandom } from '../../sdk/core/random.js';

/** The kinds of declared truth, in the order they apply. */
export const INJECTION_KINDS = ['gain', 'nonlinearity', 'offset', 'drift', 'hysteresis', 'lag', 'noise'] as const;

/** A kind of declared truth. */
export type InjectionKind = (typeof INJECTION_KINDS)[number];

/** One declared truth on one physical input (the record's `injected` entry). */
export interface Injection {
  /** The physical input, e.g. `temperature` (for the examples, named like the channel it feeds). */
  readonly channel: string;
  readonly kind: InjectionKind;
  /** In the input's unit; a factor for `gain`, seconds for `lag`, input unit per hour for `drift`. */
  readonly value: number;
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Parses the `--inject` form `CHANNEL:KIND=VALUE[,KIND=VALUE…]` into declared truths. Throws a
 * `ValidationError` naming the text for anything else.
 *
 * @example
 * ```ts
 * parseInjection('temperature:offset=3')             // [{ channel: 'temperature', kind: 'offset', value: 3 }]
 * parseInjection('temperature:lag=20,noise=0.05')     // two truths on the same input
 * parseInjection('temperature:bias=1')                // ValidationError: inject: unknown kind "bias" in "temperature:bias=1" (kinds: gain, …)
 * ```
 */
export function parseInjection(text: string): Injection[] {
  if (typeof text !== 'string') throw new ValidationError('inject', `expected CHANNEL:KIND=VALUE, got ${describe(text)}`);
  const colon = text.indexOf(':');
  const channel = text.slice(0, colon).trim();
  if (colon < 0 || !NAME.test(channel)) throw new ValidationError('inject', `expected CHANNEL:KIND=VALUE such as temperature:offset=3, got ${describe(text)}`);
  const parts = text.slice(colon + 1).split(',');
  return parts.map((part) => {
    const match = /^\s*([a-z]+)\s*=\s*(\S+)\s*$/.exec(part);
    if (match === null) throw new ValidationError('inject', `expected KIND=VALUE after "${channel}:", got ${describe(part)} in ${describe(text)}`);
    const kind = match[1]!;
    if (!(INJECTION_KINDS as readonly string[]).includes(kind)) {
      throw new ValidationError('inject', `unknown kind "${kind}" in ${describe(text)} (kinds: ${INJECTION_KINDS.join(', ')})`);
    }
    const value = Number(match[2]);
    return checkInjection({ channel, kind: kind as InjectionKind, value }, `inject`);
  });
}

/**
 * Checks one declared truth: a known kind, a finite value, a positive factor for `gain`, a positive
 * time constant for `lag`, a σ from 0 for `noise`, a width from 0 for `hysteresis`.
 *
 * @example
 * ```ts
 * checkInjection({ channel: 'temperature', kind: 'lag', value: 0 }, 'inject[0]') // ValidationError: inject[0].value: lag must be above 0 s, got 0
 * ```
 */
export function checkInjection(injection: Injection, path: string): Injection {
  if (typeof injection !== 'object' || injection === null) throw new ValidationError(path, `expected { channel, kind, value }, got ${describe(injection)}`);
  const { channel, kind, value } = injection;
  if (typeof channel !== 'string' || !NAME.test(channel)) throw new ValidationError(`${path}.channel`, `expected an input name, got ${describe(channel)}`);
  if (!(INJECTION_KINDS as readonly string[]).includes(kind)) throw new ValidationError(`${path}.kind`, `expected one of ${INJECTION_KINDS.join(', ')}, got ${describe(kind)}`);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`${path}.value`, `expected a finite number, got ${describe(value)}`);
  if ((kind === 'gain' || kind === 'lag') && !(value > 0)) throw new ValidationError(`${path}.value`, `${kind} must be above 0${kind === 'lag' ? ' s' : ''}, got ${value}`);
  if ((kind === 'noise' || kind === 'hysteresis') && value < 0) throw new ValidationError(`${path}.value`, `${kind} must be 0 or more, got ${value}`);
  return { channel, kind, value };
}

/** What {@link injectionDistortion} needs besides the truths. */
export interface InjectionContext {
  /** Seeded source of the injected noise (fork it per input). */
  readonly random: SeededRandom;
  /** Target time the truths start (drift's t₀), ms. */
  readonly startMs: number;
  /** The channel's range in the input's unit (for `nonlinearity`). */
  readonly range?: { readonly min: number; readonly max: number };
}

/** A distortion with its lag brought up to a time before the input changes (exact steps). */
export interface InjectedDistortion {
  readonly distortion: InputDistortion;
  /** Advances the lag (and hysteresis) state to `timeMs` with the value last seen; call before setting the input anew. */
  touch(timeMs: number): void;
}

/**
 * The distortion of an input carrying `injections` (all on that input), for `PhysicalInputs.distort`.
 *
 * @example
 * ```ts
 * const { distortion } = injectionDistortion([{ channel: 'temperature', kind: 'offset', value: 3 }], { random, startMs: clock.now() })
 * inputs.distort('temperature', distortion) // the part reads 3 °C high
 * ```
 */
export function injectionDistortion(injections: readonly Injection[], context: InjectionContext): InjectedDistortion {
  const of = (kind: InjectionKind): number | undefined => {
    const found = injections.filter((injection) => injection.kind === kind);
    return found.length === 0 ? undefined : found.reduce((sum, injection) => (kind === 'gain' ? sum * injection.value : sum + injection.value), kind === 'gain' ? 1 : 0);
  };
  const gain = of('gain');
  const bow = of('nonlinearity');
  const offset = of('offset');
  const drift = of('drift');
  const width = of('hysteresis');
  const tau = of('lag');
  const sigma = of('noise');
  if (bow !== undefined && (context.range === undefined || !(context.range.max > context.range.min))) {
    throw new ValidationError(`inject.${injections[0]!.channel}`, 'nonlinearity needs the range of a channel named like the input');
  }
  let lastInput: number | undefined;
  let rising = true;
  let lagged: number | undefined;
  let lagTime = context.startMs;
  const random = context.random;

  const static_ = (value: number, timeMs: number): number => {
    let v = value;
    if (gain !== undefined) v *= gain;
    if (bow !== undefined) {
      const { min, max } = context.range!;
      const u = (2 * value - min - max) / (max - min);
      v += bow * (1 - u * u);
    }
    if (offset !== undefined) v += offset;
    if (drift !== undefined) v += (drift * (timeMs - context.startMs)) / 3_600_000;
    return v;
  };
  const advanceLag = (value: number, timeMs: number): number => {
    if (tau === undefined) return value;
    if (lagged === undefined) {
      lagged = value;
      lagTime = timeMs;
      return value;
    }
    const dt = timeMs - lagTime;
    if (dt > 0) {
      lagged += (value - lagged) * (1 - Math.exp(-dt / (tau * 1000)));
      lagTime = timeMs;
    }
    return lagged;
  };
  const withHysteresis = (value: number, v: number): number => {
    if (width === undefined) return v;
    if (lastInput !== undefined && value !== lastInput) rising = value > lastInput;
    lastInput = value;
    return v + (rising ? -width / 2 : width / 2);
  };
  let lastStatic: number | undefined;
  return {
    distortion: (value, timeMs) => {
      const shaped = withHysteresis(value, static_(value, timeMs));
      lastStatic = shaped;
      const slow = advanceLag(shaped, timeMs);
      return sigma === undefined || sigma === 0 ? slow : slow + sigma * random.gaussian();
    },
    touch: (timeMs) => {
      if (lastStatic !== undefined) advanceLag(lastStatic, timeMs);
    },
  };
}
