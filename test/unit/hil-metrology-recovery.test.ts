/**
 * Self-validation of the method steps: each method recovers each declared truth injected on the
 * emulated target within its stated U, and over 40 seeds the intervals ± U cover the truth in 90 %
 * … 99.5 % of cases (honest uncertainty), on virtual time.
 *
 * Where the truth comes from. The example env-node's BME280 has its own seeded part error (uniform
 * ±0.4 °C) and noise, unknown to the test. So the recovery and coverage checks run on the same
 * model with an *ideal* part (no seed: no part error, no part noise): the channel's error is then
 * exactly the injected truth, and the scatter is the injected noise σ. The shipped emulation (with
 * the part error) is used where the decision matters: an offset of 3 °C fails the ±1 °C MPE, one of
 * 0.2 °C passes, and the error found lies within ±(0.4 °C + U) of the offset injected.
 */
import { describe, expect, it } from 'vitest';
import { Bme280Peripheral } from '../../boards/emulated/parts/index.js';
import { constant, type EmulatedBoard, type PhysicalInputs } from '../../boards/emulated/index.js';
import { defineDevice } from '../../sdk/model/index.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';
import { defineTestPlan, type PhaseSpec } from '../../hil/plan/index.js';
import type { MeasurementRecord, RunRecord } from '../../hil/record/record.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget, parseInjection, type Injection } from '../../hil/targets/emulated.js';
import { resolveDevice } from '../../sdk/runtime/device-source.js';

const envNode = (await resolveDevice('examples/env-node')).model;

/** env-node's model with an ideal BME280: the channel's error is exactly what is injected. */
function idealWorld(model: DeviceModel) {
  return {
    model,
    emulation: (board: EmulatedBoard, _random: unknown, inputs: PhysicalInputs) => {
      const temperature = inputs.input('temperature', constant(22.5), 'Cel');
      const humidity = inputs.input('humidity', constant(45), '%RH');
      const pressure = inputs.input('pressure', constant(101_325), 'Pa');
      board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature, humidity, pressure }), { bus: 'i2c1' });
    },
  };
}

