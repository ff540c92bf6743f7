import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { decide, rateBudget, waveOf, type AssignmentState } from '../../ota/server/rollout/decide.js';
import { DEFAULT_POLICY, parseRolloutPolicy, type FailureType } from '../../ota/server/rollout/policy.js';

function refusal(input: unknown): { path: string; message: string } {
  try {
    parseRolloutPolicy(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect(e.message).not.toContain('\n');
    return { path: e.path, message: e.message };
  }
  throw new ValidationError('test', `accepted ${JSON.stringify(input)}`);
}

describe('parseRolloutPolicy', () => {
  it('fills the defaults', () => {
    expect(parseRolloutPolicy('{}')).toEqual(DEFAULT_POLICY);
    expect(parseRolloutPolicy({})).toMatchObject({ waves: [100], successThreshold: 1, errorThreshold: 0.2, minSample: 10, abort: [], deviceTimeoutS: 86_400, retries: {}, soakS: 0, pollIntervalS: 300, downloadSlotsPerMinute: 600 });
    expect(parseRolloutPolicy({}).rate).toBeUndefined();
    expect(parseRolloutPolicy({}).healthCheck).toBeUndefined();
  });

  it('reads the full example', () => {
    const policy = parseRolloutPolicy({
      cohorts: [{ group: 'line-3', hardware: 'revB' }, { group: 'line-4' }],
      waves: [1, 9, 40, 50],
      successThreshold: 0.95,
      errorThreshold: 0.05,
      minSample: 10,
      rate: { start: 10, factor: 2, cap: 1000 },
      abort: [{ failure: 'download', threshold: 0.2, minSample: 5 }, { failure: 'health', threshold: 0.01 }],
      deviceTimeoutS: 3600,
      retries: { download: 2, timeout: 1 },
      soakS: 600,
      healthCheck: 'pause',
      pollIntervalS: 300,
      downloadSlotsPerMinute: 600,
    });
    expect(policy.cohorts).toEqual([{ group: 'line-3', hardware: 'revB' }, { group: 'line-4' }]);
    expect(policy.abort).toEqual([{ failure: 'download', threshold: 0.2, minSample: 5 }, { failure: 'health', threshold: 0.01, minSample: 10 }]);
    expect(policy.rate).toEqual({ start: 10, factor: 2, cap: 1000 });
    expect(policy.healthCheck).toBe('pause');
  });

  const bad: [string, unknown, string][] = [
    ['not JSON', '{waves', 'policy'],
    ['not an object', [], 'policy'],
    ['an unknown field', { wave: [100] }, 'wave'],
    ['cohorts empty', { cohorts: [] }, 'cohorts'],
    ['a cohort without a group', { cohorts: [{ hardware: 'revB' }] }, 'cohorts[0].group'],
    ['a cohort group with a space', { cohorts: [{ group: 'line 3' }] }, 'cohorts[0].group'],
    ['a cohort with an unknown field', { cohorts: [{ group: 'a', site: 'x' }] }, 'cohorts[0].site'],
    ['a bad hardware revision', { cohorts: [{ group: 'a', hardware: '' }] }, 'cohorts[0].hardware'],
    ['waves not summing to 100', { waves: [10, 80] }, 'waves'],
    ['waves above 100', { waves: [10, 91] }, 'waves'],
    ['a fractional wave', { waves: [10.5, 89.5] }, 'waves[0]'],
    ['a zero wave', { waves: [0, 100] }, 'waves[0]'],
    ['waves empty', { waves: [] }, 'waves'],
    ['waves not an array', { waves: 100 }, 'waves'],
    ['successThreshold above 1', { successThreshold: 1.5 }, 'successThreshold'],
    ['successThreshold below 0', { successThreshold: -0.1 }, 'successThreshold'],
    ['errorThreshold above 1', { errorThreshold: 2 }, 'errorThreshold'],
    ['errorThreshold a string', { errorThreshold: '0.1' }, 'errorThreshold'],
    ['minSample zero', { minSample: 0 }, 'minSample'],
    ['minSample fractional', { minSample: 2.5 }, 'minSample'],
    ['rate factor below 1', { rate: { start: 10, factor: 0.5, cap: 100 } }, 'rate.factor'],
    ['rate cap below start', { rate: { start: 100, factor: 2, cap: 10 } }, 'rate.cap'],
    ['rate start zero', { rate: { start: 0, factor: 2, cap: 10 } }, 'rate.start'],
    ['rate with an unknown field', { rate: { start: 1, factor: 2, cap: 10, burst: 3 } }, 'rate.burst'],
    ['abort not an array', { abort: {} }, 'abort'],
    ['abort with an unknown failure type', { abort: [{ failure: 'disk', threshold: 0.1 }] }, 'abort[0].failure'],
    ['abort threshold above 1', { abort: [{ failure: 'download', threshold: 1.1 }] }, 'abort[0].threshold'],
    ['abort minSample zero', { abort: [{ failure: 'download', threshold: 0.1, minSample: 0 }] }, 'abort[0].minSample'],
    ['deviceTimeoutS zero', { deviceTimeoutS: 0 }, 'deviceTimeoutS'],
    ['deviceTimeoutS infinite', { deviceTimeoutS: 1e12 }, 'deviceTimeoutS'],
    ['retries for an unknown failure type', { retries: { network: 1 } }, 'retries.network'],
    ['retries negative', { retries: { download: -1 } }, 'retries.download'],
    ['soakS negative', { soakS: -1 }, 'soakS'],
    ['healthCheck other than pause', { healthCheck: 'webhook' }, 'healthCheck'],
    ['pollIntervalS zero', { pollIntervalS: 0 }, 'pollIntervalS'],
    ['deviceTimeoutS with a sub-millisecond part', { deviceTimeoutS: 1.0005 }, 'deviceTimeoutS'],
    ['deviceTimeoutS with a fraction of a second', { deviceTimeoutS: 90.5 }, 'deviceTimeoutS'],
    ['soakS with a fraction of a second', { soakS: 0.25 }, 'soakS'],
    ['pollIntervalS with a fraction of a second', { pollIntervalS: 1.1 }, 'pollIntervalS'],
    ['downloadSlotsPerMinute zero', { downloadSlotsPerMinute: 0 }, 'downloadSlotsPerMinute'],
  ];
  it.each(bad)('refuses %s, naming the field', (_, input, path) => {
    expect(refusal(input).path).toBe(path);
  });

  it('holds times in whole seconds, so every time reaches SQL as integer milliseconds', () => {
    expect(refusal({ deviceTimeoutS: 1.0005 }).message).toBe('deviceTimeoutS: expected whole seconds from 1 to 31536000, got 1.0005');
    expect(refusal({ soakS: 600.5 }).message).toBe('soakS: expected whole seconds from 0 to 31536000, got 600.5');
    // Every accepted time, at any clock value the store uses (integer ms), gives an integer cut-off.
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 1000; i++) {
      const s = 1 + (next() % 31_535_999);
      const policy = parseRolloutPolicy({ deviceTimeoutS: s, soakS: s - 1, pollIntervalS: s });
      const now = next() * 1000 + (next() % 1000);
      for (const t of [policy.deviceTimeoutS, policy.soakS, policy.pollIntervalS]) expect(Number.isInteger(now - t * 1000)).toBe(true);
    }
    expect(parseRolloutPolicy({ deviceTimeoutS: 1, soakS: 0, pollIntervalS: 31_536_000 })).toMatchObject({ deviceTimeoutS: 1, soakS: 0, pollIntervalS: 31_536_000 });
  });

  it('says what the waves add up to', () => {
    expect(refusal({ waves: [1, 9, 40] }).message).toBe('waves: expected percentages summing to 100, got 50');
  });
});

