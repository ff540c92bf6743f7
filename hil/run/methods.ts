/**
 * Running a method step (plan/method-spec.ts): set the quantity, wait for the channel, take spaced
 * readings, compute the result with hil/metrology and record it judged under the step's decision
 * rule. Every wait is bounded by the phase; a channel gone silent aborts the phase with its reason.
 */
import { TimeoutError } from '../../sdk/core/errors.js';
import { convertDifference, converter } from '../../sdk/core/units.js';
import type { ChannelModel } from '../../sdk/model/define-device.js';
import type { Instrument } from '../instruments/instrument.js';
import { accuracy } from '../metrology/accuracy.js';
import type { DecisionRule } from '../metrology/decision.js';
import { drift } from '../metrology/drift.js';
import { hysteresis } from '../metrology/hysteresis.js';
import { influenceEffect } from '../metrology/influence.js';
import { linearity } from '../metrology/linearity.js';
import { noise } from '../metrology/noise.js';
import type { ReferenceStandard } from '../metrology/reference.js';
import { repeatability } from '../metrology/repeatability.js';
import { resolution } from '../metrology/resolution.js';
import { judgeResult, type MetrologyResult } from '../metrology/result.js';
import { stepResponse } from '../metrology/step-response.js';
import type {
  AccuracyStep,
  DriftStep,
  HysteresisStep,
  LinearityStep,
  MethodDecisionRule,
  MethodLimits,
  MethodStep,
  NoiseStep,
  RepeatabilityStep,
  ResolutionStep,
  StepResponseStep,
  SupplyVariationStep,
} from '../plan/method-spec.js';
import { channelMemory } from '../plan/plan-from-model.js';
import type { MeasurementInput } from '../plan/spec.js';
import type { LimitsRecord, SeriesRecord } from '../record/record.js';
import { PhaseAbort } from './abort.js';
import { formatValue } from './judge.js';
import type { PhaseScope, RunScope } from './run-scope.js';
import { usable } from './sample-feed.js';

/** Waits a channel needs, from its sample rate and filters. */
export interface MethodWaits {
  /** One sample period, ms. */
  readonly periodMs: number;
  /** The channel's memory in samples: 1 + the filters' lengths (moving average and median windows, 1/α of an EMA) + the part's own filter coefficient. */
  readonly memory: number;
  /** Wait after a change of the quantity: ten memories, at least 10 s. */
  readonly settleMs: number;
  /** Between readings meant to be independent: one memory. */
  readonly intervalMs: number;
}

/**
 * The waits a method uses by default on `channel`: settled after ten filter memories, readings one
 * memory apart (the filtered samples are correlated within it).
 *
 * @example
 * ```ts
 * methodWaits(model.channel('temperature')!) // env-node: 1 Hz, moving average of 4, BME280 IIR 4 → { memory: 9, settleMs: 90_000, intervalMs: 9_000, periodMs: 1000 }
 * ```
 */
export function methodWaits(channel: ChannelModel): MethodWaits {
  const periodMs = 1000 / channel.sampleRate;
  const memory = channelMemory(channel);
  return { periodMs, memory, settleMs: Math.max(10_000, 10 * memory * periodMs), intervalMs: memory * periodMs };
}

/** The ILAC-G8 rule of a step's `decisionRule` (default a guard band w = U). */
function ruleOf(rule: MethodDecisionRule | undefined): DecisionRule {
  if (rule === 'simple') return { kind: 'simple-acceptance' };
  if (rule === undefined || rule === 'guard-band') return { kind: 'guard-band' };
  return { kind: 'guard-band', fraction: rule.guardBand };
}

interface MethodRun {
  readonly run: RunScope;
  readonly phase: PhaseScope;
  readonly step: MethodStep;
  readonly channel: ChannelModel;
  /** The step's unit (points) and the channel's (readings, results). */
  readonly unit: string;
  readonly waits: MethodWaits;
  readonly id: string;
  readonly standard: ReferenceStandard;
  /** What the reference instrument's readings stated (its certificate U, accuracy, resolution), the largest seen, in the step's unit. */
  readonly stated: { expanded?: number; coverageFactor?: number; accuracy?: number; resolution?: number };
}

