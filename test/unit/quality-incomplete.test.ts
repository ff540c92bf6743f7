/**
 * The `incomplete` quality reason on every output: OPC UA status codes (checked against
 * node-opcua's StatusCodes), SenML-CBOR `qr` and `cmp` and back, and the CDDL that describes them.
 */
import { readFileSync } from 'node:fs';
import { StatusCodes } from 'node-opcua';
import { describe, expect, it } from 'vitest';
import motorMonitor from '../../examples/motor-monitor/device.js';
import type { Sample } from '../../sdk/core/sample.js';
import { payloadCddl } from '../../sdk/encoding/cddl.js';
import { SenmlCborDecoder } from '../../sdk/encoding/senml-cbor-decoder.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { resolveSenml, resolvedToSample } from '../../sdk/encoding/senml.js';
import { OPCUA_STATUS, statusCodeOf } from '../../sdk/transport/opcua/opcua-status.js';

const window: Sample = {
  channel: 'vibration-rms',
  time: 1_767_225_601_000,
  value: 1.87,
  unit: 'm/s2',
  quality: { level: 'uncertain', reason: 'incomplete', detail: 'completeness 0.574 (574/1000)' },
  completeness: { expected: 1000, received: 574 },
};

describe('quality reason `incomplete`', () => {
  it('maps to UncertainDataSubNormal, the code for an aggregate of fewer good values than required, and to BadNoData when bad', () => {
    expect(OPCUA_STATUS.UncertainDataSubNormal).toBe(StatusCodes.UncertainDataSubNormal.value);
    expect(OPCUA_STATUS.BadNoData).toBe(StatusCodes.BadNoData.value);
    expect(statusCodeOf({ level: 'uncertain', reason: 'incomplete' })).toBe(StatusCodes.UncertainDataSubNormal.value);
    expect(statusCodeOf({ level: 'bad', reason: 'incomplete' })).toBe(StatusCodes.BadNoData.value);
    // Not UncertainSubNormal: that one is for too few good *sources*.
    expect(statusCodeOf({ level: 'uncertain', reason: 'incomplete' })).not.toBe(StatusCodes.UncertainSubNormal.value);
  });

  it('takes a window that missed samples without a reason as incomplete, and leaves other uncertain samples alone', () => {
    const missed = { expected: 1000, received: 987 };
    expect(statusCodeOf({ level: 'uncertain', detail: 'completeness 0.987 (987/1000)' }, 2, undefined, missed)).toBe(StatusCodes.UncertainDataSubNormal.value);
    expect(statusCodeOf({ level: 'uncertain' }, 2, undefined, { expected: 1000, received: 1000 })).toBe(StatusCodes.Uncertain.value);
    expect(statusCodeOf({ level: 'uncertain' }, 2)).toBe(StatusCodes.Uncertain.value);
    // A stated reason wins over the completeness.
    expect(statusCodeOf({ level: 'uncertain', reason: 'stale' }, 2, undefined, missed)).toBe(StatusCodes.UncertainLastUsableValue.value);
    expect(statusCodeOf({ level: 'good' }, 2, undefined, missed)).toBe(StatusCodes.Good.value);
  });

  it('travels in SenML-CBOR as qr "incomplete" with cmp, and decodes back to the reason and the completeness as detail', () => {
    const bytes = new SenmlCborEncoder().encode('motor-monitor-M1', [window]);
    const records = new SenmlCborDecoder().decode(bytes);
    expect(records[0]).toMatchObject({ q: 'uncertain', qr: 'incomplete', cmp: 0.574 });
    const sample = resolvedToSample(resolveSenml(records)[0]!, 'motor-monitor-M1');
    expect(sample.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: 'completeness 0.574' });
  });

  it('is listed in the generic CDDL and in each model\'s CDDL', () => {
    const generic = readFileSync(new URL('../../sdk/encoding/sensorkit.cddl', import.meta.url), 'utf8');
    expect(generic).toMatch(/^quality-reason = .*"incomplete"/m);
    const cddl = payloadCddl(motorMonitor);
    const qr = cddl.split('\n').find((line) => line.includes('"qr" =>'));
    expect(qr).toContain('"incomplete"');
  });
});
