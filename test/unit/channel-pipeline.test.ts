import { describe, expect, it } from 'vitest';
import { BusError, ValidationError } from '../../sdk/core/errors.js';
import { GOOD } from '../../sdk/core/sample.js';
import type { AlarmSpec, CalibrationSpec, ChannelSpec } from '../../sdk/model/spec.js';
import { ChannelPipeline, type PipelineInput, type PipelineOutput } from '../../sdk/pipeline/channel-pipeline.js';

const T0 = Date.UTC(2026, 3, 1);
const PERIOD = 100; // 10 Hz

const CHANNEL: ChannelSpec = {
  id: 'temperature',
  quantity: 'temperature',
  unit: 'Cel',
  range: { min: -40, max: 125 },
  resolution: 0.01,
  accuracy: { mpe: 0.5 },
  sampleRate: 10,
  driver: { part: 'thermistor', pin: 'A0' },
};

const CERTIFICATE: CalibrationSpec = {
  id: 'CAL-2026-0042',
  method: 'two-point',
  low: { raw: 0.5, reference: 0 },
  high: { raw: 100.5, reference: 100 },
  uncertainty: { expanded: 0.05 },
  validUntil: '2027-06-30',
};

const PROVENANCE = { part: 'thermistor', source: 'A0', configuration: 'beta=3950' };
const NAK = new BusError('ERR_I2C_NAK', 'no ACK from 0x48');

/** Feeds values (numbers) and failures (Errors) one sample period apart. */
function feed(pipeline: ChannelPipeline, inputs: readonly (number | Error)[], start = T0): PipelineOutput[] {
  return inputs.map((input, i) => {
    const time = start + i * PERIOD;
    const message: PipelineInput = input instanceof Error ? { time, error: input } : { time, value: input };
    return pipeline.process(message);
  });
}

describe('ChannelPipeline samples', () => {
  it('calibrates, and carries the calibration id, its uncertainty and the provenance', () => {
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, calibration: CERTIFICATE } });
    const { sample, report, alarms } = pipeline.process({ time: T0, value: 20.5, provenance: PROVENANCE });
    expect(sample).toEqual({
      channel: 'temperature',
      time: T0,
      value: 20,
      unit: 'Cel',
      quality: GOOD,
      uncertainty: 0.05,
      calibrationId: 'CAL-2026-0042',
      provenance: PROVENANCE,
    });
    expect(report).toBe(true);
    expect(alarms).toEqual([]);
  });

  it('prefers the calibration passed in options over the channel’s own', () => {
    const unitCertificate: CalibrationSpec = { id: 'UNIT-7', method: 'offset', offset: -1 };
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, calibration: CERTIFICATE }, calibration: unitCertificate });
    const { sample } = pipeline.process({ time: T0, value: 20 });
    expect(sample.value).toBe(19);
    expect(sample.calibrationId).toBe('UNIT-7');
    expect('uncertainty' in sample).toBe(false);
  });

  it('states the uncertainty at k = 2 when the record uses another coverage factor', () => {
    const pipeline = new ChannelPipeline({ channel: CHANNEL, calibration: { ...CERTIFICATE, uncertainty: { expanded: 0.3, coverageFactor: 3 } } });
    expect(pipeline.process({ time: T0, value: 20 }).sample.uncertainty).toBeCloseTo(0.2, 12);
  });

  it('has no calibration fields without a calibration', () => {
    const { sample } = new ChannelPipeline({ channel: CHANNEL }).process({ time: T0, value: 21.25 });
    expect(sample).toEqual({ channel: 'temperature', time: T0, value: 21.25, unit: 'Cel', quality: GOOD });
  });

  it('marks samples after the calibration’s validity as uncertain/calibration_expired, without raising a fault', () => {
    const pipeline = new ChannelPipeline({ channel: CHANNEL, calibration: CERTIFICATE });
    const before = pipeline.process({ time: Date.UTC(2027, 5, 30, 23, 59), value: 20.5 });
    const after = pipeline.process({ time: Date.UTC(2027, 6, 1), value: 20.5 });
    expect(before.sample.quality).toEqual(GOOD);
    expect(after.sample.quality).toEqual({ level: 'uncertain', reason: 'calibration_expired' });
    expect(after.sample.value).toBe(20);
    expect(after.sample.calibrationId).toBe('CAL-2026-0042');
    expect(after.fault).toBeUndefined();
    expect(after.report).toBe(true);
  });

  it('rounds integer channels', () => {
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, dataType: 'integer' } });
    expect(feed(pipeline, [20.4, 20.6, -3.5]).map((o) => o.sample.value)).toEqual([20, 21, -3]);
  });

  it('checks the range on the calibrated value and keeps the value, uncertain', () => {
    const pipeline = new ChannelPipeline({ channel: CHANNEL, calibration: { id: 'c', method: 'offset', offset: 10 } });
    const [inRange, outside] = feed(pipeline, [114, 116]);
    expect(inRange!.sample.quality).toBe(GOOD);
    expect(outside!.sample).toMatchObject({ value: 126, quality: { level: 'uncertain', reason: 'out_of_range' } });
  });
});

