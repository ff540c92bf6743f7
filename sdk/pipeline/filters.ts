/**
 * Filter stages, ESPHome-style: each takes a value and returns a value or nothing; a channel's
 * filters run in declaration order.
 *
 * Start-up behaviour (a decision, documented): median and moving average emit from the first
 * sample, over the samples seen so far (a partial window), instead of staying silent until the
 * window is full. A live display then shows a value at once, and a slow channel (a 1-minute
 * moving average at 0.1 Hz) does not report nothing for its first minute. The partial-window output
 * is the exact median / mean of what has been seen; the EMA starts at its first input.
 */
import { ArgumentError, ValidationError } from '../core/errors.js';
import type { FilterSpec } from './specs.js';
import { describe, join, requireObject } from '../core/check.js';

/** Largest median window: a median costs O(window) per sample (sorted insert). */
const MAX_MEDIAN_WINDOW = 1001;
/** Largest moving-average window (8 MB of ring buffer). */
const MAX_AVERAGE_WINDOW = 1_000_000;

const TYPES: readonly FilterSpec['type'][] = ['median', 'moving-average', 'ema'];

/**
 * A running filter.
 *
 * @example
 * ```ts
 * const filters: Filter[] = specs.map(createFilter)
 * let value: number | undefined = x
 * for (const filter of filters) if (value !== undefined) value = filter.push(value)
 * ```
 */
export interface Filter {
  /**
   * Feeds one finite value; returns the filtered value, or undefined when the stage withholds it.
   * The built-in stages always return a value (see the module comment). Throws `ArgumentError` for a
   * non-finite value: NaN would poison a running sum or a sorted window for good.
   */
  push(x: number): number | undefined;
  /** Forgets every value seen; the next push starts afresh. */
  reset(): void;
}

/**
 * Checks a filter declaration; throws `ValidationError` naming the bad field under `path`. Returns
 * the declaration, typed.
 *
 * @example
 * ```ts
 * validateFilter({ type: 'median', window: 4 }, 'channels[0].filters[1]')
 * // throws ValidationError: channels[0].filters[1].window: must be an odd integer from 1 to 1001, got 4
 * ```
 */
export function validateFilter(spec: unknown, path: string): FilterSpec {
  const record = requireObject(spec, path);
  const type = record.type;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(join(path, 'type'), `must be one of ${TYPES.map((t) => `"${t}"`).join(', ')}, got ${describe(type)}`);
  }
  const field = type === 'ema' ? 'alpha' : 'window';
  for (const key of Object.keys(record)) {
    if (key !== 'type' && key !== field) throw new ValidationError(join(path, key), `unknown field for a ${type} filter; expected type, ${field}`);
  }
  const value = record[field];
  switch (type as FilterSpec['type']) {
    case 'median':
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_MEDIAN_WINDOW || (value as number) % 2 === 0) {
        throw new ValidationError(join(path, 'window'), `must be an odd integer from 1 to ${MAX_MEDIAN_WINDOW}, got ${describe(value)}`);
      }
      break;
    case 'moving-average':
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_AVERAGE_WINDOW) {
        throw new ValidationError(join(path, 'window'), `must be an integer from 1 to ${MAX_AVERAGE_WINDOW}, got ${describe(value)}`);
      }
      break;
    case 'ema':
      if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
        throw new ValidationError(join(path, 'alpha'), `must be a number above 0 and at most 1, got ${describe(value)}`);
      }
      break;
  }
  return record as unknown as FilterSpec;
}

/**
 * Creates a running filter from its declaration (validated first, errors under the path `filter`).
 *
 * @example
 * ```ts
 * const average = createFilter({ type: 'moving-average', window: 4 })
 * average.push(1) // 1   (partial window)
 * average.push(3) // 2
 * ```
 */
export function createFilter(spec: FilterSpec): Filter {
  validateFilter(spec, 'filter');
  switch (spec.type) {
    case 'median':
      return new MedianFilter(spec.window);
    case 'moving-average':
      return new MovingAverageFilter(spec.window);
    case 'ema':
      return new ExponentialFilter(spec.alpha);
  }
}

function requireNumber(x: number): void {
  if (!Number.isFinite(x)) throw new ArgumentError(`Expected \`x\` to be a finite number, got ${String(x)}`);
}

/**
 * Running median: a ring buffer in arrival order beside the same values kept sorted. Each push
 * removes the oldest value from the sorted copy and inserts the new one (binary search and a
 * shift: O(window), which is tiny for the odd windows of 3–15 a median is used with).
 */
class MedianFilter implements Filter {
  readonly #window: number;
  readonly #ring: Float64Array;
  readonly #sorted: Float64Array;
  #head = 0;
  #count = 0;

  constructor(window: number) {
    this.#window = window;
    this.#ring = new Float64Array(window);
    this.#sorted = new Float64Array(window);
  }

  push(x: number): number {
    requireNumber(x);
    const sorted = this.#sorted;
    let count = this.#count;
    if (count === this.#window) {
      const at = lowerBound(sorted, count, this.#ring[this.#head]!);
      sorted.copyWithin(at, at + 1, count);
      count--;
    }
    this.#ring[this.#head] = x;
    this.#head = this.#head + 1 === this.#window ? 0 : this.#head + 1;
    const at = lowerBound(sorted, count, x);
    sorted.copyWithin(at + 1, at, count);
    sorted[at] = x;
    this.#count = ++count;
    // An even count only happens in the partial window: the mean of the two middle values.
    const mid = count >>> 1;
    return count % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }

  reset(): void {
    this.#head = 0;
    this.#count = 0;
  }
}

/** Index of the first of `count` sorted values that is ≥ x. */
function lowerBound(sorted: Float64Array, count: number, x: number): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < x) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Moving average with an O(1) running sum. Adding and subtracting leaves rounding residue in the
 * sum that would grow without bound over millions of samples, so the sum is recomputed from the
 * window each time the ring wraps: O(1) amortised, and the error never spans more than one window.
 */
class MovingAverageFilter implements Filter {
  readonly #window: number;
  readonly #ring: Float64Array;
  #head = 0;
  #count = 0;
  #sum = 0;

  constructor(window: number) {
    this.#window = window;
    this.#ring = new Float64Array(window);
  }

  push(x: number): number {
    requireNumber(x);
    const ring = this.#ring;
    const head = this.#head;
    if (this.#count === this.#window) this.#sum -= ring[head]!;
    else this.#count++;
    ring[head] = x;
    this.#sum += x;
    if (head + 1 === this.#window) {
      this.#head = 0;
      let sum = 0;
      for (let i = 0; i < ring.length; i++) sum += ring[i]!;
      this.#sum = sum;
    } else {
      this.#head = head + 1;
    }
    return this.#sum / this.#count;
  }

  reset(): void {
    this.#head = 0;
    this.#count = 0;
    this.#sum = 0;
  }
}

/** Exponential moving average y += α·(x − y), starting at the first input. */
class ExponentialFilter implements Filter {
  readonly #alpha: number;
  #y = 0;
  #started = false;

  constructor(alpha: number) {
    this.#alpha = alpha;
  }

  push(x: number): number {
    requireNumber(x);
    if (this.#started) {
      this.#y += this.#alpha * (x - this.#y);
    } else {
      this.#y = x;
      this.#started = true;
    }
    return this.#y;
  }

  reset(): void {
    this.#started = false;
    this.#y = 0;
  }
}
