/**
 * SenML encode/decode throughput and size: the same samples (10 channels, some calibrated, a few
 * not good) through our SenmlCborEncoder and strict SenmlCborDecoder, through cbor-x encoding and
 * decoding the same SenML records with integer labels (records as Maps, tag 259 off), and through
 * JSON.stringify/parse of SenML-JSON. Samples go in packs of `--batch` samples, as telemetry does.
 * Prints samples/s and bytes/sample; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/senml.bench.ts [--samples=100000] [--batch=1000] [--rounds=7]
 *
 * Targets (issue 3): encode at least as fast as raw cbor-x, ≥ 2× JSON.stringify, ≤ 0.75× JSON's bytes.
 */
import { Decoder, Encoder, type Options } from 'cbor-x';
import { SeededRandom } from '../../sdk/core/random.js';
import { SenmlCborDecoder, SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { SENML_LABELS, samplesToPack, type SenmlRecord } from '../../sdk/encoding/senml.js';
import { GOOD, type Sample } from '../../sdk/core/sample.js';
import { option } from './options.js';

const SAMPLES = option('samples', 100_000);
const BATCH = option('batch', 1000);
const ROUNDS = option('rounds', 7);
const DEVICE = 'env-node-EMU-1';
const T0 = Date.UTC(2026, 0, 1);

/** 10 channels at 100 Hz, values at each channel's resolution. */
function makeSamples(count: number): Sample[] {
  const random = new SeededRandom(42);
  const channels = [
    { id: 'temperature', unit: 'Cel', mean: 21.5, sd: 0.3, step: 0.01, cal: 'CAL-T-2026-01' },
    { id: 'humidity', unit: '%RH', mean: 45, sd: 2, step: 0.1, cal: 'CAL-H-2026-01' },
    { id: 'pressure', unit: 'Pa', mean: 101_325, sd: 40, step: 1, cal: 'CAL-P-2025-11' },
    { id: 'accel-x', unit: 'm/s2', mean: 0, sd: 0.2, step: 0.001 },
    { id: 'accel-y', unit: 'm/s2', mean: 0, sd: 0.2, step: 0.001 },
    { id: 'accel-z', unit: 'm/s2', mean: 9.81, sd: 0.2, step: 0.001 },
    { id: 'supply', unit: 'V', mean: 24, sd: 0.05, step: 0.001 },
    { id: 'loop', unit: 'A', mean: 0.012, sd: 0.001, step: 0.000001 },
    { id: 'light', unit: 'lx', mean: 350, sd: 20, step: 1 },
    { id: 'pulses', unit: 'count', mean: 1000, sd: 30, step: 1 },
  ];
  return Array.from({ length: count }, (_, i): Sample => {
    const c = channels[i % 10]!;
    const value = Math.round(random.gaussian(c.mean, c.sd) / c.step) * c.step;
    const time = T0 + Math.floor(i / 10) * 10;
    const sample: Sample = { channel: c.id, time, value: Number(value.toFixed(6)), unit: c.unit, quality: GOOD, ...(c.cal ? { calibrationId: c.cal, uncertainty: c.step * 5 } : {}) };
    if (i % 997 === 3) return { ...sample, value: null, quality: { level: 'bad', reason: 'sensor_fault' } };
    if (i % 211 === 5) return { ...sample, quality: { level: 'uncertain', reason: 'stale' } };
    return sample;
  });
}

const LABEL_KEYS: Readonly<Record<string, number>> = SENML_LABELS;

/** The pack's records as cbor-x Maps with integer labels (string labels for the extensions). */
function toMaps(records: readonly SenmlRecord[]): Array<Map<number | string, unknown>> {
  return records.map((record) => {
    const map = new Map<number | string, unknown>();
    for (const [label, value] of Object.entries(record)) map.set(LABEL_KEYS[label] ?? label, value);
    return map;
  });
}

interface Row {
  readonly name: string;
  readonly encode?: number;
  readonly decode?: number;
  readonly bytes?: number;
}

/** Median samples/s of `run` over the batches, after a warm-up round. */
function rate(run: (index: number) => unknown, batches: number): number {
  for (let i = 0; i < Math.min(batches, 20); i++) run(i);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batches; i++) run(i);
    rates.push(SAMPLES / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return rates.sort((a, b) => a - b)[rates.length >> 1]!;
}

const samples = makeSamples(SAMPLES);
const batches: Sample[][] = [];
for (let i = 0; i < samples.length; i += BATCH) batches.push(samples.slice(i, i + BATCH));
const n = batches.length;

// Our encoder and strict decoder.
const ours = new SenmlCborEncoder();
const strict = new SenmlCborDecoder({ maxRecords: Math.max(BATCH, 1) });
const ourBytes = batches.map((batch) => ours.encode(DEVICE, batch));

// Raw cbor-x on the same records: prebuilt Maps, and built from the samples in the loop (same job as ours).
// useTag259ForMaps is a cbor-x option its typings omit; off, Maps are plain CBOR maps.
const rawEncoder = new Encoder({ useRecords: false, variableMapSize: true, useTag259ForMaps: false } as Options);
const rawDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });
const packs = batches.map((batch) => samplesToPack(DEVICE, batch));
const maps = packs.map(toMaps);
const rawBytes = maps.map((pack) => Uint8Array.from(rawEncoder.encode(pack)));

