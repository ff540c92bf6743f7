/**
 * `defineTestPlan()` and `loadTestPlan()`: a plan is refused, with one line naming the field (and
 * the file), before anything runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkPlan, defineTestPlan, loadTestPlan, PlanFileError, TestPlan, type TestPlanSpec } from '../../hil/plan/index.js';
import { DeviceFileError, ValidationError } from '../../sdk/core/errors.js';
import envNode from '../../examples/env-node/device.js';

const ENV_NODE = resolve('examples/env-node');

/** A valid plan for env-node; tests break one field at a time. */
function spec(overrides: Partial<TestPlanSpec> = {}): TestPlanSpec {
  return {
    id: 'room',
    name: 'Room temperature',
    version: '1.0.0',
    device: envNode,
    phases: [
      { id: 'warm-up', steps: [{ kind: 'wait', durationMs: 1000 }] },
      {
        id: 'accuracy',
        steps: [
          { kind: 'stimulus', input: 'temperature', value: 25, unit: 'Cel' },
          { kind: 'settle', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 120_000 },
          { kind: 'measure', channel: 'temperature', samples: 3, reference: { input: 'temperature' }, limits: { tolerance: 'mpe' } },
        ],
      },
    ],
    ...overrides,
  };
}

/** The plan with step `s` of phase 1 replaced. */
function withStep(step: unknown, s = 2): TestPlanSpec {
  const base = spec();
  const steps = [...base.phases[1]!.steps];
  steps[s] = step as never;
  return { ...base, phases: [base.phases[0]!, { ...base.phases[1]!, steps }] };
}

function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new ValidationError('', 'expected a refusal');
}