describe('ChannelPipeline faults', () => {
  it('repeats the last value as stale, then goes bad, reporting the fault once until it clears', () => {
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, reporting: { deadband: 0.5 } } });
    // Default staleAfter: 3 periods = 300 ms after the last good value at +100 ms.
    const outputs = feed(pipeline, [20, 20.1, NAK, NAK, NAK, NAK, NAK, 20.2, 20.3]);
    expect(outputs.map((o) => [o.sample.value, o.sample.quality.level, o.sample.quality.reason])).toEqual([
      [20, 'good', undefined],
      [20.1, 'good', undefined],
      [20.1, 'uncertain', 'stale'],
      [20.1, 'uncertain', 'stale'],
      [null, 'bad', 'sensor_fault'],
      [null, 'bad', 'sensor_fault'],
      [null, 'bad', 'sensor_fault'],
      [20.2, 'good', undefined],
      [20.3, 'good', undefined],
    ]);
    expect(outputs[2]!.sample.quality.detail).toBe('no ACK from 0x48');
    const faults = outputs.flatMap((o, i) => (o.fault ? [[i, o.fault.state, o.fault.quality.reason]] : []));
    expect(faults).toEqual([
      [2, 'raised', 'stale'],
      [7, 'cleared', undefined],
    ]);
    expect(outputs[2]!.fault).toEqual({ channel: 'temperature', state: 'raised', quality: outputs[2]!.sample.quality, time: T0 + 200 });
    // Reported: first, each change of quality, recovery; not the repeats nor the 0.1 steps.
    expect(outputs.map((o) => o.report)).toEqual([true, false, true, false, true, false, false, true, false]);
  });

  it('is bad at once when the channel never had a value', () => {
    const [first] = feed(new ChannelPipeline({ channel: CHANNEL }), [NAK]);
    expect(first!.sample).toEqual({
      channel: 'temperature',
      time: T0,
      value: null,
      unit: 'Cel',
      quality: { level: 'bad', reason: 'sensor_fault', detail: 'no ACK from 0x48' },
    });
    expect(first!.fault?.state).toBe('raised');
  });

  it('honours staleAfter', () => {
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, staleAfter: 0.15 } });
    expect(feed(pipeline, [20, NAK, NAK]).map((o) => o.sample.quality.reason)).toEqual([undefined, 'stale', 'sensor_fault']);
  });

  it('treats a non-finite reading as a sensor fault', () => {
    const [output] = feed(new ChannelPipeline({ channel: CHANNEL }), [Number.NaN]);
    expect(output!.sample.value).toBeNull();
    expect(output!.sample.quality).toEqual({ level: 'bad', reason: 'sensor_fault', detail: 'non-finite reading (NaN)' });
  });

  it('raises a fault once on entering out_of_range and clears it back in range', () => {
    const outputs = feed(new ChannelPipeline({ channel: CHANNEL }), [100, 130, 140, 120]);
    expect(outputs.map((o) => o.fault?.state)).toEqual([undefined, 'raised', undefined, 'cleared']);
  });

  it('keeps failures and their stale repeats out of the filters', () => {
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, filters: [{ type: 'moving-average', window: 4 }] } });
    const outputs = feed(pipeline, [10, 20, NAK, 30]);
    // The stale repeat shows the last filtered value; the average after recovery is over 10, 20, 30.
    expect(outputs.map((o) => o.sample.value)).toEqual([10, 15, 15, 20]);
  });
});

describe('ChannelPipeline filters, alarms and reporting', () => {
  const hot: AlarmSpec = { id: 'hot', channel: 'temperature', kind: 'high', limit: 80, hysteresis: 2, severity: 700 };

  it('runs filters in order and evaluates alarms on the filtered value', () => {
    const pipeline = new ChannelPipeline({
      channel: { ...CHANNEL, filters: [{ type: 'median', window: 3 }, { type: 'moving-average', window: 2 }] },
      alarms: [hot],
    });
    // The single 120 spike is removed by the median: no alarm. The sustained rise raises one.
    const outputs = feed(pipeline, [70, 70, 70, 120, 70, 90, 95, 95, 60, 60, 60]);
    expect(outputs.map((o) => o.sample.value)).toEqual([70, 70, 70, 70, 70, 80, 90, 92.5, 95, 77.5, 60]);
    const events = outputs.flatMap((o) => o.alarms.map((a) => [a.state, a.value, a.time - T0]));
    expect(events).toEqual([
      ['active', 90, 600],
      ['cleared', 77.5, 900],
    ]);
  });

  it('reports by exception with the declared deadband and the default 60 s heartbeat', () => {
    const pipeline = new ChannelPipeline({ channel: { ...CHANNEL, reporting: { deadbandPercent: 1 } } }); // 1.65 Cel
    const reports = [20, 21, 21.7, 21.7].map((value, i) => pipeline.process({ time: T0 + i * 20_000, value }).report);
    expect(reports).toEqual([true, false, true, false]);
    expect(pipeline.process({ time: T0 + 2 * 20_000 + 60_000, value: 21.7 }).report).toBe(true);
  });

  it('reports every sample without a reporting declaration', () => {
    expect(feed(new ChannelPipeline({ channel: CHANNEL }), [1, 1, 1]).map((o) => o.report)).toEqual([true, true, true]);
  });
});

