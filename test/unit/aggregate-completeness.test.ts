/**
 * Honest windows: a WindowAggregator knows how many samples each window expected and got.
 */
import { describe, expect, it } from 'vitest';
import { WindowAggregator, completenessDetail } from '../../sdk/sampling/aggregate.js';

describe('WindowAggregator completeness', () => {
  it('closes a window on time when samples are missing, with the statistic of those received', () => {
    const max = new WindowAggregator({ statistic: 'max', windowSize: 4 });
    expect(max.add(1)).toBeUndefined();
    expect(max.miss(2)).toEqual([]);
    expect(max.missed).toBe(2);
    expect(max.add(7)).toEqual({ value: 7, expected: 4, received: 2 });
    expect(max.add(3)).toBeUndefined();
    expect(max.missed).toBe(0);
  });

  it('lets a long loss finish several windows; a window with nothing received has no value', () => {
    const mean = new WindowAggregator({ statistic: 'mean', windowSize: 3 });
    mean.add(6);
    expect(mean.miss(7)).toEqual([
      { value: 6, expected: 3, received: 1 },
      { value: Number.NaN, expected: 3, received: 0 },
    ]);
    expect(mean.missed).toBe(2);
    expect(mean.add(9)).toEqual({ value: 9, expected: 3, received: 1 });
    expect(mean.add(1)).toBeUndefined();
  });

  it('reports complete windows as complete and keeps push() as before', () => {
    const rms = new WindowAggregator({ statistic: 'rms', windowSize: 2 });
    expect(rms.add(3)).toBeUndefined();
    expect(rms.add(4)).toEqual({ value: Math.sqrt(12.5), expected: 2, received: 2 });
    expect(rms.push(3)).toBeUndefined();
    rms.miss(1);
    expect(rms.push(5)).toBeUndefined(); // a new window: the miss closed the one with 3
    expect(rms.push(5)).toBe(5);
  });

  it('states completeness rounded down to three decimals, so an incomplete window never reads 1.000', () => {
    expect(completenessDetail({ expected: 1000, received: 987 })).toBe('completeness 0.987 (987/1000)');
    expect(completenessDetail({ expected: 10_000, received: 9999 })).toBe('completeness 0.999 (9999/10000)');
    expect(completenessDetail({ expected: 3, received: 0 })).toBe('completeness 0.000 (0/3)');
  });

  it('rejects a negative or fractional miss count', () => {
    const mean = new WindowAggregator({ statistic: 'mean', windowSize: 3 });
    expect(() => mean.miss(-1)).toThrow(expect.objectContaining({ name: 'ArgumentError', message: 'Expected `count` to be an integer from 0 and up, got -1' }));
    expect(() => mean.miss(1.5)).toThrow(/got 1.5/);
  });
});
