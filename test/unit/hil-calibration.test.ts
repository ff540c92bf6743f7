/**
 * Calibration runs: the fitted correction recovers a declared gain and offset within its stated U,
 * the signed record is refused when changed, signed by another key, or for another serial, and a
 * device loaded with it reads the truth within U.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  calibrateChannel,
  calibrationRecordText,
  calibrationsFromRecords,
  checkCalibrationRecord,
  signCalibrationRecord,
  verifyCalibrationRecord,
} from '../../hil/calibration/index.js';
import { defineTestPlan } from '../../hil/plan/index.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget, parseInjection } from '../../hil/targets/emulated.js';

const POINTS = [-30, 0, 25, 50, 80];
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ed25519');

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function linearCalibration(seed = 1) {
  return calibrateChannel({
    device: 'examples/env-node',
    seed,
    channel: 'temperature',
    points: POINTS,
    method: 'linear',
    inject: parseInjection('temperature:gain=1.01,offset=0.5,noise=0.05'),
    standard: { certificate: { expanded: 0.05, coverageFactor: 2 }, description: 'reference thermometer' },
    performedBy: 'A. Tester',
  });
}

describe('calibrateChannel', () => {
  it('fits a linear correction with its uncertainty and writes the record fields', async () => {
    const { run, calibration } = await linearCalibration();
    expect(run.injected).toHaveLength(3);
    expect(calibration).toMatchObject({
      format: 'sensorkit-calibration/1',
      id: expect.stringMatching(/^CAL-EMU-1-temperature-2026-01-01$/),
      device: { id: 'env-node', serialNumber: 'EMU-1' },
      channel: 'temperature',
      unit: 'Cel',
      correction: { method: 'linear' },
      date: '2026-01-01',
      validUntil: '2027-01-01',
      performedBy: 'A. Tester',
      standards: [{ description: 'reference thermometer', certificate: { expanded: 0.05, coverageFactor: 2 }, traceability: expect.stringMatching(/^none/) }],
    });
    expect(calibration.points).toHaveLength(5);
    expect(calibration.covariance).toHaveLength(2);
    expect(calibration.uncertainty.expanded).toBeGreaterThan(0);
    // The correction inverts reading = 1.01·x + 0.5 + part error (±0.4 Cel, a constant): gain 1/1.01.
    const correction = calibration.correction as { gain: number; offset: number };
    expect(correction.gain).toBeCloseTo(1 / 1.01, 3);
    expect(Math.abs(correction.offset + 0.5 / 1.01)).toBeLessThan(0.45);
  });

  it('a device loaded with the record reads the truth within the calibration U (the part error corrected too)', async () => {
    const { calibration } = await linearCalibration();
    dir = await mkdtemp(join(tmpdir(), 'hil-calibration-'));
    await writeFile(join(dir, `${calibration.id}.json`), calibrationRecordText(signCalibrationRecord(calibration, privateKey)));
    const calibrations = await calibrationsFromRecords(dir, { key: publicKey, serialNumber: 'EMU-1' });
    expect(calibrations.temperature).toMatchObject({ method: 'linear', id: calibration.id, validUntil: '2027-01-01', uncertainty: { expanded: calibration.uncertainty.expanded } });
    // The same unit (seed 1: the same part) with the same declared errors, now corrected.
    const plan = defineTestPlan({ id: 'after', name: 'after', version: '1', device: 'examples/env-node', phases: [{ id: 'accuracy', steps: [{ kind: 'accuracy', channel: 'temperature', points: [-10, 10, 40, 60, 70], readings: 5 }] }] });
    const target = createEmulatedTarget({ device: 'examples/env-node', seed: 1, inject: parseInjection('temperature:gain=1.01,offset=0.5,noise=0.05'), calibrations });
    const record = await runTestPlan(plan, { target, seed: 1 });
    const within = record.phases[0]!.measurements.filter((m) => Math.abs(m.value! - m.reference!.value) <= calibration.uncertainty.expanded);
    expect(within.length).toBeGreaterThanOrEqual(4);
    for (const m of record.phases[0]!.measurements) expect(Math.abs(m.value! - m.reference!.value)).toBeLessThan(2 * calibration.uncertainty.expanded);
  });
});

describe('signed calibration records', () => {
  it('are refused when changed, signed by an untrusted key, unsigned, or for another serial, with one line', async () => {
    const { calibration } = await linearCalibration();
    const text = calibrationRecordText(signCalibrationRecord(calibration, privateKey));
    expect(checkCalibrationRecord(text, { key: publicKey, serialNumber: 'EMU-1' })).toMatchObject({ ok: true });
    const changed = text.replace('"validUntil": "2027-01-01"', '"validUntil": "2099-01-01"');
    expect(changed).not.toBe(text);
    expect(checkCalibrationRecord(changed, { key: publicKey, serialNumber: 'EMU-1' })).toEqual({ ok: false, reason: 'changed', message: `calibration ${calibration.id}: the signature does not match the content (changed since it was signed)` });
    expect(checkCalibrationRecord(text, { key: other.publicKey, serialNumber: 'EMU-1' })).toMatchObject({ ok: false, reason: 'wrong-key', message: expect.stringMatching(/is signed by key sha-256:[0-9a-f]{16}, not by a key trusted for calibrations/) });
    expect(checkCalibrationRecord(calibrationRecordText(calibration), { key: publicKey, serialNumber: 'EMU-1' })).toMatchObject({ ok: false, reason: 'not-signed' });
    expect(checkCalibrationRecord('{"format":"sensorkit-hil-record/1"}', { key: publicKey, serialNumber: 'EMU-1' })).toMatchObject({ ok: false, reason: 'not-a-calibration' });

    dir = await mkdtemp(join(tmpdir(), 'hil-calibration-'));
    const file = join(dir, 'cal.json');
    await writeFile(file, text);
    await expect(verifyCalibrationRecord(file, { key: publicKey, serialNumber: 'EMU-2' })).rejects.toThrow(`${file}: calibration ${calibration.id} is for serial EMU-1, not EMU-2`);
    await expect(calibrationsFromRecords(join(dir, 'missing.json'), { key: publicKey, serialNumber: 'EMU-1' })).rejects.toThrow(/missing\.json: no such calibration record file or folder/);
  });
});
