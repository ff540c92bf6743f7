/**
 * Running one step of a phase. A step that cannot complete (a device gone silent, a settle that
 * never settles, an instrument error, a custom step that throws) throws {@link PhaseAbort} with one
 * line saying why; the phase runner records it.
 */
import { SensorkitError, TimeoutError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { converter, convertDifference } from '../../sdk/core/units.js';
import type { ChannelModel } from '../../sdk/model/define-device.js';
import type { MeasureStep, ReferenceSpec, SettleStep, StepSpec } from '../plan/spec.js';
import type { SeriesRecord } from '../record/record.js';
import { canInjectFaults } from '../targets/emulated-faults.js';
import { PhaseAbort } from './abort.js';
import { converted, formatValue, judge, resolveLimits } from './judge.js';
import type { PhaseScope, RunScope } from './run-scope.js';
import { describeQuality, formatMs, usable } from './sample-feed.js';
import { stepContext } from './step-context.js';
import { runMethod } from './methods.js';
import { isMethodStep } from '../plan/validate-method.js';

/**
 * A step in a few words, for progress lines and logs.
 *
 * @example
 * ```ts
 * describeStep({ kind: 'stimulus', input: 'temperature', value: 25, unit: 'Cel' }) // 'stimulus temperature = 25 Cel'
 * ```
 */
export function describeStep(step: StepSpec): string {
  if (step.name !== undefined) return step.name;
  if (isMethodStep(step)) return `${step.kind} ${step.channel}${step.id === undefined || step.id === step.kind ? '' : ` (${step.id})`}`;
  switch (step.kind) {
    case 'stimulus':
      return `stimulus ${step.input} = ${formatValue(step.value)} ${step.unit}`;
    case 'drive':
      return `drive ${step.input} from ${step.instrument} ${step.quantity}`;
    case 'source':
      return `source ${step.instrument} ${step.quantity} = ${formatValue(step.value)} ${step.unit}`;
    case 'wait':
      return `wait ${formatMs(step.durationMs)}`;
    case 'settle':
      return `settle ${step.channel} within ±${formatValue(step.tolerance)} ${step.unit} over ${formatMs(step.windowMs)}`;
    case 'measure':
      return `measure ${step.id ?? step.channel}`;
    case 'fault':
      return `fault ${step.target}: ${step.fault}${step.durationMs === undefined ? '' : ` for ${formatMs(step.durationMs)}`}`;
    default:
      return 'custom step';
  }
}

/**
 * Runs one step; throws {@link PhaseAbort} when it cannot complete.
 *
 * @example
 * ```ts
 * for (const step of phase.steps) await runStep(step, run, scope) // a PhaseAbort ends the phase
 * ```
 */
export async function runStep(step: StepSpec, run: RunScope, phase: PhaseScope): Promise<void> {
  run.feed.checkAbort();
  run.progress({ kind: 'step', phase: phase.id, step: describeStep(step) });
  try {
    await execute(step, run, phase);
  } catch (error) {
    if (error instanceof PhaseAbort) throw error;
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    // A timeout or refusal says enough; anything else gets the step's name in front.
    throw new PhaseAbort(error instanceof SensorkitError ? `${describeStep(step)}: ${message}` : `${describeStep(step)} failed: ${message}`);
  }
}

async function execute(step: StepSpec, run: RunScope, phase: PhaseScope): Promise<void> {
  if (isMethodStep(step)) {
    await runMethod(step, run, phase);
    phase.log(`${describeStep(step)} done`);
    return;
  }
  switch (step.kind) {
    case 'stimulus':
      await run.target.stimulate(step.input, step.value, step.unit);
      run.inputValues.set(step.input, { value: step.value, unit: step.unit });
      phase.log(describeStep(step));
      return;
    case 'drive': {
      const source = instrument(run, step.instrument);
      if (source.output === undefined) throw new PhaseAbort(`${describeStep(step)}: instrument "${step.instrument}" has no physical output to drive an input with`);
      const signal = source.output(step.quantity);
      await run.target.drive(step.input, signal, signal.unit);
      run.inputValues.set(step.input, { signal, unit: signal.unit, source: `${step.instrument} ${step.quantity}` });
      phase.log(describeStep(step));
      return;
    }
    case 'source':
      await instrument(run, step.instrument).source(step.quantity, step.value, step.unit);
      phase.log(describeStep(step));
      return;
    case 'wait': {
      const allowed = phase.bound(step.durationMs);
      await run.feed.wait(allowed);
      if (allowed < step.durationMs) phase.bound(0); // throws: the phase's limit ran out first
      return;
    }
    case 'settle':
      await settle(step, run, phase);
      return;
    case 'measure':
      await measure(step as MeasureStep & { id: string }, run, phase);
      return;
    case 'fault':
      if (!canInjectFaults(run.target)) throw new PhaseAbort(`${describeStep(step)}: the target ${run.target.description} cannot inject faults`);
      await run.target.injectFault(step.target, step.fault, step.durationMs, step.options);
      phase.log(describeStep(step));
      return;
    default:
      await withWatchdog(Promise.resolve().then(() => step.run(stepContext(run, phase))), step.timeoutMs ?? CUSTOM_STEP_WATCHDOG_MS, describeStep(step));
  }
}

/** Default wall-clock watchdog of a custom step, ms (10 min). */
export const CUSTOM_STEP_WATCHDOG_MS = 600_000;

/**
 * `work`, or a {@link PhaseAbort} when it has not settled after `ms` of wall-clock time. The only
 * wall-clock timer of a run: it guards against a custom step awaiting what never comes (on a
 * virtual clock nothing moves while a step waits outside `ctx.wait`), and unless it fires it
 * changes nothing in the record.
 */
async function withWatchdog(work: Promise<unknown>, ms: number, name: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PhaseAbort(`${name} did not finish within ${formatMs(ms)} of wall-clock time`)), ms);
  });
  try {
    await Promise.race([work, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

function instrument(run: RunScope, role: string) {
  const found = run.instruments[role];
  if (found === undefined) throw new PhaseAbort(`no instrument for role "${role}"`);
  return found;
}

function channelOf(run: RunScope, id: string): ChannelModel {
  const channel = run.model.channel(id);
  if (channel === undefined) throw new PhaseAbort(`no channel "${id}" in ${run.model.id}`);
  return channel;
}

/** Waits until the channel's usable samples of the last window lie within ±tolerance of their mean. */
async function settle(step: SettleStep, run: RunScope, phase: PhaseScope): Promise<void> {
  const channel = channelOf(run, step.channel);
  const tolerance = convertDifference(step.tolerance, step.unit, channel.unit);
  const convert = converter(channel.unit, step.unit);
  const started = run.feed.time();
  const window: { time: number; value: number }[] = [];
  const response: { time: number; value: number }[] = [];
  let firstTime: number | undefined;
  let stable = false;
  let lastBad: Sample | undefined;
  const stop = run.feed.listen((sample) => {
    if (sample.channel !== channel.id) return;
    if (!usable(sample)) {
      lastBad = sample;
      return;
    }
    firstTime ??= sample.time;
    window.push({ time: sample.time, value: sample.value! });
    if (step.id !== undefined) response.push({ time: run.feed.runTime(sample.time), value: convert(sample.value!) });
    while (window.length > 0 && window[0]!.time < sample.time - step.windowMs) window.shift();
    if (sample.time - firstTime < step.windowMs) return;
    const mean = window.reduce((sum, entry) => sum + entry.value, 0) / window.length;
    stable = window.every((entry) => Math.abs(entry.value - mean) <= tolerance);
  });
  const limit = phase.bound(step.timeoutMs);
  try {
    if (await run.feed.waitUntil(() => stable, limit)) {
      const took = run.feed.time() - started;
      phase.log(`${channel.id} settled within ±${formatValue(step.tolerance)} ${step.unit} over ${formatMs(step.windowMs)} after ${formatMs(took)}`);
      if (step.id !== undefined) {
        phase.record({
          id: step.id,
          channel: channel.id,
          value: took / 1000,
          unit: 's',
          samples: response.length,
          series: [{ name: channel.id, unit: step.unit, time: response.map((point) => point.time), value: response.map((point) => point.value) }],
        });
      }
      return;
    }
  } finally {
    stop();
  }
  phase.bound(0);
  const last = window.length === 0 ? (lastBad === undefined ? 'no usable sample' : `last sample ${describeQuality(lastBad)}`) : `last ${formatValue(window[window.length - 1]!.value)} ${channel.unit}`;
  throw new PhaseAbort(`${channel.id} did not settle within ±${formatValue(step.tolerance)} ${step.unit} over ${formatMs(step.windowMs)} in ${formatMs(limit)} (${last})`);
}

/**
 * Default wait for a measurement's samples: ten sample periods per sample, at least 10 s. A target
 * observed over MQTT or OPC UA sees the device's reports only, which a deadband thins out to one a
 * heartbeat for a steady value: there, one heartbeat and a half per sample (and one more).
 */
function defaultTimeout(channel: ChannelModel, count: number, observation: string): number {
  const sampled = Math.max(10_000, (10 * count * 1000) / channel.sampleRate);
  const reporting = channel.reporting;
  if (observation === 'in-process' || reporting === undefined) return sampled;
  const thinned = reporting.deadband !== undefined || reporting.deadbandPercent !== undefined;
  const heartbeatS = reporting.heartbeat ?? (thinned ? 60 : undefined);
  return heartbeatS === undefined ? sampled : Math.max(sampled, (count + 1) * heartbeatS * 1500);
}

async function measure(step: MeasureStep & { id: string }, run: RunScope, phase: PhaseScope): Promise<void> {
  const channel = channelOf(run, step.channel);
  const unit = step.unit ?? channel.unit;
  const count = step.samples ?? 1;
  const accept = step.expectQuality === undefined ? usable : () => true;
  let samples: Sample[];
  try {
    samples = await run.feed.next(channel.id, count, phase.bound(step.timeoutMs ?? defaultTimeout(channel, count, run.target.observation)), accept);
  } catch (error) {
    if (error instanceof TimeoutError) {
      phase.bound(0);
      throw new PhaseAbort(`measure ${step.id}: the device stopped reporting: ${error.message}`);
    }
    throw error;
  }
  const valued = samples.filter((sample) => sample.value !== null && Number.isFinite(sample.value));
  const values = valued.map((sample) => converter(sample.unit, unit)(sample.value!));
  const value = values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
  const reference = step.reference === undefined ? undefined : await referenceOf(step.reference, unit, run);
  const limits = step.limits === undefined ? undefined : resolveLimits(step.limits, unit, channel, reference?.value);
  const times = valued.map((sample) => run.feed.runTime(sample.time));
  const series: SeriesRecord[] = [{ name: channel.id, unit, time: times, value: values }];
  if (reference !== undefined && times.length > 0) series.push({ name: `reference (${reference.source})`, unit, time: times, value: times.map(() => reference.value) });
  let outcome: ReturnType<typeof judge> | undefined;
  if (step.expectQuality !== undefined) {
    const wrong = samples.find((sample) => sample.quality.level !== step.expectQuality);
    outcome = wrong === undefined ? { outcome: 'pass' } : { outcome: 'fail', reason: `expected ${step.expectQuality} quality, got ${describeQuality(wrong)}` };
    if (outcome.outcome === 'pass' && limits !== undefined && value !== null) outcome = judge(value, unit, limits);
  }
  const reason = outcome?.reason ?? (step.expectQuality !== undefined && samples[0] !== undefined ? `quality ${describeQuality(samples[0])}` : undefined);
  phase.record({
    id: step.id,
    channel: channel.id,
    value,
    unit,
    ...(reference === undefined ? {} : { reference }),
    samples: samples.length,
    ...(limits === undefined ? {} : { limits }),
    ...(outcome === undefined ? {} : { outcome: outcome.outcome }),
    ...(reason === undefined ? {} : { reason }),
    series,
  });
}

async function referenceOf(spec: ReferenceSpec, unit: string, run: RunScope): Promise<{ value: number; unit: string; source: string }> {
  if ('input' in spec) {
    const set = run.inputValues.get(spec.input);
    if (set === undefined) throw new PhaseAbort(`the reference input "${spec.input}" was not set by a stimulus or drive step`);
    // A driven input's reference is the signal's value now: what the device feels as it is measured.
    const value = 'value' in set ? set.value : set.signal.valueAt(run.target.clock.now());
    return { value: converted(converter(set.unit, unit)(value)), unit, source: `input ${spec.input}` };
  }
  if ('instrument' in spec) {
    const reading = await instrument(run, spec.instrument).measure(spec.quantity);
    return { value: converter(reading.unit, unit)(reading.value), unit, source: `instrument ${spec.instrument}` };
  }
  return { value: converted(converter(spec.unit, unit)(spec.value)), unit, source: 'stated' };
}
