import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { GOOD, type Quality, type Sample } from '../../sdk/core/sample.js';
import type { ReportingSpec } from '../../sdk/model/spec.js';
import { ReportByException, resolveDeadband } from '../../sdk/pipeline/report-by-exception.js';

const T0 = Date.UTC(2026, 0, 1);
const STALE: Quality = { level: 'uncertain', reason: 'stale', detail: 'timeout' };
const OUT: Quality = { level: 'uncertain', reason: 'out_of_range' };
const FAULT: Quality = { level: 'bad', reason: 'sensor_fault', detail: 'NAK' };

function sample(value: number | null, timeOffset = 0, quality: Quality = GOOD): Sample {
  return { channel: 'c', time: T0 + timeOffset, value, unit: 'Cel', quality };
}

/** Which of the values are reported, one sample per second. */
function decisions(rbe: ReportByException, values: readonly (number | null)[]): boolean[] {
  return values.map((value, i) => rbe.decide(sample(value, i * 1000)));
}

describe('ReportByException', () => {
  it('reports everything without a deadband', () => {
    expect(decisions(new ReportByException(), [1, 1, 1, 1.0001])).toEqual([true, true, true, true]);
  });

  it('reports the first sample and changes beyond the deadband against the last reported value', () => {
    const rbe = new ReportByException({ deadband: 0.5 });
    // 20.3 and 20.5 are within 0.5 of 20; 20.6 (0.6 from 20) is reported and becomes the reference.
    expect(decisions(rbe, [20, 20.3, 20.5, 20.6, 20.2, 21.2])).toEqual([true, false, false, true, false, true]);
  });

  it('reports a slow creep once it has moved by more than the deadband in total', () => {
    const rbe = new ReportByException({ deadband: 1 });
    expect(decisions(rbe, [0, 0.3, 0.6, 0.9, 1.2, 1.5])).toEqual([true, false, false, false, true, false]);
  });

  it('with deadband 0, reports any change but not repeats', () => {
    expect(decisions(new ReportByException({ deadband: 0 }), [5, 5, 5.001, 5.001])).toEqual([true, false, true, false]);
  });

  it('reports any change of quality level or reason, and values appearing or disappearing', () => {
    const rbe = new ReportByException({ deadband: 10 });
    expect(rbe.decide(sample(20, 0))).toBe(true);
    expect(rbe.decide(sample(20, 1, STALE))).toBe(true); // good → uncertain
    expect(rbe.decide(sample(20, 2, { ...STALE, detail: 'another message' }))).toBe(false); // detail only
    expect(rbe.decide(sample(20, 3, OUT))).toBe(true); // uncertain: stale → out_of_range
    expect(rbe.decide(sample(null, 4, FAULT))).toBe(true);
    expect(rbe.decide(sample(null, 5, FAULT))).toBe(false);
    expect(rbe.decide(sample(20, 6))).toBe(true); // back to good
  });

  it('reports at the heartbeat when nothing changed', () => {
    const rbe = new ReportByException({ deadband: 1, heartbeatMs: 3000 });
    // one sample a second, constant value: reported at 0 s, 3 s, 6 s.
    expect(decisions(rbe, [5, 5, 5, 5, 5, 5, 5])).toEqual([true, false, false, true, false, false, true]);
  });

  it('restarts the heartbeat at every report', () => {
    const rbe = new ReportByException({ deadband: 1, heartbeatMs: 3000 });
    expect(decisions(rbe, [5, 5, 7, 7, 7, 7])).toEqual([true, false, true, false, false, true]);
  });

  it('reports the next sample after reset()', () => {
    const rbe = new ReportByException({ deadband: 1 });
    rbe.decide(sample(5));
    rbe.reset();
    expect(rbe.decide(sample(5, 1))).toBe(true);
  });

  it.each([
    [{ deadband: -1 }, 'Expected `deadband` to be a finite number from 0 and up, got -1'],
    [{ deadband: Number.NaN }, 'Expected `deadband` to be a finite number from 0 and up, got NaN'],
    [{ heartbeatMs: 0 }, 'Expected `heartbeatMs` to be a finite number above 0, got 0'],
  ])('rejects %o with an ArgumentError', (options, message) => {
    expect(() => new ReportByException(options)).toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message }));
  });
});

describe('resolveDeadband', () => {
  const range = { min: -40, max: 85 };

  it('reports everything when nothing is declared', () => {
    expect(resolveDeadband(undefined, range)).toEqual({});
    expect(resolveDeadband({}, range)).toEqual({});
  });

  it('turns a percent deadband into an absolute one over the range span, with a 60 s heartbeat', () => {
    expect(resolveDeadband({ deadbandPercent: 0.5 }, range)).toEqual({ deadband: 0.625, heartbeatMs: 60_000 });
  });

  it('keeps an absolute deadband and a declared heartbeat (seconds → ms)', () => {
    expect(resolveDeadband({ deadband: 0.2, heartbeat: 10 }, range)).toEqual({ deadband: 0.2, heartbeatMs: 10_000 });
    expect(resolveDeadband({ deadband: 0.2 }, range)).toEqual({ deadband: 0.2, heartbeatMs: 60_000 });
  });

  it.each<[ReportingSpec, string, string]>([
    [{ deadband: 1, deadbandPercent: 1 }, 'deadbandPercent', 'cannot be combined with deadband; set one of them'],
    [{ deadband: -0.1 }, 'deadband', 'must be a finite number from 0 and up, got -0.1'],
    [{ deadbandPercent: 150 }, 'deadbandPercent', 'must be a number from 0 to 100, got 150'],
    [{ deadband: 1, heartbeat: 0 }, 'heartbeat', 'must be a number of seconds above 0, got 0'],
    [{ deadband: 1, heartbeatMs: 5 } as ReportingSpec, 'heartbeatMs', 'unknown field; expected deadband, deadbandPercent, heartbeat'],
  ])('rejects %o with the path of the field', (reporting, field, reason) => {
    let error: unknown;
    try {
      resolveDeadband(reporting, range, 'channels[2].reporting');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(`channels[2].reporting.${field}: ${reason}`);
  });
});
