import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { ManifestError } from '../../ota/errors.js';
import { applyKeyUpdate, signKeyUpdate } from '../../ota/keys/key-update.js';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from '../../ota/manifest/cbor.js';
import { sigStructure } from '../../ota/manifest/cose.js';
import { checkDevice, checkPayload, checkSequence } from '../../ota/manifest/policy.js';
import { signEnvelope, verifyEnvelope } from '../../ota/manifest/suit-envelope.js';
import { encodeManifest } from '../../ota/manifest/suit-manifest.js';
import { NAMESPACE_DNS, uuidV5 } from '../../ota/manifest/uuid.js';
import { sign } from 'node:crypto';
import { DEVICE, envelopeFor, makeImage, makeKey, manifestFor, trustOf, type TestKey, reasonOf } from '../support/ota-fixtures.js';


const image = makeImage(4096, 3);
const ed = makeKey('ed25519');
const p256 = makeKey('p256');

/** Builds an envelope by hand, so tests can place headers where a signer should not. */
function craft(key: TestKey, options: { protectedHeader: Map<number, CborValue>; unprotected: Map<number, CborValue> }): Uint8Array {
  const manifestBytes = encodeManifest(manifestFor(image, 5));
  const digestBytes = encodeCbor([-16, createHash('sha256').update(encodeCbor(manifestBytes)).digest()]);
  const protectedBytes = options.protectedHeader.size === 0 ? new Uint8Array(0) : encodeCbor(options.protectedHeader);
  const signature = sign(null, sigStructure(protectedBytes, digestBytes), key.privateKey);
  const sign1 = encodeCbor(new CborTagged(18, [protectedBytes, options.unprotected, null, signature]));
  return encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, encodeCbor([digestBytes, sign1])], [3, manifestBytes]])));
}

describe('strict CBOR', () => {
  it('round-trips values in the deterministic encoding', () => {
    const value = new Map<number | string, CborValue>([[10, 'x'], [-1, [1, 255, 256, 65_536, 2 ** 32, -25]], ['a', Uint8Array.of(1, 2)], [1, null]]);
    const bytes = encodeCbor(value);
    expect(encodeCbor(decodeCbor(bytes))).toEqual(bytes);
    expect([...bytes.subarray(0, 3)]).toEqual([0xa4, 0x01, 0xf6]); // keys sorted: 1 first
  });

  it.each([
    ['duplicate key', [0xa2, 0x01, 0x00, 0x01, 0x00], 'malformed-cbor'],
    ['keys out of order', [0xa2, 0x02, 0x00, 0x01, 0x00], 'malformed-cbor'],
    ['indefinite array', [0x9f, 0x01, 0xff], 'malformed-cbor'],
    ['indefinite bytes', [0x5f, 0x41, 0x00, 0xff], 'malformed-cbor'],
    ['non-minimal integer', [0x18, 0x01], 'malformed-cbor'],
    ['non-minimal length', [0x59, 0x00, 0x01, 0x00], 'malformed-cbor'],
    ['trailing bytes', [0x01, 0x02], 'malformed-cbor'],
    ['truncated', [0x82, 0x01], 'malformed-cbor'],
    ['float', [0xf9, 0x3c, 0x00], 'malformed-cbor'],
    ['undefined', [0xf7], 'malformed-cbor'],
    ['a tag not allowed', [0xc1, 0x01], 'malformed-cbor'],
    ['bad UTF-8', [0x61, 0xff], 'malformed-cbor'],
    ['a huge length', [0x5a, 0x7f, 0xff, 0xff, 0xff], 'limit'],
  ])('refuses %s', (_name, bytes, expected) => {
    expect(reasonOf(() => decodeCbor(Uint8Array.from(bytes)))).toBe(expected);
  });

  it('refuses nesting deeper than the limit', () => {
    const deep = new Uint8Array(40).fill(0x81);
    expect(reasonOf(() => decodeCbor(Uint8Array.from([...deep, 0x00])))).toBe('limit');
  });
});

