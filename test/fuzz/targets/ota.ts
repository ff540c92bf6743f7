/**
 * The SUIT/COSE reader and verifier (`ota/manifest`). Envelopes are signed at run time with keys
 * generated for the run (Ed25519 and P-256), then mutated. Properties: `verifyEnvelope` never accepts
 * bytes other than an envelope that was signed, and refuses only with `ManifestError`; the manifest
 * and COSE_Sign1 readers on their own refuse only with `ManifestError`.
 */
import fc from 'fast-check';
import { ManifestError } from '../../../ota/errors.js';
import { CborTagged, decodeCbor } from '../../../ota/manifest/cbor.js';
import { parseSign1 } from '../../../ota/manifest/cose.js';
import { verifyEnvelope } from '../../../ota/manifest/suit-envelope.js';
import { decodeManifest, encodeManifest } from '../../../ota/manifest/suit-manifest.js';
import { envelopeFor, makeImage, makeKey, manifestFor, trustOf } from '../../support/ota-fixtures.js';
import { mutatedBytes, randomBytes, sameBytes } from '../mutate.js';
import { FuzzViolation, timed, type FuzzTarget } from '../target.js';

const ed25519 = makeKey('ed25519');
const p256 = makeKey('p256');
const trust = trustOf(ed25519, p256);
const image = makeImage(4096, 3);

const ENVELOPES: readonly Uint8Array[] = [
  envelopeFor(image, 1, ed25519),
  envelopeFor(image, 2, p256, { uri: 'https://updates.example/fw/2.bin', version: '2.0.0' }),
  envelopeFor(makeImage(70_000, 4), 7, ed25519, { componentId: ['firmware', 'app'] }),
];

function refusedWithManifestError(error: unknown): void {
  if (!(error instanceof ManifestError)) throw error; // anything else is a crash
}

export const otaVerifyTarget: FuzzTarget<Uint8Array> = {
  name: 'ota-verify',
  property: 'verifyEnvelope never verifies a mutated envelope and throws nothing but ManifestError',
  arbitrary: fc.oneof({ arbitrary: mutatedBytes(ENVELOPES), weight: 9 }, { arbitrary: randomBytes(256), weight: 1 }),
  shortRuns: 2000,
  check(bytes) {
    const signed = ENVELOPES.some((envelope) => sameBytes(envelope, bytes));
    timed('verifyEnvelope', () => {
      let verified;
      try {
        verified = verifyEnvelope(bytes, trust);
      } catch (error) {
        refusedWithManifestError(error);
        if (signed) throw new FuzzViolation(`a signed envelope was refused: ${(error as Error).message}`);
        return;
      }
      if (!signed) throw new FuzzViolation(`verified a mutated envelope (sequence ${verified.manifest.sequence}): ${Buffer.from(bytes).toString('hex')}`);
    });
  },
  async setup() {
    for (const envelope of ENVELOPES) verifyEnvelope(envelope, trust);
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
      } catch (error) {
        refusedWithManifestError(error);
      }
    });
  },
  async setup() {
    for (const manifest of PARTS.manifests) decodeManifest(manifest);
    for (const sign1 of PARTS.sign1s) parseSign1(sign1);
  },
};
