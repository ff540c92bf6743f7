import { describe, expect, it } from 'vitest';
import { loadTestPlan } from '../../hil/plan/index.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';

describe('env-node temperature plan', () => {
  it('passes on the emulated target', async () => {
    const { plan, path, bytes } = await loadTestPlan('hil/plans/env-node-temperature.ts');
    const target = createEmulatedTarget({ device: plan.device, seed: 1 });
    const t0 = performance.now();
    const record = await runTestPlan(plan, { target, seed: 1, planFile: { path, bytes } });
    console.log(performance.now() - t0, JSON.stringify(record, (k, v) => (k === 'series' ? undefined : v), 1).slice(0, 4000));
    expect(record.outcome).toBe('pass');
  });
});