describe('UUID v5 (RFC 9562)', () => {
  it('matches the well-known vector for www.example.com', () => {
    expect(uuidV5(NAMESPACE_DNS, 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});

describe('SUIT envelope', () => {
  it.each([
    ['Ed25519', ed],
    ['ECDSA P-256', p256],
  ])('signs and verifies with %s', (_name, key) => {
    const verified = verifyEnvelope(envelopeFor(image, 5, key, { description: 'hello' }), trustOf(key));
    expect(verified.keyId).toBe(key.keyId);
    expect(verified.manifest).toMatchObject({ sequence: 5, componentId: ['firmware'], imageSize: 4096, uri: 'firmware.bin', version: '1.0.5', description: 'hello', ...DEVICE });
    expect(Buffer.from(verified.manifest.imageDigest)).toEqual(createHash('sha256').update(image).digest());
    expect(() => checkPayload(verified.manifest, image)).not.toThrow();
  });

  it('is deterministic for Ed25519: same manifest, same bytes', () => {
    expect(envelopeFor(image, 5, ed)).toEqual(envelopeFor(image, 5, ed));
  });

  it('refuses every single-byte change of a manifest', () => {
    const envelope = envelopeFor(image, 5, ed);
    const trust = trustOf(ed);
    const reasons = new Set<string>();
    for (let i = 0; i < envelope.length; i++) {
      const tampered = Uint8Array.from(envelope);
      tampered[i] = tampered[i]! ^ 0x01;
      const r = reasonOf(() => verifyEnvelope(tampered, trust));
      expect(r, `byte ${i}`).not.toBe('accepted');
      reasons.add(r);
    }
    expect(reasons).toContain('digest-mismatch');
    expect(reasons).toContain('bad-signature');
  });

  it('reports a refused envelope as a SensorkitError with code ERR_OTA and the reason first', () => {
    const tampered = Uint8Array.from(envelopeFor(image, 5, ed));
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0x01;
    const error = (() => {
      try {
        verifyEnvelope(tampered, trustOf(ed));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).code).toBe('ERR_OTA');
    expect((error as ManifestError).message.startsWith(`${(error as ManifestError).reason}: `)).toBe(true);
  });

  it('refuses a tampered payload byte', () => {
    const { manifest } = verifyEnvelope(envelopeFor(image, 5, ed), trustOf(ed));
    const tampered = Buffer.from(image);
    tampered[100] = tampered[100]! ^ 0x80;
    expect(reasonOf(() => checkPayload(manifest, tampered))).toBe('payload-mismatch');
    expect(reasonOf(() => checkPayload(manifest, Buffer.concat([image, Buffer.of(0)])))).toBe('payload-mismatch');
  });

  it('refuses an unsigned envelope', () => {
    const manifestBytes = encodeManifest(manifestFor(image, 5));
    const digestBytes = encodeCbor([-16, createHash('sha256').update(encodeCbor(manifestBytes)).digest()]);
    const noWrapper = encodeCbor(new CborTagged(107, new Map<number, CborValue>([[3, manifestBytes]])));
    const noSignature = encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, encodeCbor([digestBytes])], [3, manifestBytes]])));
    expect(reasonOf(() => verifyEnvelope(noWrapper, trustOf(ed)))).toBe('unsigned');
    expect(reasonOf(() => verifyEnvelope(noSignature, trustOf(ed)))).toBe('unsigned');
  });

  it('refuses a key that is not a trust anchor, and a revoked one', () => {
    const other = makeKey('ed25519');
    expect(reasonOf(() => verifyEnvelope(envelopeFor(image, 5, other), trustOf(ed)))).toBe('unknown-key');
    const revoked = trustOf(ed, other).withChanges({ revoke: [ed.keyId], sequence: 1 });
    expect(reasonOf(() => verifyEnvelope(envelopeFor(image, 5, ed), revoked))).toBe('revoked-key');
    expect(verifyEnvelope(envelopeFor(image, 5, other), revoked).keyId).toBe(other.keyId);
  });

  it('refuses a forged kid: a signature by another key under a trusted key id', () => {
    const other = makeKey('ed25519');
    const forged = craft(other, { protectedHeader: new Map([[1, -8]]), unprotected: new Map([[4, Buffer.from(ed.keyId, 'hex')]]) });
    expect(reasonOf(() => verifyEnvelope(forged, trustOf(ed)))).toBe('bad-signature');
  });

  it('refuses `alg` in the unprotected header', () => {
    const kid = Buffer.from(ed.keyId, 'hex');
    const good = craft(ed, { protectedHeader: new Map([[1, -8]]), unprotected: new Map([[4, kid]]) });
    expect(verifyEnvelope(good, trustOf(ed)).keyId).toBe(ed.keyId);
    const onlyUnprotected = craft(ed, { protectedHeader: new Map(), unprotected: new Map<number, CborValue>([[1, -8], [4, kid]]) });
    const both = craft(ed, { protectedHeader: new Map([[1, -8]]), unprotected: new Map<number, CborValue>([[1, -8], [4, kid]]) });
    expect(reasonOf(() => verifyEnvelope(onlyUnprotected, trustOf(ed)))).toBe('bad-algorithm');
    expect(reasonOf(() => verifyEnvelope(both, trustOf(ed)))).toBe('bad-algorithm');
  });

  it('refuses an algorithm that does not match the key', () => {
    const lying = craft(ed, { protectedHeader: new Map([[1, -7]]), unprotected: new Map([[4, Buffer.from(ed.keyId, 'hex')]]) });
    expect(reasonOf(() => verifyEnvelope(lying, trustOf(ed)))).toBe('bad-algorithm');
  });

  it('refuses a non-deterministic envelope even when the signature is good', () => {
    const envelope = envelopeFor(image, 5, ed);
    // Re-encode the tag 107 head non-minimally: d8 6b → d9 00 6b.
    expect(envelope[0]).toBe(0xd8);
    const stretched = Uint8Array.from([0xd9, 0x00, ...envelope.subarray(1)]);
    expect(reasonOf(() => verifyEnvelope(stretched, trustOf(ed)))).toBe('malformed-cbor');
    expect(reasonOf(() => verifyEnvelope(Uint8Array.from([...envelope, 0x00]), trustOf(ed)))).toBe('malformed-cbor');
  });
});

