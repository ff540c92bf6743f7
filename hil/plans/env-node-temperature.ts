/**
 * Temperature of env-node, certified against the reference with GUM uncertainty and ILAC-G8:09
 * decisions (guard band w = U):
 *
 * - accuracy: the error at five points of the span (−40 … 85 °C), five readings each, within the
 *   channel's maximum permissible error (the model's `accuracy.mpe`, ±1 °C);
 * - linearity: independent (best-fit) and terminal-based, within the MPE as % of the range;
 * - hysteresis: three up/down cycles through 0, 25 and 50 °C, within the MPE as % of the range;
 * - repeatability: s of ten readings at 25 °C, at most a third of the MPE;
 * - response: a step of 20 → 30 °C, t63, t90, overshoot and settling time against stated limits.
 *
 * Waits and reading intervals come from the channel (1 Hz, moving average of 4, the BME280's IIR
 * filter of 4): readings nine seconds apart, 90 s after each change. The reference is the true air
 * temperature the plan sets on the emulated target's physical input `temperature`; a climatic
 * chamber with a reference thermometer takes its place on a real board (give its certificate as
 * the steps' `standard`).
 *
 * Run it: `npx sensorkit hil run hil/plans/env-node-temperature.ts --target emulated --seed 1`.
 */
import { fileURLToPath } from 'node:url';
import { defineTestPlan } from '../plan/define-test-plan.js';

/** What the plan tests, in one line (`sensorkit hil list`). */
export const description = 'env-node temperature accuracy at 5 points of span (-30, 0, 25, 50, 80 Cel) against the reference, MPE as the limit; linearity, hysteresis, repeatability, step response; U and ILAC-G8 decisions';

/** The points of span, °C: near both ends of −40 … 85 °C, the middle, and two between. */
export const POINTS_CEL = [-30, 0, 25, 50, 80] as const;

export default defineTestPlan({
  id: 'env-node-temperature',
  name: 'env-node temperature accuracy',
  version: '2.0.0',
  description,
  // The example device, next to this folder in the sources and in the built package alike.
  device: fileURLToPath(new URL('../../examples/env-node/', import.meta.url)),
  phases: [
    {
      id: 'accuracy',
      name: 'Accuracy at 5 points of span',
      steps: [{ kind: 'accuracy', channel: 'temperature', points: [...POINTS_CEL], readings: 5, limits: { tolerance: 'mpe' } }],
    },
    {
      id: 'linearity',
      name: 'Linearity (best fit and terminal)',
      steps: [{ kind: 'linearity', channel: 'temperature', points: [...POINTS_CEL], readings: 3, limits: { tolerance: 'mpe' } }],
    },
    {
      id: 'hysteresis',
      name: 'Hysteresis over 3 up/down cycles',
      steps: [{ kind: 'hysteresis', channel: 'temperature', points: [0, 25, 50], cycles: 3, limits: { tolerance: 'mpe' } }],
    },
    {
      id: 'repeatability',
      name: 'Repeatability at 25 Cel',
      steps: [{ kind: 'repeatability', channel: 'temperature', point: 25, readings: 10 }],
    },
    {
      id: 'response',
      name: 'Step response 20 -> 30 Cel',
      // The channel's filters (moving average of 4 at 1 Hz, IIR of 4) answer in about 10 s (t90).
      steps: [{ kind: 'step-response', channel: 'temperature', from: 20, to: 30, durationMs: 90_000, limits: { t63: 20, t90: 40, overshoot: 5, settlingTime: 60 } }],
      // Back to the room's own temperature, whatever happened.
      teardown: [{ kind: 'stimulus', input: 'temperature', value: 22.5, unit: 'Cel' }],
    },
  ],
  metadata: {
    procedure: 'accuracy, linearity, hysteresis, repeatability and step response against the reference; limits from the channel MPE',
    decisionRule: 'ILAC-G8:09 guard band w = U',
  },
});
