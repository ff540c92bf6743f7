import { describe, expect, it } from 'vitest';
import { ArgumentError, DecodeError, type DecodeReason } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { GOOD, type Sample } from '../../sdk/core/sample.js';
import { SenmlCborDecoder, SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { SenmlJsonDecoder, SenmlJsonEncoder, encodeSenmlJson, senmlRecordsToJson } from '../../sdk/encoding/senml-json.js';
import { packToSamples, resolveSenml, samplesToPack, type SenmlRecord } from '../../sdk/encoding/senml.js';
import { MULTIPLE_DATAPOINTS, MULTIPLE_DATAPOINTS_NOW, MULTIPLE_MEASUREMENTS, RESOLVED_DATA, SINGLE_DATAPOINT } from '../fixtures/rfc8428-examples.js';

const T0 = Date.UTC(2026, 0, 1);
const samples: Sample[] = [
  { channel: 'temperature', time: T0, value: 21.53, unit: 'Cel', quality: GOOD, calibrationId: 'CAL-7', uncertainty: 0.05 },
  { channel: 'pressure', time: T0 + 10, value: 101_325, unit: 'Pa', quality: GOOD },
  { channel: 'pressure', time: T0 + 20, value: null, unit: 'Pa', quality: { level: 'bad', reason: 'sensor_fault' } },
  { channel: 'humidity', time: T0 + 25, value: 45.5, unit: '%RH', quality: { level: 'uncertain', reason: 'out_of_range' } },
];

function rejection(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError, got a result');
}

describe('SenML-JSON', () => {
  const decoder = new SenmlJsonDecoder();

  it('reads the RFC 8428 §5.1 examples as the RFC writes them', () => {
    expect(decoder.decode(SINGLE_DATAPOINT)).toEqual([{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1 }]);
    expect(decoder.decode(MULTIPLE_DATAPOINTS_NOW)).toEqual([
      { bn: 'urn:dev:ow:10e2073a01080063:', n: 'voltage', u: 'V', v: 120.1 },
      { n: 'current', u: 'A', v: 1.2 },
    ]);
    expect(decoder.decode(MULTIPLE_DATAPOINTS)[0]).toEqual({ bn: 'urn:dev:ow:10e2073a0108006:', bt: 1276020076.001, bu: 'A', bver: 5, n: 'voltage', u: 'V', v: 120.1 });
    expect(decoder.decode(MULTIPLE_MEASUREMENTS)).toHaveLength(13);
    expect(resolveSenml(decoder.decode(MULTIPLE_MEASUREMENTS))).toEqual(decoder.decode(RESOLVED_DATA));
  });

  it('encodes a batch as the same pack as SenML-CBOR and reads it back into the samples', () => {
    const text = encodeSenmlJson('env-node-EMU-1', samples);
    expect(JSON.parse(text)[0]).toEqual({ bn: 'env-node-EMU-1/', bt: T0 / 1000, n: 'temperature', u: 'Cel', t: 0, v: 21.53, cal: 'CAL-7', unc: 0.05 });
    expect(JSON.parse(text)[2]).toEqual({ n: 'pressure', u: 'Pa', t: 0.02, q: 'bad', qr: 'sensor_fault' });
    const records = decoder.decode(text);
    expect(records).toEqual(new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('env-node-EMU-1', samples)));
    expect(records).toEqual(samplesToPack('env-node-EMU-1', samples));
    expect(packToSamples(records, 'env-node-EMU-1')).toEqual(samples);
    expect(decoder.decode(new TextEncoder().encode(encodeSenmlJson('env-node-EMU-1', samples, 2)))).toEqual(records);
  });

  it('translates CBOR ⇄ JSON without loss: data values in base64url, extensions beside the fields', () => {
    const records: SenmlRecord[] = [
      { bn: 'dev/', bt: 1767225600, n: 'tag', vd: Uint8Array.of(0xfb, 0xff, 0x00, 0x10) },
      { n: 'label', vs: 'Machine Room', extensions: new Map<string, unknown>([['site', { hall: 3, tags: ['a', 'b'] }]]) },
      { n: 'open', vb: false, t: -1.5, ut: 60 },
      { n: 'energy', u: 'J', s: 1234.5, bs: 10, bv: 1, v: 2 },
    ];
    const json = senmlRecordsToJson(records);
    expect(JSON.parse(json)[0].vd).toBe('-_8AEA');
    expect(JSON.parse(json)[1].site).toEqual({ hall: 3, tags: ['a', 'b'] });
    const fromJson = decoder.decode(json);
    expect(fromJson).toEqual(records);
    const cbor = new SenmlCborEncoder().encodeRecords(fromJson);
    const fromCbor = new SenmlCborDecoder().decode(cbor);
    expect(fromCbor.map((r) => ({ ...r, extensions: undefined }))).toEqual(records.map((r) => ({ ...r, extensions: undefined })));
    expect(fromCbor[1]!.extensions).toEqual(new Map([['site', new Map<string, unknown>([['hall', 3], ['tags', ['a', 'b']]])]]));
    expect(decoder.decode(senmlRecordsToJson(fromCbor))).toEqual(records); // maps with text keys become objects again
  });

  it('keeps the last of duplicate keys, as JSON.parse does (documented: JSON cannot show duplicates)', () => {
    expect(decoder.decode('[{"n":"a","v":1,"v":2}]')).toEqual([{ n: 'a', v: 2 }]);
  });

  const cases: Array<[DecodeReason, string, string | Uint8Array, { maxRecords?: number; maxStringLength?: number; maxDepth?: number; maxBytes?: number }?]> = [
    ['truncated', 'empty input', ''],
    ['truncated', 'an unterminated string', '[{"n":"ab'],
    ['truncated', 'an array that is not closed', '[{"v":1}'],
    ['trailing-bytes', 'text after the pack', '[{"v":1}] x'],
    ['not-well-formed', 'a trailing comma', '[{"v":1,}]'],
    ['not-well-formed', 'bytes that are not UTF-8', Uint8Array.of(0x5b, 0xff, 0x5d)],
    ['wrong-type', 'an object at the top', '{"v":1}'],
    ['wrong-type', 'an empty pack', '[]'],
    ['wrong-type', 'a record that is not an object', '[[1]]'],
    ['wrong-type', 'a string value that is a number', '[{"vs":1}]'],
    ['wrong-type', 'a value that is too large for a double', '[{"v":1e400}]'],
    ['wrong-type', 'vd that is not base64url', '[{"vd":"a+b/"}]'],
    ['wrong-type', 'two value fields', '[{"v":1,"vb":true}]'],
    ['wrong-type', 'bver that is not an integer', '[{"bver":1.5}]'],
    ['wrong-type', 'input that is neither text nor bytes', 42 as unknown as string],
    ['must-understand', 'a label ending in _', '[{"n":"a","v":1,"foo_":1}]'],
    ['must-understand', 'bver 11', '[{"bver":11,"v":1}]'],
    ['limit', 'more records than maxRecords', '[{"v":1},{"v":2}]', { maxRecords: 1 }],
    ['limit', 'a string above maxStringLength', '[{"n":"abcdef"}]', { maxStringLength: 5 }],
    ['limit', 'nesting above maxDepth', '[{"x":[[1]]}]', { maxDepth: 4 }],
    ['limit', 'more bytes than maxBytes', '[{"v":1}]', { maxBytes: 8 }],
    ['limit', 'multi-byte text above maxBytes', '[{"n":"ééééé"}]', { maxBytes: 16 }],
  ];

  it.each(cases)('refuses with %s: %s', (reason, _what, input, options) => {
    const error = rejection(() => new SenmlJsonDecoder(options).decode(input));
    expect(error.reason).toBe(reason);
    expect(error.code).toBe('ERR_DECODE');
  });

  it('names the JSON position of a syntax error', () => {
    expect(rejection(() => decoder.decode('[{"v":1}] x')).message).toBe('trailing-bytes: Unexpected non-whitespace character after JSON at character 10');
  });

  it('only ever yields records or a DecodeError for 5,000 mutated texts', () => {
    const random = new SeededRandom(5);
    const seed = encodeSenmlJson('d', samples);
    const alphabet = '[]{}",:_0123456789.eE+-truefalsnvbqd \\é';
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const chars = [...seed];
      for (let m = 1 + Math.floor(random.next() * 3); m > 0; m--) {
        const at = Math.floor(random.next() * (chars.length + 1));
        const char = alphabet[Math.floor(random.next() * alphabet.length)]!;
        if (random.next() < 0.5) chars.splice(at, 1, char);
        else chars.splice(at, Math.floor(random.next() * 3));
      }
      try {
        decoder.decode(chars.join(''));
        accepted++;
      } catch (error) {
        if (!(error instanceof DecodeError)) throw new Error(`${chars.join('')} threw ${String(error)}`);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('refuses samples it cannot write with precise ArgumentErrors', () => {
    expect(() => encodeSenmlJson('d', [])).toThrow(ArgumentError);
    expect(() => new SenmlJsonDecoder({ maxStringLength: 0 })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => encodeSenmlJson('d', [])).toThrow('Expected `samples` to hold at least one sample');
    expect(() => encodeSenmlJson('d', [{ ...samples[0]!, value: Infinity }])).toThrow('Expected `samples[0].value` to be a finite number or null, got Infinity');
    expect(() => encodeSenmlJson('a b', samples)).toThrow(/Expected `deviceId`/);
    expect(() => new SenmlJsonDecoder({ maxStringLength: 0 })).toThrow('Expected `maxStringLength` to be an integer from 1 to 2147483647, got 0');
  });
});

describe('telemetry encoders declare their content type', () => {
  it('SenmlCborEncoder is application/senml+cbor, SenmlJsonEncoder application/senml+json with the same records as UTF-8', () => {
    const samples: Sample[] = [{ channel: 't', time: 1767225600000, value: 21.5, unit: 'Cel', quality: GOOD }, { channel: 't', time: 1767225600500, value: 21.75, unit: 'Cel', quality: GOOD }];
    expect(new SenmlCborEncoder().contentType).toBe('application/senml+cbor');
    const encoder = new SenmlJsonEncoder();
    expect(encoder.contentType).toBe('application/senml+json');
    const bytes = encoder.encode('dev', samples);
    expect(new TextDecoder().decode(bytes)).toBe(encodeSenmlJson('dev', samples));
    expect(new SenmlJsonDecoder().decode(bytes)).toEqual(new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('dev', samples)));
  });
});

describe('resolveSenml (RFC 8428 §4.6)', () => {
  it('applies base value and base sum, keeps extensions, drops unknown base extensions', () => {
    const records: SenmlRecord[] = [
      { bn: 'd/', bt: 1767225600, bv: 100, bs: 5, n: 'a', v: 1, s: 2, extensions: new Map<string, unknown>([['bx', 1], ['note', 'x']]) },
      { n: 'b', t: 1 },
      { n: 'c', t: 2, vs: 'text' },
    ];
    expect(resolveSenml(records)).toEqual([
      { n: 'd/a', t: 1767225600, v: 101, s: 7, extensions: new Map([['note', 'x']]) },
      { n: 'd/b', t: 1767225601, v: 100, s: 5 },
      { n: 'd/c', t: 1767225602, vs: 'text', s: 5 },
    ]);
  });

  it('sorts records chronologically and makes relative times absolute when "now" is given', () => {
    const records: SenmlRecord[] = [{ bn: 'd/', n: 'x', t: -1, v: 1 }, { n: 'x', t: -3, v: 2 }, { n: 'x', v: 3 }];
    expect(resolveSenml(records).map((r) => [r.t, r.v])).toEqual([[-3, 2], [-1, 1], [0, 3]]);
    expect(resolveSenml(records, { now: 1767225600 }).map((r) => r.t)).toEqual([1767225597, 1767225599, 1767225600]);
    expect(() => resolveSenml(records, { now: Number.NaN })).toThrow('Expected `now` to be a finite number of seconds, got NaN');
  });

  it('refuses names outside RFC 8428 §4.5.1 and newer versions', () => {
    expect(rejection(() => resolveSenml([{ n: 'a b', v: 1 }])).reason).toBe('wrong-type');
    expect(rejection(() => resolveSenml([{ n: '_a', v: 1 }])).message).toMatch(/record 0: name "_a"/);
    expect(rejection(() => resolveSenml([{ bver: 11, n: 'a', v: 1 }])).reason).toBe('must-understand');
  });

  it('maps resolved records back to samples of one device only, with numeric values', () => {
    expect(rejection(() => packToSamples([{ bn: 'other/', n: 'x', v: 1 }], 'dev')).reason).toBe('wrong-type');
    expect(rejection(() => packToSamples([{ bn: 'dev/', n: 'x', vs: 'on' }], 'dev')).reason).toBe('wrong-type');
    expect(packToSamples([{ bn: 'dev/', bt: 1767225600, n: 'x', u: 'V', v: 1, q: 'uncertain', qr: 'drift' }], 'dev')).toEqual([
      { channel: 'x', time: 1767225600000, value: 1, unit: 'V', quality: { level: 'uncertain', detail: 'drift' } },
    ]);
  });
});
