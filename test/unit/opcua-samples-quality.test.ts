/**
 * The way back from an OPC UA status code to a sample's quality: every quality the server writes
 * reads back as itself, the `incomplete` window included; and a HIL run takes an incomplete
 * window's value as a measurement.
 */
import { describe, expect, it } from 'vitest';
import type { Quality, QualityReason, Sample } from '../../sdk/core/sample.js';
import { OPCUA_STATUS, statusCodeOf } from '../../sdk/transport/opcua/opcua-status.js';
import { qualityOfStatus } from '../../hil/targets/opcua-samples.js';
import { usable } from '../../hil/run/sample-feed.js';

const REASONS: readonly QualityReason[] = ['out_of_range', 'sensor_fault', 'stale', 'calibration_expired', 'incomplete'];

describe('qualityOfStatus', () => {
  for (const level of ['uncertain', 'bad'] as const) {
    it(`reads back every ${level} quality the server writes`, () => {
      for (const reason of REASONS) {
        const quality: Quality = { level, reason };
        expect(qualityOfStatus(statusCodeOf(quality))).toEqual(quality);
      }
    });
  }

  it('maps UncertainDataSubNormal and BadNoData to incomplete, limit bits ignored', () => {
    expect(OPCUA_STATUS.UncertainDataSubNormal).toBe(0x40a40000);
    expect(qualityOfStatus(0x40a40000)).toEqual({ level: 'uncertain', reason: 'incomplete' });
    expect(qualityOfStatus(0x40a40100)).toEqual({ level: 'uncertain', reason: 'incomplete' });
    expect(qualityOfStatus(0x809b0000)).toEqual({ level: 'bad', reason: 'incomplete' });
    // A window without a reason whose completeness is below 1 is written as incomplete too.
    expect(qualityOfStatus(statusCodeOf({ level: 'uncertain' }, 1, undefined, { expected: 1000, received: 987 }))).toEqual({ level: 'uncertain', reason: 'incomplete' });
  });
});

describe('usable', () => {
  const sample = (quality: Quality, value: number | null = 2.5): Sample => ({ channel: 'vibration_rms', time: 0, value, unit: 'm/s2', quality });

  it('takes an incomplete window as a measurement, and not an empty or stale one', () => {
    expect(usable(sample({ level: 'uncertain', reason: 'incomplete', detail: 'completeness 0.987 (987/1000)' }))).toBe(true);
    expect(usable(sample({ level: 'bad', reason: 'incomplete' }, null))).toBe(false);
    expect(usable(sample({ level: 'uncertain', reason: 'stale' }))).toBe(false);
    expect(usable(sample({ level: 'good' }))).toBe(true);
  });
});
