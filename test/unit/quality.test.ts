import { describe, expect, it } from 'vitest';
import { BusError, SensorError } from '../../sdk/core/errors.js';
import { GOOD, type Quality } from '../../sdk/core/sample.js';
import {
  CALIBRATION_EXPIRED,
  errorDetail,
  failureOutcome,
  FaultTracker,
  OUT_OF_RANGE,
  staleAfterMs,
  valueQuality,
} from '../../sdk/pipeline/quality.js';

const RANGE = { min: -40, max: 125 };

describe('valueQuality', () => {
  it('is good inside the range, bounds included', () => {
    expect(valueQuality(20, RANGE, false)).toBe(GOOD);
    expect(valueQuality(-40, RANGE, false)).toBe(GOOD);
    expect(valueQuality(125, RANGE, false)).toBe(GOOD);
  });

  it('is uncertain/out_of_range outside the range, before calibration expiry', () => {
    expect(valueQuality(125.01, RANGE, false)).toEqual({ level: 'uncertain', reason: 'out_of_range' });
    expect(valueQuality(-41, RANGE, true)).toBe(OUT_OF_RANGE);
  });

  it('is uncertain/calibration_expired inside the range with an expired calibration', () => {
    expect(valueQuality(20, RANGE, true)).toEqual({ level: 'uncertain', reason: 'calibration_expired' });
    expect(valueQuality(20, RANGE, true)).toBe(CALIBRATION_EXPIRED);
  });
});

describe('staleAfterMs', () => {
  it('defaults to three sample periods and honours staleAfter (seconds)', () => {
    expect(staleAfterMs({ sampleRate: 10 })).toBe(300);
    expect(staleAfterMs({ sampleRate: 0.1 })).toBe(30_000);
    expect(staleAfterMs({ sampleRate: 10, staleAfter: 2 })).toBe(2000);
  });
});

describe('failureOutcome', () => {
  const error = new BusError('ERR_I2C_NAK', 'no ACK from 0x76');

  it('repeats the last good value as stale while it is younger than staleAfter', () => {
    expect(failureOutcome(error, { value: 21.5, time: 1000 }, 1299, 300)).toEqual({
      value: 21.5,
      quality: { level: 'uncertain', reason: 'stale', detail: 'no ACK from 0x76' },
    });
  });

  it('becomes bad/sensor_fault with no value once the last good value is too old', () => {
    expect(failureOutcome(error, { value: 21.5, time: 1000 }, 1300, 300)).toEqual({
      value: null,
      quality: { level: 'bad', reason: 'sensor_fault', detail: 'no ACK from 0x76' },
    });
  });

  it('is bad/sensor_fault when there never was a good value', () => {
    expect(failureOutcome(new SensorError('open loop (2.1 mA)'), undefined, 0, 300)).toEqual({
      value: null,
      quality: { level: 'bad', reason: 'sensor_fault', detail: 'open loop (2.1 mA)' },
    });
  });
});

describe('errorDetail', () => {
  it('describes whatever a read rejected with', () => {
    expect(errorDetail(new Error('timeout'))).toBe('timeout');
    expect(errorDetail(new TypeError(''))).toBe('TypeError');
    expect(errorDetail('boom')).toBe('boom');
    expect(errorDetail({ code: 5 })).toBe('{"code":5}');
    expect(errorDetail(undefined)).toBe('undefined');
  });
});

describe('FaultTracker', () => {
  const stale: Quality = { level: 'uncertain', reason: 'stale', detail: 'timeout' };
  const fault: Quality = { level: 'bad', reason: 'sensor_fault', detail: 'timeout' };

  it('rejects a channel id that is not a non-empty string with an ArgumentError', () => {
    expect(() => new FaultTracker('')).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `channel` to be a non-empty string, got ""' }),
    );
  });

  it('raises once on the first failure, stays quiet while it persists, clears on the next good sample', () => {
    const tracker = new FaultTracker('temperature');
    const sequence: Quality[] = [GOOD, stale, stale, fault, fault, GOOD, GOOD];
    const events = sequence.map((quality, time) => tracker.update(quality, time));
    expect(events).toEqual([
      undefined,
      { channel: 'temperature', state: 'raised', quality: stale, time: 1 },
      undefined,
      undefined,
      undefined,
      { channel: 'temperature', state: 'cleared', quality: GOOD, time: 5 },
      undefined,
    ]);
  });

  it('raises on entering out_of_range and clears when back in range', () => {
    const tracker = new FaultTracker('pressure');
    expect(tracker.update(OUT_OF_RANGE, 1)).toMatchObject({ state: 'raised', quality: OUT_OF_RANGE });
    expect(tracker.raised).toBe(true);
    expect(tracker.update(OUT_OF_RANGE, 2)).toBeUndefined();
    expect(tracker.update(GOOD, 3)).toMatchObject({ state: 'cleared', time: 3 });
    expect(tracker.raised).toBe(false);
  });

  it('treats an expired calibration as no fault: it neither raises nor prevents clearing', () => {
    const tracker = new FaultTracker('flow');
    expect(tracker.update(CALIBRATION_EXPIRED, 1)).toBeUndefined();
    expect(tracker.update(fault, 2)).toMatchObject({ state: 'raised' });
    expect(tracker.update(CALIBRATION_EXPIRED, 3)).toMatchObject({ state: 'cleared', quality: CALIBRATION_EXPIRED });
  });
});