/** The same node with its temperature unfiltered (no moving average, BME280 IIR off): a first-order lag shows as itself. */
const unfiltered = defineDevice({
  id: 'env-node-unfiltered',
  board: 'raspberry-pi-4',
  identity: { manufacturer: 'test', model: 'unfiltered', productCode: 'T-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'env' } },
  channels: [
    {
      id: 'temperature',
      quantity: 'temperature',
      unit: 'Cel',
      range: { min: -40, max: 85 },
      resolution: 0.01,
      accuracy: { mpe: 1 },
      sampleRate: 1,
      driver: { part: 'bme280', address: 0x76, options: { oversampling: { temperature: 2, pressure: 1, humidity: 1 } }, output: 'temperature' },
    },
  ],
});

async function run(device: ReturnType<typeof idealWorld> | string, phases: PhaseSpec[], inject: Injection[], seed = 1): Promise<RunRecord> {
  const plan = defineTestPlan({ id: 'self-validation', name: 'self-validation', version: '1', device, phases });
  return runTestPlan(plan, { target: createEmulatedTarget({ device, seed, inject }), seed });
}

function measured(record: RunRecord): Map<string, MeasurementRecord> {
  return new Map(record.phases.flatMap((phase) => phase.measurements.map((m) => [m.id, m] as const)));
}

/**
 * Each point's interval is a 95 % statement, so over five points one miss is expected one time in
 * five: at least four of five within U, and every one within 2U.
 */
function expectPointsWithinU(record: RunRecord, truth: (point: number) => number): void {
  const within = POINTS.filter((point) => {
    const m = measured(record).get(`accuracy@${point}Cel`)!;
    const off = Math.abs(m.value! - m.reference!.value - truth(point));
    expect(off, `${m.id}: off by ${off}, U = ${m.uncertainty!.expanded}`).toBeLessThanOrEqual(2 * m.uncertainty!.expanded);
    return off <= m.uncertainty!.expanded;
  });
  expect(within.length).toBeGreaterThanOrEqual(4);
}

/** |found − truth| ≤ U, with the numbers in the message when not. */
function expectWithinU(m: MeasurementRecord | undefined, value: number, truth: number): void {
  expect(m, 'measurement').toBeDefined();
  const U = m!.uncertainty!.expanded;
  expect(Math.abs(value - truth), `${m!.id}: ${value} vs truth ${truth}, U = ${U}`).toBeLessThanOrEqual(U);
}

const POINTS = [-30, 0, 25, 50, 80];
const ideal = idealWorld(envNode);

describe('parseInjection', () => {
  it('reads CHANNEL:KIND=VALUE, several kinds separated by commas', () => {
    expect(parseInjection('temperature:offset=3')).toEqual([{ channel: 'temperature', kind: 'offset', value: 3 }]);
    expect(parseInjection('temperature:lag=20,noise=0.05')).toEqual([
      { channel: 'temperature', kind: 'lag', value: 20 },
      { channel: 'temperature', kind: 'noise', value: 0.05 },
    ]);
    expect(parseInjection('pressure:drift=-12.5')).toEqual([{ channel: 'pressure', kind: 'drift', value: -12.5 }]);
  });

  it('refuses anything else with one line', () => {
    expect(() => parseInjection('temperature:bias=1')).toThrow(/^inject: unknown kind "bias" in "temperature:bias=1" \(kinds: gain, nonlinearity, offset, drift, hysteresis, lag, noise\)$/);
    expect(() => parseInjection('offset=3')).toThrow(/expected CHANNEL:KIND=VALUE/);
    expect(() => parseInjection('temperature:offset=abc')).toThrow(/inject.value: expected a finite number/);
    expect(() => parseInjection('temperature:lag=0')).toThrow(/lag must be above 0 s, got 0/);
    expect(() => parseInjection('temperature:noise=-1')).toThrow(/noise must be 0 or more/);
  });

  it('an input the emulation lacks is refused when the target opens, naming the inputs', async () => {
    const target = createEmulatedTarget({ device: 'examples/env-node', seed: 1, inject: parseInjection('humdity:offset=1') });
    await expect(target.open()).rejects.toThrow(/inject\.humdity: no physical input "humdity" on this emulated target \(inputs: temperature, humidity, pressure\)/);
  });
});

describe('each method recovers each declared truth within its stated U', () => {
  it('offset: the accuracy method finds +0.3 Cel at every point, and the record names the truth', async () => {
    const record = await run(ideal, [{ id: 'accuracy', steps: [{ kind: 'accuracy', channel: 'temperature', points: POINTS, readings: 5 }] }], parseInjection('temperature:offset=0.3,noise=0.05'));
    expect(record.injected).toEqual([
      { channel: 'temperature', kind: 'offset', value: 0.3 },
      { channel: 'temperature', kind: 'noise', value: 0.05 },
    ]);
    expectPointsWithinU(record, () => 0.3);
    for (const m of record.phases[0]!.measurements) expect(m.outcome).toBe('pass');
  });

  it('gain: the accuracy method finds (g − 1)·x at each point', async () => {
    const record = await run(ideal, [{ id: 'accuracy', steps: [{ kind: 'accuracy', channel: 'temperature', points: POINTS, readings: 5 }] }], parseInjection('temperature:gain=1.005,noise=0.05'));
    expectPointsWithinU(record, (point) => 0.005 * point);
  });

  it('nonlinearity: the linearity method finds the bow, terminal-based, in % of the range', async () => {
    const bow = 0.6;
    const record = await run(ideal, [{ id: 'linearity', steps: [{ kind: 'linearity', channel: 'temperature', points: POINTS, readings: 5 }] }], parseInjection(`temperature:nonlinearity=${bow},noise=0.02`));
    // The error at x: b·(1 − u²) over −40 … 85 °C; its largest deviation from the line through the end points.
    const error = (x: number) => bow * (1 - ((2 * x - 45) / 125) ** 2);
    const [low, high] = [POINTS[0]!, POINTS[POINTS.length - 1]!];
    const line = (x: number) => error(low) + ((error(high) - error(low)) * (x - low)) / (high - low);
    const truth = (Math.max(...POINTS.map((x) => Math.abs(error(x) - line(x)))) / 125) * 100;
    const m = measured(record).get('linearity-terminal')!;
    expect(m.unit).toBe('%');
    expectWithinU(m, m.value!, truth);
  });

  it('hysteresis: the hysteresis method finds down − up = h over 3 cycles', async () => {
    const record = await run(ideal, [{ id: 'hysteresis', steps: [{ kind: 'hysteresis', channel: 'temperature', points: [0, 25, 50], cycles: 3, readings: 3 }] }], parseInjection('temperature:hysteresis=0.4,noise=0.03'));
    const found = measured(record);
    expectWithinU(found.get('hysteresis-difference'), found.get('hysteresis-difference')!.value!, 0.4);
    expectWithinU(found.get('hysteresis'), found.get('hysteresis')!.value!, (0.4 / 125) * 100);
    // The loop for the report: up and down legs against the reference.
    expect(found.get('hysteresis')!.series!.map((s) => [s.name, s.axis])).toEqual([
      ['up', 'reference'],
      ['down', 'reference'],
    ]);
  });

  it('lag: the step response of an unfiltered channel gives t63 = τ', async () => {
    const record = await run(idealWorld(unfiltered), [{ id: 'response', steps: [{ kind: 'step-response', channel: 'temperature', from: 20, to: 30, durationMs: 200_000 }] }], parseInjection('temperature:lag=20,noise=0.02'));
    const found = measured(record);
    const t63 = found.get('step-response-t63')!;
    expect(t63.unit).toBe('s');
    expectWithinU(t63, t63.value!, 20);
    // t90 of a first-order lag: τ·ln 10.
    expectWithinU(found.get('step-response-t90'), found.get('step-response-t90')!.value!, 20 * Math.log(10));
  });

  it('noise: the noise method finds σ (with the reading quantization) as the RMS', async () => {
    const record = await run(idealWorld(unfiltered), [{ id: 'noise', steps: [{ kind: 'noise', channel: 'temperature', point: 25, readings: 60 }] }], parseInjection('temperature:noise=0.1'));
    const rms = measured(record).get('noise-rms')!;
    expectWithinU(rms, rms.value!, 0.1);
  });

  it('drift: the drift method finds the rate per hour over 6 h of virtual time', async () => {
    const record = await run(ideal, [{ id: 'drift', steps: [{ kind: 'drift', channel: 'temperature', point: 25, durationMs: 6 * 3600_000, readings: 3 }] }], parseInjection('temperature:drift=0.05,noise=0.05'));
    const drift = measured(record).get('drift')!;
    expect(drift.unit).toBe('Cel/h');
    expectWithinU(drift, drift.value!, 0.05);
  });

  it('repeatability: s of the readings recovers the injected σ', async () => {
    const record = await run(idealWorld(unfiltered), [{ id: 'repeatability', steps: [{ kind: 'repeatability', channel: 'temperature', point: 25, readings: 30 }] }], parseInjection('temperature:noise=0.05'));
    const m = measured(record).get('repeatability')!;
    expectWithinU(m, m.value!, 0.05);
  });
});

describe('coverage honesty over 40 seeds', () => {
  it('accuracy: ± U covers the injected offset in 90 % … 99.5 % of 200 intervals (5 points × 40 seeds)', async () => {
    let covered = 0;
    let total = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const record = await run(ideal, [{ id: 'accuracy', steps: [{ kind: 'accuracy', channel: 'temperature', points: POINTS, readings: 5 }] }], parseInjection('temperature:offset=0.3,noise=0.05'), seed);
      for (const m of record.phases[0]!.measurements) {
        total++;
        if (Math.abs(m.value! - m.reference!.value - 0.3) <= m.uncertainty!.expanded) covered++;
      }
    }
    expect(total).toBe(200);
    expect(covered / total).toBeGreaterThanOrEqual(0.9);
    expect(covered / total).toBeLessThanOrEqual(0.995);
  });

  it('step response: ± U of t63 covers τ in 90 % … 99.5 % of 40 seeds', async () => {
    let covered = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const record = await run(idealWorld(unfiltered), [{ id: 'response', steps: [{ kind: 'step-response', channel: 'temperature', from: 20, to: 30, durationMs: 200_000 }] }], parseInjection('temperature:lag=20,noise=0.05'), seed);
      const t63 = measured(record).get('step-response-t63')!;
      if (Math.abs(t63.value! - 20) <= t63.uncertainty!.expanded) covered++;
    }
    expect(covered / 40).toBeGreaterThanOrEqual(0.9);
    expect(covered / 40).toBeLessThanOrEqual(0.995);
  });
});

