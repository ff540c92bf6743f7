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
import { createEmulatedTarget, parseInjection } from '../../hil/targets/emulated.js';
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
  it('shows every measurement of the env-node temperature plan with its error plot, hysteresis loop and step response', async () => {
    const record = await run('env-node-temperature.ts', 3);
    const html = renderReport(record);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    const measurements = record.phases.flatMap((p) => p.measurements);
    expect(measurements.length).toBe(14);
    for (const m of measurements) expect(html).toContain(`data-measurement="${m.id}"`);
    expect(html).toContain(`class="verdict ${record.outcome}"`);
    expect(html).toContain(record.device.serialNumber);
    // Error against the reference with ±U bars and the limits: the accuracy phase's five points.
    expect(count(html, /<figure class="plot error-plot">/)).toBe(1);
    expect(count(html, /class="marker"/)).toBe(5);
    expect(count(html, /class="error-bar"/)).toBe(5);
    // The hysteresis loop (up and down legs against the reference) and the linearity points.
    expect(html).toContain('Hysteresis over 3 up/down cycles: hysteresis loop (up and down legs, deviation from their straight line) against the reference');
    expect(html).toMatch(/<polyline class="line" data-series="up" data-points="3"/);
    expect(html).toMatch(/<polyline class="line" data-series="down" data-points="3"/);
    // The step response with t63 and t90 marked.
    expect(html).toContain('t63 and t90 marked');
    const t63 = measurements.find((m) => m.id === 'step-response-t63')!;
    expect(html).toContain(`data-marker="t63 = ${Number(t63.value!.toPrecision(3))} s"`);
    expect(html).toMatch(/data-marker="t90 = [\d.]+ s"/);
  });

  it('carries the ISO/IEC 17025 §7.8.2 items in record.json and report.html', async () => {
    const record = await run('env-node-temperature.ts', 1);
    expect(record.report).toEqual({
      title: 'Test report: env-node temperature accuracy',
      laboratory: 'not stated',
      id: `env-node-temperature/EMU-1/2026-01-01T00:00:00.000Z/seed-1`,
      customer: 'not stated',
      method: expect.stringMatching(/^env-node temperature accuracy, plan env-node-temperature 2\.0\.0: accuracy, linearity/),
      item: { description: 'sensorkit examples EN-1 environmental node (env-node)', serialNumber: 'EMU-1' },
      performed: { start: '2026-01-01T00:00:00.000Z', end: new Date(Date.parse('2026-01-01T00:00:00.000Z') + record.clock.duration).toISOString() },
      // Simple acceptance too when a result has no U (an overshoot that never passes the final level).
      decisionRules: expect.arrayContaining(['ILAC-G8:09 guard band w = U']),
      statement: expect.stringMatching(/^The item conforms to the specified limits under ILAC-G8:09 guard band w = U(; ILAC-G8:09 simple acceptance)?\.$/),
      authorisedBy: 'report test',
    });
    const html = renderReport(record);
    expect(html).toContain('Report (ISO/IEC 17025 §7.8.2)');
    expect(html).toContain('<strong>Statement of conformity:</strong> The item conforms to the specified limits under ILAC-G8:09 guard band w = U');
    expect(html).toContain('Decision rule (ISO/IEC 17025 §7.8.6)');
  });

  it('states non-conformity with the failed results when an offset over the MPE is injected', async () => {
    const loaded = await loadTestPlan(fileURLToPath(new URL('../../hil/plans/env-node-temperature.ts', import.meta.url)));
    const target = createEmulatedTarget({ device: loaded.plan.device, seed: 2, inject: parseInjection('temperature:offset=3') });
    const record = await runTestPlan(loaded.plan, { target, seed: 2, context: { customer: 'ACME', laboratory: 'Lab 1', authorisedBy: 'B. Boss' } });
    expect(record.outcome).toBe('fail');
    expect(record.injected).toEqual([{ channel: 'temperature', kind: 'offset', value: 3 }]);
    expect(record.report).toMatchObject({ customer: 'ACME', laboratory: 'Lab 1', authorisedBy: 'B. Boss' });
    expect(record.report!.statement).toMatch(
      /^The item does not conform to the specified limits under ILAC-G8:09 guard band w = U(; ILAC-G8:09 simple acceptance)?: accuracy@-30Cel, accuracy@0Cel, accuracy@25Cel, accuracy@50Cel, accuracy@80Cel\.$/,
    );
    expect(renderReport(record)).toContain('Declared truths (injected)');
  });

  it('gives the 4–20 mA loop plan an error plot per unit (Pa and mA)', async () => {
    const record = await run('pressure-transmitter-loop.ts', 5);
    const html = renderReport(record);
    for (const m of record.phases.flatMap((p) => p.measurements)) expect(html).toContain(`data-measurement="${m.id}"`);
    expect(html).toContain('Error (Pa)');
    expect(html).toContain('Error (mA)');
  });
});
