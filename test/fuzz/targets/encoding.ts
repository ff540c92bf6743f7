/**
 * The strict CBOR reader (`sdk/encoding/cbor-reader.ts`) and the SenML-CBOR decoder on it: random
 * bytes and mutations of valid encodings. Properties: a value or a `DecodeError`, nothing else; a
 * pack never has more records than `maxRecords`; under the deterministic SUIT profile, whatever is
 * accepted re-encodes to exactly the bytes read (RFC 8949 §4.2.1: one encoding per value).
 */
import fc from 'fast-check';
import { DecodeError } from '../../../sdk/core/errors.js';
import { GOOD, type Sample } from '../../../sdk/core/sample.js';
import { decodeStrictCbor, type CborLimits, type CborProfile } from '../../../sdk/encoding/cbor-reader.js';
import { SenmlCborDecoder, SenmlCborEncoder } from '../../../sdk/encoding/senml-cbor.js';
import { CborTagged, encodeCbor, type CborValue } from '../../../ota/manifest/cbor.js';
import { mutatedBytes, randomBytes, sameBytes } from '../mutate.js';
import { FuzzViolation, Outcomes, timed, type FuzzTarget } from '../target.js';

const LIMITS: CborLimits = { maxBytes: 4096, maxItems: 64, maxDepth: 8, maxStringLength: 1024 };
const SENML_PROFILE: CborProfile = { format: 'SenML-CBOR', tags: [], floats: true, sortedKeys: false, copyBytes: true };
const SUIT_PROFILE: CborProfile = { format: 'SUIT manifests', tags: [107, 18], floats: false, sortedKeys: true, copyBytes: false };

/** Valid SenML packs: one channel, several, nulls, bad quality with a reason, uncertainty and calibration ids. */
function packs(): Uint8Array[] {
  const encoder = new SenmlCborEncoder();
  const t0 = 1_767_225_600_000;
  const sample = (channel: string, i: number, extra: Partial<Sample> = {}): Sample => ({ channel, time: t0 + i * 250, value: 20 + i / 8, unit: 'Cel', quality: GOOD, ...extra });
  return [
    encoder.encode('env-node-EMU-1', [sample('temperature', 0)]),
    encoder.encode('env-node-EMU-1', [sample('temperature', 0), sample('humidity', 1, { unit: '%RH', value: 45.5 }), sample('pressure', 2, { unit: 'hPa', value: 1013.25 })]),
    encoder.encode('motor-monitor-1', [sample('rms', 0, { value: null, quality: { level: 'bad', reason: 'sensor_fault', detail: 'NAK at 0x68' } }), sample('rms', 1, { value: -0.5 })]),
    encoder.encode('pt-7', [sample('pressure', 0, { unit: 'Pa', value: 101_325.5, uncertainty: 12.5, calibrationId: 'CAL-2026-001', quality: { level: 'uncertain', reason: 'calibration_expired' } })]),
  ].map((pack) => pack.slice());
}

/** Valid deterministic CBOR: a SUIT-like envelope, nested maps and arrays, every integer width. */
function cborSamples(): Uint8Array[] {
  const inner = encodeCbor(new Map<number, CborValue>([[1, 1], [2, 5], [3, new Uint8Array(40).fill(7)]]));
  return [
    encodeCbor(new CborTagged(107, new Map([[2, encodeCbor([inner, new Uint8Array(64)])], [3, inner]]))),
    encodeCbor([0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32, 2 ** 53 - 1, -1, -25, -(2 ** 53 - 1), 'text', 'ü€💥', new Uint8Array([1, 2, 3]), true, false, null]),
    encodeCbor(new Map<number | string, CborValue>([[-1, 'a'], [0, [[], new Map()]], ['k', new Map([['n', [1, [2, [3]]]]])]])),
    ...packs(),
  ];
}

function expectDecodeError(error: unknown): void {
  if (!(error instanceof DecodeError)) throw error; // anything else is a crash
}

const CBOR_SAMPLES = cborSamples();
const cborOutcomes = new Outcomes();

export const cborReaderTarget: FuzzTarget<Uint8Array> = {
  name: 'cbor-reader',
  property: 'decodeStrictCbor returns a value or throws DecodeError under the SenML and SUIT profiles; a SUIT-profile value re-encodes to the same bytes',
  arbitrary: fc.oneof(randomBytes(128), mutatedBytes(CBOR_SAMPLES)),
  shortRuns: 4000,
  check(bytes) {
    timed('decodeStrictCbor', () => {
      try {
        decodeStrictCbor(bytes, LIMITS, SENML_PROFILE);
      } catch (error) {
        expectDecodeError(error);
      }
      let value;
      try {
        value = decodeStrictCbor(bytes, LIMITS, SUIT_PROFILE);
      } catch (error) {
        expectDecodeError(error);
        cborOutcomes.add('refused');
        return;
      }
      cborOutcomes.add('accepted');
      const again = encodeCbor(value);
      if (!sameBytes(again, bytes)) throw new FuzzViolation(`accepted ${Buffer.from(bytes).toString('hex')} re-encodes as ${Buffer.from(again).toString('hex')}`);
    });
  },
  outcomes: () => cborOutcomes.snapshot(),
};

const PACKS = packs();
const decoder = new SenmlCborDecoder({ maxBytes: 4096, maxRecords: 64, maxStringLength: 256, maxDepth: 8 });

export const senmlCborTarget: FuzzTarget<Uint8Array> = {
  name: 'senml-cbor',
  property: 'SenmlCborDecoder.decode returns at most maxRecords records or throws DecodeError',
  arbitrary: fc.oneof({ arbitrary: randomBytes(128), weight: 1 }, { arbitrary: mutatedBytes(PACKS), weight: 3 }),
  shortRuns: 4000,
  check(bytes) {
    timed('SenmlCborDecoder.decode', () => {
      let records;
      try {
        records = decoder.decode(bytes);
      } catch (error) {
        expectDecodeError(error);
        return;
      }
      if (!Array.isArray(records) || records.length === 0 || records.length > decoder.limits.maxRecords) {
        throw new FuzzViolation(`decode returned ${String(records?.length)} records`);
      }
    });
  },
  async setup() {
    // The unmutated packs must decode, or the mutations test nothing but the first refusal.
    for (const pack of PACKS) decoder.decode(pack);
  },
};
