import { describe, expect, it } from 'vitest';
import { SeededRandom, TypedEmitter } from '../../sdk/core/index.js';

describe('TypedEmitter', () => {
  it('calls listeners in order, removes them, and supports once', () => {
    const events = new TypedEmitter<{ value: [number, string]; done: [] }>();
    const seen: string[] = [];
    const off = events.on('value', (n, s) => seen.push(`a${n}${s}`));
    events.on('value', (n) => seen.push(`b${n}`));
    events.once('done', () => seen.push('done'));
    expect(events.emit('value', 1, 'x')).toBe(true);
    off();
    events.emit('value', 2, 'y');
    events.emit('done');
    events.emit('done');
    expect(seen).toEqual(['a1x', 'b1', 'b2', 'done']);
    expect(events.listenerCount('done')).toBe(0);
    expect(events.emit('done')).toBe(false);
  });
});

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('is uniform and its gaussian has the requested moments', () => {
    const random = new SeededRandom(7);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    let uniformSum = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = random.next();
      if (!(u >= 0 && u < 1)) outside++;
      uniformSum += u;
      const g = random.gaussian(5, 2);
      sum += g;
      sumSq += g * g;
    }
    const mean = sum / n;
    expect(outside).toBe(0);
    expect(uniformSum / n).toBeCloseTo(0.5, 2);
    expect(mean).toBeCloseTo(5, 1);
    expect(Math.sqrt(sumSq / n - mean * mean)).toBeCloseTo(2, 1);
  });

  it('forks independent, stable streams per label', () => {
    const x1 = new SeededRandom(1).fork('A0');
    const x2 = new SeededRandom(1).fork('A0');
    const y = new SeededRandom(1).fork('A1');
    const first = x1.nextUint32();
    expect(x2.nextUint32()).toBe(first);
    expect(y.nextUint32()).not.toBe(first);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new SeededRandom(1.5)).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `seed` to be an integer, got 1.5' }),
    );
  });
});
