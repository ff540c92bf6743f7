import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as plainDecode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DecodeError, type DecodeReason } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { GOOD, type Sample } from '../../sdk/core/sample.js';
import { SenmlCborDecoder, SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { SenmlJsonDecoder } from '../../sdk/encoding/senml-json.js';
import { SENML_LABELS, SENSORKIT_LABELS, packToSamples, resolveSenml, samplesToPack, type SenmlRecord } from '../../sdk/encoding/senml.js';
import { CBOR_EXAMPLE_DUMP, MULTIPLE_DATAPOINTS, MULTIPLE_DATAPOINTS_NOW, MULTIPLE_MEASUREMENTS, RESOLVED_DATA, SINGLE_DATAPOINT, dumpBytes } from '../fixtures/rfc8428-examples.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T0 = Date.UTC(2026, 0, 1);
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A batch like a device's: 10 channels sampled in turn, some calibrated, a few not good. */
function batch(count: number, seed = 1, start = T0): Sample[] {
  const random = new SeededRandom(seed);
  const units = ['Cel', 'Pa', '%RH', 'V', 'A', 'm/s2', 'm/s2', 'm/s2', 'lx', 'count'];
  return Array.from({ length: count }, (_, i): Sample => {
    const channel = i % 10;
    const base: Sample = { channel: `ch-${channel}`, time: start + Math.floor(i / 10) * 10 + channel, value: Math.round(random.gaussian(20, 5) * 1000) / 1000, unit: units[channel]!, quality: GOOD };
    if (i % 97 === 5) return { ...base, value: null, quality: { level: 'bad', reason: 'sensor_fault', detail: 'NAK' } };
    if (i % 53 === 7) return { ...base, quality: { level: 'uncertain', reason: 'stale' } };
    return channel < 3 ? { ...base, calibrationId: `CAL-${channel}`, uncertainty: 0.05 } : base;
  });
}

/** What survives the wire: no provenance, no quality detail (see senml.ts). */
function wire(sample: Sample): Sample {
  const { provenance: _p, quality, ...rest } = sample;
  return { ...rest, quality: quality.level === 'good' ? GOOD : { level: quality.level, ...(quality.reason ? { reason: quality.reason } : {}) } };
}

function rejection(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError, got a result');
}

describe('SenmlCborEncoder', () => {
  it('round-trips a batch through the strict decoder, record for record and sample for sample', () => {
    const samples = batch(1000);
    const bytes = new SenmlCborEncoder().encode('env-node-EMU-1', samples);
    const records = new SenmlCborDecoder().decode(bytes);
    expect(records).toEqual(samplesToPack('env-node-EMU-1', samples));
    expect(packToSamples(records, 'env-node-EMU-1')).toEqual(samples.map(wire));
  });

  it('writes the first record with bn and bt, keys in bytewise order and numbers in their shortest form', () => {
    const bytes = new SenmlCborEncoder().encode('dev', [{ channel: 't', time: 1767225600000, value: 21.5, unit: 'Cel', quality: GOOD }]);
    // [{0: "t", 1: "Cel", 2: 21.5 (half), 6: 0, -2: "dev/", -3: 1767225600}]
    expect(toHex(bytes)).toBe('81a6' + '006174' + '016343656c' + '02f94d60' + '0600' + '21646465762f' + '221a6955b900');
  });

  it('chooses integer, half, single or double precision by the value (RFC 8949 §4.2.1)', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [-1, '20'],
      [4294967295, '1affffffff'],
      [-4294967296, '3affffffff'],
      [1.5, 'f93e00'],
      [-0, 'f98000'],
      [2 ** -24, 'f90001'],
      [65504.5, 'fa477fe080'],
      [2 ** 40, 'fa53800000'],
      [0.1, 'fb3fb999999999999a'],
      [2 ** 53, 'fa5a000000'],
      [2 ** 53 + 2, 'fb4340000000000001'],
      [1e300, 'fb7e37e43c8800759c'],
    ];
    const encoder = new SenmlCborEncoder();
    const decoder = new SenmlCborDecoder();
    for (const [value, expected] of cases) {
      const bytes = encoder.encode('d', [{ channel: 'x', time: 0, value, unit: '', quality: GOOD }]);
      expect(toHex(bytes).slice(16, 16 + expected.length), String(value)).toBe(expected); // after 81 a6 00 61 78 01 60 02
      expect(Object.is(decoder.decode(bytes)[0]!.v, value), String(value)).toBe(true);
    }
  });

  it('writes a bad sample without a value but with its quality, and keeps integer ms times exactly', () => {
    const samples: Sample[] = [
      { channel: 'p', time: 1767225600123, value: 5, unit: 'Pa', quality: GOOD },
      { channel: 'p', time: 1767225600124, value: null, unit: 'Pa', quality: { level: 'bad', reason: 'sensor_fault' } },
    ];
    const records = new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('d', samples));
    expect(records[1]).toEqual({ n: 'p', u: 'Pa', t: 0.001, q: 'bad', qr: 'sensor_fault' });
    expect(packToSamples(records, 'd').map((s) => s.time)).toEqual([1767225600123, 1767225600124]);
    const random = new SeededRandom(9);
    for (let i = 0; i < 2000; i++) {
      const t = Date.UTC(2000, 0, 1) + Math.floor(random.next() * 3e12);
      const pair: Sample[] = [
        { ...samples[0]!, time: t },
        { ...samples[0]!, time: t + Math.floor(random.next() * 1e6) },
      ];
      const back = packToSamples(new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('d', pair)), 'd');
      expect(back.map((s) => s.time)).toEqual(pair.map((s) => s.time));
    }
  });

  it('refuses batches it cannot write with precise ArgumentErrors', () => {
    const encoder = new SenmlCborEncoder();
    const ok: Sample = { channel: 'a', time: 0, value: 1, unit: 'V', quality: GOOD };
    expect(() => encoder.encode('d', [])).toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT' }));
    expect(() => encoder.encode('d', [])).toThrow('Expected `samples` to hold at least one sample');
    expect(() => encoder.encode('d/x', [ok])).toThrow(/Expected `deviceId`/);
    expect(() => encoder.encode('d', [ok, { ...ok, channel: 'a b' }])).toThrow(/channel id/);
    expect(() => encoder.encode('d', [ok, { ...ok, value: Number.NaN }])).toThrow('Expected `samples[1].value` to be a finite number or null, got NaN');
    expect(() => encoder.encode('d', [ok, { ...ok, time: Infinity }])).toThrow('Expected `samples[1].time` to be a finite number');
    expect(() => encoder.encode('d', [{ ...ok, uncertainty: -1 }])).toThrow('Expected `samples[0].uncertainty`');
    expect(() => new SenmlCborEncoder({ initialBufferSize: 1 })).toThrow('Expected `initialBufferSize` to be an integer from 64 to 2^30, got 1');
  });

  it('writes common records (good, no calibration id, no uncertainty) from a per-channel cache that follows unit changes', () => {
    const encoder = new SenmlCborEncoder();
    const at = (ms: number, channel: string, unit: string, value: number | null = 1): Sample => ({ channel, time: T0 + ms, value, unit, quality: GOOD });
    const samples: Sample[] = [at(0, 'a', 'V'), at(1, 'a', 'mV'), at(2, 'a', 'V', null), at(3, 'b', 'V', 2.5), { ...at(4, 'a', 'V'), quality: { level: 'uncertain', reason: 'stale' } }, at(5, 'a', 'mV', -3)];
    const bytes = encoder.encode('d', samples);
    expect(new SenmlCborDecoder().decode(bytes)).toEqual(samplesToPack('d', samples));
    expect(packToSamples(new SenmlCborDecoder().decode(bytes), 'd')).toEqual(samples.map(wire));
    // Record 2 exactly: {0: "a", 1: "mV", 2: 1, 6: 0.001 (double)}, and record 3 without v.
    expect(toHex(bytes)).toContain('a4' + '006161' + '01626d56' + '0201' + '06fb3f50624dd2f1a9fc'); // t = 0.001 s
    expect(toHex(bytes)).toContain('a3' + '006161' + '016156' + '06fb3f60624dd2f1a9fc'); // t = 0.002 s, no value
    // The same encoder, the same bytes again (the cache changes nothing), and a unit of the wrong type is refused.
    expect(toHex(encoder.encode('d', samples))).toBe(toHex(bytes)); // hex: cbor-x's decode caches a DataView on its input
    expect(() => encoder.encode('d', [samples[0]!, { ...samples[1]!, unit: 7 as unknown as string }])).toThrow('Expected `samples[1].unit` to be a string, got 7');
  });

  it('grows its buffer for large batches and long strings, and keeps no state between calls', () => {
    const encoder = new SenmlCborEncoder({ initialBufferSize: 64 });
    const big = batch(5000, 3);
    const first = encoder.encode('d', big);
    const small = encoder.encode('d', batch(3, 4));
    expect(encoder.encode('d', big)).toEqual(first);
    expect(new SenmlCborDecoder().decode(small)).toHaveLength(3);
    const longCal = 'C'.repeat(70_000);
    const records = new SenmlCborDecoder({ maxStringLength: 100_000 }).decode(encoder.encode('d', [{ ...big[0]!, calibrationId: longCal }]));
    expect(records[0]!.cal).toBe(longCal);
  });
});

