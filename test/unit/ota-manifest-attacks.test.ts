/**
 * Attacks on the envelope's structure by someone who can sign (a compromised build step) or only
 * re-arrange bytes: a second signature, `crit`, an embedded payload, `kid` twice, unknown envelope
 * and manifest keys, unknown or repeated commands. Each envelope here carries a good signature over
 * a good digest, so only the structure checks can refuse it.
 */
import { describe, expect, it } from 'vitest';
import { createHash, sign } from 'node:crypto';
import { ManifestError } from '../../ota/errors.js';
import { CborTagged, encodeCbor, type CborValue } from '../../ota/manifest/cbor.js';
import { sigStructure, signDetached } from '../../ota/manifest/cose.js';
import { signEnvelope, verifyEnvelope } from '../../ota/manifest/suit-envelope.js';
import { applyKeyUpdate } from '../../ota/keys/key-update.js';
import { uuidBytes } from '../../ota/manifest/uuid.js';
import { encodeManifest, type SuitManifest } from '../../ota/manifest/suit-manifest.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { DEVICE, envelopeFor, makeImage, makeKey, manifestFor, trustOf, type TestKey, reasonOf } from '../support/ota-fixtures.js';

/** An envelope as signEnvelope builds it, without its self-check: what a careless or hostile signer sends. */
function signUnchecked(manifest: SuitManifest, key: TestKey): Uint8Array {
  const manifestBytes = encodeManifest(manifest);
  // The SUIT digest covers the bstr-wrapped manifest, its head included (SUIT manifest draft §8.3).
  const digestBytes = encodeCbor([-16, createHash('sha256').update(encodeCbor(manifestBytes)).digest()]);
  const auth = encodeCbor([digestBytes, signDetached(digestBytes, key.privateKey)]);
  return encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, auth], [3, manifestBytes]])));
}

const image = makeImage(2048, 9);
const key = makeKey('ed25519');
const kid = Buffer.from(key.keyId, 'hex');
const trust = trustOf(key);


interface ManifestParts {
  shared?: CborValue[];
  install?: CborValue[];
  extra?: [number, CborValue][];
}

/** The manifest of suit-manifest.ts, written out by hand so tests can bend one part of it. */
function manifestBytes(parts: ManifestParts = {}): Uint8Array {
  const digest = encodeCbor([-16, createHash('sha256').update(image).digest()]);
  const parameters = new Map<number, CborValue>([[1, uuidBytes(DEVICE.vendorId)], [2, uuidBytes(DEVICE.classId)], [3, digest], [14, image.length]]);
  const shared = parts.shared ?? [20, parameters, 1, 15, 2, 15];
  const common = encodeCbor(new Map<number, CborValue>([[2, [[new TextEncoder().encode('firmware')]]], [4, encodeCbor(shared)]]));
  const install = parts.install ?? [20, new Map([[21, 'fw.bin']]), 21, 15, 3, 15];
  return encodeCbor(new Map<number, CborValue>([[1, 1], [2, 5], [3, common], [7, encodeCbor([3, 15])], [20, encodeCbor(install)], ...(parts.extra ?? [])]));
}

interface EnvelopeParts {
  manifest?: Uint8Array;
  protectedHeader?: Map<number, CborValue>;
  unprotected?: Map<number, CborValue>;
  payload?: Uint8Array | null;
  signatures?: number;
  envelopeExtra?: [number, CborValue][];
}

function envelope(signer: TestKey, parts: EnvelopeParts = {}): Uint8Array {
  const manifest = parts.manifest ?? manifestBytes();
  const digestBytes = encodeCbor([-16, createHash('sha256').update(encodeCbor(manifest)).digest()]);
  const protectedBytes = encodeCbor(parts.protectedHeader ?? new Map([[1, -8]]));
  const signature = sign(null, sigStructure(protectedBytes, digestBytes), signer.privateKey);
  const sign1 = encodeCbor(new CborTagged(18, [protectedBytes, parts.unprotected ?? new Map([[4, kid]]), parts.payload ?? null, signature]));
  const signatures = Array.from({ length: parts.signatures ?? 1 }, () => sign1);
  const fields = new Map<number, CborValue>([[2, encodeCbor([digestBytes, ...signatures])], [3, manifest], ...(parts.envelopeExtra ?? [])]);
  return encodeCbor(new CborTagged(107, fields));
}

