/**
 * The report of records the runner really writes: the shipped env-node temperature and
 * pressure-transmitter loop plans run on the emulated target, and their reports hold every
 * measurement, an error plot per unit of each accuracy-type phase, the series the runner recorded,
 * and nothing executable or external.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTestPlan } from '../../hil/plan/index.js';
import { renderReport } from '../../hil/report/index.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';
import type { RunRecord } from '../../hil/record/record.js';

async function run(planFile: string, seed: number): Promise<RunRecord> {
  const loaded = await loadTestPlan(fileURLToPath(new URL(`../../hil/plans/${planFile}`, import.meta.url)));
  const target = createEmulatedTarget({ device: loaded.plan.device, seed });
  return runTestPlan(loaded.plan, { target, seed, planFile: { path: loaded.path, bytes: loaded.bytes }, context: { operator: 'report test' } });
}

function count(html: string, pattern: RegExp): number {
  return [...html.matchAll(new RegExp(pattern.source, 'g'))].length;
}

describe('report of a real run', () => {
  it('shows every measurement of the env-node temperature plan with its error plot and series', async () => {
    const record = await run('env-node-temperature.ts', 3);
    const html = renderReport(record);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    const measurements = record.phases.flatMap((p) => p.measurements);
    expect(measurements.length).toBeGreaterThanOrEqual(5);
    for (const m of measurements) expect(html).toContain(`data-measurement="${m.id}"`);
    expect(html).toContain(`class="verdict ${record.outcome}"`);
    expect(html).toContain(record.device.serialNumber);
    expect(count(html, /<figure class="plot error-plot">/)).toBe(1);
    expect(count(html, /class="marker"/)).toBe(measurements.filter((m) => m.reference !== undefined && m.limits !== undefined).length);
    const pieces = measurements.flatMap((m) => m.series ?? []).filter((s) => s.time.length > 0).length;
    expect(count(html, /<polyline class="line"/)).toBe(pieces);
  });

  it('gives the 4–20 mA loop plan an error plot per unit (Pa and mA)', async () => {
    const record = await run('pressure-transmitter-loop.ts', 5);
    const html = renderReport(record);
    for (const m of record.phases.flatMap((p) => p.measurements)) expect(html).toContain(`data-measurement="${m.id}"`);
    expect(html).toContain('Error (Pa)');
    expect(html).toContain('Error (mA)');
  });
});
