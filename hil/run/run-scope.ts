/**
 * What the steps of one run share (the target, its model, the observed samples, the instruments,
 * the inputs set so far) and what one phase iteration collects (its measurements and log), with the
 * bound every wait of the phase obeys.
 */
import type { DeviceModel } from '../../sdk/model/define-device.js';
import type { Instrument } from '../instruments/instrument.js';
import type { MeasurementInput } from '../plan/spec.js';
import type { MeasurementRecord } from '../record/record.js';
import type { Target } from '../targets/target.js';
import { PhaseAbort } from './abort.js';
import { judge, SIMPLE_ACCEPTANCE } from './judge.js';
import type { ProgressEvent } from './run-options.js';
import { formatMs, type SampleFeed } from './sample-feed.js';

/** Progress event without its times (the run adds them). */
export type ProgressInput = ProgressEvent extends infer E ? (E extends ProgressEvent ? Omit<E, 'time' | 'wallTime'> : never) : never;

/** What the plan set a physical input to. */
export type InputSetting =
  | { readonly value: number; readonly unit: string }
  | { readonly signal: { valueAt(timeMs: number): number }; readonly unit: string; readonly source: string };

/** One run's shared state. */
export interface RunScope {
  readonly target: Target;
  readonly model: DeviceModel;
  readonly feed: SampleFeed;
  readonly instruments: Readonly<Record<string, Instrument>>;
  /** What each physical input was last set to by the plan: a constant, or a signal it follows (in `unit`). */
  readonly inputValues: Map<string, InputSetting>;
  progress(event: ProgressInput): void;
}

/**
 * One iteration of one phase: the measurements and log it collects, and its deadline.
 *
 * @example
 * ```ts
 * const phase = new PhaseScope(run, 'accuracy', undefined)
 * phase.log('stimulus temperature = 25 Cel')
 * const limit = phase.bound(30_000) // 30 s, or less when the phase's own limit comes first
 * ```
 */
export class PhaseScope {
  readonly id: string;
  readonly measurements: MeasurementRecord[] = [];
  readonly entries: { readonly time: number; readonly message: string }[] = [];
  readonly #run: RunScope;
  /** Run time (ms) by which the phase must end, or undefined. */
  readonly #deadline: number | undefined;
  readonly #limitMs: number | undefined;

  constructor(run: RunScope, id: string, timeoutMs: number | undefined) {
    this.#run = run;
    this.id = id;
    this.#limitMs = timeoutMs;
    this.#deadline = timeoutMs === undefined ? undefined : run.feed.time() + timeoutMs;
  }

  /** Adds a line to the phase's log at the current target time. */
  log(message: string): void {
    this.entries.push({ time: this.#run.feed.time(), message });
  }

  /**
   * `limitMs`, cut to what is left of the phase's own limit. Throws {@link PhaseAbort} when
   * nothing is left.
   */
  bound(limitMs: number): number {
    if (this.#deadline === undefined) return limitMs;
    const left = this.#deadline - this.#run.feed.time();
    if (left <= 0) throw new PhaseAbort(`the phase exceeded its limit of ${formatMs(this.#limitMs!)}`);
    return Math.min(limitMs, left);
  }

  /** Whether the phase's own limit has run out. */
  expired(): boolean {
    return this.#deadline !== undefined && this.#run.feed.time() >= this.#deadline;
  }

  /** Records a measurement (judged when it has no outcome), appends it and reports it. */
  record(input: MeasurementInput): MeasurementRecord {
    const judged = input.outcome === undefined ? judge(input.value, input.unit, input.limits) : { outcome: input.outcome };
    const reason = input.reason ?? ('reason' in judged ? judged.reason : undefined);
    const measurement: MeasurementRecord = {
      id: input.id,
      ...(input.channel === undefined ? {} : { channel: input.channel }),
      value: input.value,
      unit: input.unit,
      ...(input.reference === undefined ? {} : { reference: input.reference }),
      ...(input.samples === undefined ? {} : { samples: input.samples }),
      ...(input.limits === undefined ? {} : { limits: input.limits }),
      ...(input.uncertainty === undefined ? {} : { uncertainty: input.uncertainty }),
      ...(input.decisionRule === undefined ? (input.limits === undefined ? {} : { decisionRule: SIMPLE_ACCEPTANCE }) : { decisionRule: input.decisionRule }),
      outcome: judged.outcome,
      ...(reason === undefined ? {} : { reason }),
      time: this.#run.feed.time(),
      ...(input.series === undefined ? {} : { series: input.series }),
    };
    if (this.measurements.some((existing) => existing.id === measurement.id)) {
      throw new PhaseAbort(`measurement id "${measurement.id}" recorded twice in phase ${this.id}`);
    }
    this.measurements.push(measurement);
    this.#run.progress({ kind: 'measurement', phase: this.id, measurement });
    return measurement;
  }
}