describe('envelope structure attacks (each with a valid signature)', () => {
  it('accepts the hand-written baseline, so every refusal below is about one change', () => {
    expect(verifyEnvelope(envelope(key), trust).manifest).toMatchObject({ sequence: 5, uri: 'fw.bin', imageSize: image.length });
  });

  it('refuses a second signature in the authentication wrapper, even a valid one', () => {
    expect(reasonOf(() => verifyEnvelope(envelope(key, { signatures: 2 }), trust))).toBe('bad-structure');
  });

  it('refuses `kid` in both the protected and the unprotected header', () => {
    const bothKid = envelope(key, { protectedHeader: new Map<number, CborValue>([[1, -8], [4, kid]]), unprotected: new Map([[4, Buffer.from('0011223344556677', 'hex')]]) });
    expect(reasonOf(() => verifyEnvelope(bothKid, trust))).toBe('bad-structure');
    // kid in the protected header alone is fine.
    expect(verifyEnvelope(envelope(key, { protectedHeader: new Map<number, CborValue>([[1, -8], [4, kid]]), unprotected: new Map() }), trust).keyId).toBe(key.keyId);
  });

  it('refuses `crit` (header 2) in either header, and any header it does not understand', () => {
    expect(reasonOf(() => verifyEnvelope(envelope(key, { protectedHeader: new Map<number, CborValue>([[1, -8], [2, [99]]]) }), trust))).toBe('bad-structure');
    expect(reasonOf(() => verifyEnvelope(envelope(key, { unprotected: new Map<number, CborValue>([[2, [99]], [4, kid]]) }), trust))).toBe('bad-structure');
    expect(reasonOf(() => verifyEnvelope(envelope(key, { unprotected: new Map<number, CborValue>([[4, kid], [99, 1]]) }), trust))).toBe('bad-structure');
  });

  it('refuses a COSE_Sign1 with an embedded payload', () => {
    expect(reasonOf(() => verifyEnvelope(envelope(key, { payload: Uint8Array.of(1, 2, 3) }), trust))).toBe('bad-structure');
    expect(reasonOf(() => verifyEnvelope(envelope(key, { payload: new Uint8Array(0) }), trust))).toBe('bad-structure');
  });

  it('refuses unknown envelope keys (severable members, integrated payloads) and unknown manifest keys', () => {
    expect(reasonOf(() => verifyEnvelope(envelope(key, { envelopeExtra: [[16, Uint8Array.of(1)]] }), trust))).toBe('bad-structure');
    expect(reasonOf(() => verifyEnvelope(envelope(key, { manifest: manifestBytes({ extra: [[99, 1]] }) }), trust))).toBe('bad-structure');
  });

  it('refuses a command it does not understand, and a command given twice', () => {
    const parameters = (uri: string): Map<number, CborValue> => new Map([[21, uri]]);
    const baseShared = (extra: CborValue[]): CborValue[] => {
      const digest = encodeCbor([-16, createHash('sha256').update(image).digest()]);
      return [20, new Map<number, CborValue>([[1, uuidBytes(DEVICE.vendorId)], [2, uuidBytes(DEVICE.classId)], [3, digest], [14, image.length]]), 1, 15, 2, 15, ...extra];
    };
    // suit-condition-device-identifier (24) is real SUIT, but this device does not evaluate it: refused by name.
    const deviceId = envelope(key, { manifest: manifestBytes({ shared: baseShared([24, 15]) }) });
    expect(reasonOf(() => verifyEnvelope(deviceId, trust))).toBe('unsupported-command');
    expect(() => verifyEnvelope(deviceId, trust)).toThrow('unsupported command: suit-condition-device-identifier (in suit-shared-sequence)');
    // An unknown code is refused by its number, never skipped.
    expect(() => verifyEnvelope(envelope(key, { manifest: manifestBytes({ shared: baseShared([99, 15]) }) }), trust)).toThrow('unsupported command: suit-command-99');
    // A second fetch of the same component with another URI: which image would be installed?
    const twoUris = [20, parameters('fw.bin'), 21, 15, 3, 15, 20, parameters('evil.bin'), 21, 15, 3, 15];
    expect(reasonOf(() => verifyEnvelope(envelope(key, { manifest: manifestBytes({ install: twoUris }) }), trust))).toBe('bad-structure');
    // An override after the fetch changes nothing that was fetched: the URI in force at the fetch counts.
    const lateOverride = [20, parameters('fw.bin'), 21, 15, 3, 15, 20, parameters('other.bin')];
    expect(verifyEnvelope(envelope(key, { manifest: manifestBytes({ install: lateOverride }) }), trust).manifest.uri).toBe('fw.bin');
    // A reporting policy that is not an unsigned integer.
    expect(reasonOf(() => verifyEnvelope(envelope(key, { manifest: manifestBytes({ install: [20, parameters('fw.bin'), 21, 'x', 3, 15] }) }), trust))).toBe('bad-structure');
  });

  it('checks the digest against the exact manifest bytes: one appended byte inside the bstr fails', () => {
    const good = manifestBytes();
    const digestBytes = encodeCbor([-16, createHash('sha256').update(encodeCbor(good)).digest()]);
    const protectedBytes = encodeCbor(new Map([[1, -8]]));
    const signature = sign(null, sigStructure(protectedBytes, digestBytes), key.privateKey);
    const sign1 = encodeCbor(new CborTagged(18, [protectedBytes, new Map([[4, kid]]), null, signature]));
    const longer = Uint8Array.from([...good, 0x00]);
    const forged = encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, encodeCbor([digestBytes, sign1])], [3, longer]])));
    expect(reasonOf(() => verifyEnvelope(forged, trust))).toBe('digest-mismatch');
  });
});

