/**
 * What a run takes and what it reports while it runs. `runTestPlan(plan, options)` (run-plan.ts)
 * takes these options and resolves with the unsigned {@link RunRecord}; signing and writing the
 * record, JUnit and the report are separate steps (record/, report/).
 */
import type { Instrument } from '../instruments/instrument.js';
import type { MeasurementRecord, PhaseRecord, RunRecord } from '../record/record.js';
import type { Target } from '../targets/target.js';

/** An instrument and how it was reached (named in the record, e.g. `scpi-tcp:127.0.0.1:5025`). */
export interface ConnectedInstrument {
  readonly instrument: Instrument;
  readonly connection: string;
}

/** A progress event; `time` is target time since the run's start, `wallTime` wall ms since it. */
export type ProgressEvent =
  | { readonly kind: 'run-start'; readonly plan: string; readonly target: string; readonly phases: number; readonly time: number; readonly wallTime: number }
  | { readonly kind: 'phase-start'; readonly phase: string; readonly iteration: number; readonly index: number; readonly count: number; readonly time: number; readonly wallTime: number }
  | { readonly kind: 'step'; readonly phase: string; readonly step: string; readonly time: number; readonly wallTime: number }
  | { readonly kind: 'measurement'; readonly phase: string; readonly measurement: MeasurementRecord; readonly time: number; readonly wallTime: number }
  | { readonly kind: 'phase-end'; readonly phase: PhaseRecord; readonly time: number; readonly wallTime: number }
  | { readonly kind: 'run-end'; readonly outcome: RunRecord['outcome']; readonly time: number; readonly wallTime: number };

/** Options of `runTestPlan`. */
export interface RunOptions {
  /** The device under test, not yet opened: the run opens and closes it. */
  readonly target: Target;
  /** Seed of the emulated world and the simulated instruments (recorded). */
  readonly seed: number;
  /** Instruments by the plan's role names. */
  readonly instruments?: Readonly<Record<string, ConnectedInstrument>>;
  /** The plan file as the record should name it (a shipped plan's id, or an absolute path) and its bytes (digested). */
  readonly planFile?: { readonly path: string; readonly bytes: Uint8Array };
  /** Operator, station and ambient fields for the record and the report. */
  readonly context?: RunRecord['context'];
  /** Declared truths of an emulated target, recorded as given. */
  readonly injected?: RunRecord['injected'];
  /** Called for each progress event (a terminal display, plain lines, a test). */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Aborts the run: the current phase is recorded as aborted with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Wall-clock bound on closing the target, ms (default 10 000). A close that does not settle in
   * time is abandoned: the record is still returned, with the problem in its last phase's log.
   */
  readonly closeTimeoutMs?: number;
}
