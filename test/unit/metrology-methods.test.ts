import { describe, expect, it } from 'vitest';
import { ArgumentError, UnitError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { MeasurementInput } from '../../hil/plan/spec.js';
import {
  accuracy,
  coverageFactor,
  drift,
  hysteresis,
  influenceEffect,
  judgeResult,
  linearity,
  noise,
  pointError,
  repeatability,
  resolution,
  stepResponse,
  type ReferencePoint,
} from '../../hil/metrology/index.js';

/** Readings ± a fixed scatter pattern (mean exactly the centre). */
const around = (centre: number, scatter = 0.01): number[] => [centre - scatter, centre, centre + scatter, centre];

describe('accuracy', () => {
  const points: ReferencePoint[] = [0, 10, 20, 30, 40].map((reference) => ({ reference, readings: around(reference + 0.3 + reference * 0.001) }));
  const standard = { source: 'calibrator', certificate: { expanded: 0.05, coverageFactor: 2 }, accuracy: 0.02 };

  it('gives the error at each point with its full budget', () => {
    const result = accuracy({ unit: 'Cel', resolution: 0.01, standard, points });
    expect(result.points.map((p) => p.id)).toEqual(['error@0Cel', 'error@10Cel', 'error@20Cel', 'error@30Cel', 'error@40Cel']);
    result.points.forEach((p, i) => expect(p.value).toBeCloseTo(0.3 + i * 0.01, 12));
    expect(result.worst.id).toBe('error@40Cel');
    const point = result.points[2]!;
    expect(point).toMatchObject({ unit: 'Cel', samples: 4, reference: { value: 20, unit: 'Cel', source: 'calibrator' } });
    const budget = point.uncertainty!.budget;
    expect(budget.map((c) => [c.name, c.type, c.distribution, c.sensitivity])).toEqual([
      ['repeatability', 'A', 'normal', 1],
      ['reference certificate', 'B', 'normal', -1],
      ['reference accuracy', 'B', 'rectangular', -1],
      ['DUT resolution', 'B', 'rectangular', 1],
    ]);
    // s of (−0.01, 0, 0.01, 0) = √(0.0002/3); u_A = s/2; ν = 3.
    const uA = Math.sqrt(0.0002 / 3) / 2;
    const uc = Math.sqrt(uA ** 2 + 0.025 ** 2 + (0.02 / Math.sqrt(3)) ** 2 + 0.01 ** 2 / 12);
    expect(budget[0]!.degreesOfFreedom).toBe(3);
    expect(point.uncertainty!.combinedStandardUncertainty).toBeCloseTo(uc, 14);
    expect(point.uncertainty!.effectiveDegreesOfFreedom).toBeCloseTo(uc ** 4 / (uA ** 4 / 3), 6);
    expect(point.uncertainty!.expanded).toBeCloseTo(point.uncertainty!.coverageFactor * uc, 14);
  });

  it('converts the reference and its uncertainties through the unit registry', () => {
    const result = pointError({
      unit: 'Cel',
      reference: 293.15,
      readings: around(20.2),
      standard: { unit: 'K', certificate: { expanded: 0.05, coverageFactor: 2 } },
    });
    expect(result.id).toBe('error@293.15K');
    expect(result.value).toBeCloseTo(0.2, 10);
    expect(result.reference).toEqual({ value: expect.closeTo(20, 10), unit: 'Cel', source: 'reference' });
    expect(result.uncertainty!.budget[1]!.value).toBeCloseTo(0.05, 14);
    expect(() => pointError({ unit: 'Cel', reference: 1, readings: [1, 2], standard: { unit: 'Pa' } })).toThrow(UnitError);
  });

  it('takes single readings with a pooled repeatability', () => {
    const result = pointError({ unit: 'Pa', reference: 100, readings: [101], pooledRepeatability: { standardDeviation: 0.4, degreesOfFreedom: 19 } });
    expect(result.value).toBe(1);
    expect(result.uncertainty!.budget[0]).toMatchObject({ name: 'repeatability (pooled)', value: 0.4, divisor: 1, degreesOfFreedom: 19 });
  });

  it('refuses too few points, too few readings and NaN', () => {
    expect(() => accuracy({ unit: 'Cel', points: points.slice(0, 4) })).toThrow(/at least 5 points, got 4/);
    expect(() => accuracy({ unit: 'Cel', points: points.slice(0, 1), minimumPoints: 1 })).not.toThrow();
    expect(() => accuracy({ unit: 'Cel', points: [...points.slice(0, 4), { reference: 50, readings: [50] }] })).toThrow(
      /points\[4\]\.readings` to have at least 2 values, got 1/,
    );
    expect(() => pointError({ unit: 'Cel', reference: NaN, readings: [1, 2] })).toThrow(ArgumentError);
    expect(() => pointError({ unit: 'Cel', reference: 1, readings: [1, NaN] })).toThrow(/readings\[1\]/);
  });
});

describe('judgeResult', () => {
  const limits = { low: -1, high: 1, unit: 'Cel', basis: 'MPE ±1 Cel' };
  const at = (offset: number) => pointError({ unit: 'Cel', reference: 25, readings: around(25 + offset), resolution: 0.01, standard: { certificate: { expanded: 0.1, coverageFactor: 2 } } });

  it('a channel inside its MPE passes and one out of it fails, under a guard band w = U by default', () => {
    const inside = judgeResult(at(0.3), { time: 1000, channel: 'temperature', limits });
    expect(inside).toMatchObject({ id: 'error@25Cel', channel: 'temperature', unit: 'Cel', outcome: 'pass', decisionRule: 'ILAC-G8:09 guard band w = U', time: 1000, limits });
    expect(inside.reason).toBeUndefined();
    const outside = judgeResult(at(3), { time: 2000, channel: 'temperature', limits });
    expect(outside.outcome).toBe('fail');
    expect(outside.reason).toMatch(/^3 Cel is above the high limit 1 Cel by more than w = 0\.\d+ Cel$/);
    expect(judgeResult(at(0.98), { time: 0, limits }).outcome).toBe('conditional-pass');
    expect(judgeResult(at(1.02), { time: 0, limits }).outcome).toBe('conditional-fail');
    expect(judgeResult(at(1.02), { time: 0, limits, rule: { kind: 'simple-acceptance' } })).toMatchObject({ outcome: 'fail', decisionRule: 'ILAC-G8:09 simple acceptance' });
  });

  it('converts limits of a difference without the units’ offset (±1 K of error is ±1 Cel)', () => {
    const point = at(0.3);
    expect(point.difference).toBe(true);
    expect(judgeResult(point, { time: 0, limits: { low: -1, high: 1, unit: 'K' } }).outcome).toBe('pass');
    expect(judgeResult(at(3), { time: 0, limits: { low: -1, high: 1, unit: 'K' } }).outcome).toBe('fail');
  });

  it('records without limits, fails a missing value with its reason, and round-trips through JSON', () => {
    const recorded = judgeResult(at(0.3), { time: 5 });
    expect(recorded.outcome).toBe('recorded');
    expect(recorded.decisionRule).toBeUndefined();
    const missing = judgeResult({ id: 'step-t90', value: null, unit: 'ms', samples: 10, reason: 'the response did not reach 90 % of the step within the series' }, { time: 5, limits: { high: 500, unit: 'ms' } });
    expect(missing).toMatchObject({ outcome: 'fail', reason: 'the response did not reach 90 % of the step within the series', decisionRule: 'ILAC-G8:09 simple acceptance' });
    const record = judgeResult(at(0.3), { time: 5, limits });
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    // Without a time, for a plan step's ctx.record(), which stamps it.
    const input: MeasurementInput = judgeResult(at(0.3), { channel: 'temperature', limits });
    expect('time' in input).toBe(false);
    expect(input.outcome).toBe('pass');
  });
});

describe('linearity', () => {
  // 4–20 mA over 0–100 kPa with a bow c·x(100 − x), c = 1e-4 mA/kPa²: 0.25 mA at mid-span.
  const bow = (x: number): number => 4 + 0.16 * x + 1e-4 * x * (100 - x);
  const points = [0, 25, 50, 75, 100].map((reference) => ({ reference, readings: [bow(reference) - 0.001, bow(reference) + 0.001] }));

  it('finds terminal-based and best-fit linearity in % of span', () => {
    const result = linearity({ unit: 'mA', span: 16, points, resolution: 0.001, standard: { unit: 'kPa', certificate: { expanded: 0.02, coverageFactor: 2 } } });
    expect(result.terminal).toMatchObject({ id: 'linearity-terminal', unit: '%', samples: 10 });
    expect(result.terminal.value).toBeCloseTo((0.25 / 16) * 100, 10);
    // Best fit of a symmetric bow: the line sits at the mean bow (0.125 mA), deviations ±0.125 mA.
    expect(result.bestFit.value).toBeCloseTo((0.125 / 16) * 100, 10);
    expect(result.line.slope).toBeCloseTo(0.16, 12);
    expect(result.points.map((p) => p.terminal)).toEqual([0, expect.closeTo(0.1875, 12), expect.closeTo(0.25, 12), expect.closeTo(0.1875, 12), 0]);
    // Three points tie for the largest best-fit deviation (x = 0, 50, 100). U holds all three rivals'
    // errors at once: each at 1 − 2·0.05/3, with the budget of the one whose interval reaches
    // highest, x = 50 with leverage 0.2: u_A = s_p·√((1 − 0.2)/2), in % of 16 mA.
    const pooled = Math.sqrt(0.001 ** 2 * 2);
    const u = result.bestFit.uncertainty!;
    const typeA = u.budget[0]!;
    expect(typeA).toMatchObject({ type: 'A', degreesOfFreedom: 5 });
    expect(typeA.value).toBeCloseTo(pooled, 14);
    expect(typeA.standardUncertainty).toBeCloseTo(((pooled * Math.sqrt(0.8 / 2)) * 100) / 16, 12);
    const reference = u.budget[1]!;
    expect(reference.name).toBe('reference certificate');
    expect(reference.standardUncertainty).toBeCloseTo((0.01 * 0.16 * Math.sqrt(0.8) * 100) / 16, 10);
    expect(u.coverageProbability).toBe(0.95);
    expect(u.coverageFactor).toBeCloseTo(coverageFactor(u.effectiveDegreesOfFreedom, 1 - 0.1 / 3), 10);
    expect(u.expanded).toBeCloseTo(u.coverageFactor * u.combinedStandardUncertainty, 12);
    // One point holds the largest terminal deviation (x = 50): its plain 95 % interval.
    expect(result.terminal.uncertainty).toMatchObject({ coverageFactor: 2, coverageProbability: 0.95 });
  });

  it('uses the measured output span by default and sorts points by reference', () => {
    const result = linearity({ unit: 'mA', points: [...points].reverse() });
    expect(result.span).toBeCloseTo(16, 12);
    expect(result.terminal.value).toBeCloseTo((0.25 / 16) * 100, 10);
  });

  it('a straight line has zero linearity', () => {
    const line = [0, 1, 2, 3].map((x) => ({ reference: x, readings: [2 * x + 1, 2 * x + 1] }));
    const result = linearity({ unit: 'V', points: line });
    expect(result.bestFit.value).toBeCloseTo(0, 12);
    expect(result.terminal.value).toBeCloseTo(0, 12);
  });

  it('refuses too few or coincident points', () => {
    expect(() => linearity({ unit: 'mA', points: points.slice(0, 2) })).toThrow(/at least 3 points, got 2/);
    expect(() => linearity({ unit: 'mA', points: [1, 1, 1].map((reference) => ({ reference, readings: [1, 2] })) })).toThrow(/2 distinct reference values/);
    expect(() => linearity({ unit: 'mA', points, span: 0 })).toThrow(/`span`/);
  });
});

describe('hysteresis', () => {
  const references = [0, 50, 100];
  const cycle = (h: number, jitter: number) => ({ up: references.map((r) => r - h + jitter), down: references.map((r) => (r === 100 ? r : r + h)) });

  it('gives the largest mean down − up difference in % of span and in the unit', () => {
    const result = hysteresis({ unit: 'Pa', references, span: 100, resolution: 0.01, cycles: [cycle(0.2, 0), cycle(0.2, 0.02), cycle(0.2, -0.02)] });
    expect(result.points.map((p) => p.difference)).toEqual([expect.closeTo(0.4, 12), expect.closeTo(0.4, 12), expect.closeTo(0.2, 12)]);
    expect(result.difference).toMatchObject({ id: 'hysteresis-difference', unit: 'Pa', samples: 18 });
    expect(result.difference.value).toBeCloseTo(0.4, 12);
    expect(result.hysteresis).toMatchObject({ id: 'hysteresis', unit: '%' });
    expect(result.hysteresis.value).toBeCloseTo(0.4, 12);
    const budget = result.difference.uncertainty!.budget;
    expect(budget.map((c) => c.name)).toEqual(['cycle-to-cycle scatter of the difference', 'DUT resolution (downscale reading)', 'DUT resolution (upscale reading)']);
    expect(budget[0]).toMatchObject({ type: 'A', degreesOfFreedom: 2 });
    expect(budget[0]!.value).toBeCloseTo(0.02, 12);
  });

  it('adds the reference re-setting with the gain of the readings', () => {
    const result = hysteresis({ unit: 'Pa', references, referenceSetting: 0.03, cycles: [cycle(0.2, 0), cycle(0.2, 0), cycle(0.2, 0)] });
    const setting = result.difference.uncertainty!.budget.filter((c) => c.name.startsWith('reference setting'));
    expect(setting).toHaveLength(2);
    expect(setting[0]!.standardUncertainty).toBeCloseTo((0.03 / Math.sqrt(3)) * Math.abs(setting[0]!.sensitivity), 14);
    expect(Math.abs(setting[0]!.sensitivity)).toBeCloseTo(1, 2);
  });

  it('refuses fewer than 3 cycles and mismatched lengths', () => {
    expect(() => hysteresis({ unit: 'Pa', references, cycles: [cycle(0.2, 0), cycle(0.2, 0)] })).toThrow(/at least 3 up\/down cycles, got 2/);
    const short = { up: [0, 50], down: [0, 50, 100] };
    expect(() => hysteresis({ unit: 'Pa', references, cycles: [cycle(0.2, 0), cycle(0.2, 0), short] })).toThrow(
      /`cycles\[2\]\.up` to have as many values as `references` \(3\), got 2/,
    );
    expect(() => hysteresis({ unit: 'Pa', references: [1, 1], cycles: [0, 1, 2].map(() => ({ up: [1, 1], down: [1, 1] })) })).toThrow(ArgumentError);
  });
});

describe('repeatability', () => {
  it('is s of at least 10 readings with u(s) = s/√(2(n − 1)) and the exact k of a standard deviation', () => {
    const readings = [20.1, 20.2, 20.1, 20.0, 20.2, 20.1, 20.1, 20.2, 20.0, 20.1];
    const result = repeatability({ unit: 'Cel', readings });
    const m = 20.11;
    const s = Math.sqrt(readings.reduce((sum, x) => sum + (x - m) ** 2, 0) / 9);
    expect(result).toMatchObject({ id: 'repeatability', unit: 'Cel', samples: 10 });
    expect(result.value).toBeCloseTo(s, 14);
    expect(result.mean).toBeCloseTo(m, 12);
    expect(result.uncertainty!.combinedStandardUncertainty).toBeCloseTo(s / Math.sqrt(18), 14);
    expect(result.uncertainty!.effectiveDegreesOfFreedom).toBe(9);
    expect(result.uncertainty!.coverageFactor).toBeCloseTo(2.737, 3);
    expect(result.uncertainty!.expanded).toBeCloseTo((2.7373 * s) / Math.sqrt(18), 4);
  });

  it('refuses n < 10', () => {
    expect(() => repeatability({ unit: 'Cel', readings: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).toThrow(/at least 10 values, got 9/);
  });
});

describe('noise', () => {
  it('recovers σ as RMS about the mean, within U, and gives peak-to-peak', () => {
    const random = new SeededRandom(7);
    const readings = Array.from({ length: 2000 }, () => 101_325 + random.gaussian(0, 0.5));
    const { rms, peakToPeak, mean } = noise({ unit: 'Pa', readings });
    expect(Math.abs(rms.value! - 0.5)).toBeLessThan(rms.uncertainty!.expanded);
    expect(rms.uncertainty!.expanded).toBeLessThan(0.05);
    expect(peakToPeak.value).toBeCloseTo(Math.max(...readings) - Math.min(...readings), 12);
    expect(peakToPeak.uncertainty).toBeUndefined();
    const m = readings.reduce((a, b) => a + b) / readings.length;
    expect(rms.value).toBeCloseTo(Math.sqrt(readings.reduce((sum, x) => sum + (x - m) ** 2, 0) / 1999), 12);
    expect(mean).toBeCloseTo(101_325, 1);
  });

  it('takes a long series (a day at 10 Hz) without overflowing the stack', () => {
    const readings = Array.from({ length: 864_000 }, (_, i) => (i % 7) * 0.1);
    const { peakToPeak } = noise({ unit: 'V', readings });
    expect(peakToPeak.value).toBeCloseTo(0.6, 12);
    const time = readings.map((_, i) => i * 100);
    const step = stepResponse({ time, readings: time.map((t) => (t < 1000 ? 0 : 1)), unit: 'V', step: { time: 1000, from: 0, to: 1 } });
    expect(step.overshoot.value).toBe(0);
  });

  it('refuses fewer than 10 readings', () => {
    expect(() => noise({ unit: 'Pa', readings: [1, 2, 3] })).toThrow(/at least 10 values, got 3/);
  });
});

describe('resolution', () => {
  it('finds the smallest step between reading values and keeps the declared one as the reference', () => {
    const random = new SeededRandom(3);
    const readings = Array.from({ length: 200 }, () => Math.round((20 + random.gaussian(0, 0.2)) / 0.05) * 0.05);
    const result = resolution({ unit: 'Cel', readings, declared: 0.05 });
    expect(result.value).toBeCloseTo(0.05, 9);
    expect(result.reference).toEqual({ value: 0.05, unit: 'Cel', source: 'declared resolution' });
    const coarse = resolution({ unit: 'Cel', readings: readings.map((x) => Math.round(x * 5) / 5), declared: 0.05 });
    expect(coarse.value).toBeCloseTo(0.2, 9);
    expect(judgeResult(coarse, { time: 0, limits: { high: 0.05, unit: 'Cel' } }).outcome).toBe('fail');
  });

  it('gives no value when all readings are equal', () => {
    expect(resolution({ unit: 'Cel', readings: [1, 1, 1] })).toMatchObject({ value: null, reason: 'all readings are equal: no step seen' });
    expect(() => resolution({ unit: 'Cel', readings: [1] })).toThrow(ArgumentError);
    expect(() => resolution({ unit: 'Cel', readings: [1, 2], declared: 0 })).toThrow(ArgumentError);
  });
});

describe('drift', () => {
  it('recovers a slope per hour within its expanded uncertainty', () => {
    const random = new SeededRandom(11);
    const time = Array.from({ length: 49 }, (_, i) => i * 300_000); // 4 h, every 5 min
    const readings = time.map((t) => 20 + 0.05 * (t / 3_600_000) + random.gaussian(0, 0.02));
    const result = drift({ unit: 'Cel', time, readings });
    expect(result).toMatchObject({ id: 'drift', unit: 'Cel/h', samples: 49 });
    expect(Math.abs(result.value! - 0.05)).toBeLessThan(result.uncertainty!.expanded);
    expect(result.uncertainty!.effectiveDegreesOfFreedom).toBeCloseTo(47, 9);
    expect(result.uncertainty!.coverageFactor).toBeCloseTo(2.0117, 4); // t(0.975, 47), not t(0.975, 46)
    // σ/√Sxx with Sxx in h²: about 0.02/√(49·(4 h)²/12) = 0.0025 Cel/h.
    expect(result.uncertainty!.combinedStandardUncertainty).toBeCloseTo(0.0025, 3);
  });

  it('refuses mismatched lengths, too few points and constant time', () => {
    expect(() => drift({ unit: 'Cel', time: [0, 1, 2], readings: [1, 2] })).toThrow(ArgumentError);
    expect(() => drift({ unit: 'Cel', time: [0, 1], readings: [1, 2] })).toThrow(/at least 3 values, got 2/);
    expect(() => drift({ unit: 'Cel', time: [5, 5, 5], readings: [1, 2, 3] })).toThrow(/`time` to have at least 2 distinct values/);
  });
});

describe('stepResponse', () => {
  const time = Array.from({ length: 300 }, (_, i) => i * 100);
  const firstOrder = time.map((t) => (t < 1000 ? 20 : 30 - 10 * Math.exp(-(t - 1000) / 2000)));

  it('finds t63 = τ, t90 = τ·ln 10 and the settling time into ±2 % = τ·ln 50 of a first-order sensor', () => {
    const result = stepResponse({ time, readings: firstOrder, unit: 'Cel', step: { time: 1000, from: 20, to: 30 } });
    expect(result.t63).toMatchObject({ id: 'step-t63', unit: 'ms' });
    for (const [r, expected] of [
      [result.t63, 2000],
      [result.t90, 2000 * Math.log(10)],
      [result.settlingTime, 2000 * Math.log(50)],
    ] as const) {
      // Interpolation corrected for the curvature: well under a millisecond off, and within U.
      expect(Math.abs(r.value! - expected)).toBeLessThan(0.5);
      expect(Math.abs(r.value! - expected)).toBeLessThanOrEqual(r.uncertainty!.expanded);
      expect(r.uncertainty!.expanded).toBeLessThan(2);
    }
    expect(result.overshoot.value).toBe(0);
    expect(result.series).toMatchObject({ name: 'step response', unit: 'Cel' });
    expect(result.series.time[0]).toBe(900); // the last sample before the step
    expect(result.series.time).toHaveLength(result.series.value.length);
  });

  it('measures the overshoot of an underdamped response (ζ = 0.5: 16.3 %) and works for a falling step', () => {
    const zeta = 0.5;
    const omega = 2 * Math.PI * 0.5; // rad/s
    const damped = omega * Math.sqrt(1 - zeta ** 2);
    const fine = Array.from({ length: 3000 }, (_, i) => i * 5);
    const readings = fine.map((t) => {
      if (t < 100) return 10;
      const s = (t - 100) / 1000;
      const g = 1 - Math.exp(-zeta * omega * s) * (Math.cos(damped * s) + (zeta / Math.sqrt(1 - zeta ** 2)) * Math.sin(damped * s));
      return 10 - 5 * g;
    });
    const result = stepResponse({ time: fine, readings, unit: 'V', resolution: 0.001, step: { time: 100, from: 10, to: 5 } });
    const expected = 100 * Math.exp((-Math.PI * zeta) / Math.sqrt(1 - zeta ** 2));
    expect(result.overshoot.value).toBeCloseTo(expected, 1);
    // The resolution enters through the parabola's vertex: 100/|step| = 20 %/V times √Σ(∂vertex/∂yᵢ)², about 1.
    const resolutionInput = result.overshoot.uncertainty!.budget.find((c) => c.name === 'DUT resolution at the peak')!;
    expect(resolutionInput.value).toBeCloseTo(0.0005, 12);
    expect(resolutionInput.sensitivity).toBeGreaterThan(15);
    expect(resolutionInput.sensitivity).toBeLessThan(40);
    expect(Math.abs(result.overshoot.value! - expected)).toBeLessThan(result.overshoot.uncertainty!.expanded);
    expect(result.settlingTime.value).toBeGreaterThan(result.t90.value!);
  });

  it('uses a given noise σ or estimates it from the last quarter, and widens U with it', () => {
    const random = new SeededRandom(9);
    const noisy = firstOrder.map((y) => y + random.gaussian(0, 0.05));
    const step = { time: 1000, from: 20, to: 30 };
    const estimated = stepResponse({ time, readings: noisy, unit: 'Cel', step });
    const given = stepResponse({ time, readings: noisy, unit: 'Cel', step, noise: 0.05 });
    const noiseInput = (r: typeof given) => r.t63.uncertainty!.budget.find((c) => c.name === 'noise at the crossing')!;
    expect(noiseInput(given)).toMatchObject({ value: 0.05, degreesOfFreedom: null });
    expect(noiseInput(estimated).value).toBeCloseTo(0.05, 1);
    expect(noiseInput(estimated).degreesOfFreedom).toBe(73); // 75 samples in the last quarter, less 2
    expect(given.t63.uncertainty!.expanded).toBeGreaterThan(20);
    expect(Math.abs(given.t63.value! - 2000)).toBeLessThan(given.t63.uncertainty!.expanded);
    expect(() => stepResponse({ time, readings: noisy, unit: 'Cel', step, noise: -1 })).toThrow(/`noise`/);
  });

  it('gives no value, with a reason, when the response does not reach or settle', () => {
    const slow = time.map((t) => (t < 1000 ? 20 : 20 + 7 * (1 - Math.exp(-(t - 1000) / 2000))));
    const result = stepResponse({ time, readings: slow, unit: 'Cel', step: { time: 1000, from: 20, to: 30 } });
    expect(result.t63.value).not.toBeNull();
    expect(result.t90).toMatchObject({ value: null, reason: 'the response did not reach 90 % of the step within the series' });
    expect(result.settlingTime).toMatchObject({ value: null, reason: 'the response did not settle within ±0.2 Cel of 30 Cel within the series' });
  });

  it('refuses bad series', () => {
    const step = { time: 0, from: 0, to: 1 };
    expect(() => stepResponse({ time: [0, 1, 1], readings: [0, 1, 1], unit: 'V', step })).toThrow(/increase strictly/);
    expect(() => stepResponse({ time: [0, 1, 2], readings: [0, 1], unit: 'V', step })).toThrow(ArgumentError);
    expect(() => stepResponse({ time: [0, 1, 2], readings: [0, 1, 1], unit: 'V', step: { time: 0, from: 1, to: 1 } })).toThrow(/differ/);
    expect(() => stepResponse({ time: [0, 1, 2], readings: [0, 1, 1], unit: 'V', step: { time: 5, from: 0, to: 1 } })).toThrow(/after `step.time`/);
  });
});

describe('influenceEffect', () => {
  it('gives the change of the mean under each condition with the uncertainty of both means', () => {
    const baseline = around(12, 0.002);
    const result = influenceEffect({
      unit: 'mA',
      baseline,
      resolution: 0.001,
      conditions: [
        { name: '20.4V', readings: around(11.996, 0.002) },
        { name: '28.8V', readings: around(12.001, 0.002) },
      ],
    });
    expect(result.conditions.map((c) => c.id)).toEqual(['change@20.4V', 'change@28.8V']);
    expect(result.worst.id).toBe('change@20.4V');
    expect(result.worst.value).toBeCloseTo(-0.004, 12);
    expect(result.worst.reference).toEqual({ value: expect.closeTo(12, 12), unit: 'mA', source: 'mean reading at the reference condition' });
    const budget = result.worst.uncertainty!.budget;
    expect(budget.map((c) => c.sensitivity)).toEqual([1, -1, 1, -1]);
    // Two equal type A inputs with ν = 3 each and two type B: ν_eff from Welch–Satterthwaite.
    const uA = Math.sqrt((2 * 0.002 ** 2) / 3) / 2;
    const uc = Math.sqrt(2 * uA ** 2 + (2 * 0.001 ** 2) / 12);
    expect(result.worst.uncertainty!.combinedStandardUncertainty).toBeCloseTo(uc, 14);
    expect(result.worst.uncertainty!.effectiveDegreesOfFreedom).toBeCloseTo(uc ** 4 / ((2 * uA ** 4) / 3), 6);
  });

  it('refuses no conditions, duplicate names and too few readings', () => {
    expect(() => influenceEffect({ unit: 'V', baseline: [1, 2], conditions: [] })).toThrow(/at least 1 condition/);
    const c = { name: 'a', readings: [1, 2] };
    expect(() => influenceEffect({ unit: 'V', baseline: [1, 2], conditions: [c, c] })).toThrow(/unique/);
    expect(() => influenceEffect({ unit: 'V', baseline: [1], conditions: [c] })).toThrow(/`baseline` to have at least 2 values/);
    expect(() => influenceEffect({ unit: 'V', baseline: [1, 2], conditions: [{ name: 'b', readings: [1] }] })).toThrow(/conditions\[0\]\.readings/);
  });
});