/**
 * Runs a method step; throws {@link PhaseAbort} when it cannot complete.
 *
 * @example
 * ```ts
 * await runMethod({ kind: 'repeatability', channel: 'temperature', point: 25, readings: 10 }, run, phase)
 * ```
 */
export async function runMethod(step: MethodStep, run: RunScope, phase: PhaseScope): Promise<void> {
  const channel = run.model.channel(step.channel);
  if (channel === undefined) throw new PhaseAbort(`no channel "${step.channel}" in ${run.model.id}`);
  const unit = step.unit ?? channel.unit;
  const waits = methodWaits(channel);
  const standard: ReferenceStandard = {
    unit,
    source: sourceName(step),
    ...(step.standard?.certificate === undefined ? {} : { certificate: step.standard.certificate }),
    ...(step.standard?.accuracy === undefined ? {} : { accuracy: step.standard.accuracy }),
    ...(step.standard?.resolution === undefined ? {} : { resolution: step.standard.resolution }),
  };
  const m: MethodRun = {
    run,
    phase,
    step,
    channel,
    unit,
    waits: { ...waits, ...(step.settleMs === undefined ? {} : { settleMs: step.settleMs }), ...(step.intervalMs === undefined ? {} : { intervalMs: step.intervalMs }) },
    id: step.id ?? step.kind,
    standard,
    stated: {},
  };
  switch (step.kind) {
    case 'accuracy':
      return runAccuracy(m, step);
    case 'linearity':
      return runLinearity(m, step);
    case 'hysteresis':
      return runHysteresis(m, step);
    case 'repeatability':
      return runRepeatability(m, step);
    case 'step-response':
      return runStepResponse(m, step);
    case 'drift':
      return runDrift(m, step);
    case 'resolution':
      return runResolution(m, step);
    case 'noise':
      return runNoise(m, step);
    case 'supply-variation':
      return runSupplyVariation(m, step);
  }
}

function sourceName(step: MethodStep): string {
  const described = step.standard?.description;
  if (step.reference !== undefined && 'instrument' in step.reference) return described ?? `instrument ${step.reference.instrument}`;
  if (step.source !== undefined) return described ?? `instrument ${step.source.instrument}`;
  return described ?? `input ${step.input ?? (step.reference !== undefined && 'input' in step.reference ? step.reference.input : step.channel)}`;
}

function inputOf(step: MethodStep): string {
  return step.input ?? (step.reference !== undefined && 'input' in step.reference ? step.reference.input : step.channel);
}

function instrumentOf(run: RunScope, role: string): Instrument {
  const found = run.instruments[role];
  if (found === undefined) throw new PhaseAbort(`no instrument for role "${role}"`);
  return found;
}

/** Sets the quantity to `value` (in the step's unit) and returns the reference value, in the step's unit. */
async function setQuantity(m: MethodRun, value: number): Promise<void> {
  const { step, run } = m;
  if (step.source !== undefined) {
    await instrumentOf(run, step.source.instrument).source(step.source.quantity, value, m.unit);
  } else {
    const input = inputOf(step);
    await run.target.stimulate(input, value, m.unit);
    run.inputValues.set(input, { value, unit: m.unit });
  }
}

/** The reference value after setting `value`: the setting itself, or the reference instrument's reading. */
async function referenceValue(m: MethodRun, value: number): Promise<number> {
  const reference = m.step.reference;
  if (reference === undefined || !('instrument' in reference)) return value;
  const reading = await instrumentOf(m.run, reference.instrument).measure(reference.quantity);
  const difference = (x: number): number => convertDifference(x, reading.unit, m.unit);
  const stated = m.stated;
  if (reading.uncertainty !== undefined && difference(reading.uncertainty.expanded) / reading.uncertainty.coverageFactor >= (stated.expanded ?? 0) / (stated.coverageFactor ?? 1)) {
    stated.expanded = difference(reading.uncertainty.expanded);
    stated.coverageFactor = reading.uncertainty.coverageFactor;
  }
  if (reading.accuracy !== undefined) stated.accuracy = Math.max(stated.accuracy ?? 0, difference(reading.accuracy));
  if (reading.resolution !== undefined) stated.resolution = Math.max(stated.resolution ?? 0, difference(reading.resolution));
  return converter(reading.unit, m.unit)(reading.value);
}

/**
 * The reference standard of the results: the step's `standard` when it gives one, else what the
 * reference instrument's readings stated (certificate U, accuracy, resolution: the largest seen).
 */
