/**
 * The SUIT/COSE reader and verifier (`ota/manifest`). Envelopes are signed at run time with keys
 * generated for the run (Ed25519 and P-256), then mutated: as bytes, and inside (manifest, digest,
 * protected header or signature changed, the CBOR around them rebuilt). Properties: `verifyEnvelope` never accepts
 * bytes other than an envelope that was signed, and refuses only with `ManifestError`; the manifest
 * and COSE_Sign1 readers on their own refuse only with `ManifestError`.
 */
import fc from 'fast-check';
import { ManifestError } from '../../../ota/errors.js';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from '../../../ota/manifest/cbor.js';
import { parseSign1 } from '../../../ota/manifest/cose.js';
import { verifyEnvelope } from '../../../ota/manifest/suit-envelope.js';
import { decodeManifest, encodeManifest } from '../../../ota/manifest/suit-manifest.js';
import { envelopeFor, makeImage, makeKey, manifestFor, trustOf } from '../../support/ota-fixtures.js';
import { applyMutations, byteMutationArb, mutatedBytes, randomBytes, sameBytes } from '../mutate.js';
import { FuzzViolation, Outcomes, timed, type FuzzTarget } from '../target.js';

const ed25519 = makeKey('ed25519');
const p256 = makeKey('p256');
const trust = trustOf(ed25519, p256);
const image = makeImage(4096, 3);

const ENVELOPES: readonly Uint8Array[] = [
  envelopeFor(image, 1, ed25519),
  envelopeFor(image, 2, p256, { uri: 'https://updates.example/fw/2.bin', version: '2.0.0' }),
  envelopeFor(makeImage(70_000, 4), 7, ed25519, { componentId: ['firmware', 'app'] }),
];

/** Refusals by reason: how deep the mutated inputs got (a `bad-signature` passed every structure check). */
const verifyOutcomes = new Outcomes();
const readerOutcomes = new Outcomes();

function refusedWithManifestError(error: unknown, outcomes: Outcomes): void {
  if (!(error instanceof ManifestError)) throw error; // anything else is a crash
  outcomes.add(error.reason);
}

/** The byte strings an envelope is built of; all but `unprotected` are what a mutation may change inside valid CBOR. */
interface EnvelopeParts {
  readonly manifest: Uint8Array;
  readonly digest: Uint8Array;
  readonly protectedHeader: Uint8Array;
  readonly unprotected: CborValue;
  readonly signature: Uint8Array;
}
const PART_NAMES = ['manifest', 'digest', 'protectedHeader', 'signature'] as const;

function split(envelope: Uint8Array): EnvelopeParts {
  const outer = decodeCbor(envelope, { tags: [107] }) as CborTagged;
  const fields = outer.value as Map<number, Uint8Array>;
  const [digest, sign1] = decodeCbor(fields.get(2)!) as [Uint8Array, Uint8Array];
  const [protectedHeader, unprotected, , signature] = (decodeCbor(sign1, { tags: [18] }) as CborTagged).value as [Uint8Array, CborValue, null, Uint8Array];
  return { manifest: fields.get(3)!, digest, protectedHeader, unprotected, signature };
}

function join(parts: EnvelopeParts): Uint8Array {
  const sign1 = encodeCbor(new CborTagged(18, [parts.protectedHeader, parts.unprotected, null, parts.signature]));
  return encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, encodeCbor([parts.digest, sign1])], [3, parts.manifest]])));
}

const SPLIT = ENVELOPES.map(split);

/**
 * An envelope with one of its inner byte strings mutated and the CBOR around it rebuilt, so the
 * input is well-formed and reaches the signature and digest checks instead of the CBOR reader's.
 */
const rewrappedArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.nat({ max: SPLIT.length - 1 }), fc.constantFrom(...PART_NAMES), fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }))
  .map(([index, part, mutations]) => {
    const parts = SPLIT[index]!;
    return join({ ...parts, [part]: applyMutations(parts[part], mutations, SPLIT.map((p) => p[part])) });
  });

export const otaVerifyTarget: FuzzTarget<Uint8Array> = {
  name: 'ota-verify',
  property: 'verifyEnvelope never verifies a mutated envelope and throws nothing but ManifestError',
  arbitrary: fc.oneof({ arbitrary: mutatedBytes(ENVELOPES), weight: 5 }, { arbitrary: rewrappedArb, weight: 4 }, { arbitrary: randomBytes(256), weight: 1 }),
  shortRuns: 3000,
  check(bytes) {
    const signed = ENVELOPES.some((envelope) => sameBytes(envelope, bytes));
    timed('verifyEnvelope', () => {
      let verified;
      try {
        verified = verifyEnvelope(bytes, trust);
      } catch (error) {
        refusedWithManifestError(error, verifyOutcomes);
        if (signed) throw new FuzzViolation(`a signed envelope was refused: ${(error as Error).message}`);
        return;
      }
      if (!signed) throw new FuzzViolation(`verified a mutated envelope (sequence ${verified.manifest.sequence}): ${Buffer.from(bytes).toString('hex')}`);
      verifyOutcomes.add('verified (unmutated)');
    });
  },
  outcomes: () => verifyOutcomes.snapshot(),
  async setup() {
    for (const envelope of ENVELOPES) verifyEnvelope(envelope, trust);
    // The split and rebuild is exact, so a rebuilt input differs from its envelope only where it was mutated.
    if (!ENVELOPES.every((envelope, i) => sameBytes(join(SPLIT[i]!), envelope))) throw new Error('split/join of an envelope is not exact');
  },
};

/** The manifests and COSE_Sign1 structures inside the envelopes, to reach their readers past the signature check. */
function parts(): { manifests: Uint8Array[]; sign1s: Uint8Array[] } {
  const manifests = [encodeManifest(manifestFor(image, 1)), encodeManifest(manifestFor(image, 2, { uri: 'fw.bin', version: '2.0.0', componentId: ['a', 'b'] }))];
  const sign1s = ENVELOPES.map((envelope) => {
    const outer = decodeCbor(envelope, { tags: [107] }) as CborTagged;
    const auth = decodeCbor((outer.value as Map<number, Uint8Array>).get(2)!) as Uint8Array[];
    return auth[1]!;
  });
  return { manifests, sign1s };
}

const PARTS = parts();

export const suitReaderTarget: FuzzTarget<{ kind: 'manifest' | 'sign1'; bytes: Uint8Array }> = {
  name: 'suit-reader',
  property: 'decodeManifest and parseSign1 return a value or throw ManifestError',
  arbitrary: fc.oneof(
    mutatedBytes(PARTS.manifests).map((bytes) => ({ kind: 'manifest' as const, bytes })),
    mutatedBytes(PARTS.sign1s).map((bytes) => ({ kind: 'sign1' as const, bytes })),
    randomBytes(128).map((bytes) => ({ kind: 'manifest' as const, bytes })),
  ),
  shortRuns: 3000,
  check({ kind, bytes }) {
    timed(kind, () => {
      try {
        if (kind === 'manifest') decodeManifest(bytes);
        else parseSign1(bytes);
        readerOutcomes.add(`${kind} accepted`);
      } catch (error) {
        refusedWithManifestError(error, readerOutcomes);
      }
    });
  },
  outcomes: () => readerOutcomes.snapshot(),
  async setup() {
    for (const manifest of PARTS.manifests) decodeManifest(manifest);
    for (const sign1 of PARTS.sign1s) parseSign1(sign1);
  },
};
