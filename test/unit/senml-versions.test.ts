/**
 * SenML versions and secondary units: RFC 8798 §3 units (hPa, mA …) are allowed in `u` only with
 * the RFC 9100 §4 "Secondary Units" feature, `bver` 26 = 10 + 2^4. The encoders write it on packs
 * that need it and only on those; the strict decoders refuse a secondary unit without it and any
 * feature bit they do not understand (RFC 9100 §2.2). Vectors: test/fixtures/senml/ (README there).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Encoder } from 'cbor-x';
import { afterEach, describe, expect, it } from 'vitest';
import { DecodeError } from '../../sdk/core/errors.js';
import { GOOD, type Sample } from '../../sdk/core/sample.js';
import { convert } from '../../sdk/core/units.js';
import { SenmlCborDecoder, SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { SenmlJsonDecoder, SenmlJsonEncoder, encodeSenmlJson } from '../../sdk/encoding/senml-json.js';
import {
  SENML_LABELS,
  SENML_SECONDARY_UNITS_VERSION,
  checkSenmlPack,
  isSecondaryUnit,
  isUnderstoodSenmlVersion,
  packToSamples,
  resolveSenml,
  type SenmlRecord,
} from '../../sdk/encoding/senml.js';
import { MULTIPLE_DATAPOINTS_NOW } from '../fixtures/rfc8428-examples.js';
import { SECONDARY_UNITS_CBOR_HEX, SECONDARY_UNITS_JSON, SECONDARY_UNITS_WITHOUT_FEATURE_JSON } from '../fixtures/senml/rfc9100-secondary-units.js';
import { startDevice, stopDevice, type DeviceRun } from '../support/run-device.js';

const T0 = Date.UTC(2026, 0, 1);
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function rejection(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError, got a result');
}

const pressure = (unit: string, value: number): Sample[] => [
  { channel: 'pressure', time: T0, value, unit, quality: GOOD },
  { channel: 'temperature', time: T0 + 1000, value: 21.5, unit: 'Cel', quality: GOOD },
];

describe('RFC 9100 versions', () => {
  it('computes bver 26 for the secondary-units feature (RFC 9100 §4: 10 + 2^4)', () => {
    expect(SENML_SECONDARY_UNITS_VERSION).toBe(26);
    expect(isSecondaryUnit('hPa')).toBe(true);
    expect(isSecondaryUnit('mA')).toBe(true);
    expect(isSecondaryUnit('Pa')).toBe(false);
    expect(isSecondaryUnit('kPa')).toBe(false); // not registered in SenML at all
  });

  it('understands versions up to 10 and 26, and no other feature bit (RFC 9100 §2.2, §3)', () => {
    for (const bver of [0, 5, 10, 26]) expect(isUnderstoodSenmlVersion(bver), String(bver)).toBe(true);
    // 11: Reserved0 set; 27: Reserved0 with secondary units; 42: feature code 5; 58: codes 4 and 5;
    // 18: feature 4 without Reserved1 (0b10010); 2^52 + 10: feature code 52.
    for (const bver of [11, 18, 27, 42, 58, 2 ** 52 + 10, 26.5, -26]) expect(isUnderstoodSenmlVersion(bver), String(bver)).toBe(false);
  });
});

describe('encoders: bver 26 on packs with a secondary unit, and only on those', () => {
  it('writes the golden SenML-CBOR bytes of a pack with hPa: bver (-1) = 26 between t and bn', () => {
    const bytes = new SenmlCborEncoder().encode('env-node-EMU-1', pressure('hPa', 1013.25));
    // [{0: "pressure", 1: "hPa", 2: 1013.25, 6: 0, -1: 26, -2: "env-node-EMU-1/", -3: 1767225600},
    //  {0: "temperature", 1: "Cel", 2: 21.5, 6: 1}], keys in bytewise order (RFC 8949 §4.2.1).
    expect(toHex(bytes)).toBe(
      toHex(hex('82 a7 00 68 7072657373757265 01 63 685061 02 fa 447d5000 06 00 20 18 1a 21 6f 656e762d6e6f64652d454d552d312f 22 1a 6955b900 a4 00 6b 74656d7065726174757265 01 63 43656c 02 f9 4d60 06 01')),
    );
  });

  it('leaves a pack of primary units as it was: no bver, six fields in the first record', () => {
    const bytes = new SenmlCborEncoder().encode('env-node-EMU-1', pressure('Pa', 101325));
    expect(toHex(bytes)).toBe(
      toHex(hex('82 a6 00 68 7072657373757265 01 62 5061 02 1a 00018bcd 06 00 21 6f 656e762d6e6f64652d454d552d312f 22 1a 6955b900 a4 00 6b 74656d7065726174757265 01 63 43656c 02 f9 4d60 06 01')),
    );
    expect(encodeSenmlJson('env-node-EMU-1', pressure('Pa', 101325))).not.toContain('bver');
  });

  it('writes "bver":26 first in the SenML-JSON pack, and the unit stays hPa', () => {
    expect(encodeSenmlJson('env-node-EMU-1', pressure('hPa', 1013.25))).toBe(
      '[{"bver":26,"bn":"env-node-EMU-1/","bt":1767225600,"n":"pressure","u":"hPa","t":0,"v":1013.25},{"n":"temperature","u":"Cel","t":1,"v":21.5}]',
    );
  });

  it('writes bver when the secondary unit is on a later record, and round-trips both formats', () => {
    const samples: Sample[] = [
      { channel: 'temperature', time: T0, value: 21.5, unit: 'Cel', quality: GOOD },
      { channel: 'loop-current', time: T0 + 100, value: 12.5, unit: 'mA', quality: GOOD },
      { channel: 'loop-current', time: T0 + 200, value: null, unit: 'mA', quality: { level: 'bad', reason: 'sensor_fault' } },
    ];
    const cbor = new SenmlCborDecoder().decode(new SenmlCborEncoder().encode('dev', samples));
    expect(cbor[0]!.bver).toBe(26);
    expect(packToSamples(cbor, 'dev')).toEqual(samples);
    const json = new SenmlJsonDecoder().decode(new SenmlJsonEncoder().encode('dev', samples));
    expect(json[0]!.bver).toBe(26);
    expect(packToSamples(json, 'dev')).toEqual(samples);
  });
});

describe('strict decoders and RFC 9100', () => {
  it('decode the RFC 8428 §5.1.2 pack written in RFC 8798 units with bver 26, in JSON and in CBOR alike', () => {
    const expected: SenmlRecord[] = [
      { bver: 26, bn: 'urn:dev:ow:10e2073a01080063:', n: 'voltage', u: 'mV', v: 120100 },
      { n: 'current', u: 'mA', v: 1200 },
    ];
    const fromJson = new SenmlJsonDecoder().decode(SECONDARY_UNITS_JSON);
    expect(fromJson).toEqual(expected);
    expect(new SenmlCborDecoder().decode(hex(SECONDARY_UNITS_CBOR_HEX))).toEqual(expected);
    expect(toHex(new SenmlCborEncoder().encodeRecords(expected))).toBe(toHex(hex(SECONDARY_UNITS_CBOR_HEX)));
    // Once resolved and converted to the primary units, the very measurements of RFC 8428 §5.1.2.
    const primary = resolveSenml(fromJson).map((record) => ({ n: record.n, u: record.u === 'mV' ? 'V' : 'A', v: convert(record.v!, record.u!, record.u === 'mV' ? 'V' : 'A') }));
    const rfc8428 = resolveSenml(new SenmlJsonDecoder().decode(MULTIPLE_DATAPOINTS_NOW)).map((record) => ({ n: record.n, u: record.u, v: record.v }));
    expect(primary.map((r) => ({ ...r, v: Math.round(r.v * 1e9) / 1e9 }))).toEqual(rfc8428);
    expect(resolveSenml(fromJson)[0]!.bver).toBe(26);
  });

  it('refuse the same pack without bver: a secondary unit in a version 10 pack', () => {
    const error = rejection(() => new SenmlJsonDecoder().decode(SECONDARY_UNITS_WITHOUT_FEATURE_JSON));
    expect(error.reason).toBe('wrong-type');
    expect(error.message).toBe('wrong-type: record 0: unit "mV" is an RFC 8798 secondary unit, allowed only with bver 26 (RFC 9100 §4), but the pack\'s bver is 10');
    // The CBOR bytes without the bver field: map(4), no "20 18 1a".
    const withoutBver = SECONDARY_UNITS_CBOR_HEX.replace('82 a5 20 18 1a', '82 a4');
    expect(rejection(() => new SenmlCborDecoder().decode(hex(withoutBver))).message).toMatch(/^wrong-type: record 0: unit "mV" is an RFC 8798 secondary unit/);
  });

  it.each([
    ['a secondary unit with bver 10', '[{"bver":10,"n":"p","u":"hPa","v":1013}]', 'wrong-type', /record 0: unit "hPa".*bver is 10/],
    ['a secondary base unit (bu)', '[{"bu":"mA","n":"i","v":12}]', 'wrong-type', /record 0: unit "mA"/],
    ['a secondary unit before the bver that would allow it', '[{"n":"i","u":"mA","v":12},{"bver":26,"n":"j","u":"mA","v":13}]', 'wrong-type', /record 0: unit "mA"/],
    ['a secondary unit with bver 5', '[{"bver":5,"n":"i","u":"mA","v":12}]', 'wrong-type', /bver is 5/],
    ['bver 42 (feature code 5, not understood)', '[{"bver":42,"n":"i","u":"mA","v":12}]', 'must-understand', /SenML version 42 is not understood/],
    ['bver 58 (features 4 and 5)', '[{"bver":58,"n":"i","u":"A","v":12}]', 'must-understand', /SenML version 58/],
    ['bver 27 (Reserved0 set)', '[{"bver":27,"n":"i","u":"mA","v":12}]', 'must-understand', /SenML version 27/],
    ['bver 18 (Reserved1 absent)', '[{"bver":18,"n":"i","u":"mA","v":12}]', 'must-understand', /SenML version 18/],
  ])('refuse %s', (_what, json, reason, message) => {
    const error = rejection(() => new SenmlJsonDecoder().decode(json));
    expect(error.reason).toBe(reason);
    expect(error.message).toMatch(message);
    const records = JSON.parse(json) as SenmlRecord[];
    expect(rejection(() => new SenmlCborDecoder().decode(cborOf(records))).reason).toBe(reason);
    expect(rejection(() => resolveSenml(records)).reason).toBe(reason);
  });

  it('accept bver 26 on primary units, a bver 26 that covers later records, and bu under bver 26', () => {
    const packs = [
      '[{"bver":26,"n":"p","u":"Pa","v":101325}]',
      '[{"bver":26,"bn":"dev/","n":"p","u":"hPa","v":1013.25},{"n":"i","u":"mA","v":12}]',
      '[{"bver":26,"bu":"hPa","n":"p","v":1013.25},{"n":"q","v":1012}]',
    ];
    for (const pack of packs) {
      const records = new SenmlJsonDecoder().decode(pack);
      expect(() => checkSenmlPack(records)).not.toThrow();
      expect(resolveSenml(records).every((record) => record.bver === 26)).toBe(true);
    }
  });
});

// Maps as plain CBOR maps, not tag 259 (an option cbor-x reads but does not declare in its types).
const PLAIN_MAPS = { useRecords: false, variableMapSize: true, useTag259ForMaps: false };

/** SenML-CBOR of records as given, through cbor-x (the sensorkit encoder refuses bver it does not understand). */
function cborOf(records: readonly SenmlRecord[]): Uint8Array {
  const labels = SENML_LABELS as Readonly<Record<string, number>>;
  return new Encoder(PLAIN_MAPS).encode(records.map((record) => new Map(Object.entries(record).map(([label, value]) => [labels[label] ?? label, value]))));
}

