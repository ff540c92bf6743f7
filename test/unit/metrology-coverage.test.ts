/**
 * Honesty of the stated uncertainty, shown numerically: simulated runs with a known truth (an
 * offset, a drift, a noise σ) and a reference with a known certificate uncertainty; the fraction of
 * runs whose interval estimate ± U covers the truth must be close to the stated 95 %.
 *
 * Acceptance band: 93 % … 97 % over 2000 runs per case. For a true coverage of 95 % the binomial
 * standard deviation over 2000 runs is 0.49 %, so the band is ±4 standard deviations: a correct U
 * stays inside it and one 2 % too optimistic or too pessimistic falls outside. Forty runs are too
 * few for a two-sided check: with an honest U, P(at most 35 of 40 covered) = 4.8 % and P(all 40
 * covered) = 12.9 %, so a 90 % … 99.5 % band over 40 seeds rejects a correct U one time in six.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../sdk/core/random.js';
import {
  binomialCdf,
  coverageBand,
  drift,
  hysteresis,
  influenceEffect,
  linearity,
  noise,
  pointError,
  repeatability,
  stepResponse,
  type ReferenceStandard,
} from '../../hil/metrology/index.js';

const RUNS = 2000;
const BAND = { low: 0.93, high: 0.97 };

interface Outcome {
  /** Fraction of runs with |estimate − truth| ≤ U. */
  readonly coverage: number;
  /** The same with U replaced by 2·u_c (k = 2 whatever ν_eff). */
  readonly coverageK2: number;
  readonly meanK: number;
}

/** Runs `simulate` RUNS times on one seeded generator; each run returns |estimate − truth|, u_c and U. */
function coverage(seed: number, runs: number, simulate: (random: SeededRandom) => { error: number; uc: number; U: number; k: number }): Outcome {
  const random = new SeededRandom(seed);
  let covered = 0;
  let coveredK2 = 0;
  let sumK = 0;
  for (let run = 0; run < runs; run++) {
    const { error, uc, U, k } = simulate(random);
    if (error <= U) covered++;
    if (error <= 2 * uc) coveredK2++;
    sumK += k;
  }
  return { coverage: covered / runs, coverageK2: coveredK2 / runs, meanK: sumK / runs };
}

/** A DUT reading truth + offset + N(0, σ) (rounded to `resolution`), against a reference whose own error follows its certificate (and accuracy). */
function accuracyRun(options: { n: number; sigma: number; certificate: number; accuracy?: number; resolution?: number; offset?: number }) {
  const offset = options.offset ?? 0.3;
  const standard: ReferenceStandard = {
    certificate: { expanded: options.certificate, coverageFactor: 2 },
    ...(options.accuracy === undefined ? {} : { accuracy: options.accuracy }),
  };
  return (random: SeededRandom) => {
    const truth = 25;
    let referenceError = random.gaussian(0, options.certificate / 2);
    if (options.accuracy !== undefined) referenceError += (2 * random.next() - 1) * options.accuracy;
    let readings = Array.from({ length: options.n }, () => truth + offset + random.gaussian(0, options.sigma));
    const r = options.resolution;
    if (r !== undefined) readings = readings.map((x) => Math.round(x / r) * r);
    const result = pointError({ unit: 'Cel', reference: truth + referenceError, readings, standard, ...(r === undefined ? {} : { resolution: r }) });
    const u = result.uncertainty!;
    return { error: Math.abs(result.value! - offset), uc: u.combinedStandardUncertainty, U: u.expanded, k: u.coverageFactor };
  };
}

describe('the acceptance band itself', () => {
  it('rejects an honest U in under 0.1 % of checks over 2000 runs', () => {
    const band = coverageBand(RUNS, 0.95, 0.001);
    expect(band).toMatchObject({ low: 1867, high: 1931 });
    expect(BAND.low * RUNS).toBeLessThanOrEqual(band.low);
    expect(BAND.high * RUNS).toBeGreaterThanOrEqual(band.high);
    const risk = binomialCdf(BAND.low * RUNS - 1, RUNS, 0.95) + 1 - binomialCdf(BAND.high * RUNS, RUNS, 0.95);
    expect(risk).toBeLessThan(0.001);
  });

  it('shows why 40 runs are too few: an honest U covers all 40 in 12.9 % of checks and at most 35 in 4.8 %', () => {
    expect(1 - binomialCdf(39, 40, 0.95)).toBeCloseTo(0.95 ** 40, 12);
    expect(0.95 ** 40).toBeCloseTo(0.1285, 4);
    expect(binomialCdf(35, 40, 0.95)).toBeCloseTo(0.048, 3);
    // At a 1 % risk, no count of 40 is rare enough on the high side: a U too large passes.
    expect(coverageBand(40, 0.95, 0.01)).toMatchObject({ low: 34, high: 40 });
  });

  it('binomialCdf matches a direct sum', () => {
    const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n, k - 1) * (n - k + 1)) / k);
    for (const [n, p] of [[10, 0.3], [40, 0.95], [7, 0.5]] as const) {
      let sum = 0;
      for (let k = 0; k <= n; k++) {
        sum += choose(n, k) * p ** k * (1 - p) ** (n - k);
        expect(binomialCdf(k, n, p)).toBeCloseTo(sum, 12);
      }
    }
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
  });
});

