/**
 * The 4–20 mA loop of pressure-transmitter (0 … 10 bar over 4 … 20 mA, NAMUR NE 43 signalling):
 *
 * - span: the process pressure at 0, 25, 50, 75 and 100 % of range; the pressure channel within its
 *   MPE of the reference, the loop current within ±0.5 % of span (0.08 mA) of 4 + 16 × fraction mA;
 * - under-range: a process below the range saturates the loop at 3.8 mA, a value the receiver
 *   flags `uncertain` (out of range), not a failure;
 * - over-range: above the range the loop saturates at 20.5 mA, again `uncertain`;
 * - failure signal: a transmitter signalling a fault drives ≤ 3.6 mA (downscale) or ≥ 21 mA
 *   (upscale), which the receiver reports as `bad` quality; cleared, it measures again.
 *
 * The saturation currents are checked as 3.8 and 20.5 mA with the span points' allowance (0.08 mA,
 * 0.5 % of span: the receiver's ADS1115 and shunt are stated to ±0.07 mA at 20.5 mA), so a
 * transmitter that merely clamps at 4.00 or 20.00 mA fails, and the bounds stay clear of the failure
 * thresholds 3.6 and 21 mA. The failure signals are judged on the loop current itself: the receiver
 * rejects a failure current as a read failure, and its bad sample names the current it read
 * (`loop current 3.50 mA: …`), which the plan records against ≤ 3.6 mA (downscale, and above the
 * receiver's 1 mA open-loop threshold: a broken wire is not a downscale signal) or ≥ 21 mA
 * (upscale). An open loop, a read failure without a current, or the wrong direction fails.
 *
 * Then the loop as a measuring chain, with GUM uncertainty and ILAC-G8:09 guard-band decisions: the
 * loop current's linearity against the process pressure (best fit and terminal, within the span
 * points' allowance of 0.5 % of span) and hysteresis over three up/down cycles; the pressure
 * channel's repeatability (s of ten readings at 50 %); and its response to a step of 20 → 60 % of
 * range (t63, t90, overshoot, settling time). The transmitter's own lag (τ ≈ 2 s) is not in the
 * model, so these steps wait 30 s after each change instead of what the filters alone would need.
 *
 * The reference
 * is the process pressure the plan sets on the emulated target's physical input `pressure`; on a
 * real loop a pressure calibrator takes its place.
 *
 * Run it: `npx sensorkit hil run hil/plans/pressure-transmitter-loop.ts --target emulated --seed 1`.
 */
import { fileURLToPath } from 'node:url';
import { defineTestPlan } from '../plan/define-test-plan.js';
import type { StepContext, StepSpec } from '../plan/spec.js';
import { usable } from '../run/sample-feed.js';
import type { Sample } from '../../sdk/core/sample.js';

/** What the plan tests, in one line (`sensorkit hil list`). */
export const description = 'pressure-transmitter 4-20 mA loop: span points 0/25/50/75/100 %, NAMUR NE 43 under-/over-range and failure signalling; linearity, hysteresis, repeatability, step response';

/** The transmitter's range, Pa: 4 mA at 0, 20 mA at 1 MPa (10 bar). */
const RANGE_PA = 1_000_000;
/** Span points, % of range. */
export const SPAN_PERCENT = [0, 25, 50, 75, 100] as const;
/** Allowed loop-current error at a span point: ±0.5 % of the 16 mA span. */
const LOOP_TOLERANCE_MA = 0.08;
/** NE 43 saturation currents, mA: 3.8 below the range and 20.5 above it; the limits carry the allowance. */
const UNDER_RANGE_MA = 3.8;
const OVER_RANGE_MA = 20.5;
/** NE 43 failure signals, mA: downscale at or below 3.6, upscale at or above 21. */
const DOWNSCALE_MAX_MA = 3.6;
const UPSCALE_MIN_MA = 21;
/** Below this the receiver sees no transmitter current at all (a broken wire or no supply), mA. */
const OPEN_LOOP_MA = 1;

/** The loop settles in seconds (τ = 2 s lag, EMA filter): stable to ±1.5 kPa over 5 s. */
const settlePressure: StepSpec = { kind: 'settle', channel: 'pressure', tolerance: 1_500, unit: 'Pa', windowMs: 5_000, timeoutMs: 120_000 };