describe('defineTestPlan', () => {
  it('returns a frozen plan with defaults filled in', () => {
    const plan = defineTestPlan(spec());
    expect(plan).toBeInstanceOf(TestPlan);
    expect(plan.observation).toBe('in-process');
    expect(plan.instruments).toEqual({});
    expect(plan.phases[1]!.name).toBe('accuracy');
    expect(plan.phases[1]!.repeat).toBe(1);
    expect(plan.phases[1]!.steps[2]).toMatchObject({ kind: 'measure', id: 'temperature' });
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.phases[1]!.steps)).toBe(true);
  });

  it('numbers repeated measurements of one channel that have no id', () => {
    const measure = { kind: 'measure', channel: 'humidity' } as const;
    const plan = defineTestPlan({ ...spec(), phases: [{ id: 'p', steps: [measure, measure, { ...measure, id: 'third' }] }] });
    expect(plan.phases[0]!.steps.map((step) => (step as { id?: string }).id)).toEqual(['humidity', 'humidity#2', 'third']);
  });

  it.each([
    ['a limit without a unit', withStep({ kind: 'measure', channel: 'temperature', limits: { low: 20, high: 30 } }), 'phases[1].steps[2].limits: a limit without a unit'],
    [
      'a tolerance without a unit',
      withStep({ kind: 'measure', channel: 'temperature', reference: { input: 'temperature' }, limits: { tolerance: 0.5 } }),
      'phases[1].steps[2].limits: a limit without a unit',
    ],
    [
      'a channel the device lacks',
      withStep({ kind: 'measure', channel: 'dew-point', limits: { low: 0, unit: 'Cel' } }),
      'phases[1].steps[2].channel: no channel "dew-point" in env-node (channels: temperature, humidity, pressure)',
    ],
    [
      'a unit that cannot convert to the channel\'s',
      withStep({ kind: 'measure', channel: 'temperature', limits: { low: 900, unit: 'hPa' } }),
      'phases[1].steps[2].limits.unit: "hPa" does not convert to the channel\'s unit "Cel"',
    ],
    ['an unknown unit', withStep({ kind: 'measure', channel: 'temperature', limits: { low: 0, unit: '°C' } }), 'phases[1].steps[2].limits.unit: unknown unit "°C"; did you mean "Cel"?'],
    [
      'a settle tolerance without a unit',
      withStep({ kind: 'settle', channel: 'temperature', tolerance: 0.1, windowMs: 1000, timeoutMs: 5000 }, 1),
      'phases[1].steps[1].unit: a tolerance without a unit',
    ],
    ['a step without a kind', withStep({ channel: 'temperature' }), 'phases[1].steps[2].kind: a step needs a kind (stimulus, drive, source, wait, settle, measure, fault, run, accuracy, linearity, hysteresis, repeatability, step-response, drift, resolution, noise, supply-variation), or a `run` function'],
    ['an unknown step kind', withStep({ kind: 'measrue', channel: 'temperature' }), 'phases[1].steps[2].kind: expected one of "stimulus", "drive", "source", "wait", "settle", "measure", "fault", "run", "accuracy", "linearity", "hysteresis", "repeatability", "step-response", "drift", "resolution", "noise", "supply-variation", got "measrue"'],
    ['an accuracy step with too few points', withStep({ kind: 'accuracy', channel: 'temperature', points: [0, 25, 50] }), 'phases[1].steps[2].points: the accuracy method needs at least 5 points, got 3'],
    ['a hysteresis step with 2 cycles', withStep({ kind: 'hysteresis', channel: 'temperature', points: [0, 50], cycles: 2 }), 'phases[1].steps[2].cycles: the hysteresis method needs at least 3 up/down cycles, got 2'],
    ['a repeatability step with 5 readings', withStep({ kind: 'repeatability', channel: 'temperature', point: 25, readings: 5 }), 'phases[1].steps[2].readings: the repeatability method needs at least 10 readings, got 5'],
    ['a step response that does not step', withStep({ kind: 'step-response', channel: 'temperature', from: 20, to: 20 }), 'phases[1].steps[2].to: the step must change the quantity, got from = to = 20'],
    ['a method limit without a unit', withStep({ kind: 'noise', channel: 'temperature', point: 25, limits: { tolerance: 0.1 } }), 'phases[1].steps[2].limits.unit: a tolerance without a unit'],
    ['an unknown decision rule', withStep({ kind: 'repeatability', channel: 'temperature', point: 25, decisionRule: 'strict' }), 'phases[1].steps[2].decisionRule: expected "simple", "guard-band" or { guardBand: fraction of U }, got "strict"'],
    ['a misspelt field', withStep({ kind: 'measure', chanel: 'temperature' }), 'phases[1].steps[2].chanel: unknown field; did you mean "channel"?'],
    ['a zero wait', withStep({ kind: 'wait', durationMs: 0 }), 'phases[1].steps[2].durationMs: must be above 0, got 0'],
    ['a tolerance without a reference', withStep({ kind: 'measure', channel: 'temperature', limits: { tolerance: 'mpe' } }), 'phases[1].steps[2].limits.tolerance: a tolerance around the reference needs a `reference`'],
    ['inverted limits', withStep({ kind: 'measure', channel: 'temperature', limits: { low: 30, high: 20, unit: 'Cel' } }), 'phases[1].steps[2].limits: inverted limits: low 30 is above high 20'],
    [
      'an instrument role the plan does not declare',
      withStep({ kind: 'measure', channel: 'temperature', reference: { instrument: 'thermometer', quantity: 'temperature' } }),
      'phases[1].steps[2].reference.instrument: no instrument role "thermometer" in the plan\'s instruments (roles: none)',
    ],
    [
      'a settle whose timeout is shorter than its window',
      withStep({ kind: 'settle', channel: 'temperature', tolerance: 0.1, unit: 'K', windowMs: 10_000, timeoutMs: 5000 }, 1),
      'phases[1].steps[1].timeoutMs: must be at least the window (10000 ms), got 5000',
    ],
  ])('refuses %s', (_what, bad, message) => {
    expect(refusal(() => defineTestPlan(bad))).toBe(message);
  });

  it('refuses duplicate phase ids and duplicate measurement ids', () => {
    const base = spec();
    expect(refusal(() => defineTestPlan({ ...base, phases: [base.phases[0]!, { ...base.phases[0]! }] }))).toBe('phases[1].id: duplicate id "warm-up" (first used at index 0)');
    const measure = { kind: 'measure', id: 'm', channel: 'temperature' } as const;
    expect(refusal(() => defineTestPlan({ ...base, phases: [{ id: 'p', setup: [measure], steps: [measure] }] }))).toBe(
      'phases[0].steps[0].id: duplicate measurement id "m" (first used at phases[0].setup[0])',
    );
  });

  it('refuses a bad plan header, device, instruments and phase options', () => {
    expect(refusal(() => defineTestPlan({ ...spec(), id: 'Room Test' }))).toBe('id: "Room Test" must be lower case letters, digits, "_" or "-", starting with a letter');
    expect(refusal(() => defineTestPlan({ ...spec(), device: 42 as never }))).toBe('device: expected a device file path, a device model (defineDevice) or { model, emulation? }, got 42');
    expect(refusal(() => defineTestPlan({ ...spec(), observation: 'serial' as never }))).toBe('observation: expected one of "in-process", "mqtt", "opcua", got "serial"');
    expect(refusal(() => defineTestPlan({ ...spec(), instruments: { dmm: ['voltage'] as never } }))).toMatch(/^instruments\.dmm\[0\]: expected one of "voltage-dc"/);
    expect(refusal(() => defineTestPlan({ ...spec(), phases: [] }))).toBe('phases: expected at least one entry');
    expect(refusal(() => defineTestPlan({ ...spec(), phases: [{ id: 'p', steps: [{ kind: 'wait', durationMs: 1 }], repeat: 0 }] }))).toBe('phases[0].repeat: must be at least 1, got 0');
    expect(refusal(() => defineTestPlan({ ...spec(), phases: [{ id: 'p', steps: [] }] }))).toBe('phases[0].steps: expected at least one entry');
    expect(refusal(() => defineTestPlan({ ...spec(), phases: [{ id: 'p', steps: [{ kind: 'wait', durationMs: 1 }], onFailure: 'halt' as never }] }))).toBe(
      'phases[0].onFailure: expected one of "continue", "stop", got "halt"',
    );
    expect(refusal(() => defineTestPlan({ ...spec(), phases: [{ id: 'p', steps: [{ run: () => undefined, timeoutMs: -1 }] }] }))).toBe('phases[0].steps[0].timeoutMs: must be above 0, got -1');
    expect(refusal(() => defineTestPlan({ ...spec(), metadata: { operator: {} as never } }))).toBe('metadata.operator: expected a string, a finite number or a boolean, got an object');
  });

  it('checks instrument steps against the declared roles and quantities', () => {
    const instruments = { calibrator: ['temperature'] } as const;
    const source = { kind: 'source', instrument: 'calibrator', quantity: 'pressure', value: 1, unit: 'Pa' } as const;
    expect(refusal(() => defineTestPlan({ ...spec(), instruments, phases: [{ id: 'p', steps: [source] }] }))).toBe(
      'phases[0].steps[0].quantity: the plan\'s instrument "calibrator" is declared for temperature, not pressure',
    );
    const plan = defineTestPlan({ ...spec(), instruments, phases: [{ id: 'p', steps: [{ ...source, quantity: 'temperature' as const, unit: 'K', value: 300 }] }] });
    expect(plan.instruments).toEqual({ calibrator: ['temperature'] });
  });

  it('accepts custom run steps and limits in any convertible unit', () => {
    const plan = defineTestPlan({
      ...spec(),
      phases: [{ id: 'p', steps: [{ run: () => undefined, name: 'custom' }, { kind: 'measure', channel: 'pressure', unit: 'kPa', limits: { low: 90_000, high: 110_000, unit: 'Pa' } }] }],
    });
    expect(plan.phases[0]!.steps).toHaveLength(2);
  });

  it('leaves channel checks for a device file path to loading, and checks them with checkPlan', () => {
    const bad = withStep({ kind: 'measure', channel: 'dew-point' });
    const plan = defineTestPlan({ ...bad, device: ENV_NODE });
    expect(refusal(() => checkPlan(plan, envNode))).toBe('phases[1].steps[2].channel: no channel "dew-point" in env-node (channels: temperature, humidity, pressure)');
    expect(refusal(() => checkPlan(defineTestPlan({ ...spec(), device: ENV_NODE }), envNode, { inputs: [], faults: false }))).toBe(
      'phases[1].steps[0].input: no physical input "temperature" on this target (inputs: none)',
    );
  });
});