describe('accuracy: the interval error ± U covers the true error in 93–97 % of 2000 runs', () => {
  const cases: [string, Parameters<typeof accuracyRun>[0], number][] = [
    ['n = 10, repeatability and certificate alike', { n: 10, sigma: 0.1, certificate: 0.1 }, 1],
    ['n = 3, repeatability dominates (k ≈ 4.3)', { n: 3, sigma: 0.2, certificate: 0.02 }, 2],
    ['n = 5, repeatability dominates (k ≈ 2.8)', { n: 5, sigma: 0.2, certificate: 0.02 }, 3],
    ['n = 5, certificate dominates (k = 2)', { n: 5, sigma: 0.01, certificate: 0.2 }, 4],
    ['n = 3, repeatability equal to the certificate', { n: 3, sigma: 0.1, certificate: 0.1 }, 5],
    ['n = 10, with a rectangular reference accuracy', { n: 10, sigma: 0.1, certificate: 0.05, accuracy: 0.05 }, 7],
    ['n = 5, readings rounded to a 0.01 resolution', { n: 5, sigma: 0.05, certificate: 0.05, resolution: 0.01 }, 8],
  ];
  it.each(cases)('%s', (_, options, seed) => {
    const { coverage: c } = coverage(seed, RUNS, accuracyRun(options));
    expect(c).toBeGreaterThanOrEqual(BAND.low);
    expect(c).toBeLessThanOrEqual(BAND.high);
  });

  it('at small n, k from t matters: k = 2 would undercover (measured: n = 3 82.3 %, n = 5 90.0 %)', () => {
    const three = coverage(2, RUNS, accuracyRun({ n: 3, sigma: 0.2, certificate: 0.02 }));
    const five = coverage(3, RUNS, accuracyRun({ n: 5, sigma: 0.2, certificate: 0.02 }));
    expect(three.meanK).toBeGreaterThan(4);
    expect(five.meanK).toBeGreaterThan(2.6);
    expect(three.coverage).toBeGreaterThanOrEqual(BAND.low);
    expect(five.coverage).toBeGreaterThanOrEqual(BAND.low);
    // P(|t₂| ≤ 2) = 0.816 and P(|t₄| ≤ 2) = 0.884: below the band, as measured.
    expect(three.coverageK2).toBeLessThan(0.86);
    expect(five.coverageK2).toBeLessThan(BAND.low - 0.01);
  });

  it('covers in 93–97 % over 2000 seeds, one run per seed (as a plan run per seed would)', () => {
    const run = accuracyRun({ n: 10, sigma: 0.1, certificate: 0.1 });
    let covered = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      const { error, U } = run(new SeededRandom(seed));
      if (error <= U) covered++;
    }
    expect(covered / RUNS).toBeGreaterThanOrEqual(BAND.low);
    expect(covered / RUNS).toBeLessThanOrEqual(BAND.high);
  });

  it('a budget dominated by a rectangular input over-covers, as the normal approximation must (JCGM 100 G.2.3), yet stays under 99.5 %', () => {
    // The reference's error is uniform in ±0.1 and nearly all of u_c: k = 2 on a rectangle covers it whole.
    const { coverage: c } = coverage(6, RUNS, accuracyRun({ n: 10, sigma: 0.05, certificate: 0.001, accuracy: 0.1 }));
    expect(c).toBeGreaterThan(0.97);
    expect(c).toBeLessThanOrEqual(0.995);
  });
});

