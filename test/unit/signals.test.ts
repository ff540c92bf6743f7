import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import {
  constant,
  drift,
  firstOrderLag,
  gaussianNoise,
  hysteresis,
  nonLinearity,
  ramp,
  settable,
  sine,
  step,
  sum,
  thermistorDivider,
} from '../../boards/emulated/signals.js';

const T0 = Date.UTC(2026, 0, 1);

describe('basic signals', () => {
  it('constant, step and sum', () => {
    expect(constant(3.3).valueAt(T0)).toBe(3.3);
    const s = step({ before: 1, after: 5, atMs: T0 + 100 });
    expect([s.valueAt(T0), s.valueAt(T0 + 99.9), s.valueAt(T0 + 100), s.valueAt(T0 + 200)]).toEqual([1, 1, 5, 5]);
    expect(sum(constant(1), constant(2), s).valueAt(T0 + 150)).toBe(8);
  });

  it('ramp starts at `start`, or at the first call when no start is given', () => {
    const fixed = ramp({ from: 20, slopePerSecond: 0.5, start: T0 + 1000 });
    expect(fixed.valueAt(T0)).toBe(20);
    expect(fixed.valueAt(T0 + 3000)).toBeCloseTo(21, 12);
    const lazy = ramp({ from: -1, slopePerSecond: -2 });
    expect(lazy.valueAt(T0 + 500)).toBe(-1);
    expect(lazy.valueAt(T0 + 1500)).toBeCloseTo(-3, 12);
  });

  it('sine has its period and phase at epoch times without precision loss', () => {
    const s = sine({ offset: 1, amplitude: 2, periodMs: 20 });
    // T0 is a whole number of periods after the epoch.
    expect(s.valueAt(T0)).toBeCloseTo(1, 12);
    expect(s.valueAt(T0 + 5)).toBeCloseTo(3, 12);
    expect(s.valueAt(T0 + 15)).toBeCloseTo(-1, 12);
    const shifted = sine({ offset: 0, amplitude: 1, periodMs: 1000, phase: Math.PI / 2 });
    expect(shifted.valueAt(T0)).toBeCloseTo(1, 12);
  });

  it('settable returns what was set', () => {
    const s = settable(4);
    expect(s.valueAt(T0)).toBe(4);
    s.set(-2.5);
    expect(s.value).toBe(-2.5);
    expect(s.valueAt(T0 + 1)).toBe(-2.5);
    expect(() => s.set(Number.NaN)).toThrow(ArgumentError);
  });

  it('nonLinearity evaluates the polynomial, constant term first', () => {
    const input = settable(2);
    const poly = nonLinearity(input, { coefficients: [1, 0.5, -0.25] });
    expect(poly.valueAt(T0)).toBeCloseTo(1 + 1 - 1, 12);
    input.set(-4);
    expect(poly.valueAt(T0)).toBeCloseTo(1 - 2 - 4, 12);
  });

  it('drift adds ratePerHour from start', () => {
    const d = drift(constant(4), { ratePerHour: 0.002, start: T0 });
    expect(d.valueAt(T0 - 1000)).toBe(4);
    expect(d.valueAt(T0 + 1_800_000)).toBeCloseTo(4.001, 12);
  });
});

