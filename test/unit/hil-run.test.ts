/**
 * `runTestPlan()` on the emulated target: phases and their outcomes, bounded waits (a device that
 * stops reporting aborts the phase, never hangs the run), instruments, progress, and replays that
 * are identical apart from the wall-clock fields.
 */
import { describe, expect, it } from 'vitest';
import { defineTestPlan, type PhaseSpec, type StepSpec, type TestPlanSpec } from '../../hil/plan/index.js';
import { WALL_CLOCK_FIELDS, type RunRecord } from '../../hil/record/record.js';
import { judge, resolveLimits, runTestPlan, worstOutcome, type ProgressEvent } from '../../hil/run/index.js';
import type { Instrument, InstrumentQuantity } from '../../hil/instruments/instrument.js';
import { createEmulatedTarget, type EmulatedTarget } from '../../hil/targets/emulated.js';
import type { Target } from '../../hil/targets/target.js';
import { SimulatedChamber } from '../../hil/instruments/index.js';
import { StateError, ValidationError } from '../../sdk/core/errors.js';
import envNode, { emulation } from '../../examples/env-node/device.js';

const DEVICE = { model: envNode, emulation };

function plan(phases: PhaseSpec[], extra: Partial<TestPlanSpec> = {}) {
  return defineTestPlan({ id: 'test-plan', name: 'Test plan', version: '0.0.1', device: DEVICE, phases, ...extra });
}

const at25: StepSpec[] = [
  { kind: 'stimulus', input: 'temperature', value: 25, unit: 'Cel' },
  { kind: 'settle', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 300_000 },
];