describe('drift: slope ± U covers the true drift in 93–97 % of 2000 runs', () => {
  it('six readings over 2.5 h (ν = 4, k = 2.78); k = 2 would undercover', () => {
    const result = coverage(20, RUNS, (random) => {
      const time = Array.from({ length: 6 }, (_, i) => i * 1_800_000);
      const readings = time.map((t) => 20 + (0.05 * t) / 3_600_000 + random.gaussian(0, 0.02));
      const d = drift({ unit: 'Cel', time, readings });
      const u = d.uncertainty!;
      return { error: Math.abs(d.value! - 0.05), uc: u.combinedStandardUncertainty, U: u.expanded, k: u.coverageFactor };
    });
    expect(result.coverage).toBeGreaterThanOrEqual(BAND.low);
    expect(result.coverage).toBeLessThanOrEqual(BAND.high);
    expect(result.coverageK2).toBeLessThan(0.9); // P(|t₄| ≤ 2) = 0.884
  });
});

describe('linearity and hysteresis: the worst deviation ± U covers the declared one in 93–97 % of 2000 runs', () => {
  it('a 4–20 mA bow of 0.25 mA at mid-span, 3 readings per point, a reference with U = 0.1 kPa', () => {
    const bow = (x: number): number => 4 + 0.16 * x + 1e-4 * x * (100 - x);
    const references = [0, 25, 50, 75, 100];
    const random = new SeededRandom(50);
    let terminal = 0;
    let bestFit = 0;
    for (let run = 0; run < RUNS; run++) {
      const points = references.map((x) => ({
        reference: x + random.gaussian(0, 0.05),
        readings: Array.from({ length: 3 }, () => bow(x) + random.gaussian(0, 0.01)),
      }));
      const result = linearity({ unit: 'mA', span: 16, points, standard: { unit: 'kPa', certificate: { expanded: 0.1, coverageFactor: 2 } } });
      // Terminal: 0.25 mA of 16 mA; best fit: 0.125 mA.
      if (Math.abs(result.terminal.value! - 1.5625) <= result.terminal.uncertainty!.expanded) terminal++;
      if (Math.abs(result.bestFit.value! - 0.78125) <= result.bestFit.uncertainty!.expanded) bestFit++;
    }
    for (const covered of [terminal, bestFit]) {
      expect(covered / RUNS).toBeGreaterThanOrEqual(BAND.low);
      expect(covered / RUNS).toBeLessThanOrEqual(BAND.high);
    }
  });

  it('a hysteresis of 0.2 Pa at mid-span over 3 cycles', () => {
    const references = [0, 50, 100];
    const loop = (x: number): number => 0.1 * Math.sin((Math.PI * x) / 100);
    const random = new SeededRandom(51);
    let covered = 0;
    for (let run = 0; run < RUNS; run++) {
      const cycles = [0, 1, 2].map(() => ({
        up: references.map((x) => x - loop(x) + random.gaussian(0, 0.02)),
        down: references.map((x) => x + loop(x) + random.gaussian(0, 0.02)),
      }));
      const result = hysteresis({ unit: 'Pa', references, span: 100, cycles });
      if (Math.abs(result.difference.value! - 0.2) <= result.difference.uncertainty!.expanded) covered++;
    }
    expect(covered / RUNS).toBeGreaterThanOrEqual(BAND.low);
    expect(covered / RUNS).toBeLessThanOrEqual(BAND.high);
  });
});

describe('influence: the change ± U covers the declared change in 93–97 % of 2000 runs', () => {
  it('a supply dip shifting the reading by −0.004 mA, 4 readings per condition (ν_eff ≈ 6)', () => {
    const result = coverage(60, RUNS, (random) => {
      const readings = (centre: number) => Array.from({ length: 4 }, () => centre + random.gaussian(0, 0.002));
      const { worst } = influenceEffect({ unit: 'mA', baseline: readings(12), conditions: [{ name: 'dip', readings: readings(11.996) }] });
      const u = worst.uncertainty!;
      return { error: Math.abs(worst.value! + 0.004), uc: u.combinedStandardUncertainty, U: u.expanded, k: u.coverageFactor };
    });
    expect(result.coverage).toBeGreaterThanOrEqual(BAND.low);
    expect(result.coverage).toBeLessThanOrEqual(BAND.high);
    expect(result.coverageK2).toBeLessThan(BAND.low);
  });
});