function spanPoint(percent: number): StepSpec[] {
  const milliamps = 4 + (16 * percent) / 100;
  return [
    { kind: 'stimulus', input: 'pressure', value: (RANGE_PA * percent) / 100, unit: 'Pa' },
    settlePressure,
    { kind: 'measure', id: `pressure@${percent}%`, channel: 'pressure', samples: 20, reference: { input: 'pressure' }, limits: { tolerance: 'mpe' } },
    {
      kind: 'measure',
      id: `loop-current@${percent}%`,
      channel: 'loop-current',
      samples: 5,
      reference: { value: milliamps, unit: 'mA' },
      limits: { tolerance: LOOP_TOLERANCE_MA, unit: 'mA', basis: `${milliamps} mA ± 0.5 % of span (${LOOP_TOLERANCE_MA} mA)` },
    },
  ];
}

/** Linearity and hysteresis of the loop: within the span points' allowance, 0.5 % of span. */
const loopAllowance = { tolerance: LOOP_TOLERANCE_MA, unit: 'mA', basis: `0.5 % of span (${LOOP_TOLERANCE_MA} mA)` } as const;

/** The receiver reports a stale repeat for 3 sample periods after a failed read: let them pass. */
const waitPastStale: StepSpec = { kind: 'wait', durationMs: 5_000 };

/** Saturation at `milliamps` within the span points' allowance. */
function saturation(milliamps: number, what: string): { low: number; high: number; unit: string; basis: string } {
  return {
    low: Number((milliamps - LOOP_TOLERANCE_MA).toFixed(2)),
    high: Number((milliamps + LOOP_TOLERANCE_MA).toFixed(2)),
    unit: 'mA',
    basis: `NAMUR NE 43 ${what}: saturated at ${milliamps} mA ± ${LOOP_TOLERANCE_MA} mA`,
  };
}

/**
 * The loop current a sample shows: the value of a usable sample, or the current the receiver read
 * when it rejected a failure current (its quality detail `loop current 3.50 mA: …`); undefined for a
 * stale repeat or a failed read that names no current.
 */
function loopCurrentOf(sample: Sample): number | undefined {
  const named = /^loop current (\d+(?:\.\d+)?) mA\b/.exec(sample.quality.detail ?? '');
  if (named !== null) return Number(named[1]);
  return usable(sample) && typeof sample.value === 'number' ? sample.value : undefined;
}

/** A NE 43 failure signal judged on the loop current itself: the mean of three samples against its threshold. */
function failureCurrent(direction: 'downscale' | 'upscale'): StepSpec {
  const limits =
    direction === 'downscale'
      ? { low: OPEN_LOOP_MA, high: DOWNSCALE_MAX_MA, unit: 'mA', basis: `NAMUR NE 43 downscale failure signal: at or below ${DOWNSCALE_MAX_MA} mA, above the open-loop ${OPEN_LOOP_MA} mA` }
      : { low: UPSCALE_MIN_MA, unit: 'mA', basis: `NAMUR NE 43 upscale failure signal: at or above ${UPSCALE_MIN_MA} mA` };
  const id = `loop-current@${direction}`;
  return {
    name: `${direction} current (${direction === 'downscale' ? `≤ ${DOWNSCALE_MAX_MA}` : `≥ ${UPSCALE_MIN_MA}`} mA)`,
    run: async (ctx: StepContext) => {
      const samples = await ctx.samples('loop-current', 3, 30_000);
      const currents = samples.map(loopCurrentOf);
      if (currents.some((current) => current === undefined)) {
        const unknown = samples[currents.indexOf(undefined)]!;
        ctx.record({ id, channel: 'loop-current', value: null, unit: 'mA', samples: samples.length, limits, outcome: 'fail', reason: `no loop current in a sample (${unknown.quality.level}${unknown.quality.detail === undefined ? '' : `: ${unknown.quality.detail}`})` });
        return;
      }
      const mean = (currents as number[]).reduce((sum, current) => sum + current, 0) / currents.length;
      ctx.record({ id, channel: 'loop-current', value: Number(mean.toFixed(3)), unit: 'mA', samples: samples.length, limits });
    },
  };
}