async function run(phases: PhaseSpec[], options: { seed?: number; extra?: Partial<TestPlanSpec>; events?: ProgressEvent[]; signal?: AbortSignal } = {}) {
  const seed = options.seed ?? 7;
  const target = createEmulatedTarget({ device: DEVICE, seed });
  const record = await runTestPlan(plan(phases, options.extra), {
    target,
    seed,
    ...(options.events ? { onProgress: (event: ProgressEvent) => options.events!.push(event) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { record, target };
}

function withoutWallClock(record: RunRecord): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...record };
  for (const field of WALL_CLOCK_FIELDS) delete copy[field];
  return copy;
}

describe('runTestPlan', () => {
  it('records the run: plan, target, device, seed, clock, phases and measurements in target time', async () => {
    const events: ProgressEvent[] = [];
    const { record } = await run(
      [{ id: 'accuracy', steps: [...at25, { kind: 'measure', id: 'error@25', channel: 'temperature', samples: 3, reference: { input: 'temperature' }, limits: { tolerance: 'mpe' } }] }],
      { events },
    );
    expect(record).toMatchObject({
      format: 'sensorkit-hil-record/1',
      plan: { id: 'test-plan', name: 'Test plan', version: '0.0.1' },
      target: { kind: 'emulated', description: 'emulated', observation: 'in-process', virtualTime: true },
      device: { id: 'env-node', manufacturer: 'sensorkit examples', model: 'EN-1 environmental node', serialNumber: 'EMU-7', softwareRevision: '0.1.0' },
      sensorkit: { version: '0.1.0' },
      instruments: [],
      seed: 7,
      clock: { kind: 'virtual', start: '2026-01-01T00:00:00.000Z' },
      outcome: 'pass',
    });
    expect(record.plan.digest).toMatch(/^sha-256:[0-9a-f]{64}$/);
    const [phase] = record.phases;
    expect(phase).toMatchObject({ id: 'accuracy', name: 'accuracy', iteration: 1, outcome: 'pass', start: 0 });
    expect(record.clock.duration).toBe(phase!.duration);
    const [measurement] = phase!.measurements;
    expect(measurement).toMatchObject({
      id: 'error@25',
      channel: 'temperature',
      unit: 'Cel',
      reference: { value: 25, unit: 'Cel', source: 'input temperature' },
      samples: 3,
      limits: { low: 24, high: 26, unit: 'Cel', basis: 'MPE ±1 Cel around the reference' },
      decisionRule: 'simple acceptance (ILAC-G8:09 §4.2.1)',
      outcome: 'pass',
    });
    expect(measurement!.series![0]!.value).toHaveLength(3);
    expect(measurement!.series![0]!.time.every((t) => t > 0 && t <= measurement!.time)).toBe(true);
    expect(phase!.log.map((entry) => entry.message)).toEqual([
      'stimulus temperature = 25 Cel',
      expect.stringMatching(/^temperature settled within ±0\.05 Cel over 10 s after \d+(\.\d)? s$/),
    ]);
    expect(events.map((event) => event.kind)).toEqual(['run-start', 'phase-start', 'step', 'step', 'step', 'measurement', 'phase-end', 'run-end']);
    expect(events[1]).toMatchObject({ phase: 'accuracy', iteration: 1, index: 0, count: 1 });
    expect(events.at(-1)).toMatchObject({ kind: 'run-end', outcome: 'pass', time: record.clock.duration });
  });

  it('replays: the same plan and seed give the same record apart from the wall-clock fields', async () => {
    const phases: PhaseSpec[] = [
      { id: 'accuracy', steps: [...at25, { kind: 'measure', channel: 'temperature', samples: 5, reference: { input: 'temperature' }, limits: { tolerance: 'mpe' } }] },
      { id: 'humidity', steps: [{ kind: 'measure', channel: 'humidity', samples: 5, limits: { low: 0, high: 100, unit: '%RH' } }], repeat: 2 },
    ];
    const first = await run(phases, { seed: 11 });
    const second = await run(phases, { seed: 11 });
    const other = await run(phases, { seed: 12 });
    expect(withoutWallClock(second.record)).toEqual(withoutWallClock(first.record));
    expect(JSON.stringify(withoutWallClock(second.record))).toBe(JSON.stringify(withoutWallClock(first.record)));
    expect(withoutWallClock(other.record)).not.toEqual(withoutWallClock(first.record));
  });

  it('judges limits in any convertible unit and says why a measurement fails', async () => {
    const { record } = await run([
      {
        id: 'limits',
        steps: [
          ...at25,
          { kind: 'measure', id: 'in-kelvin', channel: 'temperature', unit: 'K', samples: 2, limits: { low: 20, high: 30, unit: 'Cel' } },
          { kind: 'measure', id: 'too-warm', channel: 'temperature', samples: 2, limits: { high: 20, unit: 'Cel', basis: 'cold room' } },
          { kind: 'measure', id: 'recorded', channel: 'pressure', unit: 'kPa' },
        ],
      },
    ]);
    const [phase] = record.phases;
    const [kelvin, warm, recorded] = phase!.measurements;
    expect(kelvin).toMatchObject({ unit: 'K', outcome: 'pass', limits: { low: 293.15, high: 303.15, unit: 'K' } });
    expect(kelvin!.value).toBeGreaterThan(297);
    expect(warm).toMatchObject({ outcome: 'fail', limits: { high: 20, unit: 'Cel', basis: 'cold room' } });
    expect(warm!.reason).toMatch(/^2[45]\.\d+ Cel above high limit 20 Cel$/);
    expect(recorded).toMatchObject({ unit: 'kPa', outcome: 'recorded' });
    expect(recorded!.value).toBeGreaterThan(100);
    expect(phase!.outcome).toBe('fail');
    expect(record.outcome).toBe('fail');
  });

  it('skips a phase with its reason and repeats a phase, one record per iteration', async () => {
    const { record } = await run([
      { id: 'skipped', skip: 'no chamber on this station', steps: [{ kind: 'wait', durationMs: 1000 }] },
      { id: 'repeated', repeat: 3, steps: [{ kind: 'wait', durationMs: 1000 }, { kind: 'measure', channel: 'humidity' }] },
    ]);
    expect(record.phases.map((p) => [p.id, p.iteration, p.outcome, p.reason])).toEqual([
      ['skipped', 1, 'skipped', 'no chamber on this station'],
      ['repeated', 1, 'pass', undefined],
      ['repeated', 2, 'pass', undefined],
      ['repeated', 3, 'pass', undefined],
    ]);
    expect(record.phases[2]!.start).toBeGreaterThan(record.phases[1]!.start);
    expect(record.outcome).toBe('pass');
  });

  it('ends a custom step that never finishes at its wall-clock watchdog', async () => {
    const { record } = await run([
      { id: 'hung', steps: [{ name: 'await forever', timeoutMs: 50, run: () => new Promise(() => undefined) }] },
      { id: 'next', steps: [{ kind: 'measure', channel: 'humidity' }] },
    ]);
    expect(record.phases.map((p) => [p.id, p.outcome, p.reason])).toEqual([
      ['hung', 'aborted', 'await forever did not finish within 50 ms of wall-clock time'],
      ['next', 'pass', undefined],
    ]);
  });

  it('stops the run after a phase that must pass and did not', async () => {
    const { record } = await run([
      { id: 'power-up', onFailure: 'stop', steps: [{ kind: 'measure', channel: 'humidity', limits: { low: 99, unit: '%RH' } }] },
      { id: 'accuracy', steps: [{ kind: 'wait', durationMs: 1000 }] },
      { id: 'report-state', always: true, steps: [{ kind: 'measure', channel: 'humidity' }] },
    ]);
    expect(record.phases.map((p) => [p.id, p.outcome, p.reason])).toEqual([
      ['power-up', 'fail', undefined],
      ['accuracy', 'skipped', 'phase power-up ended fail, and the plan stops there'],
      ['report-state', 'pass', undefined],
    ]);
    expect(record.outcome).toBe('fail');
  });

  it('aborts a phase with its reason (ctx.abort or a throwing step), runs its teardown, and goes on', async () => {
    const { record } = await run([
      {
        id: 'aborted',
        setup: [{ kind: 'stimulus', input: 'temperature', value: 30, unit: 'Cel' }],
        steps: [{ name: 'check the fixture', run: (ctx) => ctx.abort('fixture not closed') }, { kind: 'wait', durationMs: 60_000 }],
        teardown: [{ kind: 'stimulus', input: 'temperature', value: 22.5, unit: 'Cel' }],
      },
      { id: 'throws', steps: [{ name: 'custom', run: () => Promise.reject(new SyntaxError('bad thing\n  at somewhere')) }] },
      { id: 'after', steps: [{ kind: 'measure', channel: 'humidity' }] },
    ]);
    const [aborted, throws, after] = record.phases;
    expect(aborted).toMatchObject({ outcome: 'aborted', reason: 'fixture not closed', duration: 0 });
    expect(aborted!.log.map((entry) => entry.message)).toEqual(['stimulus temperature = 30 Cel', 'stimulus temperature = 22.5 Cel', 'aborted: fixture not closed']);
    expect(throws).toMatchObject({ outcome: 'aborted', reason: 'custom failed: bad thing' });
    expect(after!.outcome).toBe('pass');
    expect(record.outcome).toBe('aborted');
    expect(record.reason).toBe('phase aborted: fixture not closed');
  });

  it.each(['dropout', 'timeout'])('aborts the phase when the device stops reporting (a %s on the BME280) and never hangs', async (fault) => {
    const { record } = await run([
      {
        id: 'dropout',
        steps: [
          { kind: 'measure', id: 'before', channel: 'temperature' },
          { kind: 'fault', target: 'i2c1@0x76', fault },
          { kind: 'measure', id: 'during', channel: 'temperature', samples: 3, timeoutMs: 30_000 },
          { kind: 'measure', id: 'never', channel: 'humidity' },
        ],
        teardown: [{ kind: 'fault', target: 'i2c1@0x76', fault: 'clear' }],
      },
      { id: 'recovered', steps: [{ kind: 'wait', durationMs: 5000 }, { kind: 'measure', channel: 'temperature', samples: 3 }] },
    ]);
    const [dropout, recovered] = record.phases;
    expect(dropout!.outcome).toBe('aborted');
    expect(dropout!.reason).toMatch(/^measure during: the device stopped reporting: temperature: 0 of 3 samples in 30 s \(30 samples, 0 usable; last: bad \(sensor_fault: /);
    expect(dropout!.measurements.map((m) => m.id)).toEqual(['before']);
    // The wait ended at its limit of target time.
    expect(dropout!.duration).toBeLessThan(32_000);
    expect(dropout!.log.map((entry) => entry.message)).toContain(`fault i2c1@0x76: ${fault}`);
    expect(recovered!.outcome).toBe('pass');
  });

  it('returns the record with the phase aborted when the device stops reporting until the end of the run (a timeout fault that outlives it)', async () => {
    const { record, target } = await run([
      {
        id: 'silent',
        steps: [
          { kind: 'wait', durationMs: 60_000 },
          { kind: 'fault', target: 'i2c1@0x76', fault: 'timeout' },
          { kind: 'measure', id: 'during', channel: 'temperature', samples: 3, timeoutMs: 30_000 },
        ],
      },
    ]);
    expect(record.phases[0]).toMatchObject({ outcome: 'aborted' });
    expect(record.phases[0]!.reason).toMatch(/^measure during: the device stopped reporting/);
    expect(record.outcome).toBe('aborted');
    // The target closed: its board refuses further transfers.
    expect(() => target.board).toThrow(StateError);
  });

  it('bounds closing the target in wall time: a close that never settles is abandoned and the record is still returned', async () => {
    const inner = createEmulatedTarget({ device: DEVICE, seed: 7 });
    let closeCalls = 0;
    const stuck = new Proxy(inner, {
      get(object, key) {
        if (key === 'close') return () => ((closeCalls += 1), new Promise<void>(() => {}));
        const value = Reflect.get(object, key, object) as unknown;
        return typeof value === 'function' ? value.bind(object) : value;
      },
    }) as Target;
    const record = await runTestPlan(plan([{ id: 'p', steps: [{ kind: 'measure', channel: 'temperature', samples: 2 }] }]), { target: stuck, seed: 7, closeTimeoutMs: 50 });
    expect(closeCalls).toBe(1);
    expect(record.outcome).toBe('pass');
    expect(record.phases[0]!.log.at(-1)!.message).toBe('the target did not close within 50 ms of wall time and was abandoned');
    await inner.close();
  });

  it('measures through an intermittent contact (a dropout with a probability): the failed reads are not used', async () => {
    const { record } = await run([
      {
        id: 'intermittent',
        steps: [
          { kind: 'fault', target: 'i2c1@0x76', fault: 'dropout', options: { probability: 0.5 } },
          { kind: 'measure', channel: 'humidity', samples: 10, limits: { low: 30, high: 60, unit: '%RH' } },
        ],
      },
    ]);
    const [phase] = record.phases;
    expect(phase!.outcome).toBe('pass');
    expect(phase!.measurements[0]!.samples).toBe(10);
    // Ten usable readings at 1 Hz took longer than ten seconds: about half the reads failed.
    expect(phase!.measurements[0]!.time).toBeGreaterThan(13_000);
  });

  it('aborts the phase when the device falls silent altogether', async () => {
    const { record } = await run([
      {
        id: 'silent',
        steps: [
          { name: 'stop the device', run: async (ctx) => (ctx.target as EmulatedTarget).device.stop() },
          { kind: 'measure', channel: 'temperature', timeoutMs: 20_000 },
        ],
      },
    ]);
    expect(record.phases[0]).toMatchObject({
      outcome: 'aborted',
      reason: 'measure temperature: the device stopped reporting: temperature: 0 of 1 sample in 20 s (no sample at all)',
    });
  });

  it('aborts a settle that never settles, and a phase past its own limit', async () => {
    const { record } = await run([
      { id: 'unsettled', steps: [{ kind: 'settle', channel: 'pressure', tolerance: 0.0001, unit: 'hPa', windowMs: 5000, timeoutMs: 60_000 }] },
      { id: 'too-long', timeoutMs: 5000, steps: [{ kind: 'wait', durationMs: 60_000 }] },
      { id: 'bounded-measure', timeoutMs: 3000, steps: [{ kind: 'wait', durationMs: 2500 }, { kind: 'measure', channel: 'humidity', samples: 10 }] },
    ]);
    expect(record.phases[0]!.outcome).toBe('aborted');
    expect(record.phases[0]!.reason).toMatch(/^pressure did not settle within ±0\.0001 hPa over 5 s in 60 s \(last \d+\.\d+ hPa\)$/);
    expect(record.phases[0]!.duration).toBe(60_000);
    expect(record.phases[1]).toMatchObject({ outcome: 'aborted', reason: 'the phase exceeded its limit of 5 s', duration: 5000 });
    expect(record.phases[2]).toMatchObject({ outcome: 'aborted', reason: 'the phase exceeded its limit of 3 s', duration: 3000 });
  });

  it('runs hours of virtual time in seconds of wall time', async () => {
    const wall = performance.now();
    const { record } = await run([{ id: 'soak', steps: [{ kind: 'wait', durationMs: 2 * 3600_000 }, { kind: 'measure', channel: 'temperature', samples: 5, limits: { low: 15, high: 30, unit: 'Cel' } }] }]);
    const seconds = (performance.now() - wall) / 1000;
    console.log(`2 h of virtual time (env-node, 3 channels at 1 Hz) ran in ${seconds.toFixed(2)} s of wall time`);
    expect(record.outcome).toBe('pass');
    expect(record.clock.duration).toBeGreaterThanOrEqual(2 * 3600_000);
    expect(record.clock.duration).toBeLessThan(2 * 3600_000 + 10_000);
  });

  it('gives custom steps the target, time, samples, the log and measurements judged against their limits', async () => {
    const { record } = await run([
      {
        id: 'custom',
        steps: [
          {
            name: 'loop',
            run: async (ctx) => {
              await ctx.target.stimulate('humidity', 60, '%RH');
              expect((ctx.target as EmulatedTarget).physicalInputs.valueOf('humidity')).toBe(60);
              await ctx.wait(10_000);
              ctx.log(`at ${ctx.time()} ms`);
              const samples = await ctx.samples('humidity', 3, 10_000);
              const mean = samples.reduce((sum, s) => sum + s.value!, 0) / samples.length;
              ctx.record({ id: 'humidity@60', channel: 'humidity', value: mean, unit: '%RH', limits: { low: 57, high: 63, unit: '%RH' } });
              ctx.record({ id: 'judged-by-me', value: null, unit: '/', outcome: 'pass', reason: 'looked fine' });
              await expect(ctx.samples('no-such-channel', 1, 2000)).rejects.toThrow('no-such-channel: 0 of 1 sample in 2 s (no sample at all)');
            },
          },
          { kind: 'measure', id: 'after', channel: 'humidity', reference: { input: 'humidity' }, limits: { tolerance: 'mpe' } },
        ],
      },
    ]);
    const [phase] = record.phases;
    expect(phase!.log[0]!.message).toBe('at 10000 ms');
    // What the custom step set is the reference of a later measure step.
    expect(phase!.measurements.at(-1)).toMatchObject({ id: 'after', reference: { value: 60, unit: '%RH', source: 'input humidity' }, outcome: 'pass' });
    expect(phase!.measurements.map((m) => [m.id, m.outcome])).toEqual([
      ['humidity@60', 'pass'],
      ['judged-by-me', 'pass'],
      ['after', 'pass'],
    ]);
    expect(phase!.measurements[0]!.decisionRule).toBe('simple acceptance (ILAC-G8:09 §4.2.1)');
    expect(phase!.measurements[0]!.time).toBeGreaterThanOrEqual(12_000);
  });

  it('fails a measurement whose samples do not have the expected quality', async () => {
    const { record } = await run([{ id: 'quality', steps: [{ kind: 'measure', channel: 'temperature', samples: 2, expectQuality: 'bad' }] }]);
    expect(record.phases[0]!.measurements[0]).toMatchObject({ outcome: 'fail', reason: 'expected bad quality, got good' });
  });

  it('stops at an abort signal: the phase aborted, the rest skipped but for phases that always run', async () => {
    const controller = new AbortController();
    const { record } = await run(
      [
        { id: 'first', steps: [{ name: 'operator stops', run: () => controller.abort('operator stop') }, { kind: 'stimulus', input: 'temperature', value: 1, unit: 'Cel' }] },
        { id: 'second', steps: [{ kind: 'wait', durationMs: 1000 }] },
        { id: 'safe-state', always: true, steps: [{ kind: 'stimulus', input: 'temperature', value: 22.5, unit: 'Cel' }, { kind: 'wait', durationMs: 1000 }] },
      ],
      { signal: controller.signal },
    );
    expect(record.phases.map((p) => [p.id, p.outcome, p.reason])).toEqual([
      ['first', 'aborted', 'run aborted: operator stop'],
      ['second', 'skipped', 'run aborted: operator stop'],
      ['safe-state', 'pass', undefined],
    ]);
    expect(record.phases[2]!.duration).toBe(1000);
    expect(record).toMatchObject({ outcome: 'aborted', reason: 'run aborted: operator stop' });
  });

  it('refuses options it cannot run with', async () => {
    const target = createEmulatedTarget({ device: DEVICE, seed: 1 });
    const any = plan([{ id: 'p', steps: [{ kind: 'wait', durationMs: 1 }] }]);
    await expect(runTestPlan(any, { target, seed: 1.5 })).rejects.toThrow('Expected `seed` to be an integer, got 1.5');
    await expect(runTestPlan(any, { seed: 1 } as never)).rejects.toThrow('Expected `options.target` to be a Target');
    await expect(runTestPlan({ id: 'x' } as never, { target, seed: 1 })).rejects.toThrow('plan: expected a plan from defineTestPlan() or loadTestPlan()');
  });

  it('refuses before any phase runs a stimulus of an input the target lacks, and closes the target', async () => {
    const events: ProgressEvent[] = [];
    const target = createEmulatedTarget({ device: DEVICE, seed: 1 });
    const bad = plan([{ id: 'p', steps: [{ kind: 'stimulus', input: 'dew-point', value: 5, unit: 'Cel' }] }]);
    await expect(runTestPlan(bad, { target, seed: 1, onProgress: (event) => events.push(event) })).rejects.toThrow(
      'phases[0].steps[0].input: no physical input "dew-point" on this target (inputs: temperature, humidity, pressure)',
    );
    expect(events).toEqual([]);
    expect(() => target.device).toThrow(StateError);
  });
});

/** An instrument on the target's clock that reads the true temperature and takes a set point. */
function fakeInstrument(id: string, read: () => number, sourced: unknown[], identify = true): Instrument {
  return {
    id,
    identify: async () => {
      if (!identify) throw new StateError(`${id}: *IDN? unanswered`);
      return { manufacturer: 'test', model: 'REF-1', serialNumber: '42', firmware: '1.0', simulated: true };
    },
    measure: async (quantity: InstrumentQuantity) => ({ quantity, value: read(), unit: 'K', time: 0, accuracy: 0.05 }),
    source: async (quantity, value, unit) => void sourced.push([quantity, value, unit]),
    close: async () => undefined,
  };
}

describe('runTestPlan on a target that observes reports only', () => {
  /** The emulated target seen as over MQTT: only the samples report-by-exception lets through. */
  function reportsOnly(inner: EmulatedTarget): Target {
    return {
      kind: inner.kind,
      description: 'emulated (reports)',
      observation: 'mqtt',
      clock: inner.clock,
      virtualTime: true,
      get model() {
        return inner.model;
      },
      open: () => inner.open(),
      inputs: () => inner.inputs(),
      stimulate: (input, value, unit) => inner.stimulate(input, value, unit),
      drive: (input, signal, unit) => inner.drive(input, signal, unit),
      onSample: (listener) => inner.device.on('report', listener),
      wait: (ms) => inner.wait(ms),
      close: () => inner.close(),
    };
  }

  it('waits for samples a deadband thins out to one a heartbeat', async () => {
    const target = reportsOnly(createEmulatedTarget({ device: DEVICE, seed: 2 }));
    const record = await runTestPlan(plan([{ id: 'steady', steps: [...at25, { kind: 'measure', channel: 'temperature', samples: 3, reference: { input: 'temperature' }, limits: { tolerance: 'mpe' } }] }]), {
      target,
      seed: 2,
    });
    expect(record.phases[0]!.outcome).toBe('pass');
    // Steady at 25 Cel, the 0.05 Cel deadband lets a sample through about once a 60 s heartbeat.
    expect(record.phases[0]!.duration).toBeGreaterThan(60_000);
  });
});

describe('runTestPlan on the wrong device', () => {
  it('refuses a target that runs another device than the plan names', async () => {
    const target = createEmulatedTarget({ device: 'examples/pressure-transmitter', seed: 1 });
    await expect(runTestPlan(plan([{ id: 'p', steps: [{ kind: 'wait', durationMs: 1 }] }]), { target, seed: 1 })).rejects.toThrow(
      'device: the plan is for device "env-node", but the target runs "pressure-transmitter"',
    );
    expect(() => target.device).toThrow('the emulated target is closed, not open');
  });
});

describe('runTestPlan with instruments', () => {
  const instrumented = () =>
    plan(
      [
        {
          id: 'reference',
          steps: [
            ...at25,
            { kind: 'source', instrument: 'thermometer', quantity: 'temperature', value: 298.15, unit: 'K' },
            { kind: 'measure', channel: 'temperature', samples: 3, reference: { instrument: 'thermometer', quantity: 'temperature' }, limits: { tolerance: 0.5, unit: 'K' } },
          ],
        },
      ],
      { instruments: { thermometer: ['temperature'] } },
    );

  it('takes references from an instrument and records its identity', async () => {
    const sourced: unknown[] = [];
    const target = createEmulatedTarget({ device: DEVICE, seed: 3 });
    const record = await runTestPlan(instrumented(), {
      target,
      seed: 3,
      instruments: { thermometer: { instrument: fakeInstrument('thermometer', () => 298.15, sourced), connection: 'simulated' } },
    });
    expect(record.instruments).toEqual([{ id: 'thermometer', connection: 'simulated', manufacturer: 'test', model: 'REF-1', serialNumber: '42', firmware: '1.0', simulated: true }]);
    expect(sourced).toEqual([['temperature', 298.15, 'K']]);
    const [measurement] = record.phases[0]!.measurements;
    expect(measurement!.reference).toEqual({ value: 25.000000000000000, unit: 'Cel', source: 'instrument thermometer' });
    expect(measurement!.limits!.high! - measurement!.limits!.low!).toBeCloseTo(1, 9);
    expect(record.outcome).toBe('pass');
  });

  it('refuses to start without an instrument for a role, or when one does not identify', async () => {
    const target = createEmulatedTarget({ device: DEVICE, seed: 3 });
    await expect(runTestPlan(instrumented(), { target, seed: 3 })).rejects.toThrow(ValidationError);
    await expect(runTestPlan(instrumented(), { target, seed: 3 })).rejects.toThrow(
      'instruments.thermometer: the plan needs an instrument for role "thermometer" (temperature); none was given',
    );
    const mute = { thermometer: { instrument: fakeInstrument('thermometer', () => 0, [], false), connection: 'scpi-tcp:127.0.0.1:5025' } };
    await expect(runTestPlan(instrumented(), { target, seed: 3, instruments: mute })).rejects.toThrow('thermometer: *IDN? unanswered');
    // Nothing was opened.
    expect(() => target.device).toThrow('the emulated target is idle, not open');
  });
});

describe('runTestPlan with a simulated chamber driving the emulated input', () => {
  it('measures against the chamber: the BME280 feels the chamber air, the reference is its sensor', async () => {
    const chamberPlan = plan(
      [
        {
          id: 'chamber-40',
          setup: [{ kind: 'drive', input: 'temperature', instrument: 'chamber', quantity: 'temperature' }],
          steps: [
            { kind: 'source', instrument: 'chamber', quantity: 'temperature', value: 40, unit: 'Cel' },
            { kind: 'settle', id: 'response', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 30_000, timeoutMs: 3600_000 },
            { kind: 'measure', id: 'against-chamber', channel: 'temperature', samples: 5, reference: { instrument: 'chamber', quantity: 'temperature' }, limits: { tolerance: 'mpe' } },
            { kind: 'measure', id: 'against-air', channel: 'temperature', samples: 5, reference: { input: 'temperature' }, limits: { tolerance: 'mpe' } },
          ],
        },
      ],
      { instruments: { chamber: ['temperature'] } },
    );
    const target = createEmulatedTarget({ device: DEVICE, seed: 4 });
    const chamber = new SimulatedChamber({ clock: target.clock, seed: 4, rampRate: 2, timeConstantMs: 60_000 });
    const record = await runTestPlan(chamberPlan, { target, seed: 4, instruments: { chamber: { instrument: chamber, connection: 'simulated' } } });
    expect(record.outcome).toBe('pass');
    const [response, againstChamber, againstAir] = record.phases[0]!.measurements;
    // 23 → 40 Cel at 2 K/min behind a 1 min time constant: several minutes, recorded as a step response.
    expect(response).toMatchObject({ id: 'response', unit: 's', outcome: 'recorded' });
    expect(response!.value!).toBeGreaterThan(8 * 60);
    const series = response!.series![0]!;
    expect(series.value[0]!).toBeLessThan(25);
    expect(series.value.at(-1)!).toBeGreaterThan(39.5);
    expect(againstChamber!.reference!.source).toBe('instrument chamber');
    expect(Math.abs(againstChamber!.reference!.value - 40)).toBeLessThan(0.5);
    expect(againstAir!.reference!.source).toBe('input temperature');
    // Stable to ±0.05 Cel over 30 s is still on the air's exponential tail (τ = 1 min): near 40 Cel.
    expect(Math.abs(againstAir!.reference!.value - 40)).toBeLessThan(0.2);
    expect(againstAir!.reference!.value).not.toBe(40);
    expect(record.instruments[0]).toMatchObject({ id: 'chamber', model: 'SIM-CHAMBER', simulated: true });
  });

  it('refuses to drive an input from a quantity of another dimension', async () => {
    const bad = plan([{ id: 'p', steps: [{ kind: 'drive', input: 'temperature', instrument: 'supply', quantity: 'voltage-dc' }] }], { instruments: { supply: ['voltage-dc'] } });
    const target = createEmulatedTarget({ device: DEVICE, seed: 4 });
    const supply = fakeInstrument('supply', () => 0, []);
    await expect(runTestPlan(bad, { target, seed: 4, instruments: { supply: { instrument: supply, connection: 'simulated' } } })).rejects.toThrow(
      'phases[0].steps[0].quantity: an instrument\'s voltage-dc (V) cannot drive input "temperature" (Cel)',
    );
  });
});

describe('judging', () => {
  const temperature = envNode.channel('temperature')!;

  it('turns limits into the measurement unit: absolute, ± a tolerance, ± a fraction of the MPE', () => {
    expect(resolveLimits({ low: 20, high: 30, unit: 'Cel' }, 'K', temperature, undefined)).toEqual({ low: 293.15, high: 303.15, unit: 'K' });
    expect(resolveLimits({ tolerance: 0.5, unit: 'K' }, 'Cel', temperature, 25)).toEqual({ low: 24.5, high: 25.5, unit: 'Cel', basis: 'tolerance ±0.5 Cel around the reference' });
    expect(resolveLimits({ tolerance: 'mpe', factor: 0.5 }, 'K', temperature, 298.15)).toEqual({ low: 297.65, high: 298.65, unit: 'K', basis: '0.5 × MPE ±0.5 K around the reference' });
    expect(() => resolveLimits({ tolerance: 'mpe' }, 'Cel', temperature, undefined)).toThrow(ValidationError);
  });

  it('passes within the limits, fails outside with the reason, records without limits', () => {
    expect(judge(25, 'Cel', { low: 24, high: 26, unit: 'Cel' })).toEqual({ outcome: 'pass' });
    expect(judge(23.999, 'Cel', { low: 24, unit: 'Cel' })).toEqual({ outcome: 'fail', reason: '23.999 Cel below low limit 24 Cel' });
    expect(judge(300, 'K', { high: 26, unit: 'Cel' })).toEqual({ outcome: 'fail', reason: '300 K above high limit 299.15 K' });
    expect(judge(null, 'Cel', { high: 26, unit: 'Cel' })).toEqual({ outcome: 'fail', reason: 'no value to judge' });
    expect(judge(1, 'Cel', undefined)).toEqual({ outcome: 'recorded' });
  });

  it('keeps limits inclusive across units: a value exactly on a limit stated in another unit is on it', () => {
    // 25 Cel is 77 degF, 100 Cel 212 degF, 0.1 Cel 273.25 K: each off by a few ulps when converted.
    expect(judge(77, 'degF', { high: 25, unit: 'Cel' })).toEqual({ outcome: 'pass' });
    expect(judge(212, 'degF', { high: 100, unit: 'Cel' })).toEqual({ outcome: 'pass' });
    expect(judge(0.1, 'Cel', { high: 273.25, unit: 'K' })).toEqual({ outcome: 'pass' });
    expect(judge(0.1, 'Cel', { low: 273.25, unit: 'K' })).toEqual({ outcome: 'pass' });
    // Beyond the slack it fails: 1e-9 degF over 77 degF.
    expect(judge(77.000000001, 'degF', { high: 25, unit: 'Cel' })).toEqual({ outcome: 'fail', reason: '77 degF above high limit 77 degF' });
    // The record's limits and references come out clean.
    expect(resolveLimits({ tolerance: 1.8, unit: 'degF' }, 'degF', temperature, 77)).toEqual({ low: 75.2, high: 78.8, unit: 'degF', basis: 'tolerance ±1.8 degF around the reference' });
    expect(resolveLimits({ low: 20, high: 25, unit: 'Cel' }, 'degF', temperature, undefined)).toEqual({ low: 68, high: 77, unit: 'degF' });
  });

  it('takes the worst outcome; recorded counts as a pass, skipped only when all are', () => {
    expect(worstOutcome(['pass', 'recorded', 'conditional-pass'])).toBe('conditional-pass');
    expect(worstOutcome(['fail', 'aborted', 'pass'])).toBe('aborted');
    expect(worstOutcome(['recorded', 'skipped'])).toBe('pass');
    expect(worstOutcome(['skipped'])).toBe('skipped');
    expect(worstOutcome([])).toBe('pass');
  });
});