describe('stateful signals', () => {
  it('firstOrderLag follows the exact exponential, independent of the call rate', () => {
    const input = step({ before: 0, after: 10, atMs: T0 });
    const coarse = firstOrderLag(input, { timeConstantMs: 1000, initial: 0 });
    const fine = firstOrderLag(input, { timeConstantMs: 1000, initial: 0 });
    coarse.valueAt(T0 - 1);
    fine.valueAt(T0 - 1);
    for (let t = 0; t <= 1000; t += 10) fine.valueAt(T0 + t);
    // Each call holds the input until the next: both see the step from T0 on.
    expect(coarse.valueAt(T0)).toBe(0);
    expect(coarse.valueAt(T0 + 1000)).toBeCloseTo(10 * (1 - Math.exp(-1)), 9);
    expect(fine.valueAt(T0 + 1000)).toBeCloseTo(10 * (1 - Math.exp(-1)), 9);
  });

  it('firstOrderLag starts settled at the input without `initial`', () => {
    const lag = firstOrderLag(constant(7), { timeConstantMs: 50 });
    expect(lag.valueAt(T0)).toBe(7);
    expect(lag.valueAt(T0 + 10)).toBe(7);
  });

  it('gaussianNoise has the stated sigma, repeats per seed, and holds one value per instant', () => {
    const make = (seed: number) => gaussianNoise(constant(2), { sigma: 0.1, random: new SeededRandom(seed).fork('A0') });
    const a = make(1);
    const b = make(1);
    const c = make(2);
    const values: number[] = [];
    for (let i = 0; i < 4000; i++) values.push(a.valueAt(T0 + i));
    for (let i = 0; i < 4000; i++) expect(b.valueAt(T0 + i)).toBe(values[i]);
    expect(c.valueAt(T0)).not.toBe(values[0]);
    const mean = values.reduce((x, y) => x + y, 0) / values.length;
    const sd = Math.sqrt(values.reduce((x, y) => x + (y - mean) ** 2, 0) / values.length);
    expect(mean).toBeCloseTo(2, 2);
    expect(sd).toBeGreaterThan(0.095);
    expect(sd).toBeLessThan(0.105);
    expect(a.valueAt(T0 + 3999)).toBe(values[3999]);
  });

  it('hysteresis has play of the stated width in both directions', () => {
    const input = settable(0);
    const h = hysteresis(input, { width: 1 });
    expect(h.valueAt(T0)).toBe(0);
    input.set(0.4);
    expect(h.valueAt(T0)).toBe(0); // inside the play
    input.set(2);
    expect(h.valueAt(T0)).toBe(1.5); // dragged, half the width behind
    input.set(1.2);
    expect(h.valueAt(T0)).toBe(1.5); // reversing crosses the play first
    input.set(0);
    expect(h.valueAt(T0)).toBe(0.5);
  });

  it('rejects bad options with precise messages', () => {
    expect(() => sine({ offset: 0, amplitude: 1, periodMs: 0 })).toThrow('Expected `periodMs` to be a finite number above 0, got 0');
    expect(() => gaussianNoise(constant(0), { sigma: -1, random: new SeededRandom(1) })).toThrow(
      'Expected `sigma` to be a finite number from 0 and up, got -1',
    );
    expect(() => firstOrderLag({} as never, { timeConstantMs: 1 })).toThrow(ArgumentError);
    expect(() => nonLinearity(constant(0), { coefficients: [] })).toThrow(ArgumentError);
  });
});

describe('thermistorDivider', () => {
  const beta = { beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000, supplyVolts: 5 };

  it('gives half the supply at T0 with equal resistors, on either side', () => {
    expect(thermistorDivider(constant(25), beta).valueAt(T0)).toBeCloseTo(2.5, 12);
    expect(thermistorDivider(constant(25), { ...beta, thermistorOnHighSide: true }).valueAt(T0)).toBeCloseTo(2.5, 12);
  });

  it('follows the β equation: the NTC falls when hot (low side: the pin voltage falls)', () => {
    const r = 10_000 * Math.exp(3950 * (1 / (85 + 273.15) - 1 / 298.15));
    expect(thermistorDivider(constant(85), beta).valueAt(T0)).toBeCloseTo((5 * r) / (r + 10_000), 12);
    expect(thermistorDivider(constant(85), { ...beta, thermistorOnHighSide: true }).valueAt(T0)).toBeCloseTo((5 * 10_000) / (r + 10_000), 12);
  });

  it('inverts Steinhart–Hart exactly', () => {
    const sh = { a: 1.009249522e-3, b: 2.378405444e-4, c: 2.019202697e-7 };
    for (const cel of [-40, 0, 25, 60, 125]) {
      const volts = thermistorDivider(constant(cel), { steinhartHart: sh, seriesOhm: 10_000, supplyVolts: 5 }).valueAt(T0);
      const r = (10_000 * volts) / (5 - volts);
      const ln = Math.log(r);
      const back = 1 / (sh.a + sh.b * ln + sh.c * ln ** 3) - 273.15;
      expect(back).toBeCloseTo(cel, 9);
    }
  });

  it('rejects both curves at once and bad coefficients', () => {
    expect(() =>
      thermistorDivider(constant(25), { ...beta, steinhartHart: { a: 1e-3, b: 2e-4, c: 1e-7 } } as never),
    ).toThrow('Expected either `beta` or `steinhartHart`, not both');
    expect(() => thermistorDivider(constant(25), { ...beta, beta: 0 })).toThrow('Expected `beta` to be a finite number above 0, got 0');
  });
});
