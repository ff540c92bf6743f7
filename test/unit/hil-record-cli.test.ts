/**
 * The pieces of `sensorkit hil run` below the process: the progress display on a terminal and in a
 * log, station files, the summary and the exit code.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { RECORD_FORMAT, type MeasurementRecord, type PhaseRecord, type RunRecord } from '../../hil/record/record.js';
import { RunProgress, clockTime, measurementLine } from '../../sdk/cli/hil/progress.js';
import { exitCodeOf, outcomePasses, runPasses, summaryText, writeRunResults, type RunSummary } from '../../sdk/cli/hil/results.js';
import { checkStation } from '../../sdk/cli/hil/station.js';
import { instrumentSpecs } from '../../sdk/cli/hil/harness.js';

class Output {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const passing: MeasurementRecord = { id: 'temperature@25Cel', channel: 'temperature', value: 25.03, unit: 'Cel', limits: { low: 24, high: 26, unit: 'Cel' }, outcome: 'pass', time: 92_100 };
const failing: MeasurementRecord = { ...passing, id: 'temperature@80Cel', value: 81.4, limits: { low: 79, high: 81, unit: 'Cel' }, outcome: 'fail', reason: '81.4 Cel above high limit 81 Cel' };
const phase: PhaseRecord = { id: 'accuracy', name: 'Accuracy', iteration: 1, outcome: 'fail', start: 0, duration: 167_100, measurements: [passing, failing], log: [] };

function feed(progress: RunProgress, name: string): void {
  progress.event(name, { kind: 'run-start', plan: 'env-node-temperature', target: 'emulated', phases: 1, time: 0, wallTime: 0 });
  progress.event(name, { kind: 'phase-start', phase: 'accuracy', iteration: 1, index: 0, count: 1, time: 0, wallTime: 1 });
  progress.event(name, { kind: 'step', phase: 'accuracy', step: 'settle temperature', time: 11_100, wallTime: 20 });
  progress.event(name, { kind: 'measurement', phase: 'accuracy', measurement: passing, time: 92_100, wallTime: 60 });
  progress.event(name, { kind: 'measurement', phase: 'accuracy', measurement: failing, time: 162_100, wallTime: 90 });
  progress.event(name, { kind: 'phase-end', phase, time: 167_100, wallTime: 100 });
  progress.event(name, { kind: 'run-end', outcome: 'fail', time: 167_100, wallTime: 101 });
}

describe('progress', () => {
  it('formats virtual time as h:mm:ss.s and a measurement in one line', () => {
    expect(clockTime(0)).toBe('0:00:00.0');
    expect(clockTime(9_000_500)).toBe('2:30:00.5');
    expect(clockTime(59_960)).toBe('0:01:00.0');
    expect(measurementLine(passing)).toBe('PASS  temperature@25Cel  25.03 Cel  limits [24, 26] Cel');
    expect(measurementLine({ ...passing, value: 20.490300000000005, unit: 'mA', limits: { low: 20, high: 20.52, unit: 'mA' } })).toBe('PASS  temperature@25Cel  20.4903 mA  limits [20, 20.52] mA');
    expect(measurementLine(failing)).toBe('FAIL  temperature@80Cel  81.4 Cel  limits [79, 81] Cel  (81.4 Cel above high limit 81 Cel)');
  });

  it('writes plain lines (phase, step, measurement, times) when not on a terminal', () => {
    const out = new Output(false);
    const progress = new RunProgress(out, ['emulated']);
    feed(progress, 'emulated');
    progress.done();
    expect(out.text).toBe(
      [
        'run env-node-temperature on emulated: 1 phase',
        'phase [1/1] accuracy  virtual 0:00:00.0  wall 0.0 s',
        '  step settle temperature  virtual 0:00:11.1  wall 0.0 s',
        '  PASS  temperature@25Cel  25.03 Cel  limits [24, 26] Cel',
        '  FAIL  temperature@80Cel  81.4 Cel  limits [79, 81] Cel  (81.4 Cel above high limit 81 Cel)',
        'phase accuracy: fail  virtual 0:02:47.1  wall 0.1 s',
        '',
      ].join('\n'),
    );
    expect(out.text).not.toContain('\x1b');
  });

  it('redraws one status line per device on a terminal, at most every 50 ms, and clears them at the end', () => {
    const out = new Output(true);
    let now = 0;
    const progress = new RunProgress(out, ['fixture-1', 'fixture-2'], () => now);
    const UP = '\x1b[2A\x1b[J';
    progress.event('fixture-1', { kind: 'run-start', plan: 'env-node-temperature', target: 'emulated', phases: 1, time: 0, wallTime: 0 });
    now = 10; // too soon: not redrawn
    progress.event('fixture-1', { kind: 'step', phase: 'accuracy', step: 'settle temperature', time: 11_100, wallTime: 10 });
    now = 100;
    progress.event('fixture-2', { kind: 'phase-start', phase: 'accuracy', iteration: 2, index: 0, count: 3, time: 5000, wallTime: 100 });
    progress.event('fixture-2', { kind: 'measurement', phase: 'accuracy', measurement: failing, time: 6000, wallTime: 100 });
    progress.done();
    expect(out.text).toBe(
      [
        'fixture-1: run env-node-temperature on emulated: 1 phase\n',
        'fixture-1  starting  virtual 0:00:00.0  wall 0.0 s\n',
        'fixture-2  starting  virtual 0:00:00.0  wall 0.0 s\n',
        UP,
        'fixture-1  starting  virtual 0:00:11.1  wall 0.0 s  › settle temperature\n',
        'fixture-2  [1/3] accuracy #2  virtual 0:00:05.0  wall 0.1 s\n',
        UP,
        'fixture-2:   FAIL  temperature@80Cel  81.4 Cel  limits [79, 81] Cel  (81.4 Cel above high limit 81 Cel)\n',
        'fixture-1  starting  virtual 0:00:11.1  wall 0.0 s  › settle temperature\n',
        'fixture-2  [1/3] accuracy #2  virtual 0:00:06.0  wall 0.1 s\n',
        UP,
      ].join(''),
    );
  });
});

describe('station files', () => {
  it('reads targets with names, seeds and instruments', () => {
    const station = checkStation({ name: 'line-3', targets: [{ name: 'fixture-1', target: 'emulated', seed: 2, instruments: { dmm: 'sim:dmm' } }, { name: 'fixture-2', target: 'linux' }] });
    expect(station).toEqual({ name: 'line-3', targets: [{ name: 'fixture-1', target: 'emulated', seed: 2, instruments: { dmm: 'sim:dmm' } }, { name: 'fixture-2', target: 'linux', instruments: {} }] });
  });

  it('refuses a bad field with its path', () => {
    const refuse = (value: unknown): string => {
      try {
        checkStation(value);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse([])).toBe('expected a JSON object with "targets"');
    expect(refuse({ targets: [] })).toBe('targets: expected a non-empty array of targets');
    expect(refuse({ targets: [{ name: '../x', target: 'emulated' }] })).toMatch(/^targets\[0\]\.name: expected a folder name/);
    expect(refuse({ targets: [{ name: 'a', target: 'emulated' }, { name: 'a', target: 'linux' }] })).toBe('targets[1].name: "a" names two targets');
    expect(refuse({ targets: [{ name: 'a', target: 'emulated', seed: -1 }] })).toBe('targets[0].seed: expected a non-negative integer');
    expect(refuse({ targets: [{ name: 'a', target: 'emulated', instruments: { dmm: 3 } }] })).toMatch(/^targets\[0\]\.instruments\.dmm: expected an instrument spec/);
    expect(refuse({ targets: [{ name: 'a', target: 'emulated', port: 3 }] })).toMatch(/^targets\[0\]\.port: unknown member/);
  });

  it('parses --instrument ROLE=SPEC and refuses a role twice', () => {
    expect(instrumentSpecs(['dmm=scpi-tcp:127.0.0.1:5025', 'reference=sim:calibrator'])).toEqual({ dmm: 'scpi-tcp:127.0.0.1:5025', reference: 'sim:calibrator' });
    expect(() => instrumentSpecs(['dmm'])).toThrow(/expected ROLE=SPEC/);
    expect(() => instrumentSpecs(['dmm=sim:dmm', 'dmm=sim:dmm'])).toThrow(/role "dmm" given twice/);
  });
});

describe('summary and exit code', () => {
  const plan = { id: 'env-node-temperature', name: 'Temperature', version: '1.0.0' };
  const run = (name: string, outcome: RunSummary['runs'][number]['outcome'], extra: object = {}): RunSummary['runs'][number] => ({
    name,
    target: 'emulated',
    seed: 1,
    outcome,
    ...(outcome === 'error' ? { reason: 'target serial:/dev/x: /dev/x does not exist' } : { dir: name, device: { id: 'env-node', model: 'EN-1', serialNumber: 'EMU-1' }, measurements: { pass: 4, fail: outcome === 'fail' ? 1 : 0 }, duration: 167_100, wallDuration: 250 }),
    ...extra,
  });

  it('counts a conditional pass, a recorded value and a skip as passed; fail, conditional fail and abort not', () => {
    expect(['pass', 'conditional-pass', 'recorded', 'skipped'].every((o) => outcomePasses(o as never))).toBe(true);
    expect(['fail', 'conditional-fail', 'aborted'].some((o) => outcomePasses(o as never))).toBe(false);
  });

  it('exits 0 when all passed, 1 when one failed, 2 when one could not be set up', () => {
    expect(exitCodeOf({ format: 'sensorkit-hil-summary/1', plan, outcome: 'pass', runs: [run('a', 'pass')] })).toBe(0);
    expect(exitCodeOf({ format: 'sensorkit-hil-summary/1', plan, outcome: 'fail', runs: [run('a', 'fail')] })).toBe(1);
    expect(exitCodeOf({ format: 'sensorkit-hil-summary/1', plan, outcome: 'error', runs: [run('a', 'fail'), run('b', 'error')] })).toBe(2);
  });

  it('prints a table for several devices', () => {
    const text = summaryText({ format: 'sensorkit-hil-summary/1', plan, outcome: 'error', runs: [run('fixture-1', 'pass'), run('fixture-2', 'fail'), run('fixture-3', 'error')] }, 'out');
    expect(text.split('\n')).toEqual([
      'RESULT  TARGET     DEVICE      MEASUREMENTS                                 TIME                           OUTPUT',
      'PASS    fixture-1  EN-1 EMU-1  4 passed, 0 failed                           virtual 0:02:47.1, wall 0.3 s  out/fixture-1',
      'FAIL    fixture-2  EN-1 EMU-1  4 passed, 1 failed                           virtual 0:02:47.1, wall 0.3 s  out/fixture-2',
      'ERROR   fixture-3  —           target serial:/dev/x: /dev/x does not exist',
      'ERROR: 1 of 3 devices passed env-node-temperature 1.0.0; summary in out/summary.json',
      '',
    ]);
  });

  it("counts conditional outcomes as the plan's recorded conditionalOutcomes say: summary, table, junit.xml and exit code", async () => {
    expect(outcomePasses('conditional-pass', { pass: 'fail' })).toBe(false);
    expect(outcomePasses('conditional-fail', { fail: 'pass' })).toBe(true);
    const conditional: MeasurementRecord = { ...passing, id: 'temperature@40Cel', value: 40.9, limits: { low: 39, high: 41, unit: 'Cel' }, outcome: 'conditional-pass', reason: 'inside the limits by less than U' };
    const record = (conditionalOutcomes?: RunRecord['conditionalOutcomes']): RunRecord => ({
      format: RECORD_FORMAT,
      plan: { id: 'strict', name: 'Strict', version: '1.0.0', digest: 'sha-256:00' },
      target: { kind: 'emulated', description: 'emulated', observation: 'in-process', virtualTime: true },
      device: { id: 'env-node', manufacturer: 'M', model: 'EN-1', serialNumber: 'EMU-1' },
      sensorkit: { version: '0.1.0' },
      instruments: [],
      seed: 1,
      clock: { kind: 'virtual', start: '2024-01-01T00:00:00.000Z', duration: 1000 },
      context: {},
      startedAt: '2026-01-01T10:00:00.000Z',
      finishedAt: '2026-01-01T10:00:01.000Z',
      wallDuration: 1000,
      outcome: 'conditional-pass',
      phases: [{ ...phase, outcome: 'conditional-pass', measurements: [passing, conditional] }],
      ...(conditionalOutcomes === undefined ? {} : { conditionalOutcomes }),
    });
    const dir = await mkdtemp(join(tmpdir(), 'hil-results-'));
    try {
      const results = (r: RunRecord) => [{ run: { name: 'emulated', spec: 'emulated', seed: 1, instruments: {} }, record: r }];
      const lenient = await writeRunResults(join(dir, 'lenient'), plan, results(record()), { single: true });
      expect(exitCodeOf(lenient)).toBe(0);
      expect(summaryText(lenient, 'out')).toMatch(/^PASS env-node-temperature 1\.0\.0 on emulated, EN-1 EMU-1: 2 passed, 0 failed;/);

      const strict = await writeRunResults(join(dir, 'strict'), plan, results(record({ pass: 'fail', fail: 'fail' })), { single: true });
      expect(strict.outcome).toBe('fail');
      expect(exitCodeOf(strict)).toBe(1);
      expect(runPasses(strict.runs[0]!)).toBe(false);
      expect(summaryText(strict, 'out')).toMatch(/^FAIL env-node-temperature 1\.0\.0 on emulated, EN-1 EMU-1: 1 passed, 1 failed;/);
      expect(await readFile(join(dir, 'strict', 'junit.xml'), 'utf8')).toMatch(/name="temperature@40Cel" time="0\.000">\n {6}<failure/);
      expect(await readFile(join(dir, 'lenient', 'junit.xml'), 'utf8')).not.toMatch(/<failure/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