describe('device policy', () => {
  const manifest = manifestFor(image, 5);
  const digest = Buffer.from(manifest.imageDigest).toString('hex');

  it('accepts newer sequence numbers and refuses replays, conflicts and downgrades', () => {
    expect(checkSequence(manifest, { sequence: 4 })).toBe(true);
    expect(checkSequence(manifest, { sequence: 5, imageDigest: digest })).toBe(false);
    expect(reasonOf(() => checkSequence(manifest, { sequence: 5, imageDigest: 'ff'.repeat(32) }))).toBe('sequence-conflict');
    expect(reasonOf(() => checkSequence(manifest, { sequence: 9 }))).toBe('downgrade');
  });

  it('refuses a wrong vendor or class id', () => {
    expect(() => checkDevice(manifest, DEVICE)).not.toThrow();
    expect(reasonOf(() => checkDevice(manifest, { ...DEVICE, vendorId: uuidV5(NAMESPACE_DNS, 'other.example') }))).toBe('wrong-device');
    expect(reasonOf(() => checkDevice(manifest, { ...DEVICE, classId: uuidV5(DEVICE.vendorId, 'EN-2') }))).toBe('wrong-device');
  });
});

describe('key rotation', () => {
  it('introduces a new key by a manifest signed with the current one, and revokes the old', () => {
    const next = makeKey('p256');
    const trust = trustOf(ed);
    const update = signKeyUpdate({ add: [next.publicPem], revoke: [ed.keyId] }, { sequence: 1, device: DEVICE }, ed.privateKey);
    const rotated = applyKeyUpdate(trust, update.envelope, update.payload, DEVICE);
    expect(rotated.keyIds).toEqual([next.keyId]);
    expect(reasonOf(() => verifyEnvelope(envelopeFor(image, 6, ed), rotated))).toBe('revoked-key');
    expect(verifyEnvelope(envelopeFor(image, 6, next), rotated).keyId).toBe(next.keyId);
    // Replaying the same key update, or one signed by the revoked key, is refused.
    expect(reasonOf(() => applyKeyUpdate(rotated, update.envelope, update.payload, DEVICE))).toBe('revoked-key');
    const again = signKeyUpdate({ add: [ed.publicPem] }, { sequence: 1, device: DEVICE }, next.privateKey);
    expect(reasonOf(() => applyKeyUpdate(rotated, again.envelope, again.payload, DEVICE))).toBe('replayed');
    // A key update from an untrusted key is refused.
    const rogue = makeKey();
    const hostile = signKeyUpdate({ add: [rogue.publicPem] }, { sequence: 9, device: DEVICE }, rogue.privateKey);
    expect(reasonOf(() => applyKeyUpdate(rotated, hostile.envelope, hostile.payload, DEVICE))).toBe('unknown-key');
    // A payload that differs from the signed one is refused.
    const swapped = new TextEncoder().encode(JSON.stringify({ add: [rogue.publicPem], revoke: [] }));
    const honest = signKeyUpdate({ add: [] }, { sequence: 2, device: DEVICE }, next.privateKey);
    expect(reasonOf(() => applyKeyUpdate(rotated, honest.envelope, swapped, DEVICE))).toBe('payload-mismatch');
  });

  it('refuses a firmware manifest as a key update', () => {
    const fw = envelopeFor(image, 3, ed);
    expect(reasonOf(() => applyKeyUpdate(trustOf(ed), fw, image, DEVICE))).toBe('bad-structure');
  });
});

it('signEnvelope output is a tag-107 map with keys 2 and 3', () => {
  const outer = decodeCbor(signEnvelope(manifestFor(image, 1), ed.privateKey), { tags: [107] });
  expect(outer).toBeInstanceOf(CborTagged);
  expect([...((outer as CborTagged).value as Map<number, unknown>).keys()]).toEqual([2, 3]);
});
