import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import type { AlarmSpec } from '../../sdk/model/spec.js';
import { AlarmEvaluator, validateAlarm, type AlarmEvent } from '../../sdk/pipeline/alarms.js';

const HIGH: AlarmSpec = { id: 'hot', channel: 'temperature', kind: 'high', limit: 80, hysteresis: 2, severity: 700 };
const LOW: AlarmSpec = { id: 'cold', channel: 'temperature', kind: 'low', limit: 5, hysteresis: 1, severity: 300, message: 'Freezing risk' };

function events(spec: AlarmSpec, values: readonly number[]): AlarmEvent[] {
  const alarm = new AlarmEvaluator(spec);
  return values.flatMap((value, i) => alarm.update(value, i) ?? []);
}

describe('AlarmEvaluator', () => {
  it('produces exactly one activation and one clear for a value chattering around a high limit', () => {
    const chatter = [79, 80.5, 79.5, 80.2, 78.5, 81, 79, 80.1, 78.1, 77.9, 78.5, 79.9, 77];
    const result = events(HIGH, chatter);
    expect(result).toEqual([
      { alarm: 'hot', channel: 'temperature', state: 'active', value: 80.5, limit: 80, severity: 700, time: 1, message: 'temperature above 80 (80.5)' },
      { alarm: 'hot', channel: 'temperature', state: 'cleared', value: 77.9, limit: 80, severity: 700, time: 9, message: 'temperature back below 78 (77.9)' },
    ]);
  });

  it('is active only above the limit and clears only below limit − hysteresis', () => {
    expect(events(HIGH, [80, 80.001])).toMatchObject([{ state: 'active', value: 80.001 }]);
    expect(events(HIGH, [81, 78])).toHaveLength(1); // 78 is not below 78
  });

  it('mirrors a low alarm, with its declared message', () => {
    const result = events(LOW, [6, 4.9, 5.5, 6, 4, 6.1]);
    expect(result.map((e) => [e.state, e.value, e.message])).toEqual([
      ['active', 4.9, 'Freezing risk'],
      ['cleared', 6.1, 'Freezing risk'],
    ]);
  });

  it('clears just below the limit without hysteresis', () => {
    const { hysteresis: _omitted, ...noHysteresis } = HIGH;
    const result = events(noHysteresis, [81, 80, 79.99, 80, 80.01]);
    expect(result.map((e) => [e.state, e.value])).toEqual([
      ['active', 81],
      ['cleared', 79.99],
      ['active', 80.01],
    ]);
  });

  it('ignores NaN and reports whether it is active', () => {
    const alarm = new AlarmEvaluator(HIGH);
    expect(alarm.update(Number.NaN, 0)).toBeUndefined();
    alarm.update(90, 1);
    expect(alarm.active).toBe(true);
    expect(alarm.update(Number.NaN, 2)).toBeUndefined();
    expect(alarm.active).toBe(true);
    expect(alarm.id).toBe('hot');
  });
});

describe('validateAlarm', () => {
  it.each<[unknown, string, string]>([
    [{ ...HIGH, id: '' }, 'id', 'expected a non-empty string, got ""'],
    [{ ...HIGH, kind: 'above' }, 'kind', 'must be "high" or "low", got "above"'],
    [{ ...HIGH, limit: Number.NaN }, 'limit', 'expected a finite number, got NaN'],
    [{ ...HIGH, hysteresis: -1 }, 'hysteresis', 'must not be negative, got -1'],
    [{ ...HIGH, severity: 0 }, 'severity', 'must be an integer from 1 to 1000, got 0'],
    [{ ...HIGH, severity: 1001 }, 'severity', 'must be an integer from 1 to 1000, got 1001'],
    [{ ...HIGH, message: 5 }, 'message', 'must be a string, got 5'],
    [{ ...HIGH, limt: 5 }, 'limt', 'unknown field; expected id, channel, kind, limit, hysteresis, severity, message'],
  ])('rejects %o with the path of the field', (spec, field, reason) => {
    let error: unknown;
    try {
      validateAlarm(spec as AlarmSpec, 'alarms[3]');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(`alarms[3].${field}: ${reason}`);
  });

  it('validates in the constructor', () => {
    expect(() => new AlarmEvaluator({ ...HIGH, severity: 0 })).toThrow('alarm.severity: must be an integer from 1 to 1000, got 0');
  });
});
