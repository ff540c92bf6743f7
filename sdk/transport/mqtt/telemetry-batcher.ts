/**
 * Collects reported samples into batches: a batch is closed when it has `maxSamples` samples or
 * when its first sample has waited `maxDelayMs` on the injected clock, whichever comes first.
 * The wait is measured on the clock's steady time: a wall-time step the clock follows neither
 * closes a batch early nor holds one back (after a step back of 2 h, `openedAt + maxDelayMs` on
 * the wall clock would be 2 h away).
 */
import type { Clock, Timer } from '../../core/clock.js';
import { steadyNow } from '../../core/wall-clock-watch.js';
import { ArgumentError } from '../../core/errors.js';
import type { Sample } from '../../core/sample.js';

/** Batch bounds; every field has a default. */
export interface BatchOptions {
  /** Samples per batch at most. Default 100. */
  readonly maxSamples?: number;
  /** Longest time a sample waits for its batch to close, ms. Default 1000. */
  readonly maxDelayMs?: number;
}

/**
 * @example
 * ```ts
 * const batcher = new TelemetryBatcher({ clock, maxSamples: 100, maxDelayMs: 1000 }, (batch) => send(batch))
 * device.on('report', (sample) => batcher.add(sample))
 * ```
 */
export class TelemetryBatcher {
  readonly maxSamples: number;
  readonly maxDelayMs: number;
  readonly #clock: Clock;
  readonly #emit: (batch: readonly Sample[]) => void;
  #batch: Sample[] = [];
  #timer: Timer | undefined;
  /** When the open batch got its first sample, on the clock's steady time. */
  #openedAt = 0;

  constructor(options: BatchOptions & { readonly clock: Clock }, close: (batch: readonly Sample[]) => void) {
    this.maxSamples = options.maxSamples ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    if (!(Number.isInteger(this.maxSamples) && this.maxSamples >= 1)) throw new ArgumentError(`Expected \`batch.maxSamples\` to be an integer from 1 and up, got ${String(this.maxSamples)}`);
    if (!(Number.isFinite(this.maxDelayMs) && this.maxDelayMs >= 0)) throw new ArgumentError(`Expected \`batch.maxDelayMs\` to be a number from 0 and up, got ${String(this.maxDelayMs)}`);
    this.#clock = options.clock;
    this.#emit = close;
  }

  /** Samples waiting in the open batch. */
  get size(): number {
    return this.#batch.length;
  }

  /** Adds a sample; closes the batch when it is full. */
  add(sample: Sample): void {
    if (this.#batch.length === 0) this.#openedAt = steadyNow(this.#clock);
    this.#batch.push(sample);
    if (this.#batch.length >= this.maxSamples) this.#close();
    else this.#timer ??= this.#arm(this.#openedAt + this.maxDelayMs);
  }

  /** Closes the open batch now (if it has samples). */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#close();
  }

  #close(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#emit(batch);
  }

  /**
   * One timer for the oldest open batch. A batch closed by size leaves it armed rather than
   * cancelling it (a full batch every few ms would otherwise arm and cancel a timer each time);
   * when it fires it closes the batch then open if that one is due, else re-arms for it.
   */
  #arm(dueSteady: number): Timer {
    return this.#clock.schedule(this.#clock.now() + dueSteady - steadyNow(this.#clock), () => {
      this.#timer = undefined;
      if (this.#batch.length === 0) return;
      const due = this.#openedAt + this.maxDelayMs;
      if (due > steadyNow(this.#clock)) this.#timer = this.#arm(due);
      else this.#close();
    });
  }
}
