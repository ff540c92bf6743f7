import { describe, expect, it } from 'vitest';
import { ArgumentError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { FilterSpec } from '../../sdk/model/spec.js';
import { createFilter, validateFilter } from '../../sdk/pipeline/filters.js';

function run(spec: FilterSpec, values: readonly number[]): (number | undefined)[] {
  const filter = createFilter(spec);
  return values.map((value) => filter.push(value));
}

function naiveMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('median filter', () => {
  it('emits from the first sample over the partial window, then rejects single spikes', () => {
    expect(run({ type: 'median', window: 3 }, [1, 100, 2, 3, 200, 4])).toEqual([1, 50.5, 2, 3, 3, 4]);
  });

  it('matches a sort-based median over a long random sequence with repeated values', () => {
    const random = new SeededRandom(3);
    const values = Array.from({ length: 2000 }, () => Math.floor(random.next() * 20) - 10);
    const outputs = run({ type: 'median', window: 7 }, values);
    outputs.forEach((output, i) => expect(output).toBe(naiveMedian(values.slice(Math.max(0, i - 6), i + 1))));
  });

  it('passes values through with a window of 1', () => {
    expect(run({ type: 'median', window: 1 }, [3, -1, 8])).toEqual([3, -1, 8]);
  });
});

describe('moving-average filter', () => {
  it('averages the partial window at first, then the last `window` values', () => {
    expect(run({ type: 'moving-average', window: 3 }, [3, 6, 9, 12, 0])).toEqual([3, 4.5, 6, 9, 7]);
  });

  it('matches a direct mean over a long random sequence', () => {
    const random = new SeededRandom(11);
    const values = Array.from({ length: 5000 }, () => random.gaussian(20, 5));
    const outputs = run({ type: 'moving-average', window: 8 }, values);
    outputs.forEach((output, i) => {
      const window = values.slice(Math.max(0, i - 7), i + 1);
      expect(output).toBeCloseTo(window.reduce((a, b) => a + b, 0) / window.length, 10);
    });
  });

  it('recovers from rounding residue in the running sum (periodic re-summation)', () => {
    // 1e15 + 0.1 rounds to a multiple of 0.125; a running sum would keep that residue forever.
    const filter = createFilter({ type: 'moving-average', window: 4 });
    filter.push(1e15);
    let last: number | undefined;
    for (let i = 0; i < 12; i++) last = filter.push(0.1);
    expect(last).toBeCloseTo(0.1, 14);
  });
});

describe('ema filter', () => {
  it('starts at its first input and moves by alpha toward each new one', () => {
    expect(run({ type: 'ema', alpha: 0.5 }, [10, 20, 20, 0])).toEqual([10, 15, 17.5, 8.75]);
  });

  it('passes values through with alpha 1', () => {
    expect(run({ type: 'ema', alpha: 1 }, [1, 5, -2])).toEqual([1, 5, -2]);
  });
});

describe('filter state', () => {
  it.each<FilterSpec>([
    { type: 'median', window: 3 },
    { type: 'moving-average', window: 3 },
    { type: 'ema', alpha: 0.25 },
  ])('forgets every value on reset(): %o', (spec) => {
    const filter = createFilter(spec);
    filter.push(1000);
    filter.push(2000);
    filter.reset();
    expect(filter.push(7)).toBe(7);
  });

  it.each<FilterSpec>([
    { type: 'median', window: 3 },
    { type: 'moving-average', window: 3 },
    { type: 'ema', alpha: 0.25 },
  ])('refuses non-finite values instead of being poisoned by them: %o', (spec) => {
    const filter = createFilter(spec);
    filter.push(1);
    expect(() => filter.push(Number.NaN)).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `x` to be a finite number, got NaN' }),
    );
    expect(() => filter.push(Infinity)).toThrow(ArgumentError);
    expect(filter.push(1)).toBe(1);
  });
});

describe('validateFilter', () => {
  it.each<[unknown, string, string]>([
    [{ type: 'median', window: 4 }, 'window', 'must be an odd integer from 1 to 1001, got 4'],
    [{ type: 'median', window: 0 }, 'window', 'must be an odd integer from 1 to 1001, got 0'],
    [{ type: 'median', window: 1003 }, 'window', 'must be an odd integer from 1 to 1001, got 1003'],
    [{ type: 'moving-average', window: 0 }, 'window', 'must be an integer from 1 to 1000000, got 0'],
    [{ type: 'moving-average', window: 2.5 }, 'window', 'must be an integer from 1 to 1000000, got 2.5'],
    [{ type: 'moving-average' }, 'window', 'must be an integer from 1 to 1000000, got undefined'],
    [{ type: 'ema', alpha: 0 }, 'alpha', 'must be a number above 0 and at most 1, got 0'],
    [{ type: 'ema', alpha: 1.5 }, 'alpha', 'must be a number above 0 and at most 1, got 1.5'],
    [{ type: 'ema', alpha: Number.NaN }, 'alpha', 'must be a number above 0 and at most 1, got NaN'],
    [{ type: 'kalman' }, 'type', 'must be one of "median", "moving-average", "ema", got "kalman"'],
    [{ type: 'ema', alpha: 0.5, window: 3 }, 'window', 'unknown field for a ema filter; expected type, alpha'],
  ])('rejects %o with the path of the field', (spec, field, reason) => {
    let error: unknown;
    try {
      validateFilter(spec as FilterSpec, 'channels[0].filters[1]');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe(`channels[0].filters[1].${field}`);
    expect((error as ValidationError).reason).toBe(reason);
  });

  it('creates only valid filters', () => {
    expect(() => createFilter({ type: 'median', window: 2 })).toThrow('filter.window: must be an odd integer from 1 to 1001, got 2');
  });
});
