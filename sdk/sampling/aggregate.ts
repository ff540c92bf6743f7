/**
 * Windowed statistics over raw samples: vibration RMS, peak, crest factor and friends.
 *
 * Every statistic is kept with O(1) work and O(1) memory per push, without a window buffer: the
 * running minimum and maximum, a running sum of squares, and Welford's running mean and sum of
 * squared deviations (numerically stable, unlike `Σx²/n − mean²`, which cancels catastrophically for
 * a small vibration on top of 1 g). AC coupling subtracts a constant (the window mean) from every
 * sample, which leaves the order of the samples unchanged, so the coupled extremes are the raw
 * extremes minus the mean: no second pass over the window is needed either.
 */
import { describe } from '../core/check.js';
import { ArgumentError } from '../core/errors.js';

/**
 * The statistics a {@link WindowAggregator} computes: the one list from which
 * {@link AggregateStatistic} is derived and against which device models are validated.
 *
 * @example
 * ```ts
 * AGGREGATE_STATISTICS.includes('rms') // true
 * ```
 */
export const AGGREGATE_STATISTICS = ['mean', 'min', 'max', 'rms', 'peak', 'peak-to-peak', 'crest-factor'] as const;

/**
 * Statistic of a windowed aggregate (vibration RMS, peak, crest factor …).
 *
 * @example
 * ```ts
 * const statistic: AggregateStatistic = 'crest-factor'
 * ```
 */
export type AggregateStatistic = (typeof AGGREGATE_STATISTICS)[number];
const MAX_WINDOW = 10_000_000;

/**
 * One finished window: its statistic and how complete it was. A window counts the samples it
 * expected (its size) and the ones it got; the ones reported missing (`miss()`) fill it without a
 * value, so a window always spans the same stretch of the part's time.
 *
 * @example
 * ```ts
 * const window: WindowResult = { value: 2.1, expected: 1000, received: 987 } // completeness 0.987
 * ```
 */
export interface WindowResult extends WindowCompleteness {
  /** The statistic over the samples received; NaN when none were. */
  readonly value: number;
}

/**
 * How complete an aggregate window was. A `Sample` of an aggregate channel whose window missed
 * samples carries it as `completeness` (the device adds it; the SenML encoders send it as `cmp`).
 *
 * @example
 * ```ts
 * const sample = device.latest('vibration-rms') as Sample & { completeness?: WindowCompleteness }
 * sample.completeness // { expected: 1000, received: 987 }
 * ```
 */
export interface WindowCompleteness {
  readonly expected: number;
  readonly received: number;
}

/**
 * The completeness of a window as a quality detail: `"completeness 0.987 (987/1000)"`, three
 * decimals rounded down, so an incomplete window never reads 1.000.
 *
 * @example
 * ```ts
 * completenessDetail({ value: 2.1, expected: 1000, received: 987 }) // 'completeness 0.987 (987/1000)'
 * ```
 */
export function completenessDetail(window: WindowCompleteness): string {
  const ratio = Math.floor((window.received / window.expected) * 1000) / 1000;
  return `completeness ${ratio.toFixed(3)} (${window.received}/${window.expected})`;
}

/**
 * Options of {@link WindowAggregator}.
 *
 * @example
 * ```ts
 * const options: WindowAggregatorOptions = { statistic: 'crest-factor', windowSize: 2048, acCoupled: true }
 * ```
 */
export interface WindowAggregatorOptions {
  /** The statistic reported at the end of each window. */
  readonly statistic: AggregateStatistic;
  /** Samples per window (tumbling windows, no overlap): an integer from 1 to 10 000 000. */
  readonly windowSize: number;
  /** Remove the window's mean before the statistic (vibration on top of gravity). Default false. */
  readonly acCoupled?: boolean;
}

/**
 * Reduces consecutive windows of `windowSize` samples to one statistic each.
 *
 * - `mean`, `min`, `max`: of the (coupled) samples; an AC-coupled mean is 0 by construction.
 * - `rms`: √(Σx²/n); AC-coupled, the population standard deviation.
 * - `peak`: max |x|; `peak-to-peak`: max − min (unchanged by coupling).
 * - `crest-factor`: peak / rms (√2 for a sine); 0 for a window whose rms is 0 (no signal).
 *
 * A NaN in a window makes that window's statistic NaN (the pipeline turns it into a fault) and
 * does not leak into the next window.
 *
 * @example
 * ```ts
 * const rms = new WindowAggregator({ statistic: 'rms', windowSize: 1000, acCoupled: true })
 * for (const a of accelerations) {
 *   const value = rms.push(a)        // undefined until the 1000th sample of each window
 *   if (value !== undefined) report(value)
 * }
 * ```
 */