function standardFor(m: MethodRun): ReferenceStandard {
  if (m.step.standard !== undefined) return m.standard;
  const { expanded, coverageFactor, accuracy, resolution } = m.stated;
  return {
    ...m.standard,
    ...(expanded === undefined || coverageFactor === undefined ? {} : { certificate: { expanded, coverageFactor } }),
    ...(accuracy === undefined ? {} : { accuracy }),
    ...(resolution === undefined ? {} : { resolution }),
  };
}

/** The step as messages name it: `repeatability temperature`, `accuracy temperature (calibration)`. */
function named(m: MethodRun): string {
  return `${m.step.kind} ${m.channel.id}${m.id === m.step.kind ? '' : ` (${m.id})`}`;
}

async function wait(m: MethodRun, ms: number): Promise<void> {
  if (ms <= 0) return;
  const allowed = m.phase.bound(ms);
  await m.run.feed.wait(allowed);
  if (allowed < ms) m.phase.bound(0);
}

/** `count` readings of the channel in its unit, `intervalMs` apart (the next usable sample after each wait), with their run times. */
async function readings(m: MethodRun, count: number, intervalMs = m.waits.intervalMs): Promise<{ values: number[]; times: number[] }> {
  const values: number[] = [];
  const times: number[] = [];
  const timeout = Math.max(10_000, 10 * m.waits.periodMs);
  for (let i = 0; i < count; i++) {
    if (i > 0) await wait(m, Math.max(0, intervalMs - m.waits.periodMs));
    let sample;
    try {
      [sample] = await m.run.feed.next(m.channel.id, 1, m.phase.bound(timeout), usable);
    } catch (error) {
      if (error instanceof TimeoutError) {
        m.phase.bound(0);
        throw new PhaseAbort(`${named(m)}: the device stopped reporting: ${error.message}`);
      }
      throw error;
    }
    values.push(converter(sample!.unit, m.channel.unit)(sample!.value!));
    times.push(m.run.feed.runTime(sample!.time));
  }
  return { values, times };
}

/** Sets a point, waits for the channel to settle, and reads it. */
async function readAt(m: MethodRun, point: number, count: number): Promise<{ reference: number; values: number[]; times: number[] }> {
  await setQuantity(m, point);
  await wait(m, m.waits.settleMs);
  const reference = await referenceValue(m, point);
  return { reference, ...(await readings(m, count)) };
}

/** The channel's MPE in its unit. */
function mpeOf(channel: ChannelModel): number {
  return channel.accuracy.mpe;
}

/** A tolerance from a step's limits (or its default), in the channel's unit; the basis text. */
function toleranceOf(m: MethodRun, limits: MethodLimits | undefined, fallback: { factor: number; what: string }): { value: number; basis: string } {
  const spec = limits ?? { tolerance: 'mpe' as const, factor: fallback.factor };
  const factor = spec.factor ?? 1;
  if (spec.tolerance === 'mpe') {
    const value = factor * mpeOf(m.channel);
    return { value, basis: spec.basis ?? `${factor === 1 ? '' : `${formatValue(factor)} × `}MPE (${formatValue(mpeOf(m.channel))} ${m.channel.unit})${fallback.what}` };
  }
  const value = factor * convertDifference(spec.tolerance, spec.unit!, m.channel.unit);
  return { value, basis: spec.basis ?? `${formatValue(value)} ${m.channel.unit}${fallback.what}` };
}

/** The span of the channel's range, in its unit (the base of % of span). */
function spanOf(channel: ChannelModel): number {
  return channel.range.max - channel.range.min;
}

/** A percentage-of-span limit for linearity and hysteresis. */
function percentLimit(m: MethodRun, limits: MethodLimits | undefined): { value: number; basis: string } {
  const span = spanOf(m.channel);
  const spec = limits ?? { tolerance: 'mpe' as const };
  const factor = spec.factor ?? 1;
  if (spec.tolerance === 'mpe') {
    const value = (factor * mpeOf(m.channel) * 100) / span;
    return { value, basis: spec.basis ?? `${factor === 1 ? '' : `${formatValue(factor)} × `}MPE as % of the range (${formatValue(mpeOf(m.channel))} ${m.channel.unit} of ${formatValue(span)} ${m.channel.unit})` };
  }
  if (spec.unit === '%') return { value: factor * spec.tolerance, basis: spec.basis ?? `${formatValue(factor * spec.tolerance)} % of the range` };
  const value = (factor * convertDifference(spec.tolerance, spec.unit!, m.channel.unit) * 100) / span;
  return { value, basis: spec.basis ?? `${formatValue(value)} % of the range` };
}

