/**
 * The analog side of a Firmata host: the latest ANALOG_MESSAGE per channel, the reads waiting for
 * the next one, and how many bus objects use each channel (its reporting stays on while any does).
 */
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { BusError } from '../../sdk/core/errors.js';

type Waiter = { resolve: (counts: number) => void; reject: (error: Error) => void; timer: Timer };

/**
 * Analog reports of one board.
 *
 * @example
 * ```ts
 * const reports = new AnalogReports(clock)
 * const next = reports.sample(0, 'A0', { freshMs: 19, limitMs: 1000, down: () => false })
 * reports.received(0, 512) // next resolves with 512
 * ```
 */
export class AnalogReports {
  readonly #clock: Clock;
  readonly #users = new Map<number, number>();
  readonly #latest = new Map<number, { counts: number; at: number }>();
  readonly #waiters = new Map<number, Waiter[]>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** One more user of `channel`. */
  use(channel: number): void {
    this.#users.set(channel, this.users(channel) + 1);
  }

  /** One user fewer; returns how many remain. */
  release(channel: number): number {
    const users = Math.max(0, this.users(channel) - 1);
    this.#users.set(channel, users);
    return users;
  }

  users(channel: number): number {
    return this.#users.get(channel) ?? 0;
  }

  /**
   * The channel's latest counts if they arrived within `freshMs`, else the next report; rejects with
   * `BusError` (ERR_BUS_TIMEOUT) after `limitMs` of clock time without one.
   */
  sample(channel: number, pin: string, options: { freshMs: number; limitMs: number; usable: boolean; down: () => boolean }): Promise<number> {
    const latest = this.#latest.get(channel);
    if (options.usable && latest !== undefined && this.#clock.now() - latest.at <= options.freshMs) return Promise.resolve(latest.counts);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: this.#clock.schedule(this.#clock.now() + options.limitMs, () => {
          const list = this.#waiters.get(channel) ?? [];
          list.splice(list.indexOf(waiter), 1);
          const why = options.down() ? 'the Firmata line is down' : `no analog report within ${options.limitMs} ms`;
          reject(new BusError('ERR_BUS_TIMEOUT', `analog input ${pin}: ${why}`));
        }),
      };
      const list = this.#waiters.get(channel) ?? [];
      list.push(waiter);
      this.#waiters.set(channel, list);
    });
  }

  /** An ANALOG_MESSAGE arrived: remember it and answer the waiting reads. */
  received(channel: number, counts: number): void {
    this.#latest.set(channel, { counts, at: this.#clock.now() });
    for (const waiter of this.#waiters.get(channel)?.splice(0) ?? []) {
      waiter.timer.cancel();
      waiter.resolve(counts);
    }
  }

  /** Rejects every waiting read (the line was lost, or the board closed). */
  failAll(error: Error): void {
    for (const list of this.#waiters.values()) {
      for (const waiter of list.splice(0)) {
        waiter.timer.cancel();
        waiter.reject(error);
      }
    }
  }
}
