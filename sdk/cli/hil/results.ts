/**
 * What `sensorkit hil run` leaves behind and prints: each device's output folder (record.json,
 * junit.xml, report.html), and for several devices `summary.json` and `summary.html` beside them,
 * a table on standard output and the exit code (0 every test passed, 1 one failed, 2 a set-up error).
 */
import type { KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../core/errors.js';
import type { Outcome, RunRecord } from '../../../hil/record/record.js';
import { recordKeyId } from '../../../hil/record/sign.js';
import { writeRunOutput } from '../../../hil/record/write-output.js';
import { prettyCanonicalJson } from '../../../hil/record/canonical-json.js';
import { renderSummary } from '../../../hil/report/index.js';
import type { TargetRun } from './harness.js';
import { clockTime } from './progress.js';

/** One target's run: its record, or the set-up error that stopped it. */
export interface RunResult {
  readonly run: TargetRun;
  readonly record?: RunRecord;
  /** The set-up error, one line. */
  readonly error?: string;
}

/** A run in `summary.json`. */
export interface SummaryRun {
  readonly name: string;
  readonly target: string;
  readonly seed: number;
  /** The run's outcome, or `error` for a set-up error. */
  readonly outcome: Outcome | 'error';
  readonly reason?: string;
  /** The output folder, relative to `--out`. */
  readonly dir?: string;
  readonly device?: { readonly id: string; readonly model: string; readonly serialNumber: string };
  /** Measurements by outcome. */
  readonly measurements?: Readonly<Partial<Record<Outcome, number>>>;
  /** Key id of the signature, when signed. */
  readonly keyId?: string;
  /** Target time (virtual, or the real clock of a real board) and wall time of the run, ms. */
  readonly duration?: number;
  readonly virtualTime?: boolean;
  readonly wallDuration?: number;
  /** How the plan counts conditional outcomes, when it says (the record's `conditionalOutcomes`). */
  readonly conditionalOutcomes?: ConditionalOutcomes;
}

/** `summary.json` of a run on several devices, and what every run prints. */
export interface RunSummary {
  readonly format: 'sensorkit-hil-summary/1';
  readonly plan: { readonly id: string; readonly name: string; readonly version: string };
  /** `pass` when every run passed, `error` when one could not be set up, else `fail`. */
  readonly outcome: 'pass' | 'fail' | 'error';
  readonly runs: readonly SummaryRun[];
}

/** How a plan counts conditional (ILAC-G8) outcomes, as its record carries it. */
export type ConditionalOutcomes = NonNullable<RunRecord['conditionalOutcomes']>;

/**
 * Whether a run or measurement outcome counts as passed for the exit code: a pass, a value recorded
 * without limits, or a skip. A conditional pass (inside the limits, though not by the uncertainty)
 * passes and a conditional fail fails, unless the plan's `conditionalOutcomes` says otherwise. A
 * fail and an abort never pass.
 *
 * @example
 * ```ts
 * outcomePasses('conditional-pass') // true
 * outcomePasses('conditional-pass', { pass: 'fail' }) // false
 * ```
 */
export function outcomePasses(outcome: Outcome, conditional: ConditionalOutcomes = {}): boolean {
  switch (outcome) {
    case 'conditional-pass':
      return (conditional.pass ?? 'pass') === 'pass';
    case 'conditional-fail':
      return (conditional.fail ?? 'fail') === 'pass';
    default:
      return outcome === 'pass' || outcome === 'recorded' || outcome === 'skipped';
  }
}

/**
 * Whether a run in the summary passed: it was set up, and its outcome and every measurement's
 * outcome pass as its plan counts conditional outcomes (a run whose worst outcome is a conditional
 * fail counted as a pass still fails when a conditional pass is counted as a fail).
 *
 * @example
 * ```ts
 * runPasses({ name: 'a', target: 'emulated', seed: 1, outcome: 'conditional-pass', conditionalOutcomes: { pass: 'fail' } }) // false
 * ```
 */
export function runPasses(run: SummaryRun): boolean {
  if (run.outcome === 'error') return false;
  const conditional = run.conditionalOutcomes ?? {};
  if (!outcomePasses(run.outcome, conditional)) return false;
  return Object.entries(run.measurements ?? {}).every(([outcome, count]) => (count ?? 0) === 0 || outcomePasses(outcome as Outcome, conditional));
}

function countMeasurements(record: RunRecord): Partial<Record<Outcome, number>> {
  const counts: Partial<Record<Outcome, number>> = {};
  for (const phase of record.phases) for (const m of phase.measurements) counts[m.outcome] = (counts[m.outcome] ?? 0) + 1;
  return counts;
}

/**
 * Writes each run's output folder (`out` itself for a single run, `out/<name>/` for several) and,
 * for several, `out/summary.json` and `out/summary.html`; returns the summary.
 *
 * @example
 * ```ts
 * const summary = await writeRunResults('out', plan, results, { single: true, key })
 * ```
 */
export async function writeRunResults(out: string, plan: RunSummary['plan'], results: readonly RunResult[], options: { single: boolean; key?: KeyObject }): Promise<RunSummary> {
  const keyId = options.key === undefined ? undefined : recordKeyId(options.key);
  const runs: SummaryRun[] = [];
  const written: { record: RunRecord; dir: string }[] = [];
  for (const result of results) {
    const base = { name: result.run.name, target: result.run.spec, seed: result.run.seed };
    if (result.record === undefined) {
      runs.push({ ...base, outcome: 'error', reason: result.error ?? 'not run' });
      continue;
    }
    const dir = options.single ? '.' : result.run.name;
    const record = result.record;
    await writeRunOutput(join(out, dir), record, options.key === undefined ? {} : { key: options.key });
    written.push({ record, dir });
    runs.push({
      ...base,
      outcome: record.outcome,
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      dir,
      device: { id: record.device.id, model: record.device.model, serialNumber: record.device.serialNumber },
      measurements: countMeasurements(record),
      ...(keyId === undefined ? {} : { keyId }),
      duration: record.clock.duration,
      virtualTime: record.target.virtualTime,
      wallDuration: record.wallDuration,
      ...(record.conditionalOutcomes === undefined ? {} : { conditionalOutcomes: record.conditionalOutcomes }),
    });
  }
  const outcome = runs.some((r) => r.outcome === 'error') ? 'error' : runs.every(runPasses) ? 'pass' : 'fail';
  const summary: RunSummary = { format: 'sensorkit-hil-summary/1', plan, outcome, runs };
  if (!options.single) {
    try {
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'summary.json'), `${prettyCanonicalJson(summary)}\n`);
      if (written.length > 0) await writeFile(join(out, 'summary.html'), renderSummary(written.map((w) => w.record), { dirs: written.map((w) => w.dir) }));
    } catch (error) {
      throw new StorageError(out, `cannot write the summary: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }
  return summary;
}

/**
 * The exit code of a run: 2 when a target could not be set up, 1 when a test failed, else 0.
 *
 * @example
 * ```ts
 * process.exitCode = exitCodeOf(summary)
 * ```
 */
export function exitCodeOf(summary: RunSummary): number {
  return summary.outcome === 'error' ? 2 : summary.outcome === 'fail' ? 1 : 0;
}

function countsText(counts: Readonly<Partial<Record<Outcome, number>>> | undefined, conditional: ConditionalOutcomes = {}): string {
  if (counts === undefined) return '';
  // A conditional outcome is counted as passed or failed as the plan counts it.
  const judged: readonly Outcome[] = ['pass', 'conditional-pass', 'fail', 'conditional-fail'];
  const sum = (passes: boolean): number => judged.filter((o) => outcomePasses(o, conditional) === passes).reduce((n, o) => n + (counts[o] ?? 0), 0);
  const other = Object.entries(counts).filter(([o]) => !judged.includes(o as Outcome)).map(([o, n]) => `${n} ${o}`);
  return [`${sum(true)} passed`, `${sum(false)} failed`, ...other].join(', ');
}

/**
 * The lines printed at the end of a run: one per device as a table when there are several.
 *
 * @example
 * ```ts
 * process.stdout.write(summaryText(summary, 'out'))
 * ```
 */
export function summaryText(summary: RunSummary, out: string): string {
  const rows = summary.runs.map((r) => ({
    verdict: r.outcome === 'error' ? 'ERROR' : runPasses(r) ? 'PASS' : 'FAIL',
    name: r.name,
    device: r.device ? `${r.device.model} ${r.device.serialNumber}` : '—',
    result: r.outcome === 'error' ? (r.reason ?? '') : `${countsText(r.measurements, r.conditionalOutcomes)}${r.outcome === 'aborted' && r.reason ? ` (aborted: ${r.reason})` : ''}`,
    time: r.duration === undefined ? '' : `${r.virtualTime === false ? 'target' : 'virtual'} ${clockTime(r.duration)}, wall ${((r.wallDuration ?? 0) / 1000).toFixed(1)} s`,
    dir: r.dir === undefined ? '' : r.dir === '.' ? out : join(out, r.dir),
  }));
  if (rows.length === 1) {
    const r = rows[0]!;
    const files = r.dir ? `\n  ${join(r.dir, 'record.json')}${summary.runs[0]!.keyId ? ` (signed, key ${summary.runs[0]!.keyId})` : ' (not signed)'}\n  ${join(r.dir, 'junit.xml')}\n  ${join(r.dir, 'report.html')}` : '';
    return `${r.verdict} ${summary.plan.id} ${summary.plan.version} on ${summary.runs[0]!.target}, ${r.device}: ${r.result}${r.time ? `; ${r.time}` : ''}${files}\n`;
  }
  const header = { verdict: 'RESULT', name: 'TARGET', device: 'DEVICE', result: 'MEASUREMENTS', time: 'TIME', dir: 'OUTPUT' };
  const keys = Object.keys(header) as (keyof typeof header)[];
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(header[k].length, ...rows.map((r) => r[k].length))])) as Record<keyof typeof header, number>;
  const line = (row: typeof header): string => keys.map((k, i) => (i === keys.length - 1 ? row[k] : row[k].padEnd(width[k]))).join('  ').trimEnd();
  const passed = summary.runs.filter(runPasses).length;
  return `${[line(header), ...rows.map(line)].join('\n')}\n${summary.outcome.toUpperCase()}: ${passed} of ${rows.length} devices passed ${summary.plan.id} ${summary.plan.version}; summary in ${join(out, 'summary.json')}\n`;
}