describe('loadTestPlan', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-plan-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const json = (value: unknown): string => JSON.stringify(value, null, 2);
  const jsonSpec = (device: string) => ({ ...spec(), device });

  it('loads a JSON plan, resolving its device path against the plan file', async () => {
    const file = write('room.json', json(jsonSpec(relative(dir, ENV_NODE))));
    const loaded = await loadTestPlan(file);
    expect(loaded.path).toBe(file);
    expect(new TextDecoder().decode(loaded.bytes)).toContain('"room"');
    expect(loaded.plan.id).toBe('room');
    expect(typeof loaded.plan.device).toBe('object');
    expect((loaded.plan.device as { model: { id: string } }).model.id).toBe('env-node');
  });

  it('loads a TypeScript plan whose default export is defineTestPlan(…)', async () => {
    const file = write(
      'room.ts',
      `import { defineTestPlan } from ${JSON.stringify(resolve('hil/plan/index.ts'))};\n` +
        `export default defineTestPlan(${json({ ...jsonSpec(ENV_NODE), id: 'room-ts' })});\n`,
    );
    const loaded = await loadTestPlan(file);
    expect(loaded.plan.id).toBe('room-ts');
    expect(loaded.plan.phases).toHaveLength(2);
  });

  it.each([
    ['a JSON syntax error', 'bad.json', '{ "id": "room", ', /^PlanFileError: .*bad\.json: not valid JSON: /],
    ['a validation error in JSON', 'bad.json', json({ ...jsonSpec(ENV_NODE), phases: [{ id: 'p', steps: [{ kind: 'measure', channel: 'temperature', limits: { low: 1 } }] }] }), /bad\.json: phases\[0\]\.steps\[0\]\.limits: a limit without a unit$/],
    ['a channel the device lacks', 'bad.json', json({ ...jsonSpec(ENV_NODE), phases: [{ id: 'p', steps: [{ kind: 'measure', channel: 'co2' }] }] }), /bad\.json: phases\[0\]\.steps\[0\]\.channel: no channel "co2" in env-node/],
    ['a TypeScript syntax error', 'bad.ts', 'export default defineTestPlan({ id: ', /^PlanFileError: .*bad\.ts: /],
    ['a module without a plan', 'bad.mjs', 'export const x = 1;\n', /bad\.mjs: must export a plan as default \(export default defineTestPlan\(\{ … \}\)\)$/],
    ['a validation error in TypeScript', 'bad.ts', `import { defineTestPlan } from ${JSON.stringify(resolve('hil/plan/index.ts'))};\nexport default defineTestPlan({ id: 'x', name: 'x', version: '1', device: 'd', phases: [{ id: 'p', steps: [{ kind: 'wait' }] }] } as never);\n`, /bad\.ts: phases\[0\]\.steps\[0\]\.durationMs: expected a finite number, got undefined$/],
    ['another kind of file', 'plan.yaml', 'id: room\n', /plan\.yaml: expected a \.ts, \.js, \.mjs, \.json file$/],
  ])('refuses %s with one line naming the file', async (_what, name, text, pattern) => {
    const file = write(name, text);
    const error = await loadTestPlan(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlanFileError);
    const line = `${(error as Error).name}: ${(error as Error).message}`;
    expect(line).not.toContain('\n');
    expect(line).toMatch(pattern);
    expect((error as PlanFileError).file).toBe(file);
  });

  it('names the device file when the plan\'s device does not load', async () => {
    const file = write('room.json', json(jsonSpec('devices/none')));
    const error = await loadTestPlan(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceFileError);
    expect((error as Error).message).toBe(`${join(dir, 'devices/none')}: no such file or folder`);
  });

  it('refuses a path that does not exist or is not a file', async () => {
    await expect(loadTestPlan(join(dir, 'none.json'))).rejects.toThrow(`${join(dir, 'none.json')}: no such file`);
    await expect(loadTestPlan(dir)).rejects.toThrow(/not a regular file/);
  });
});