/** Records a method's result judged against `limits` under the step's rule (simple acceptance without U). */
function record(m: MethodRun, result: MetrologyResult, limits: LimitsRecord | undefined, extra: { id?: string; series?: readonly SeriesRecord[] } = {}): void {
  const rule = result.uncertainty === undefined ? ({ kind: 'simple-acceptance' } as const) : ruleOf(m.step.decisionRule);
  const judged = judgeResult({ ...result, ...(extra.series === undefined ? {} : { series: extra.series }) }, { channel: m.channel.id, ...(limits === undefined ? {} : { limits }), rule });
  const { time: _time, ...input } = judged;
  m.phase.record({ ...(input as MeasurementInput), id: extra.id ?? result.id });
}

function pointLabel(m: MethodRun, point: number): string {
  return `${formatValue(point)}${m.unit}`;
}

async function runAccuracy(m: MethodRun, step: AccuracyStep): Promise<void> {
  const count = step.readings ?? 5;
  const points: { reference: number; readings: number[]; times: number[]; point: number }[] = [];
  for (const point of step.points) {
    const read = await readAt(m, point, count);
    points.push({ reference: read.reference, readings: read.values, times: read.times, point });
  }
  const result = accuracy({ unit: m.channel.unit, ...(m.channel.resolution === undefined ? {} : { resolution: m.channel.resolution }), standard: standardFor(m), points });
  const tolerance = toleranceOf(m, step.limits, { factor: 1, what: ' around the reference' });
  result.points.forEach((error, i) => {
    // Recorded as the mean reading against reference ± tolerance: the same decision as the error
    // against ± tolerance, with the error's U, and the shape the report plots errors from.
    const reference = error.reference!.value;
    const mean = error.value! + reference;
    const { values, times } = { values: points[i]!.readings, times: points[i]!.times };
    record(
      m,
      { ...error, value: mean, difference: false },
      { low: reference - tolerance.value, high: reference + tolerance.value, unit: m.channel.unit, basis: tolerance.basis },
      {
        id: `${m.id}@${pointLabel(m, points[i]!.point)}`,
        series: [
          { name: m.channel.id, unit: m.channel.unit, time: times, value: values },
          { name: `reference (${error.reference!.source})`, unit: m.channel.unit, time: times, value: times.map(() => reference) },
        ],
      },
    );
  });
}

async function collectPoints(m: MethodRun, points: readonly number[], count: number): Promise<{ reference: number; readings: number[] }[]> {
  const collected: { reference: number; readings: number[] }[] = [];
  for (const point of points) {
    const read = await readAt(m, point, count);
    collected.push({ reference: read.reference, readings: read.values });
  }
  return collected;
}

async function runLinearity(m: MethodRun, step: LinearityStep): Promise<void> {
  const points = await collectPoints(m, [...step.points].sort((a, b) => a - b), step.readings ?? 3);
  const result = linearity({ points, unit: m.channel.unit, standard: standardFor(m), span: spanOf(m.channel), ...(m.channel.resolution === undefined ? {} : { resolution: m.channel.resolution }) });
  const limit = percentLimit(m, step.limits);
  const limits: LimitsRecord = { high: limit.value, unit: '%', basis: limit.basis };
  const series: SeriesRecord[] = [
    { name: 'deviation from the best-fit line', unit: m.channel.unit, axis: 'reference', axisUnit: m.unit, time: result.points.map((p) => p.reference), value: result.points.map((p) => p.bestFit) },
    { name: 'deviation from the terminal line', unit: m.channel.unit, axis: 'reference', axisUnit: m.unit, time: result.points.map((p) => p.reference), value: result.points.map((p) => p.terminal) },
  ];
  record(m, result.bestFit, limits, { id: m.id, series });
  record(m, result.terminal, limits, { id: `${m.id}-terminal` });
}