describe('coverage honesty over 40 seeds, more methods', () => {
  it('noise: ± U of the RMS covers σ in 90 % … 99.5 % of 40 seeds', async () => {
    let covered = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const record = await run(idealWorld(unfiltered), [{ id: 'noise', steps: [{ kind: 'noise', channel: 'temperature', point: 25, readings: 30 }] }], parseInjection('temperature:noise=0.1'), seed);
      const rms = measured(record).get('noise-rms')!;
      if (Math.abs(rms.value! - 0.1) <= rms.uncertainty!.expanded) covered++;
    }
    expect(covered / 40).toBeGreaterThanOrEqual(0.9);
    expect(covered / 40).toBeLessThanOrEqual(0.995);
  });

  it('drift: ± U of the slope covers the declared drift in 90 % … 99.5 % of 40 seeds (1 h of virtual time each)', async () => {
    let covered = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const record = await run(ideal, [{ id: 'drift', steps: [{ kind: 'drift', channel: 'temperature', point: 25, durationMs: 3600_000, everyMs: 600_000, readings: 3 }] }], parseInjection('temperature:drift=0.05,noise=0.05'), seed);
      const drift = measured(record).get('drift')!;
      if (Math.abs(drift.value! - 0.05) <= drift.uncertainty!.expanded) covered++;
    }
    expect(covered / 40).toBeGreaterThanOrEqual(0.9);
    expect(covered / 40).toBeLessThanOrEqual(0.995);
  });

  it('hysteresis: ± U of down − up covers h in 90 % … 99.5 % of 40 seeds', async () => {
    let covered = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const record = await run(ideal, [{ id: 'hysteresis', steps: [{ kind: 'hysteresis', channel: 'temperature', points: [0, 50], cycles: 3, readings: 2 }] }], parseInjection('temperature:hysteresis=0.4,noise=0.05'), seed);
      const difference = measured(record).get('hysteresis-difference')!;
      if (Math.abs(difference.value! - 0.4) <= difference.uncertainty!.expanded) covered++;
    }
    expect(covered / 40).toBeGreaterThanOrEqual(0.9);
    expect(covered / 40).toBeLessThanOrEqual(0.995);
  });
});

