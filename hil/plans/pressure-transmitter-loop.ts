/**
 * The 4–20 mA loop of pressure-transmitter (0 … 10 bar over 4 … 20 mA, NAMUR NE 43 signalling):
 *
 * - span: the process pressure at 0, 25, 50, 75 and 100 % of range; the pressure channel within its
 *   MPE of the reference, the loop current within ±0.5 % of span (0.08 mA) of 4 + 16 × fraction mA;
 * - under-range: a process below the range holds the loop at or above 3.8 mA, a value the receiver
 *   flags `uncertain` (out of range), not a failure;
 * - over-range: above the range the loop stays at or below 20.5 mA, again `uncertain`;
 * - failure signal: a transmitter signalling a fault drives ≤ 3.6 mA (downscale) or ≥ 21 mA
 *   (upscale), which the receiver reports as `bad` quality; cleared, it measures again.
 *
 * The NE 43 bounds carry the same allowance as the span points (0.08 mA, 0.5 % of span: the
 * receiver's ADS1115 and shunt are stated to ±0.07 mA at 20.5 mA), and stay clear of the failure
 * thresholds 3.6 and 21 mA.
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
import type { StepSpec } from '../plan/spec.js';

/** What the plan tests, in one line (`sensorkit hil list`). */
export const description = 'pressure-transmitter 4-20 mA loop: span points 0/25/50/75/100 %, NAMUR NE 43 under-/over-range and failure signalling; linearity, hysteresis, repeatability, step response';

/** The transmitter's range, Pa: 4 mA at 0, 20 mA at 1 MPa (10 bar). */
const RANGE_PA = 1_000_000;
/** Span points, % of range. */
export const SPAN_PERCENT = [0, 25, 50, 75, 100] as const;
/** Allowed loop-current error at a span point: ±0.5 % of the 16 mA span. */
const LOOP_TOLERANCE_MA = 0.08;
/** NE 43 measuring band, mA: held at 3.8 below the range and 20.5 above it; the limits carry the allowance. */
const UNDER_RANGE_LOW_MA = 3.72; // 3.8 − 0.08
const OVER_RANGE_HIGH_MA = 20.58; // 20.5 + 0.08

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

export default defineTestPlan({
  id: 'pressure-transmitter-loop',
  name: 'pressure-transmitter 4-20 mA loop and NAMUR NE 43 signalling',
  version: '2.0.0',
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
          limits: { low: UNDER_RANGE_LOW_MA, high: 4, unit: 'mA', basis: `NAMUR NE 43 under-range: at or above 3.8 mA (less ${LOOP_TOLERANCE_MA} mA), below 4 mA` },
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
          limits: { low: 20, high: OVER_RANGE_HIGH_MA, unit: 'mA', basis: `NAMUR NE 43 over-range: above 20 mA, at or below 20.5 mA (plus ${LOOP_TOLERANCE_MA} mA)` },
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
        { kind: 'measure', id: 'loop-current@downscale', channel: 'loop-current', samples: 3, expectQuality: 'bad', name: 'downscale (≤ 3.6 mA) reads bad' },
        { kind: 'measure', id: 'pressure@downscale', channel: 'pressure', samples: 10, expectQuality: 'bad' },
        { kind: 'fault', target: 'transmitter', fault: 'upscale' },
        waitPastStale,
        { kind: 'measure', id: 'loop-current@upscale', channel: 'loop-current', samples: 3, expectQuality: 'bad', name: 'upscale (≥ 21 mA) reads bad' },
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
  metadata: { procedure: '4-20 mA span points and NAMUR NE 43 signalling (under-range >= 3.8 mA, over-range <= 20.5 mA, failure <= 3.6 / >= 21 mA)' },
});
