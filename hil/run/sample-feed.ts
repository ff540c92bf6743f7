/**
 * The samples a run observes, and the run's bounded waits. Every wait of a run ends: when its
 * condition holds, or at its limit of target time. Waiting lets target time pass in small slices
 * (`target.wait`), so a virtual clock moves and a real one sleeps, and the condition is checked
 * between slices: a device that falls silent costs the limit, never a hang.
 */
import { TimeoutError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import type { Target } from '../targets/target.js';
import { RunAbort } from './abort.js';

/** Slice of target time between two checks of a wait's condition, ms. */
export const WAIT_SLICE_MS = 100;


/**
 * Whether a sample carries a fresh value: good, or uncertain for a reason other than `stale` (an
 * out-of-range reading is a value, and so is an `incomplete` window, computed from the samples that
 * did arrive; a stale repeat or a failed read is not).
 *
 * @example
 * ```ts
 * usable({ channel: 't', time: 0, value: 21, unit: 'Cel', quality: { level: 'uncertain', reason: 'stale' } }) // false
 * ```
 */
export function usable(sample: Sample): boolean {
  if (sample.value === null || !Number.isFinite(sample.value)) return false;
  return sample.quality.level === 'good' || (sample.quality.level === 'uncertain' && sample.quality.reason !== 'stale');
}

/**
 * Observes a target's samples for one run and waits on them.
 *
 * @example
 * ```ts
 * const feed = new SampleFeed(target, target.clock.now())
 * const samples = await feed.next('temperature', 5, 30_000, usable) // TimeoutError on silence
 * ```
 */
export class SampleFeed {
  readonly #target: Target;
  readonly #start: number;
  readonly #signal: AbortSignal | undefined;
  readonly #listeners = new Set<(sample: Sample) => void>();
  readonly #last = new Map<string, Sample>();
  readonly #unsubscribe: () => void;

  constructor(target: Target, start: number, signal?: AbortSignal) {
    this.#target = target;
    this.#start = start;
    this.#signal = signal;
    this.#unsubscribe = target.onSample((sample) => {
      this.#last.set(sample.channel, sample);
      for (const listener of [...this.#listeners]) listener(sample);
    });
  }

  /** Target time since the run's start, ms. */
  time(): number {
    return this.#target.clock.now() - this.#start;
  }

  /** A clock time (ms since the epoch, as samples carry) as run time. */
  runTime(clockTime: number): number {
    return clockTime - this.#start;
  }

  /** The last sample observed of `channel`, if any. */
  last(channel: string): Sample | undefined {
    return this.#last.get(channel);
  }

  /** Calls `listener` with each sample until the returned function is called. */
  listen(listener: (sample: Sample) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Lets target time pass until `done()` holds or `limitMs` has passed; resolves whether it held.
   * Throws {@link RunAbort} when the run's signal aborts.
   */
  async waitUntil(done: () => boolean, limitMs: number): Promise<boolean> {
    const deadline = this.#target.clock.now() + limitMs;
    for (;;) {
      this.#checkAbort();
      if (done()) return true;
      const remaining = deadline - this.#target.clock.now();
      if (remaining <= 0) return false;
      await this.#target.wait(Math.min(WAIT_SLICE_MS, remaining));
    }
  }

  /** Lets `ms` of target time pass (throws {@link RunAbort} when the run is aborted). */
  async wait(ms: number): Promise<void> {
    this.#checkAbort();
    await this.#target.wait(ms);
    this.#checkAbort();
  }

  /**
   * The next `count` samples of `channel` that pass `accept`, observed from now; rejects with
   * `TimeoutError` (saying what was seen instead) when they do not arrive within `timeoutMs`.
   */
  async next(channel: string, count: number, timeoutMs: number, accept: (sample: Sample) => boolean = () => true): Promise<Sample[]> {
    const taken: Sample[] = [];
    let rejected: Sample | undefined;
    let seen = 0;
    const stop = this.listen((sample) => {
      if (sample.channel !== channel || taken.length >= count) return;
      seen++;
      if (accept(sample)) taken.push(sample);
      else rejected = sample;
    });
    try {
      if (await this.waitUntil(() => taken.length >= count, timeoutMs)) return taken;
    } finally {
      stop();
    }
    const what = seen === 0 ? 'no sample at all' : `${seen} sample${seen === 1 ? '' : 's'}, ${taken.length} usable${rejected ? `; last: ${describeQuality(rejected)}` : ''}`;
    throw new TimeoutError(`${channel}: ${taken.length} of ${count} sample${count === 1 ? '' : 's'} in ${formatMs(timeoutMs)} (${what})`);
  }

  /** Stops observing. */
  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
  }

  /** Throws {@link RunAbort} when the run's signal has aborted. */
  checkAbort(): void {
    this.#checkAbort();
  }

  /**
   * Whether the run's abort signal is obeyed (default). A phase that must always run (cooling a
   * chamber down, switching a supply off) runs with it ignored; its waits stay bounded.
   */
  obeyAbort = true;

  #checkAbort(): void {
    if (!this.obeyAbort) return;
    const signal = this.#signal;
    if (signal?.aborted) {
      const reason: unknown = signal.reason;
      throw new RunAbort(`run aborted: ${reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'abort signal'}`);
    }
  }
}

/**
 * A sample's quality in a few words, e.g. `bad (sensor_fault: bus timeout)`.
 *
 * @example
 * ```ts
 * describeQuality(sample) // 'uncertain (out_of_range)'
 * ```
 */
export function describeQuality(sample: Sample): string {
  const { level, reason, detail } = sample.quality;
  if (level === 'good') return 'good';
  const why = [reason, detail?.split('\n')[0]].filter((part) => part !== undefined && part !== '').join(': ');
  return why === '' ? level : `${level} (${why})`;
}

/**
 * A duration for a message: `250 ms`, `12 s`, `1.5 min`, `2 h`.
 *
 * @example
 * ```ts
 * formatMs(90_000) // '1.5 min'
 * ```
 */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${round(ms)} ms`;
  if (ms < 120_000) return `${round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${round(ms / 60_000)} min`;
  return `${round(ms / 3_600_000)} h`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