export default defineTestPlan({
  id: 'pressure-transmitter-loop',
  name: 'pressure-transmitter 4-20 mA loop and NAMUR NE 43 signalling',
  version: '2.1.0',
  description,
  device: fileURLToPath(new URL('../../examples/pressure-transmitter/', import.meta.url)),
  phases: [
    {
      id: 'span',
      name: 'Span points 0/25/50/75/100 %',
      steps: SPAN_PERCENT.flatMap(spanPoint),
    },
    {
      id: 'under-range',
      name: 'NAMUR NE 43 under-range',
      steps: [
        { kind: 'stimulus', input: 'pressure', value: -200_000, unit: 'Pa' },
        { kind: 'wait', durationMs: 20_000 },
        {
          kind: 'measure',
          id: 'loop-current@under-range',
          channel: 'loop-current',
          samples: 5,
          limits: saturation(UNDER_RANGE_MA, 'under-range'),
        },
        { kind: 'measure', id: 'pressure-quality@under-range', channel: 'pressure', samples: 10, expectQuality: 'uncertain' },
      ],
    },
    {
      id: 'over-range',
      name: 'NAMUR NE 43 over-range',
      steps: [
        { kind: 'stimulus', input: 'pressure', value: 1_200_000, unit: 'Pa' },
        { kind: 'wait', durationMs: 20_000 },
        {
          kind: 'measure',
          id: 'loop-current@over-range',
          channel: 'loop-current',
          samples: 5,
          limits: saturation(OVER_RANGE_MA, 'over-range'),
        },
        { kind: 'measure', id: 'pressure-quality@over-range', channel: 'pressure', samples: 10, expectQuality: 'uncertain' },
      ],
    },
    {
      id: 'failure-signal',
      name: 'NAMUR NE 43 failure signalling',
      setup: [{ kind: 'stimulus', input: 'pressure', value: 500_000, unit: 'Pa' }, settlePressure],
      steps: [
        { kind: 'fault', target: 'transmitter', fault: 'downscale' },
        waitPastStale,
        failureCurrent('downscale'),
        { kind: 'measure', id: 'loop-quality@downscale', channel: 'loop-current', samples: 3, expectQuality: 'bad', name: 'downscale reads bad' },
        { kind: 'measure', id: 'pressure@downscale', channel: 'pressure', samples: 10, expectQuality: 'bad' },
        { kind: 'fault', target: 'transmitter', fault: 'upscale' },
        waitPastStale,
        failureCurrent('upscale'),
        { kind: 'measure', id: 'loop-quality@upscale', channel: 'loop-current', samples: 3, expectQuality: 'bad', name: 'upscale reads bad' },
        { kind: 'measure', id: 'pressure@upscale', channel: 'pressure', samples: 10, expectQuality: 'bad' },
        { kind: 'fault', target: 'transmitter', fault: 'clear' },
        settlePressure,
        { kind: 'measure', id: 'pressure@recovered', channel: 'pressure', samples: 20, reference: { input: 'pressure' }, limits: { tolerance: 'mpe' } },
      ],
      teardown: [
        { kind: 'fault', target: 'transmitter', fault: 'clear' },
        { kind: 'stimulus', input: 'pressure', value: 400_000, unit: 'Pa' },
      ],
    },
    {
      id: 'linearity',
      name: 'Loop current linearity against the process pressure',
      steps: [
        { kind: 'linearity', channel: 'loop-current', input: 'pressure', unit: 'Pa', points: SPAN_PERCENT.map((percent) => (RANGE_PA * percent) / 100), readings: 5, settleMs: 30_000, limits: loopAllowance },
      ],
    },
    {
      id: 'hysteresis',
      name: 'Loop current hysteresis over 3 up/down cycles',
      steps: [
        { kind: 'hysteresis', channel: 'loop-current', input: 'pressure', unit: 'Pa', points: [250_000, 500_000, 750_000], cycles: 3, settleMs: 30_000, limits: loopAllowance },
      ],
    },
    {
      id: 'repeatability',
      name: 'Pressure repeatability at 50 % of range',
      steps: [{ kind: 'repeatability', channel: 'pressure', point: 500_000, readings: 10, settleMs: 30_000 }],
    },
    {
      id: 'response',
      name: 'Pressure step response 20 -> 60 % of range',
      // The transmitter's lag (τ ≈ 2 s) and the channel's EMA (α = 0.3 at 10 Hz): t90 of about 5 s.
      steps: [{ kind: 'step-response', channel: 'pressure', from: 200_000, to: 600_000, settleMs: 30_000, durationMs: 60_000, limits: { t63: 5, t90: 10, overshoot: 5, settlingTime: 20 } }],
      teardown: [{ kind: 'stimulus', input: 'pressure', value: 400_000, unit: 'Pa' }],
    },
  ],
  metadata: { procedure: '4-20 mA span points and NAMUR NE 43 signalling (under-range 3.8 mA, over-range 20.5 mA, each ± 0.08 mA; failure currents <= 3.6 / >= 21 mA)' },
});
