/**
 * The report loop of a polled board (one that is asked for each value, as the emulated and Linux
 * boards are, where a Firmata board pushes its reports): once per sampling interval, on the
 * board's clock, every reporting analog channel in channel order, then every continuous I2C read.
 * The loop runs only while something reports, at absolute times, so the cadence does not drift
 * however late a callback runs. Those times are kept on steady time: a wall-time step the clock
 * follows neither fires the intervals it skipped at once nor pauses the loop for as long.
 */
import type { Clock, Timer } from '../core/clock.js';
import { steadyNow } from '../core/wall-clock-watch.js';
import type { IoPin } from './board.js';
import type { AnalogPinDefinition } from './board-definitions.js';
import type { IoRead } from './io-plugin-args.js';

/** Options of {@link PolledReports}. */
export interface PolledReportsOptions {
  readonly clock: Clock;
  /** The board's analog pins; those whose `pins[].report` is 1 are converted. */
  readonly analogPins: readonly AnalogPinDefinition[];
  readonly pins: readonly IoPin[];
  /** Converts one channel and reports it. */
  readonly convert: (analog: AnalogPinDefinition) => void;
  /** Runs one continuous read. */
  readonly read: (read: IoRead) => void;
}

/**
 * The reports of a polled board.
 *
 * @example
 * ```ts
 * const reports = new PolledReports({ clock, analogPins, pins, convert: (a) => emit(a), read: (r) => transfer(r) }, 19)
 * pins[14].report = 1
 * reports.start() // A0 converted at 19, 38, 57 … ms
 * ```
 */
export class PolledReports {
  readonly #options: PolledReportsOptions;
  /** Analog pins in channel order, the order a Firmata board reports them in. */
  readonly #channels: readonly AnalogPinDefinition[];
  readonly #continuous: IoRead[] = [];
  #intervalMs: number;
  #timer: Timer | undefined;
  /** When the next report is due, on the clock's steady time. */
  #nextAt = 0;
  #closed = false;

  constructor(options: PolledReportsOptions, intervalMs: number) {
    this.#options = options;
    this.#channels = [...options.analogPins].sort((a, b) => a.channel - b.channel);
    this.#intervalMs = intervalMs;
  }

  /** Adds a continuous read and starts the loop. */
  add(read: IoRead): void {
    this.#continuous.push(read);
    this.start();
  }

  /** Ends the continuous reads of `address`. */
  stop(address: number): void {
    for (let i = this.#continuous.length - 1; i >= 0; i--) if (this.#continuous[i]!.address === address) this.#continuous.splice(i, 1);
  }

  /** Starts the loop (the first reports one interval from now) unless it runs. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#nextAt = steadyNow(this.#options.clock) + this.#intervalMs;
    this.#schedule();
  }

  /** A new interval; a running loop restarts from now. */
  setInterval(ms: number): void {
    this.#intervalMs = ms;
    if (this.#timer === undefined) return;
    this.#timer.cancel();
    this.#timer = undefined;
    this.start();
  }

  /** Stops for good. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#continuous.length = 0;
  }

  #report(): void {
    this.#timer = undefined;
    let active = this.#continuous.length > 0;
    for (const analog of this.#channels) {
      if (this.#options.pins[analog.pin]?.report !== 1) continue;
      active = true;
      this.#options.convert(analog);
    }
    for (const read of [...this.#continuous]) this.#options.read(read);
    if (!active || this.#closed) return;
    this.#nextAt += this.#intervalMs;
    this.#schedule();
  }

  /** Arms the next report on the clock's current time base. */
  #schedule(): void {
    const clock = this.#options.clock;
    this.#timer = clock.schedule(this.#nextAt + (clock.steppedMs ?? 0), () => this.#report());
  }
}