describe('step response: t63 ± U and t90 ± U cover τ and τ·ln 10 in 93–97 % of 2000 runs', () => {
  // A first-order sensor, τ = 2 s, step of 10 Cel, noise σ = 0.05 Cel estimated from the series'
  // tail, sampled every 100 ms or 250 ms at a random phase to the step.
  it.each([
    [80, 100],
    [81, 250],
  ])('seed %i, sampled every %i ms', (seed, interval) => {
    const random = new SeededRandom(seed);
    let t63 = 0;
    let t90 = 0;
    for (let run = 0; run < RUNS; run++) {
      const phase = random.next() * interval;
      const time = Array.from({ length: Math.ceil(20_000 / interval) }, (_, i) => i * interval + phase);
      const readings = time.map((t) => (t < 1000 ? 20 : 30 - 10 * Math.exp(-(t - 1000) / 2000)) + random.gaussian(0, 0.05));
      const result = stepResponse({ time, readings, unit: 'Cel', step: { time: 1000, from: 20, to: 30 } });
      if (Math.abs(result.t63.value! - 2000) <= result.t63.uncertainty!.expanded) t63++;
      if (result.t90.value !== null && Math.abs(result.t90.value - 2000 * Math.log(10)) <= result.t90.uncertainty!.expanded) t90++;
    }
    for (const covered of [t63, t90]) {
      expect(covered / RUNS).toBeGreaterThanOrEqual(BAND.low);
      expect(covered / RUNS).toBeLessThanOrEqual(BAND.high);
    }
  });
});

describe('overshoot of a first-order response with noise (truth 0)', () => {
  it('is conservative: the noisy maximum is allowed for, coverage 95 %–99.5 % of 2000 runs', () => {
    const random = new SeededRandom(84);
    let covered = 0;
    for (let run = 0; run < RUNS; run++) {
      const phase = random.next() * 100;
      const time = Array.from({ length: 200 }, (_, i) => i * 100 + phase);
      const readings = time.map((t) => (t < 1000 ? 20 : 30 - 10 * Math.exp(-(t - 1000) / 2000)) + random.gaussian(0, 0.05));
      const { overshoot } = stepResponse({ time, readings, unit: 'Cel', step: { time: 1000, from: 20, to: 30 } });
      if (Math.abs(overshoot.value!) <= overshoot.uncertainty!.expanded) covered++;
    }
    expect(covered / RUNS).toBeGreaterThanOrEqual(0.95);
    expect(covered / RUNS).toBeLessThanOrEqual(0.995);
  });
});

describe('step response with readings rounded to a resolution', () => {
  it('σ = 0.05 Cel, readings rounded to 0.02 Cel: t63 and t90 cover in 93–97 % of 2000 runs', () => {
    const random = new SeededRandom(82);
    let t63 = 0;
    let t90 = 0;
    for (let run = 0; run < RUNS; run++) {
      const phase = random.next() * 100;
      const time = Array.from({ length: 200 }, (_, i) => i * 100 + phase);
      const readings = time.map((t) => Math.round(((t < 1000 ? 20 : 30 - 10 * Math.exp(-(t - 1000) / 2000)) + random.gaussian(0, 0.05)) / 0.02) * 0.02);
      const result = stepResponse({ time, readings, unit: 'Cel', resolution: 0.02, step: { time: 1000, from: 20, to: 30 } });
      if (Math.abs(result.t63.value! - 2000) <= result.t63.uncertainty!.expanded) t63++;
      if (result.t90.value !== null && Math.abs(result.t90.value - 2000 * Math.log(10)) <= result.t90.uncertainty!.expanded) t90++;
    }
    for (const covered of [t63, t90]) {
      expect(covered / RUNS).toBeGreaterThanOrEqual(BAND.low);
      expect(covered / RUNS).toBeLessThanOrEqual(BAND.high);
    }
  });
});

describe('spread: s ± U covers σ in 93–97 % of 2000 runs', () => {
  it('noise RMS of 10 readings', () => {
    const result = coverage(40, RUNS, (random) => {
      const readings = Array.from({ length: 10 }, () => random.gaussian(5, 0.5));
      const { rms } = noise({ unit: 'V', readings });
      const u = rms.uncertainty!;
      return { error: Math.abs(rms.value! - 0.5), uc: u.combinedStandardUncertainty, U: u.expanded, k: u.coverageFactor };
    });
    expect(result.coverage).toBeGreaterThanOrEqual(BAND.low);
    expect(result.coverage).toBeLessThanOrEqual(BAND.high);
  });

  it('repeatability of 30 readings', () => {
    const result = coverage(41, RUNS, (random) => {
      const readings = Array.from({ length: 30 }, () => random.gaussian(100, 2));
      const r = repeatability({ unit: 'Pa', readings });
      const u = r.uncertainty!;
      return { error: Math.abs(r.value! - 2), uc: u.combinedStandardUncertainty, U: u.expanded, k: u.coverageFactor };
    });
    expect(result.coverage).toBeGreaterThanOrEqual(BAND.low);
    expect(result.coverage).toBeLessThanOrEqual(BAND.high);
  });
});
