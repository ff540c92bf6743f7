/**
 * Temperature accuracy of env-node: the temperature channel against the reference at five points
 * of its span (−40 … 85 °C), with the channel's maximum permissible error (the model's
 * `accuracy.mpe`) as the limit, after the reading has settled at each point.
 *
 * The reference is the true air temperature the plan sets on the emulated target's physical input
 * `temperature`; a climatic chamber with a reference thermometer takes its place on a real board.
 *
 * Run it: `npx sensorkit hil run hil/plans/env-node-temperature.ts --target emulated --seed 1`.
 */
import { fileURLToPath } from 'node:url';
import { defineTestPlan } from '../plan/define-test-plan.js';
import type { StepSpec } from '../plan/spec.js';

/** What the plan tests, in one line (`sensorkit hil list`). */
export const description = 'env-node temperature accuracy at 5 points of span (-30, 0, 25, 50, 80 Cel) against the reference, MPE as the limit';

/** The points of span, °C: near both ends of −40 … 85 °C, the middle, and two between. */
export const POINTS_CEL = [-30, 0, 25, 50, 80] as const;

function point(cel: number): StepSpec[] {
  return [
    { kind: 'stimulus', input: 'temperature', value: cel, unit: 'Cel' },
    // The channel averages 4 readings at 1 Hz: stable to ±0.05 °C over 10 s once they agree. The
    // settling is recorded (time and samples) as the step response to the new point.
    { kind: 'settle', id: `settling@${cel}Cel`, channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 300_000 },
    {
      kind: 'measure',
      id: `temperature@${cel}Cel`,
      channel: 'temperature',
      samples: 5,
      reference: { input: 'temperature' },
      limits: { tolerance: 'mpe' },
    },
  ];
}

export default defineTestPlan({
  id: 'env-node-temperature',
  name: 'env-node temperature accuracy',
  version: '1.0.0',
  description,
  // The example device, next to this folder in the sources and in the built package alike.
  device: fileURLToPath(new URL('../../examples/env-node/', import.meta.url)),
  phases: [
    {
      id: 'accuracy',
      name: 'Accuracy at 5 points of span',
      steps: POINTS_CEL.flatMap(point),
      // Back to the room's own temperature, whatever happened.
      teardown: [{ kind: 'stimulus', input: 'temperature', value: 22.5, unit: 'Cel' }],
    },
  ],
  metadata: { procedure: 'accuracy against the reference at 5 points of span; limit: the channel MPE' },
});
