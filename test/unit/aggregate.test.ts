import { describe, expect, it } from 'vitest';
import { WindowAggregator, type AggregateStatistic } from '../../sdk/sampling/aggregate.js';

/** N samples of offset + A·sin over a whole number of periods. */
function sine(amplitude: number, offset: number, samples = 1000, periods = 10): number[] {
  return Array.from({ length: samples }, (_, i) => offset + amplitude * Math.sin((2 * Math.PI * periods * i) / samples));
}

function windowOf(statistic: AggregateStatistic, values: readonly number[], acCoupled = false): number {
  const aggregator = new WindowAggregator({ statistic, windowSize: values.length, acCoupled });
  let result: number | undefined;
  values.forEach((value, i) => {
    result = aggregator.push(value);
    if (i < values.length - 1) expect(result).toBeUndefined();
  });
  return result!;
}

describe('WindowAggregator statistics', () => {
  const A = 3;

  it('gives the RMS of a sine as A/√2', () => {
    expect(windowOf('rms', sine(A, 0))).toBeCloseTo(A / Math.SQRT2, 12);
  });

  it('gives the crest factor of a sine as √2', () => {
    expect(windowOf('crest-factor', sine(A, 0))).toBeCloseTo(Math.SQRT2, 12);
  });

  it('removes the window mean with acCoupled (a vibration on top of 1 g)', () => {
    const g = 9.80665;
    const signal = sine(A, g);
    expect(windowOf('rms', signal)).toBeCloseTo(Math.sqrt(g * g + (A * A) / 2), 10);
    expect(windowOf('rms', signal, true)).toBeCloseTo(A / Math.SQRT2, 12);
    expect(windowOf('peak', signal)).toBeCloseTo(g + A, 12);
    expect(windowOf('peak', signal, true)).toBeCloseTo(A, 12);
    expect(windowOf('crest-factor', signal, true)).toBeCloseTo(Math.SQRT2, 12);
    expect(windowOf('mean', signal)).toBeCloseTo(g, 12);
    expect(windowOf('mean', signal, true)).toBe(0);
    expect(windowOf('min', signal, true)).toBeCloseTo(-A, 12);
    expect(windowOf('max', signal, true)).toBeCloseTo(A, 12);
    expect(windowOf('peak-to-peak', signal)).toBeCloseTo(2 * A, 12);
    expect(windowOf('peak-to-peak', signal, true)).toBeCloseTo(2 * A, 12);
  });

  it('stays accurate for a tiny vibration on a large offset (no Σx²/n − mean² cancellation)', () => {
    const amplitude = 1e-6;
    expect(windowOf('rms', sine(amplitude, 1000), true) / (amplitude / Math.SQRT2)).toBeCloseTo(1, 6);
  });

  it('computes mean, min, max, peak and peak-to-peak of plain values', () => {
    const values = [2, -7, 4, 1];
    expect(windowOf('mean', values)).toBe(0);
    expect(windowOf('min', values)).toBe(-7);
    expect(windowOf('max', values)).toBe(4);
    expect(windowOf('peak', values)).toBe(7);
    expect(windowOf('peak-to-peak', values)).toBe(11);
    expect(windowOf('rms', values)).toBeCloseTo(Math.sqrt((4 + 49 + 16 + 1) / 4), 14);
  });

  it('reports a crest factor of 0 for a silent window instead of 0/0', () => {
    expect(windowOf('crest-factor', [0, 0, 0])).toBe(0);
  });
});

describe('WindowAggregator windows', () => {
  it('reports once per window of windowSize samples, each window independent', () => {
    const max = new WindowAggregator({ statistic: 'max', windowSize: 3 });
    expect([5, 9, 1, 2, 3, 4, 0].map((v) => max.push(v))).toEqual([undefined, undefined, 9, undefined, undefined, 4, undefined]);
    expect(max.count).toBe(1);
  });

  it('makes a window with NaN report NaN without affecting the next window', () => {
    const mean = new WindowAggregator({ statistic: 'min', windowSize: 2 });
    expect(mean.push(Number.NaN)).toBeUndefined();
    expect(mean.push(1)).toBeNaN();
    expect(mean.push(3)).toBeUndefined();
    expect(mean.push(2)).toBe(2);
  });

  it('drops a partial window on reset()', () => {
    const mean = new WindowAggregator({ statistic: 'mean', windowSize: 2 });
    mean.push(100);
    mean.reset();
    expect(mean.count).toBe(0);
    expect(mean.push(1)).toBeUndefined();
    expect(mean.push(3)).toBe(2);
  });
});

describe('WindowAggregator validation', () => {
  it.each([
    [{ statistic: 'median', windowSize: 10 }, 'Expected `statistic` to be one of "mean", "min", "max", "rms", "peak", "peak-to-peak", "crest-factor", got "median"'],
    [{ statistic: 'rms', windowSize: 0 }, 'Expected `windowSize` to be an integer from 1 to 10000000, got 0'],
    [{ statistic: 'rms', windowSize: 2.5 }, 'Expected `windowSize` to be an integer from 1 to 10000000, got 2.5'],
    [{ statistic: 'rms', windowSize: 8, acCoupled: 'yes' }, 'Expected `acCoupled` to be a boolean, got "yes"'],
  ])('rejects %o with an ArgumentError', (options, message) => {
    expect(() => new WindowAggregator(options as never)).toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message }));
  });
});