describe('waves and rate', () => {
  it('puts devices in waves by a stable hash order, each wave its share (rounded up)', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `d${i}`);
    const waves = waveOf(7, ids, [1, 9, 40, 50]);
    const sizes = [0, 0, 0, 0];
    for (const { wave } of waves.values()) sizes[wave]!++;
    expect(sizes).toEqual([10, 90, 400, 500]);
    expect(waveOf(7, [...ids].reverse(), [1, 9, 40, 50])).toEqual(waves);
    const other = waveOf(8, ids, [1, 9, 40, 50]);
    expect([...waves.entries()].filter(([id, w]) => w.wave === 0 && other.get(id)!.wave === 0).length).toBeLessThan(5);
    const few = waveOf(1, ['a', 'b', 'c'], [1, 99]);
    expect([...few.values()].filter((w) => w.wave === 0)).toHaveLength(1);
  });

  it('grows the release rate by its factor each minute up to the cap', () => {
    const rate = { start: 10, factor: 2, cap: 100 };
    expect([0, 1, 2, 3, 4, 50].map((m) => rateBudget(rate, m))).toEqual([10, 20, 40, 80, 100, 100]);
    expect(rateBudget({ start: 5, factor: 1, cap: 5 }, 9)).toBe(5);
  });
});

describe('decide', () => {
  const counts = (...waves: Partial<Record<AssignmentState, number>>[]) =>
    waves.map((w) => ({ pending: 0, offered: 0, downloading: 0, staged: 0, trial: 0, confirmed: 0, current: 0, failed: 0, 'rolled-back': 0, 'timed-out': 0, ...w }));
  const failures = (f: Partial<Record<FailureType, number>> = {}) => ({ download: 0, verify: 0, install: 0, health: 0, timeout: 0, other: 0, ...f });
  const base = { failures: failures(), openWave: 0, lastSuccessAt: undefined, healthWave: 0, now: 1_000_000 };

  it('does not count staged or trial devices as success', () => {
    const policy = parseRolloutPolicy({ waves: [10, 90], successThreshold: 0.5 });
    expect(decide({ ...base, policy, counts: counts({ staged: 5, trial: 5 }, { pending: 90 }) })).toEqual({ action: 'none' });
    expect(decide({ ...base, policy, counts: counts({ confirmed: 5, trial: 5 }, { pending: 90 }) })).toEqual({ action: 'open', wave: 1 });
  });

  it('halts on the error threshold only after the minimum sample', () => {
    const policy = parseRolloutPolicy({ errorThreshold: 0.1, minSample: 10 });
    expect(decide({ ...base, policy, counts: counts({ failed: 3, confirmed: 6, offered: 91 }) }).action).toBe('none');
    expect(decide({ ...base, policy, counts: counts({ failed: 3, confirmed: 7, offered: 90 }) })).toMatchObject({ action: 'halt', reason: expect.stringContaining('errorThreshold 0.1') });
  });

  it('halts on an abort criterion of one failure type', () => {
    const policy = parseRolloutPolicy({ errorThreshold: 1, abort: [{ failure: 'download', threshold: 0.2, minSample: 5 }] });
    expect(decide({ ...base, policy, counts: counts({ failed: 2, confirmed: 3, offered: 5 }), failures: failures({ download: 2 }) })).toMatchObject({ action: 'halt', reason: expect.stringContaining('download failures') });
    expect(decide({ ...base, policy, counts: counts({ failed: 2, confirmed: 3, offered: 5 }), failures: failures({ install: 2 }) }).action).toBe('none');
  });

  it('waits for the soak, pauses for the health check, finishes', () => {
    const policy = parseRolloutPolicy({ waves: [50, 50], soakS: 600, healthCheck: 'pause' });
    const c = counts({ confirmed: 5 }, { pending: 5 });
    expect(decide({ ...base, policy, counts: c, lastSuccessAt: base.now - 599_000 }).action).toBe('none');
    expect(decide({ ...base, policy, counts: c, lastSuccessAt: base.now - 600_000 })).toMatchObject({ action: 'pause', healthWave: 1 });
    expect(decide({ ...base, policy, counts: c, lastSuccessAt: base.now - 600_000, healthWave: 1 })).toEqual({ action: 'open', wave: 1 });
    expect(decide({ ...base, policy, counts: counts({ confirmed: 5 }, { confirmed: 5 }), openWave: 1 })).toEqual({ action: 'finish' });
    expect(decide({ ...base, policy: parseRolloutPolicy({ successThreshold: 0.9, errorThreshold: 1 }), counts: counts({ confirmed: 8, failed: 2 }) })).toMatchObject({ action: 'halt', reason: expect.stringContaining('below successThreshold') });
  });
});