async function runHysteresis(m: MethodRun, step: HysteresisStep): Promise<void> {
  const references = [...step.points].sort((a, b) => a - b);
  const count = step.readings ?? 2;
  const stepSize = (references[references.length - 1]! - references[0]!) / (references.length - 1);
  const cycles: { up: number[]; down: number[] }[] = [];
  for (let cycle = 0; cycle < (step.cycles ?? 3); cycle++) {
    // Approach the first point from below: start one step under it.
    await setQuantity(m, references[0]! - stepSize);
    await wait(m, m.waits.settleMs);
    const up: number[] = [];
    for (const point of references) up.push(mean((await readAt(m, point, count)).values));
    // Past the top point, then down through the points.
    await setQuantity(m, references[references.length - 1]! + stepSize);
    await wait(m, m.waits.settleMs);
    const down: number[] = [];
    for (const point of [...references].reverse()) down.unshift(mean((await readAt(m, point, count)).values));
    cycles.push({ up, down });
  }
  const result = hysteresis({ references, cycles, unit: m.channel.unit, span: spanOf(m.channel), ...(m.channel.resolution === undefined ? {} : { resolution: m.channel.resolution }) });
  const limit = percentLimit(m, step.limits);
  // The loop: each leg's mean readings as deviations from the straight line through both legs
  // (a plot of the readings themselves would hide a loop of 0.1 % under the span).
  const upMeans = references.map((_, i) => mean(cycles.map((c) => c.up[i]!)));
  const downMeans = references.map((_, i) => mean(cycles.map((c) => c.down[i]!)));
  const line = straightLine([...references, ...references], [...upMeans, ...downMeans]);
  const loop: SeriesRecord[] = [
    { name: 'up', unit: m.channel.unit, axis: 'reference', axisUnit: m.unit, time: references, value: upMeans.map((y, i) => y - line(references[i]!)) },
    { name: 'down', unit: m.channel.unit, axis: 'reference', axisUnit: m.unit, time: references, value: downMeans.map((y, i) => y - line(references[i]!)) },
  ];
  record(m, result.hysteresis, { high: limit.value, unit: '%', basis: limit.basis }, { id: m.id, series: loop });
  const inUnit = (limit.value * spanOf(m.channel)) / 100;
  record(m, result.difference, { low: -inUnit, high: inUnit, unit: m.channel.unit, basis: `±${formatValue(inUnit)} ${m.channel.unit}: ${limit.basis}` }, { id: `${m.id}-difference` });
}

async function runRepeatability(m: MethodRun, step: RepeatabilityStep): Promise<void> {
  const read = await readAt(m, step.point, step.readings ?? 10);
  const result = repeatability({ readings: read.values, unit: m.channel.unit });
  const limit = toleranceOf(m, step.limits, { factor: 1 / 3, what: '' });
  record(m, { ...result, reference: { value: read.reference, unit: m.unit, source: m.standard.source! } }, { high: limit.value, unit: m.channel.unit, basis: `s at most ${limit.basis}` }, {
    id: m.id,
    series: [{ name: m.channel.id, unit: m.channel.unit, time: read.times, value: read.values }],
  });
}

async function runNoise(m: MethodRun, step: NoiseStep): Promise<void> {
  const read = await readAt(m, step.point, step.readings ?? 30);
  const result = noise({ readings: read.values, unit: m.channel.unit });
  const limit = toleranceOf(m, step.limits, { factor: 1 / 3, what: '' });
  const series = [{ name: m.channel.id, unit: m.channel.unit, time: read.times, value: read.values }];
  record(m, result.rms, { high: limit.value, unit: m.channel.unit, basis: `RMS at most ${limit.basis}` }, { id: `${m.id}-rms`, series });
  record(m, result.peakToPeak, { high: 6 * limit.value, unit: m.channel.unit, basis: `peak-to-peak at most 6 × the RMS limit` }, { id: `${m.id}-peak-to-peak` });
}