describe('SenmlCborEncoder packs', () => {
  it('never writes a pack again once handed out: across slabs, big packs, encodeRecords and failed encodes', () => {
    const encoder = new SenmlCborEncoder({ initialBufferSize: 1024 });
    const random = new SeededRandom(8);
    const kept: Array<{ pack: Uint8Array; copy: Uint8Array }> = [];
    for (let i = 0; i < 300; i++) {
      const roll = random.nextUint32() % 10;
      if (roll === 0) {
        // A failed encode in the middle of a pack: its bytes are never handed out, nothing else moves.
        const samples = batch(5, i);
        expect(() => encoder.encode('d', [...samples, { ...samples[0]!, value: Number.NaN }])).toThrow(ArgumentError);
        continue;
      }
      const pack = roll === 1 ? encoder.encodeRecords([{ n: `r${i}`, v: i }]) : encoder.encode('d', batch(roll === 2 ? 100 : 1 + (random.nextUint32() % 20), i));
      kept.push({ pack, copy: pack.slice() });
    }
    for (const { pack, copy } of kept) expect(pack).toEqual(copy);
  });

  it('hands out packs as 8-byte aligned views of shared 64 KiB slabs, one allocation per slab', () => {
    const encoder = new SenmlCborEncoder();
    const packs = Array.from({ length: 100 }, (_, i) => encoder.encode('d', batch(10, i)));
    expect(packs.every((pack) => pack.byteOffset % 8 === 0)).toBe(true);
    const slabs = new Set(packs.map((pack) => pack.buffer));
    expect(slabs.size).toBe(Math.ceil(packs.reduce((sum, pack) => sum + ((pack.length + 7) & ~7), 0) / 65_536));
    expect([...slabs].every((slab) => slab.byteLength === 65_536)).toBe(true);
  });
});

