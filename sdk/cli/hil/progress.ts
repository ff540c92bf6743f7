/**
 * Progress of `sensorkit hil run`: on a terminal, one status line per device (phase, step, elapsed
 * virtual and wall time) redrawn in place, with each measurement's verdict printed above them; on
 * anything else (a CI log, a pipe) plain lines, one per phase, step and measurement.
 */
import type { MeasurementRecord } from '../../../hil/record/record.js';
import type { ProgressEvent } from '../../../hil/run/run-options.js';
import { describeLimits } from '../../../hil/record/junit.js';

/** Where the progress goes. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * A duration as `h:mm:ss.s` (`0:00:12.5`, `2:30:00.0`): virtual runs of hours stay readable.
 *
 * @example
 * ```ts
 * clockTime(9_000_500) // '2:30:00.5'
 * ```
 */
export function clockTime(ms: number): string {
  const tenths = Math.max(0, Math.round(ms / 100));
  const hours = Math.floor(tenths / 36_000);
  const minutes = Math.floor((tenths % 36_000) / 600);
  const seconds = (tenths % 600) / 10;
  return `${hours}:${String(minutes).padStart(2, '0')}:${seconds.toFixed(1).padStart(4, '0')}`;
}

const VERDICT: Readonly<Record<MeasurementRecord['outcome'], string>> = {
  pass: 'PASS',
  fail: 'FAIL',
  'conditional-pass': 'PASS?',
  'conditional-fail': 'FAIL?',
  skipped: 'SKIP',
  aborted: 'ABORT',
  recorded: 'REC',
};

/**
 * One measurement in one line, the value to seven significant digits:
 * `PASS  error@25Cel  25.03 Cel  limits [24, 26] Cel`.
 *
 * @example
 * ```ts
 * measurementLine(record.phases[0].measurements[0]) // 'PASS  error@25Cel  25.03 Cel  limits [24, 26] Cel'
 * ```
 */
export function measurementLine(m: MeasurementRecord): string {
  // Seven significant digits on screen; the record keeps the exact value.
  const value = m.value === null ? 'no value' : `${Number(m.value.toPrecision(7))} ${m.unit}`;
  const limits = m.limits ? `  limits ${describeLimits(m.limits)}` : '';
  const reason = m.outcome !== 'pass' && m.reason ? `  (${m.reason})` : '';
  return `${VERDICT[m.outcome].padEnd(5)} ${m.id}  ${value}${limits}${reason}`;
}

interface Status {
  phase: string;
  step: string;
  time: number;
  wallTime: number;
}

/**
 * The progress display of one run of a plan on one or several devices.
 *
 * @example
 * ```ts
 * const progress = new RunProgress(process.stdout, ['emulated'])
 * await runTestPlan(plan, { target, seed: 1, onProgress: (event) => progress.event('emulated', event) })
 * progress.done()
 * ```
 */
export class RunProgress {
  readonly #out: ProgressOutput;
  readonly #names: readonly string[];
  readonly #status = new Map<string, Status>();
  readonly #tty: boolean;
  readonly #prefix: boolean;
  readonly #now: () => number;
  #drawn = 0;
  #lastDraw = 0;

  /** `now` is the wall clock in ms that paces redraws (default `performance.now`). */
  constructor(out: ProgressOutput, names: readonly string[], now: () => number = () => performance.now()) {
    this.#out = out;
    this.#now = now;
    this.#names = names;
    this.#tty = out.isTTY === true;
    this.#prefix = names.length > 1;
    for (const name of names) this.#status.set(name, { phase: 'starting', step: '', time: 0, wallTime: 0 });
  }

  /** Takes one progress event of the run on device `name`. */
  event(name: string, event: ProgressEvent): void {
    const status = this.#status.get(name);
    if (status === undefined) return;
    status.time = event.time;
    status.wallTime = event.wallTime;
    switch (event.kind) {
      case 'run-start':
        this.line(name, `run ${event.plan} on ${event.target}: ${event.phases} phase${event.phases === 1 ? '' : 's'}`);
        break;
      case 'phase-start':
        status.phase = `[${event.index + 1}/${event.count}] ${event.phase}${event.iteration > 1 ? ` #${event.iteration}` : ''}`;
        status.step = '';
        if (!this.#tty) this.line(name, `phase ${status.phase}  ${this.#times(status)}`);
        break;
      case 'step':
        status.step = event.step;
        if (!this.#tty) this.line(name, `  step ${event.step}  ${this.#times(status)}`);
        break;
      case 'measurement':
        this.line(name, `  ${measurementLine(event.measurement)}`);
        break;
      case 'phase-end': {
        const p = event.phase;
        this.line(name, `phase ${p.id}: ${p.outcome}${p.reason ? ` (${p.reason})` : ''}  ${this.#times(status)}`);
        break;
      }
      case 'run-end':
        status.phase = `done: ${event.outcome}`;
        status.step = '';
        break;
    }
    if (this.#tty) this.#redraw(false);
  }

  /** Prints a line above the status lines (or as a plain line). */
  line(name: string, text: string): void {
    const line = this.#prefix ? `${name}: ${text}` : text;
    if (!this.#tty) {
      this.#out.write(`${line}\n`);
      return;
    }
    this.#clear();
    this.#out.write(`${line}\n`);
    this.#redraw(true);
  }

  /** Removes the status lines; what was printed above them stays. */
  done(): void {
    if (this.#tty) this.#clear();
  }

  #times(status: Status): string {
    return `virtual ${clockTime(status.time)}  wall ${(status.wallTime / 1000).toFixed(1)} s`;
  }

  #clear(): void {
    if (this.#drawn > 0) this.#out.write(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  /** Redraws the status lines; at most 20 times a second unless `force` (a virtual run is fast). */
  #redraw(force: boolean): void {
    const now = this.#now();
    if (!force && this.#drawn > 0 && now - this.#lastDraw < 50) return;
    this.#lastDraw = now;
    this.#clear();
    // A pseudo-terminal may report no size (0): then assume 100 columns.
    const reported = (this.#out as { columns?: number }).columns;
    const columns = reported !== undefined && reported >= 20 ? reported : 100;
    for (const name of this.#names) {
      const status = this.#status.get(name)!;
      // The step goes last: on a narrow terminal its end is cut, never the times.
      const text = `${this.#prefix ? `${name}  ` : ''}${status.phase}  ${this.#times(status)}${status.step ? `  › ${status.step}` : ''}`;
      this.#out.write(`${text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text}\n`);
    }
    this.#drawn = this.#names.length;
  }
}