describe('coverage honesty over 40 seeds, linearity', () => {
  /** The declared bow b·(1 − u²) over −40 … 85 °C, and its largest deviation from a line through the points, in % of the range. */
  const bow = 0.6;
  const error = (x: number) => bow * (1 - ((2 * x - 45) / 125) ** 2);
  const largest = (line: (x: number) => number) => (Math.max(...POINTS.map((x) => Math.abs(error(x) - line(x)))) / 125) * 100;
  const truth = {
    // Least squares through the points.
    best: (() => {
      const n = POINTS.length;
      const xm = POINTS.reduce((a, x) => a + x, 0) / n;
      const ym = POINTS.reduce((a, x) => a + error(x), 0) / n;
      const slope = POINTS.reduce((a, x) => a + (x - xm) * (error(x) - ym), 0) / POINTS.reduce((a, x) => a + (x - xm) ** 2, 0);
      return largest((x) => ym + slope * (x - xm));
    })(),
    terminal: (() => {
      const [low, high] = [POINTS[0]!, POINTS[POINTS.length - 1]!];
      return largest((x) => error(low) + ((error(high) - error(low)) * (x - low)) / (high - low));
    })(),
  };

  it('± U of best-fit and terminal linearity covers the declared bow in 90 % … 99.5 % of 40 seeds each', async () => {
    let best = 0;
    let terminal = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const record = await run(ideal, [{ id: 'linearity', steps: [{ kind: 'linearity', channel: 'temperature', points: POINTS, readings: 3 }] }], parseInjection(`temperature:nonlinearity=${bow},noise=0.1`), seed);
      const found = measured(record);
      const b = found.get('linearity')!;
      const t = found.get('linearity-terminal')!;
      if (Math.abs(b.value! - truth.best) <= b.uncertainty!.expanded) best++;
      if (Math.abs(t.value! - truth.terminal) <= t.uncertainty!.expanded) terminal++;
    }
    for (const covered of [best, terminal]) {
      expect(covered / 40).toBeGreaterThanOrEqual(0.9);
      expect(covered / 40).toBeLessThanOrEqual(0.995);
    }
  });
});

describe('the shipped emulation, with its part error', () => {
  const accuracyPhase: PhaseSpec[] = [{ id: 'accuracy', steps: [{ kind: 'accuracy', channel: 'temperature', points: POINTS, readings: 5 }] }];

  it.each([1, 2, 3, 42, 1234])('an offset of 3 Cel against the 1 Cel MPE fails the accuracy test (seed %i)', async (seed) => {
    const record = await run('examples/env-node', accuracyPhase, parseInjection('temperature:offset=3'), seed);
    expect(record.outcome).toBe('fail');
    expect(record.phases[0]!.measurements.every((m) => m.outcome === 'fail')).toBe(true);
  });

  it.each([1, 2, 3, 42, 1234])('an offset of 0.2 Cel passes, and the error found is the offset within the part error ±0.4 Cel and U (seed %i)', async (seed) => {
    const record = await run('examples/env-node', accuracyPhase, parseInjection('temperature:offset=0.2'), seed);
    expect(record.outcome).toBe('pass');
    for (const m of record.phases[0]!.measurements) {
      expect(Math.abs(m.value! - m.reference!.value - 0.2)).toBeLessThanOrEqual(0.4 + m.uncertainty!.expanded);
    }
  });
});