// SenML-JSON.
const jsonTexts = packs.map((pack) => JSON.stringify(pack));

const total = (list: ReadonlyArray<{ length: number }>): number => list.reduce((sum, item) => sum + item.length, 0);
const utf8Total = jsonTexts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
const rows: Row[] = [
  { name: 'SenmlCborEncoder / strict decoder', encode: rate((i) => ours.encode(DEVICE, batches[i]!), n), decode: rate((i) => strict.decode(ourBytes[i]!), n), bytes: total(ourBytes) / SAMPLES },
  { name: 'cbor-x, records prebuilt', encode: rate((i) => rawEncoder.encode(maps[i]!), n), decode: rate((i) => rawDecoder.decode(rawBytes[i]!), n), bytes: total(rawBytes) / SAMPLES },
  { name: 'cbor-x, samples → records → CBOR', encode: rate((i) => rawEncoder.encode(toMaps(samplesToPack(DEVICE, batches[i]!))), n) },
  { name: 'cbor-x decode of our bytes', decode: rate((i) => rawDecoder.decode(ourBytes[i]!), n) },
  { name: 'JSON.stringify / parse, prebuilt', encode: rate((i) => JSON.stringify(packs[i]!), n), decode: rate((i) => JSON.parse(jsonTexts[i]!), n), bytes: utf8Total / SAMPLES },
  { name: 'JSON, samples → records → text', encode: rate((i) => JSON.stringify(samplesToPack(DEVICE, batches[i]!)), n) },
];

const fmt = (value: number | undefined, digits = 2): string => (value === undefined ? '—' : (value / 1e6).toFixed(digits) + ' M/s');
console.log(`\nSenML encode/decode — ${SAMPLES.toLocaleString('en')} samples (10 channels) in packs of ${BATCH}, median of ${ROUNDS} rounds`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
console.log(`${'run'.padEnd(36)}${'encode'.padStart(12)}${'decode'.padStart(12)}${'bytes/sample'.padStart(14)}`);
for (const row of rows) {
  console.log(`${row.name.padEnd(36)}${fmt(row.encode).padStart(12)}${fmt(row.decode).padStart(12)}${(row.bytes === undefined ? '—' : row.bytes.toFixed(1)).padStart(14)}`);
}
const [mine, rawPrebuilt, rawBuilt, , json, jsonBuilt] = rows as [Row, Row, Row, Row, Row, Row];
const ratio = (a: number | undefined, b: number | undefined): string => ((a ?? 0) / (b ?? 1)).toFixed(2);
console.log(`\nencode, ours / cbor-x (samples → CBOR): ${ratio(mine.encode, rawBuilt.encode)}×  (target ≥ 1)`);
console.log(`encode, ours / cbor-x (records prebuilt): ${ratio(mine.encode, rawPrebuilt.encode)}×`);
console.log(`encode, ours / JSON (samples → text): ${ratio(mine.encode, jsonBuilt.encode)}×  (target ≥ 2); / JSON.stringify prebuilt: ${ratio(mine.encode, json.encode)}×`);
console.log(`bytes, ours / JSON: ${((mine.bytes ?? 0) / (json.bytes ?? 1)).toFixed(3)}  (target ≤ 0.75)`);
console.log(`decode, strict / cbor-x: ${ratio(mine.decode, rawPrebuilt.decode)}×; strict / JSON.parse: ${ratio(mine.decode, json.decode)}×\n`);
