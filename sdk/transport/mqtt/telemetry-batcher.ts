/**
 * Collects reported samples into batches: a batch is closed when it has `maxSamples` samples or
 * when its first sample has waited `maxDelayMs` on the injected clock, whichever comes first.
 */
import type { Clock, Timer } from '../../core/clock.js';
import type { Sample } from '../../model/sample.js';

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
  readonly #close: (batch: readonly Sample[]) => void;
  #batch: Sample[] = [];
  #timer: Timer | undefined;

  constructor(options: BatchOptions & { readonly clock: Clock }, close: (batch: readonly Sample[]) => void) {
    this.maxSamples = options.maxSamples ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    if (!(Number.isInteger(this.maxSamples) && this.maxSamples >= 1)) throw new TypeError(`Expected \`batch.maxSamples\` to be an integer from 1 and up, got ${String(this.maxSamples)}`);
    if (!(Number.isFinite(this.maxDelayMs) && this.maxDelayMs >= 0)) throw new TypeError(`Expected \`batch.maxDelayMs\` to be a number from 0 and up, got ${String(this.maxDelayMs)}`);
    this.#clock = options.clock;
    this.#close = close;
  }

  /** Samples waiting in the open batch. */
  get size(): number {
    return this.#batch.length;
  }

  /** Adds a sample; closes the batch when it is full. */
  add(sample: Sample): void {
    this.#batch.push(sample);
    if (this.#batch.length >= this.maxSamples) this.flush();
    else if (this.#timer === undefined) this.#timer = this.#clock.schedule(this.#clock.now() + this.maxDelayMs, () => this.flush());
  }

  /** Closes the open batch now (if it has samples). */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#close(batch);
  }
}
