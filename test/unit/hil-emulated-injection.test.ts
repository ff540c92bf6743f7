/**
 * The declared truths as the part sees them: each kind's effect on the true value, exact for a step
 * of a lagged input, and the same noise for the same seed.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../sdk/core/random.js';
import { injectionDistortion, type Injection } from '../../hil/targets/emulated-injection.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';

const truths = (text: string): Injection[] =>
  text.split(',').map((part) => {
    const [kind, value] = part.split('=');
    return { channel: 'temperature', kind: kind as Injection['kind'], value: Number(value) };
  });

function distortion(text: string, range?: { min: number; max: number }) {
  return injectionDistortion(truths(text), { random: new SeededRandom(7), startMs: 0, ...(range === undefined ? {} : { range }) });
}

describe('injectionDistortion', () => {
  it('offset, gain, nonlinearity (a bow over the range) and drift per hour', () => {
    expect(distortion('offset=3').distortion(25, 0)).toBe(28);
    expect(distortion('gain=1.01').distortion(50, 0)).toBeCloseTo(50.5, 12);
    const bow = distortion('nonlinearity=0.6', { min: -40, max: 85 }).distortion;
    expect(bow(22.5, 0)).toBeCloseTo(23.1, 12); // mid-range: the full bow
    expect(bow(-40, 0)).toBeCloseTo(-40, 12); // the ends: none
    expect(bow(85, 0)).toBeCloseTo(85, 12);
    expect(distortion('drift=0.5').distortion(25, 2 * 3_600_000)).toBeCloseTo(26, 12);
    expect(() => distortion('nonlinearity=0.6')).toThrow(/nonlinearity needs the range of a channel named like the input/);
  });

  it('hysteresis: h/2 below the value after a rise, above it after a fall', () => {
    const { distortion: d } = distortion('hysteresis=0.4');
    d(20, 0);
    expect(d(25, 1000)).toBeCloseTo(24.8, 12);
    expect(d(25, 2000)).toBeCloseTo(24.8, 12); // held: still after a rise
    expect(d(22, 3000)).toBeCloseTo(22.2, 12);
  });

  it('lag: exact first order from the moment the input steps (touch before the change)', () => {
    const lag = distortion('lag=20');
    expect(lag.distortion(20, 0)).toBe(20);
    lag.distortion(20, 5_000);
    lag.touch(7_000); // the input steps at 7 s
    expect(lag.distortion(30, 27_000)).toBeCloseTo(30 - 10 * Math.exp(-1), 12); // τ after the step: 63.2 %
  });

  it('noise: σ from the seed, the same for the same seed', () => {
    const a = distortion('noise=0.1').distortion;
    const b = distortion('noise=0.1').distortion;
    const values = Array.from({ length: 2000 }, (_, i) => a(25, i * 1000) - 25);
    expect(Array.from({ length: 5 }, (_, i) => b(25, i * 1000) - 25)).toEqual(values.slice(0, 5));
    const sigma = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0) / values.length);
    expect(sigma).toBeGreaterThan(0.095);
    expect(sigma).toBeLessThan(0.105);
  });
});

describe('createEmulatedTarget({ inject })', () => {
  it('refuses a bad truth at once, and lists the truths it carries', () => {
    expect(() => createEmulatedTarget({ device: 'examples/env-node', seed: 1, inject: [{ channel: 'temperature', kind: 'bias' as never, value: 1 }] })).toThrow(/^inject\[0\]\.kind: expected one of gain, nonlinearity, offset, drift, hysteresis, lag, noise, got "bias"$/);
    const target = createEmulatedTarget({ device: 'examples/env-node', seed: 1, inject: truths('offset=3') });
    expect(target.injected).toEqual([{ channel: 'temperature', kind: 'offset', value: 3 }]);
  });

  it('the part reads the truth plus the offset, the reference stays the truth', async () => {
    const plain = createEmulatedTarget({ device: 'examples/env-node', seed: 5 });
    const shifted = createEmulatedTarget({ device: 'examples/env-node', seed: 5, inject: truths('offset=3') });
    const last = async (target: typeof plain): Promise<number> => {
      await target.open();
      let value = Number.NaN;
      target.onSample((sample) => {
        if (sample.channel === 'temperature' && sample.value !== null) value = sample.value;
      });
      await target.stimulate('temperature', 25, 'Cel');
      await target.wait(60_000);
      expect(target.physicalInputs.valueOf('temperature')).toBe(25);
      await target.close();
      return value;
    };
    // The part's compensation is not exactly linear: equal within 0.001 Cel.
    expect((await last(shifted)) - (await last(plain))).toBeCloseTo(3, 3);
  });
});
