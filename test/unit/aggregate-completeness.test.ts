/**
 * Honest windows: a WindowAggregator knows how many samples each window expected and got.
 */
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../sdk/core/sample.js';
import { SenmlCborDecoder } from '../../sdk/encoding/senml-cbor-decoder.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { SenmlJsonDecoder, encodeSenmlJson } from '../../sdk/encoding/senml-json.js';
import { packToSamples, resolveSenml } from '../../sdk/encoding/senml.js';
import { WindowAggregator, completenessDetail, type WindowCompleteness } from '../../sdk/sampling/aggregate.js';

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

describe('SenML of an incomplete window', () => {
  const T = Date.UTC(2026, 0, 1);
  const window: Sample & { completeness: WindowCompleteness } = {
    channel: 'vibration-rms',
    time: T,
    value: 1.87,
    unit: 'm/s2',
    quality: { level: 'uncertain', detail: 'completeness 0.987 (987/1000)' },
    completeness: { expected: 1000, received: 987 },
  };
  const complete: Sample & { completeness: WindowCompleteness } = { ...window, time: T + 1000, quality: { level: 'good' }, completeness: { expected: 1000, received: 1000 } };

  it('carries q "uncertain" and cmp = received / expected in CBOR, only on the incomplete window', () => {
    const records = resolveSenml(new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('mm', [window, complete])));
    expect(records[0]).toMatchObject({ n: 'mm/vibration-rms', q: 'uncertain', cmp: 0.987, v: 1.87 });
    expect(records[1]!.cmp).toBeUndefined();
    expect(packToSamples(new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('mm', [window])), 'mm')[0]!.quality).toEqual({
      level: 'uncertain',
      detail: 'completeness 0.987',
    });
  });

  it('carries the same in SenML-JSON', () => {
    const json = encodeSenmlJson('mm', [window]);
    expect(JSON.parse(json)[0]).toMatchObject({ q: 'uncertain', cmp: 0.987 });
    expect(resolveSenml(new SenmlJsonDecoder().decode(json))[0]).toMatchObject({ cmp: 0.987 });
  });

  it('refuses a cmp outside 0…1 when decoding', () => {
    expect(() => new SenmlJsonDecoder().decode('[{"n":"a","v":1,"cmp":1.5}]')).toThrow(/cmp/);
  });
});