async function runResolution(m: MethodRun, step: ResolutionStep): Promise<void> {
  const declared = m.channel.resolution;
  await setQuantity(m, step.point);
  await wait(m, m.waits.settleMs);
  // A slow ramp through a few resolution steps: a quarter step per sample period.
  const count = step.readings ?? 40;
  const quantum = declared ?? mpeOf(m.channel) / 100;
  const rate = converter(m.channel.unit, m.unit)(quantum) - converter(m.channel.unit, m.unit)(0);
  const start = m.run.target.clock.now();
  const signal = { valueAt: (t: number) => step.point + ((t - start) / m.waits.periodMs) * (rate / 4) };
  if (m.step.source === undefined) {
    const input = inputOf(step);
    await m.run.target.drive(input, signal, m.unit);
    m.run.inputValues.set(input, { signal, unit: m.unit, source: 'a resolution ramp' });
  }
  const read = await readings(m, count, m.waits.periodMs);
  if (m.step.source === undefined) await setQuantity(m, step.point);
  const result = resolution({ readings: read.values, unit: m.channel.unit, ...(declared === undefined ? {} : { declared }) });
  const limits: LimitsRecord | undefined = declared === undefined ? undefined : { high: declared * (1 + 1e-6), unit: m.channel.unit, basis: `the declared resolution ${formatValue(declared)} ${m.channel.unit}` };
  record(m, result, limits, { id: m.id, series: [{ name: m.channel.id, unit: m.channel.unit, time: read.times, value: read.values }] });
}

async function runDrift(m: MethodRun, step: DriftStep): Promise<void> {
  await setQuantity(m, step.point);
  await wait(m, m.waits.settleMs);
  const every = step.everyMs ?? step.durationMs / 12;
  const count = Math.floor(step.durationMs / every) + 1;
  const per = step.readings ?? 1;
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = m.run.feed.time();
    const read = await readings(m, per);
    times.push(mean(read.times));
    values.push(mean(read.values));
    if (i < count - 1) await wait(m, Math.max(0, every - (m.run.feed.time() - started)));
  }
  const result = drift({ time: times, readings: values, unit: m.channel.unit });
  const hours = step.durationMs / 3_600_000;
  const spec = step.limits;
  let tolerance: { value: number; basis: string };
  if (spec === undefined || spec.tolerance === 'mpe') {
    const factor = spec?.factor ?? 1;
    tolerance = { value: (factor * mpeOf(m.channel)) / hours, basis: spec?.basis ?? `${factor === 1 ? '' : `${formatValue(factor)} × `}MPE over the ${formatValue(hours)} h` };
  } else {
    tolerance = { value: (spec.factor ?? 1) * spec.tolerance, basis: spec.basis ?? `±${formatValue(spec.tolerance)} ${spec.unit}` };
  }
  record(m, result, { low: -tolerance.value, high: tolerance.value, unit: result.unit, basis: tolerance.basis }, {
    id: m.id,
    series: [{ name: m.channel.id, unit: m.channel.unit, time: times, value: values }],
  });
}

