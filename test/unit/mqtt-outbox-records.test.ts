import { describe, expect, it } from 'vitest';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { GOOD } from '../../sdk/core/sample.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { decodeRecord, eventRecord, telemetryRecord } from '../../sdk/transport/mqtt/outbox-records.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('outbox records: telemetry and alarm events in one queue', () => {
  it('reads a SenML-CBOR pack as telemetry, unchanged (records of older outboxes drain as before)', () => {
    for (const count of [1, 23, 24, 300]) {
      const samples = Array.from({ length: count }, (_, i) => ({ channel: 'v0', time: 1_767_225_600_000 + i, value: i, unit: 'V', quality: GOOD }));
      const pack = new SenmlCborEncoder().encode('dev-1', samples);
      expect(telemetryRecord('application/senml+cbor', pack)).toBe(pack);
      const record = decodeRecord(pack);
      expect(record.kind).toBe('telemetry');
      expect(record.kind === 'telemetry' && record.payload).toBe(pack);
      expect(record.kind === 'telemetry' && record.contentType).toBe('application/senml+cbor');
    }
  });

  it('keeps the content type of a telemetry batch of another encoding with the batch', () => {
    const json = bytes('[{"bn":"dev-1/","n":"v0","v":1}]');
    const record = telemetryRecord('application/senml+json', json);
    expect(record[0]).toBe(0x02);
    expect(decodeRecord(record)).toEqual({ kind: 'telemetry', contentType: 'application/senml+json', payload: json });
    // A CBOR array labelled otherwise is not taken for SenML-CBOR.
    expect(decodeRecord(telemetryRecord('application/cbor', Uint8Array.of(0x81, 0x01)))).toEqual({ kind: 'telemetry', contentType: 'application/cbor', payload: Uint8Array.of(0x81, 0x01) });
    expect(() => telemetryRecord('', json)).toThrow(ArgumentError);
    expect(() => telemetryRecord('x'.repeat(256), json)).toThrow('Expected `contentType` to be 1 to 255 printable ASCII characters');
    expect(decodeRecord(Uint8Array.of(0x02, 0))).toEqual({ kind: 'unknown' }); // an empty content type
    expect(decodeRecord(Uint8Array.of(0x02, 4, 0x61))).toEqual({ kind: 'unknown' }); // runs past the end
  });

  it('round-trips an alarm event: its id and the JSON exactly as published', () => {
    const json = bytes('{"alarm":"v0-high","state":"active","time":1767225600.5}');
    const record = decodeRecord(eventRecord('v0-high', json));
    expect(record).toEqual({ kind: 'event', alarm: 'v0-high', payload: json });
    expect(decodeRecord(eventRecord('', bytes('{}')))).toEqual({ kind: 'event', alarm: '', payload: bytes('{}') });
  });

  it('refuses an alarm id above 255 bytes, and calls anything else unknown without throwing', () => {
    expect(() => eventRecord('x'.repeat(256), bytes('{}'))).toThrow(ArgumentError);
    expect(decodeRecord(new Uint8Array(0))).toEqual({ kind: 'unknown' });
    expect(decodeRecord(Uint8Array.of(0x01))).toEqual({ kind: 'unknown' }); // truncated header
    expect(decodeRecord(Uint8Array.of(0x01, 5, 0x61))).toEqual({ kind: 'unknown' }); // id runs past the end
    expect(decodeRecord(Uint8Array.of(0x01, 1, 0xff, 0x7b, 0x7d))).toEqual({ kind: 'unknown' }); // id not UTF-8
    expect(decodeRecord(Uint8Array.of(0xa1, 0x00))).toEqual({ kind: 'unknown' }); // a CBOR map, not a pack
    expect(decodeRecord(Uint8Array.of(0x9f, 0xff))).toEqual({ kind: 'unknown' }); // indefinite array: never ours
  });
});