describe('random damage (seeded)', () => {
  it('refuses 3,000 mutated or truncated envelopes with a ManifestError, never another exception', () => {
    const random = new SeededRandom(62443);
    const good = envelopeFor(image, 5, key);
    const reasons = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from(good);
      const kind = random.nextUint32() % 3;
      let damaged: Uint8Array;
      if (kind === 0) {
        // 1–4 random bytes replaced with random values (a change that leaves the byte is retried).
        for (let n = 1 + (random.nextUint32() % 4); n > 0; n--) {
          const at = random.nextUint32() % bytes.length;
          bytes[at] = (bytes[at]! + 1 + (random.nextUint32() % 255)) & 0xff;
        }
        damaged = bytes;
      } else if (kind === 1) {
        damaged = bytes.subarray(0, random.nextUint32() % bytes.length);
      } else {
        const at = random.nextUint32() % bytes.length;
        damaged = Uint8Array.from([...bytes.subarray(0, at), random.nextUint32() & 0xff, ...bytes.subarray(at)]);
      }
      let outcome: string;
      try {
        verifyEnvelope(damaged, trust);
        outcome = 'accepted';
      } catch (error) {
        if (!(error instanceof ManifestError)) throw new Error(`mutation ${i} (kind ${kind}) threw ${String(error)}`);
        outcome = error.reason;
      }
      expect(outcome, `mutation ${i}`).not.toBe('accepted');
      reasons.add(outcome);
    }
    expect(reasons).toContain('malformed-cbor');
    expect(reasons).toContain('bad-signature');
  });
});

describe('component ids and text', () => {
  it('compares component ids segment by segment: one segment "sensorkit/trust-anchors" is not a key update', () => {
    const other = makeKey('ed25519');
    const payload = new TextEncoder().encode(JSON.stringify({ add: [other.publicPem], revoke: [] }));
    const confusing = signEnvelope(
      { ...manifestFor(payload, 2), componentId: ['sensorkit/trust-anchors'], imageDigest: createHash('sha256').update(payload).digest(), imageSize: payload.length },
      key.privateKey,
    );
    expect(reasonOf(() => applyKeyUpdate(trust, confusing, payload, DEVICE))).toBe('bad-structure');
  });

  it('refuses control characters in the version and the URI; shows a component id that is not printable as hex; allows line breaks in the description', () => {
    for (const extra of [{ version: '1.0\u001b[2J' }, { uri: 'fw.bin\u0000.txt' }]) {
      // Signed without signEnvelope's self-check, as another signer would: the verifier refuses it …
      expect(reasonOf(() => verifyEnvelope(signUnchecked(manifestFor(image, 5, extra), key), trust)), JSON.stringify(extra)).toBe('bad-structure');
      // … and signEnvelope, which runs the same checks, refuses to write it at all.
      expect(reasonOf(() => signEnvelope(manifestFor(image, 5, extra), key.privateKey)), JSON.stringify(extra)).toBe('bad-structure');
    }
    expect(reasonOf(() => signEnvelope(manifestFor(image, 5, { uri: 'a'.repeat(20_000) }), key.privateKey))).toBe('limit');
    // Component ids are byte strings (the draft's examples use h'00'): never printed raw, compared as bytes.
    const bell = verifyEnvelope(signUnchecked(manifestFor(image, 5, { componentId: ['firm\u0007ware'] }), key), trust).manifest;
    expect(bell.componentId).toEqual(["h'6669726d0777617265'"]);
    expect(Buffer.from(bell.componentIdBytes![0]!).toString('latin1')).toBe('firm\u0007ware');
    expect(verifyEnvelope(signEnvelope(manifestFor(image, 5, { description: 'line 1\nline 2\ttab' }), key.privateKey), trust).manifest.description).toBe('line 1\nline 2\ttab');
  });
});