async function runStepResponse(m: MethodRun, step: StepResponseStep): Promise<void> {
  await setQuantity(m, step.from);
  await wait(m, m.waits.settleMs);
  const time: number[] = [];
  const values: number[] = [];
  const stop = m.run.feed.listen((sample) => {
    if (sample.channel !== m.channel.id || !usable(sample)) return;
    time.push(m.run.feed.runTime(sample.time));
    values.push(converter(sample.unit, m.channel.unit)(sample.value!));
  });
  let stepTime: number;
  try {
    await wait(m, Math.min(m.waits.settleMs, 10 * m.waits.periodMs));
    stepTime = m.run.feed.time();
    await setQuantity(m, step.to);
    await wait(m, step.durationMs ?? 3 * m.waits.settleMs);
  } finally {
    stop();
  }
  // The channel's own levels before and after the step (its error at either level is not part of
  // the response): the mean of the samples before the step and of the record's last quarter.
  const before = values.filter((_, i) => time[i]! < stepTime);
  const tail = values.slice(Math.floor((values.length * 3) / 4));
  if (before.length === 0 || tail.length === 0) throw new PhaseAbort(`${named(m)}: too few samples around the step`);
  const from = mean(before);
  const to = mean(tail);
  let result;
  try {
    result = stepResponse({
      time,
      readings: values,
      unit: m.channel.unit,
      step: { time: stepTime, from, to },
      ...(step.settlingBand === undefined ? {} : { settlingBand: step.settlingBand }),
      ...(m.channel.resolution === undefined ? {} : { resolution: m.channel.resolution }),
    });
  } catch (error) {
    throw new PhaseAbort(`${named(m)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const series: SeriesRecord[] = [
    result.series,
    { name: 'stimulus', unit: m.channel.unit, time: [stepTime, stepTime, time[time.length - 1] ?? stepTime], value: [from, to, to] },
  ];
  const limits = step.limits ?? {};
  const seconds = (r: MetrologyResult): MetrologyResult => scaleResult(r, 1 / 1000, 's');
  const upper = (value: number | undefined, unit: string, basis: string): LimitsRecord | undefined => (value === undefined ? undefined : { high: value, unit, basis });
  record(m, seconds(result.t63), upper(limits.t63, 's', 't63 limit'), { id: `${m.id}-t63`, series });
  record(m, seconds(result.t90), upper(limits.t90, 's', 't90 limit'), { id: `${m.id}-t90` });
  record(m, result.overshoot, upper(limits.overshoot, '%', 'overshoot limit, % of the step'), { id: `${m.id}-overshoot` });
  record(m, seconds(result.settlingTime), upper(limits.settlingTime, 's', 'settling time limit'), { id: `${m.id}-settling-time` });
}

async function runSupplyVariation(m: MethodRun, step: SupplyVariationStep): Promise<void> {
  const supply = instrumentOf(m.run, step.supply);
  const count = step.readings ?? 5;
  if (step.supplyInput !== undefined && supply.output !== undefined) {
    const signal = supply.output('voltage-dc');
    await m.run.target.drive(step.supplyInput, signal, signal.unit);
  } else {
    m.phase.log(`${m.id}: the target has no input fed by the supply; the readings show the supply's effect only through a real device's power (an emulated device does not feel it)`);
  }
  await supply.source('voltage-dc', step.nominal, 'V');
  const baseline = await readAt(m, step.point, count);
  const conditions: { name: string; readings: number[] }[] = [];
  for (const volts of step.conditions ?? []) {
    await supply.source('voltage-dc', volts, 'V');
    await wait(m, m.waits.settleMs);
    conditions.push({ name: `${formatValue(volts)}V`, readings: (await readings(m, count)).values });
  }
  await supply.source('voltage-dc', step.nominal, 'V');
  if (step.dip !== undefined) {
    const dipper = supply as Instrument & { dip?: (options: { depthPercent: number; durationMs: number }) => unknown };
    if (typeof dipper.dip !== 'function') throw new PhaseAbort(`${named(m)}: instrument "${step.supply}" cannot make a voltage dip`);
    await wait(m, m.waits.settleMs);
    dipper.dip({ depthPercent: step.dip.depthPercent, durationMs: step.dip.durationMs });
    conditions.push({ name: `dip${formatValue(step.dip.depthPercent)}%`, readings: (await readings(m, count, m.waits.periodMs)).values });
  }
  const result = influenceEffect({ unit: m.channel.unit, baseline: baseline.values, conditions, ...(m.channel.resolution === undefined ? {} : { resolution: m.channel.resolution }) });
  const tolerance = toleranceOf(m, step.limits, { factor: 1, what: '' });
  for (const [i, change] of result.conditions.entries()) {
    record(m, change, { low: -tolerance.value, high: tolerance.value, unit: m.channel.unit, basis: `change at most ${tolerance.basis}` }, { id: `${m.id}@${conditions[i]!.name}` });
  }
}

/** A time result in other units: the value, U and the budget's contributions scaled by `factor`. */
function scaleResult(result: MetrologyResult, factor: number, unit: string): MetrologyResult {
  const u = result.uncertainty;
  return {
    ...result,
    value: result.value === null ? null : result.value * factor,
    unit,
    ...(u === undefined
      ? {}
      : {
          uncertainty: {
            ...u,
            combinedStandardUncertainty: u.combinedStandardUncertainty * factor,
            expanded: u.expanded * factor,
            budget: u.budget.map((c) => ({ ...c, value: c.value * factor, standardUncertainty: c.standardUncertainty * factor })),
          },
        }),
  };
}

/** The least-squares line through (x, y), as a function. */
function straightLine(x: readonly number[], y: readonly number[]): (at: number) => number {
  const mx = mean(x);
  const my = mean(y);
  let sxx = 0;
  let sxy = 0;
  x.forEach((xi, i) => {
    sxx += (xi - mx) ** 2;
    sxy += (xi - mx) * (y[i]! - my);
  });
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return (at) => my + slope * (at - mx);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