describe('ChannelPipeline validation', () => {
  function error(build: () => unknown): ValidationError {
    try {
      build();
    } catch (caught) {
      expect(caught).toBeInstanceOf(ValidationError);
      return caught as ValidationError;
    }
    throw new Error('expected a ValidationError');
  }

  it.each<[string, () => unknown, string]>([
    ['a bad range', () => new ChannelPipeline({ channel: { ...CHANNEL, range: { min: 10, max: 0 } } }), 'channel.range: inverted or empty range: min (10) must be below max (0)'],
    ['a bad sample rate', () => new ChannelPipeline({ channel: { ...CHANNEL, sampleRate: 0 } }), 'channel.sampleRate: must be above 0 Hz, got 0'],
    ['a bad filter', () => new ChannelPipeline({ channel: { ...CHANNEL, filters: [{ type: 'median', window: 2 }] } }), 'channel.filters[0].window: must be an odd integer from 1 to 1001, got 2'],
    [
      'a bad channel calibration',
      () => new ChannelPipeline({ channel: { ...CHANNEL, calibration: { id: 'c', method: 'polynomial', coefficients: [] } } }),
      'channel.calibration.coefficients: must have at least one coefficient (c0)',
    ],
    [
      'a bad calibration override',
      () => new ChannelPipeline({ channel: CHANNEL, calibration: { ...CERTIFICATE, high: { raw: 0.5, reference: 100 } } }),
      'calibration.high.raw: equals low.raw (0.5); two points need different raw values',
    ],
    [
      'an alarm of another channel',
      () => new ChannelPipeline({ channel: CHANNEL, alarms: [{ id: 'wet', channel: 'humidity', kind: 'high', limit: 90, severity: 500 }] }),
      'alarms[0].channel: is "humidity", not this pipeline\'s channel "temperature"',
    ],
    ['a bad reporting declaration', () => new ChannelPipeline({ channel: { ...CHANNEL, reporting: { deadband: -1 } } }), 'channel.reporting.deadband: must be a finite number from 0 and up, got -1'],
    // The same channel validator as defineDevice's, so a pipeline refuses what a model refuses.
    ['an unknown unit', () => new ChannelPipeline({ channel: { ...CHANNEL, unit: '°C' } }), 'channel.unit: unknown unit "°C"; did you mean "Cel"?'],
    ['an id that is not an identifier', () => new ChannelPipeline({ channel: { ...CHANNEL, id: 'Temp 1' } }), 'channel.id: "Temp 1" must be lower case letters, digits, "_" or "-", starting with a letter'],
    ['a bad alarm', () => new ChannelPipeline({ channel: CHANNEL, alarms: [{ id: 'hot', channel: 'temperature', kind: 'above' as 'high', limit: 80, severity: 700 }] }), 'alarms[0].kind: must be "high" or "low", got "above"'],
  ])('rejects %s with the path of the field', (_name, build, message) => {
    expect(error(build).message).toBe(message);
  });
});

describe('ChannelPipeline with a table calibration', () => {
  it('flags a reading beyond the table\'s points as out of range instead of passing the clamped value as good', () => {
    const table: CalibrationSpec = {
      id: 'CAL-TABLE-1',
      method: 'table',
      points: [
        { raw: 0, reference: 0.2 },
        { raw: 50, reference: 50.1 },
        { raw: 100, reference: 99.9 },
      ],
    };
    const pipeline = new ChannelPipeline({ channel: CHANNEL, calibration: table });
    const [inside, beyond, below] = feed(pipeline, [25, 120, -5]);
    expect(inside!.sample.quality).toEqual(GOOD);
    expect(inside!.sample.value).toBeCloseTo(25.15, 10);
    expect(beyond!.sample.value).toBe(99.9);
    expect(beyond!.sample.quality).toEqual({ level: 'uncertain', reason: 'out_of_range' });
    expect(below!.sample.quality).toEqual({ level: 'uncertain', reason: 'out_of_range' });
  });
});