describe('RFC 8428 golden vectors', () => {
  const json = new SenmlJsonDecoder();
  const rfcBytes = dumpBytes(CBOR_EXAMPLE_DUMP);
  const rfcRecords: SenmlRecord[] = [
    { bn: 'urn:dev:ow:10e2073a0108006:', bt: 1.276020076001e9, bu: 'A', bver: 5, n: 'voltage', u: 'V', v: 120.1 },
    ...[1.2, 1.3, 1.4, 1.5, 1.6, 1.7].map((v, i) => ({ n: 'current', t: i - 5, v })),
  ];

  it('decodes the §6 CBOR example exactly as the RFC gives it', () => {
    expect(rfcBytes).toHaveLength(0xc3);
    expect(new SenmlCborDecoder().decode(rfcBytes)).toEqual(rfcRecords);
  });

  it('encodes the §6 records to the RFC bytes, byte for byte', () => {
    expect(toHex(new SenmlCborEncoder().encodeRecords(rfcRecords))).toBe(toHex(rfcBytes));
  });

  it('reads the §5.1.2 JSON and the §6 CBOR as the same pack once resolved (§4.6)', () => {
    const fromJson = resolveSenml(json.decode(MULTIPLE_DATAPOINTS));
    expect(resolveSenml(new SenmlCborDecoder().decode(rfcBytes))).toEqual(fromJson);
    expect(fromJson[0]).toEqual({ n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', t: 1.276020076001e9 - 5, v: 1.2, bver: 5 });
    expect(fromJson.at(-1)).toEqual({ n: 'urn:dev:ow:10e2073a0108006:current', u: 'A', t: 1.276020076001e9, v: 1.7, bver: 5 });
    expect(fromJson.find((r) => r.n.endsWith('voltage'))).toEqual({ n: 'urn:dev:ow:10e2073a0108006:voltage', u: 'V', t: 1.276020076001e9, v: 120.1, bver: 5 });
  });

  it('encodes §5.1.1 as hand-encoded per §6 and round-trips §5.1.1, §5.1.2 and §5.1.3 through CBOR', () => {
    const single = json.decode(SINGLE_DATAPOINT);
    const expected = '81a3' + '00781b' + toHex(Buffer.from('urn:dev:ow:10e2073a01080063')) + '016343656c' + '02fb403719999999999a';
    expect(toHex(new SenmlCborEncoder().encodeRecords(single))).toBe(expected);
    for (const text of [SINGLE_DATAPOINT, MULTIPLE_DATAPOINTS_NOW, MULTIPLE_DATAPOINTS, MULTIPLE_MEASUREMENTS]) {
      const records = json.decode(text);
      expect(new SenmlCborDecoder().decode(new SenmlCborEncoder().encodeRecords(records))).toEqual(records);
    }
    expect(resolveSenml(json.decode(MULTIPLE_DATAPOINTS_NOW))).toEqual([
      { n: 'urn:dev:ow:10e2073a01080063:voltage', u: 'V', t: 0, v: 120.1 },
      { n: 'urn:dev:ow:10e2073a01080063:current', u: 'A', t: 0, v: 1.2 },
    ]);
  });

  it('resolves §5.1.3 (through CBOR) into the §5.1.4 resolved data', () => {
    const cbor = new SenmlCborEncoder().encodeRecords(json.decode(MULTIPLE_MEASUREMENTS));
    expect(resolveSenml(new SenmlCborDecoder().decode(cbor))).toEqual(json.decode(RESOLVED_DATA));
  });
});

describe('an independent decoder reads our output as RFC 8428 SenML', () => {
  // Written from RFC 8428 §6 Table 4 and §4.6 for this test, not shared with the code under test.
  const LABELS: Record<string, string> = { '-1': 'bver', '-2': 'bn', '-3': 'bt', '-4': 'bu', '-5': 'bv', '-6': 'bs', 0: 'n', 1: 'u', 2: 'v', 3: 'vs', 4: 'vb', 5: 's', 6: 't', 7: 'ut', 8: 'vd' };
  function resolveIndependently(pack: Array<Record<string, unknown>>): Array<{ name: string; unit: unknown; value: unknown; time: number }> {
    let bn = '';
    let bt = 0;
    let bu: unknown;
    return pack.map((raw) => {
      const r = Object.fromEntries(Object.entries(raw).map(([k, v]) => [LABELS[k] ?? k, v]));
      if (r.bn !== undefined) bn = r.bn as string;
      if (r.bt !== undefined) bt = r.bt as number;
      if (r.bu !== undefined) bu = r.bu;
      return { name: bn + ((r.n as string | undefined) ?? ''), unit: r.u ?? bu, value: r.v, time: bt + ((r.t as number | undefined) ?? 0) };
    });
  }

  it('with plain cbor-x decode and with the strict decoder, the same names, units, values and times', () => {
    const samples = batch(2000, 7);
    const bytes = new SenmlCborEncoder().encode('env-node-EMU-1', samples);
    const expected = samples.map((s) => ({ name: `env-node-EMU-1/${s.channel}`, unit: s.unit, value: s.value ?? undefined, time: s.time / 1000 }));
    const plain = resolveIndependently(plainDecode(bytes) as Array<Record<string, unknown>>);
    const strict = resolveSenml(new SenmlCborDecoder().decode(bytes)).map((r) => ({ name: r.n, unit: r.u, value: r.v, time: r.t }));
    for (const resolved of [plain, strict]) {
      expect(resolved.map(({ time: _t, ...rest }) => rest)).toEqual(expected.map(({ time: _t, ...rest }) => rest));
      resolved.forEach((r, i) => expect(Math.abs(r.time - expected[i]!.time)).toBeLessThan(1e-6));
    }
  });
});

describe('SenmlCborDecoder rejections', () => {
  const cases: Array<[DecodeReason, string, string, { maxRecords?: number; maxStringLength?: number; maxDepth?: number; maxBytes?: number }?]> = [
    ['truncated', 'empty input', ''],
    ['truncated', 'map ends before its value', '81 a1 02'],
    ['truncated', 'float cut short', '81 a1 02 fb 40 37'],
    ['truncated', 'string runs past the end', '81 a1 00 63 61'],
    ['truncated', 'array claims more records than bytes', '83 a1 02 01'],
    ['trailing-bytes', 'a byte after the pack', '81 a1 02 01 00'],
    ['not-well-formed', 'reserved additional information 28', '81 a1 02 1c'],
    ['not-well-formed', 'a break outside an indefinite item', '81 a1 02 ff'],
    ['not-well-formed', 'two-byte simple value below 32', '81 a1 62 78 78 f8 10'],
    ['not-well-formed', 'text that is not UTF-8', '81 a1 62 78 78 62 c3 28'],
    ['indefinite-length', 'indefinite array', '9f a1 02 01 ff'],
    ['indefinite-length', 'indefinite map', '81 bf 02 01 ff'],
    ['indefinite-length', 'indefinite text', '81 a1 00 7f 61 61 ff'],
    ['non-minimal', '1 in two bytes', '81 a1 02 18 01'],
    ['non-minimal', '255 in three bytes', '81 a1 02 19 00 ff'],
    ['non-minimal', '65535 in five bytes', '81 a1 02 1a 00 00 ff ff'],
    ['non-minimal', '2^32-1 in nine bytes', '81 a1 02 1b 00 00 00 00 ff ff ff ff'],
    ['non-minimal', 'array count in two bytes', '98 01 a1 02 01'],
    ['non-minimal', 'string length in two bytes', '81 a1 00 78 01 61'],
    ['duplicate-key', 'label 2 twice', '81 a2 02 01 02 02'],
    ['duplicate-key', 'text label twice', '81 a2 62 78 78 01 62 78 78 02'],
    ['duplicate-key', 'key twice in a nested map', '81 a1 62 78 78 a2 01 01 01 02'],
    ['limit', 'more records than maxRecords', '82 a1 02 01 a1 02 02', { maxRecords: 1 }],
    ['limit', 'a string above maxStringLength', '81 a1 00 63 61 62 63', { maxStringLength: 2 }],
    ['limit', 'nesting above maxDepth', '81 a1 62 78 78 81 81 01', { maxDepth: 4 }],
    ['limit', 'more bytes than maxBytes', '81 a1 02 01', { maxBytes: 3 }],
    ['limit', 'an integer value beyond 2^53', '81 a1 02 1b 00 20 00 00 00 00 00 01'],
    ['wrong-type', 'top level not an array', 'a1 02 01'],
    ['wrong-type', 'an empty pack', '80'],
    ['wrong-type', 'a record that is not a map', '81 01'],
    ['wrong-type', 'a name that is a number', '81 a1 00 01'],
    ['wrong-type', 'a value that is a string', '81 a1 02 61 61'],
    ['wrong-type', 'vb that is not a boolean', '81 a1 04 01'],
    ['wrong-type', 'vd that is text', '81 a1 08 61 61'],
    ['wrong-type', 'a non-finite value', '81 a1 02 f9 7c 00'],
    ['wrong-type', 'bver that is a float', '81 a1 20 f9 3c 00'],
    ['wrong-type', 'two value fields', '81 a2 02 01 03 61 61'],
    ['wrong-type', 'a quality level outside uncertain/bad', '81 a1 61 71 64 67 6f 6f 64'],
    ['wrong-type', 'a tag', '81 a1 02 c1 01'],
    ['wrong-type', 'undefined', '81 a1 62 78 78 f7'],
    ['wrong-type', 'a byte-string label', '81 a1 41 00 01'],
    ['wrong-type', 'a registered label spelled as text', '81 a1 61 76 01'],
    ['unknown-label', 'integer label 9', '81 a1 09 01'],
    ['unknown-label', 'integer label -8', '81 a1 27 01'],
    ['unknown-label', 'integer label 24', '81 a1 18 18 01'],
    ['must-understand', 'a label ending in _', '81 a1 62 78 5f 01'],
    ['must-understand', 'bver 11', '81 a1 20 0b'],
  ];

  it.each(cases)('%s: %s', (reason, _what, bytes, options) => {
    const error = rejection(() => new SenmlCborDecoder(options).decode(hex(bytes)));
    expect(error.reason).toBe(reason);
    expect(error.code).toBe('ERR_DECODE');
    expect(error.message).toMatch(new RegExp(`^${reason}: .*(at byte \\d+|record \\d+|bytes|maxBytes)`));
  });

  it('names the byte offset of a problem', () => {
    expect(rejection(() => new SenmlCborDecoder().decode(hex('82 a1 02 01 a1 02 18 01'))).message).toBe('non-minimal: 1 in two bytes (RFC 8949 §4.2.1) at byte 6');
  });

  it('accepts packs exactly at its limits', () => {
    const limits = { maxRecords: 2, maxStringLength: 3, maxDepth: 5, maxBytes: 14 };
    const bytes = hex('82 a1 00 63 61 62 63 a1 62 78 78 81 81 01');
    expect(bytes.length).toBe(14);
    expect(new SenmlCborDecoder(limits).decode(bytes)).toEqual([{ n: 'abc' }, { extensions: new Map([['xx', [[1]]]]) }]);
  });

  it('validates its options with precise ArgumentErrors and reports the limits in force', () => {
    expect(() => new SenmlCborDecoder({ maxDepth: 2 })).toThrow(ArgumentError);
    expect(new SenmlCborDecoder().limits).toEqual({ maxBytes: 1_048_576, maxRecords: 10_000, maxStringLength: 1024, maxDepth: 16 });
    expect(() => new SenmlCborDecoder({ maxDepth: 2 })).toThrow('Expected `maxDepth` to be an integer from 3 to 64, got 2');
    expect(() => new SenmlCborDecoder({ maxRecords: 1.5 })).toThrow('Expected `maxRecords` to be an integer from 1 to 2147483647, got 1.5');
    expect(() => new SenmlCborDecoder({ maxBytes: '10' as unknown as number })).toThrow('Expected `maxBytes` to be an integer from 1 to 2147483647, got "10"');
  });

  it('refuses what is not bytes with a DecodeError too', () => {
    expect(rejection(() => new SenmlCborDecoder().decode('81a10201' as unknown as Uint8Array)).reason).toBe('wrong-type');
  });

  it('keeps unknown extension fields and copies byte values out of the input', () => {
    const input = hex('81 a3 08 42 01 02 63 66 6f 6f a1 61 61 01 62 78 78 62 c3 a9');
    const [record] = new SenmlCborDecoder().decode(input);
    input.fill(0);
    expect(record).toEqual({ vd: Uint8Array.of(1, 2), extensions: new Map<string, unknown>([['foo', new Map([['a', 1]])], ['xx', 'é']]) });
  });
});

describe('SenmlCborDecoder under fuzzing', () => {
  it('yields records or a DecodeError for 20,000 random and mutated inputs', () => {
    const random = new SeededRandom(20_251_125);
    const int = (n: number): number => Math.floor(random.next() * n);
    const encoder = new SenmlCborEncoder();
    const seeds = [
      encoder.encode('d', batch(12, 2)),
      dumpBytes(CBOR_EXAMPLE_DUMP),
      encoder.encodeRecords([{ n: 'x', vs: 'é', extensions: new Map<string, unknown>([['e', { a: [1, 2.5, 'z', null, true] }]]) }, { n: 'y', vd: Uint8Array.of(1) }]),
    ];
    const decoder = new SenmlCborDecoder({ maxRecords: 64, maxStringLength: 64, maxDepth: 8 });
    const reasons = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let input: Uint8Array;
      if (i % 4 === 0) {
        input = Uint8Array.from({ length: int(24) }, () => int(256));
        if (input.length > 0 && i % 8 === 0) input[0] = 0x80 | int(4); // an array head, to get past the first check
      } else {
        const bytes = Array.from(seeds[int(seeds.length)]!);
        for (let m = 1 + int(3); m > 0; m--) {
          const at = int(bytes.length + 1);
          const op = int(5);
          if (op === 0) bytes[at] = int(256);
          else if (op === 1) bytes.splice(at, 0, int(256));
          else if (op === 2) bytes.splice(at, 1 + int(4));
          else if (op === 3) bytes.length = at;
          else bytes.splice(at, 0, ...bytes.slice(int(bytes.length), int(bytes.length)));
        }
        input = Uint8Array.from(bytes);
      }
      try {
        const records = decoder.decode(input);
        expect(Array.isArray(records)).toBe(true);
        accepted++;
      } catch (error) {
        if (!(error instanceof DecodeError)) throw new Error(`input ${toHex(input)} threw ${String(error)}`);
        reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
      }
    }
    expect(accepted).toBeGreaterThan(100);
    expect([...reasons.keys()].sort()).toEqual(expect.arrayContaining(['duplicate-key', 'non-minimal', 'not-well-formed', 'trailing-bytes', 'truncated', 'unknown-label', 'wrong-type']));
  });
});

describe('long non-ASCII text', () => {
  it('decodes 300 records of long UTF-8 names, strings and extensions exactly as they were written', () => {
    const long = 'ünïcødé '.repeat(12);
    const records: SenmlRecord[] = Array.from({ length: 300 }, (_, i) => ({ n: `s${i}`, vs: `${long}${i}`, t: i / 100, extensions: new Map([['note', `${i}:${long}`]]) }));
    const bytes = new SenmlCborEncoder().encodeRecords(records);
    expect(new SenmlCborDecoder().decode(bytes)).toEqual(records);
  });
});

describe('sensorkit.cddl', () => {
  const cddl = readFileSync(join(ROOT, 'sdk/encoding/sensorkit.cddl'), 'utf8');

  it('gives the labels the code uses: RFC 8428 Table 4 integers and sensorkit\'s text labels', () => {
    const integers = Object.fromEntries([...cddl.matchAll(/^(\w+) = (-?\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    const texts = Object.fromEntries([...cddl.matchAll(/^(\w+) = "(\w+)"$/gm)].map((m) => [m[1], m[2]]));
    expect(integers).toEqual({ ...SENML_LABELS });
    expect(Object.values(texts).sort()).toEqual(Object.values(SENSORKIT_LABELS).sort());
  });

  it('has the telemetry section and the marked sections for status and commands', () => {
    expect(cddl).toMatch(/^senml-pack = \[1\* senml-record\]$/m);
    expect(cddl).toMatch(/^; 2\. Status: .*extend here$/m);
    expect(cddl).toMatch(/^command-result = command-ok \/ command-error$/m);
    expect(cddl).toMatch(/^ {2}\? senml-value, +; absent on a bad sample without a value/m);
  });
});