describe('sensorkit.cddl', () => {
  it('allows the versions the decoders understand: up to 10, and 26 for secondary units', () => {
    const cddl = readFileSync(fileURLToPath(new URL('../../sdk/encoding/sensorkit.cddl', import.meta.url)), 'utf8');
    expect(cddl).toMatch(/^ {2}\? bver => senml-version, /m);
    expect(cddl).toMatch(/^senml-version = 0\.\.10 \/ 26$/m);
    for (let bver = 0; bver <= 64; bver++) expect(isUnderstoodSenmlVersion(bver), String(bver)).toBe(bver <= 10 || bver === 26);
  });
});

describe('the examples\' telemetry, end to end', () => {
  const runs: DeviceRun[] = [];
  afterEach(async () => {
    while (runs.length) await stopDevice(runs.pop()!);
  });

  it.each([
    ['examples/env-node', 'env-node', 'pressure', 'hPa'],
    ['examples/pressure-transmitter', 'pressure-transmitter', 'loop-current', 'mA'],
  ])('%s: reported samples in %s go out with bver 26 and come back from both strict decoders as they were', async (path, model, channel, unit) => {
    const run = await startDevice(path, 11);
    runs.push(run);
    await run.clock.advance(10_000);
    const reports = run.reports.filter((sample) => sample.channel === channel);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((sample) => sample.unit === unit)).toBe(true);
    const deviceId = `${model}-EMU-1`;
    // What survives the wire (senml.ts): no provenance or quality detail, times to 10 µs.
    const wire = run.reports.map(({ provenance: _p, quality, ...rest }): Sample => ({ ...rest, time: Math.round(rest.time * 100) / 100, quality: quality.level === 'good' ? GOOD : { level: quality.level, ...(quality.reason ? { reason: quality.reason } : {}) } }));
    const cbor = new SenmlCborDecoder().decode(new SenmlCborEncoder().encode(deviceId, run.reports));
    expect(cbor[0]!.bver).toBe(26);
    expect(packToSamples(cbor, deviceId)).toEqual([...wire].sort((a, b) => a.time - b.time));
    const json = new SenmlJsonDecoder().decode(new SenmlJsonEncoder().encode(deviceId, run.reports));
    expect(json[0]!.bver).toBe(26);
    expect(packToSamples(json, deviceId).filter((sample) => sample.channel === channel).every((sample) => sample.unit === unit)).toBe(true);
  });
});