export class WindowAggregator {
  readonly #statistic: AggregateStatistic;
  readonly #windowSize: number;
  readonly #acCoupled: boolean;
  #n = 0;
  #mean = 0;
  #m2 = 0;
  #sum = 0;
  #sumSquares = 0;
  #min = Infinity;
  #max = -Infinity;
  #sawNaN = false;
  /** Samples of the current window reported missing. */
  #missed = 0;

  constructor(options: WindowAggregatorOptions) {
    if (typeof options !== 'object' || options === null) throw new ArgumentError(`Expected \`options\` to be an object, got ${describe(options)}`);
    const { statistic, windowSize, acCoupled = false } = options;
    if (!(AGGREGATE_STATISTICS as readonly unknown[]).includes(statistic)) {
      throw new ArgumentError(`Expected \`statistic\` to be one of ${AGGREGATE_STATISTICS.map((s) => `"${s}"`).join(', ')}, got ${describe(statistic)}`);
    }
    if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize > MAX_WINDOW) {
      throw new ArgumentError(`Expected \`windowSize\` to be an integer from 1 to ${MAX_WINDOW}, got ${describe(windowSize)}`);
    }
    if (typeof acCoupled !== 'boolean') throw new ArgumentError(`Expected \`acCoupled\` to be a boolean, got ${describe(acCoupled)}`);
    this.#statistic = statistic;
    this.#windowSize = windowSize;
    this.#acCoupled = acCoupled;
  }

  /** Samples per window. */
  get windowSize(): number {
    return this.#windowSize;
  }

  /** Samples in the current, unfinished window. */
  get count(): number {
    return this.#n;
  }

  /** Samples of the current window reported missing so far. */
  get missed(): number {
    return this.#missed;
  }

  /** Adds a sample; returns the window's statistic on its last sample, otherwise undefined. */
  push(value: number): number | undefined {
    return this.add(value)?.value;
  }

  /**
   * Adds a sample; on the window's last sample (received or missed) returns the window with its
   * completeness, otherwise undefined.
   */
  add(value: number): WindowResult | undefined {
    const n = ++this.#n;
    // Welford (Knuth TAOCP vol. 2 §4.2.2): running mean and sum of squared deviations.
    const delta = value - this.#mean;
    this.#mean += delta / n;
    this.#m2 += delta * (value - this.#mean);
    this.#sum += value;
    this.#sumSquares += value * value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    if (value !== value) this.#sawNaN = true;
    if (n + this.#missed < this.#windowSize) return undefined;
    return this.#close();
  }

  /**
   * Reports `count` samples that the part took but that never arrived (they take their places in
   * the windows); returns every window they finished, oldest first.
   */
  miss(count: number): WindowResult[] {
    if (!Number.isInteger(count) || count < 0) throw new ArgumentError(`Expected \`count\` to be an integer from 0 and up, got ${describe(count)}`);
    const finished: WindowResult[] = [];
    let left = count;
    while (left > 0) {
      const room = this.#windowSize - this.#n - this.#missed;
      if (left < room) {
        this.#missed += left;
        break;
      }
      this.#missed += room;
      left -= room;
      finished.push(this.#close());
    }
    return finished;
  }

  #close(): WindowResult {
    const received = this.#n;
    const value = received === 0 || this.#sawNaN ? Number.NaN : this.#result();
    this.reset();
    return { value, expected: this.#windowSize, received };
  }

  /** Drops the current window's samples; the next push starts a new window. */
  reset(): void {
    this.#n = 0;
    this.#mean = 0;
    this.#m2 = 0;
    this.#sum = 0;
    this.#sumSquares = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
    this.#sawNaN = false;
    this.#missed = 0;
  }

  #result(): number {
    const n = this.#n;
    // The reported mean is Σx/n (exact for exact inputs); Welford's mean serves only the variance.
    const mean = this.#sum / n;
    const shift = this.#acCoupled ? mean : 0;
    const min = this.#min - shift;
    const max = this.#max - shift;
    switch (this.#statistic) {
      case 'mean':
        return this.#acCoupled ? 0 : mean;
      case 'min':
        return min;
      case 'max':
        return max;
      case 'rms':
        return this.#rms(n);
      case 'peak':
        return Math.max(-min, max);
      case 'peak-to-peak':
        return max - min;
      case 'crest-factor': {
        const rms = this.#rms(n);
        return rms === 0 ? 0 : Math.max(-min, max) / rms;
      }
    }
  }

  #rms(n: number): number {
    return Math.sqrt((this.#acCoupled ? this.#m2 : this.#sumSquares) / n);
  }
}
