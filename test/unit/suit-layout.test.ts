/**
 * The layout sensorkit writes (draft-ietf-suit-manifest-37): suit-install at key 20, suit-validate
 * with the image-digest check, suit-text keyed by language with per-component text, the SUIT digest
 * over the bstr-wrapped manifest, severable members; and the refusal of sensorkit's earlier layout
 * (install at 17, digest over the unwrapped manifest) with a reason that says so.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from '../../ota/manifest/cbor.js';
import { signDetached } from '../../ota/manifest/cose.js';
import { SUIT_COMMAND_CODES } from '../../ota/manifest/suit-commands.js';
import { readEnvelopeUnverified, signEnvelope, verifyEnvelope } from '../../ota/manifest/suit-envelope.js';
import { decodeManifest } from '../../ota/manifest/suit-manifest.js';
import { decodeText, encodeText } from '../../ota/manifest/suit-text.js';
import { uuidBytes } from '../../ota/manifest/uuid.js';
import { DEVICE, makeImage, makeKey, manifestFor, reasonOf, trustOf } from '../support/ota-fixtures.js';

const key = makeKey('ed25519');
const trust = trustOf(key);
const image = makeImage(5000, 4);
const mcu = makeImage(700, 5);

function parts(envelope: Uint8Array): { fields: Map<number, CborValue>; manifest: Map<number, CborValue> } {
  const fields = (decodeCbor(envelope, { tags: [107] }) as CborTagged).value as Map<number, CborValue>;
  return { fields, manifest: decodeCbor(fields.get(3) as Uint8Array) as Map<number, CborValue> };
}

describe('the layout sensorkit writes', () => {
  it('puts install at 20 and validate at 7, each command sequence checking the image digest', () => {
    const { manifest } = parts(signEnvelope(manifestFor(image, 3), key.privateKey));
    expect([...manifest.keys()]).toEqual([1, 2, 3, 7, 20, 23]);
    expect(decodeCbor(manifest.get(7) as Uint8Array)).toEqual([SUIT_COMMAND_CODES.imageMatch, 15]);
    expect(decodeCbor(manifest.get(20) as Uint8Array)).toEqual([SUIT_COMMAND_CODES.overrideParameters, new Map([[21, 'firmware.bin']]), SUIT_COMMAND_CODES.fetch, 2, SUIT_COMMAND_CODES.imageMatch, 15]);
  });

  it('signs the SUIT digest of the bstr-wrapped manifest (its head included)', () => {
    const { fields } = parts(signEnvelope(manifestFor(image, 3), key.privateKey));
    const digest = decodeCbor((decodeCbor(fields.get(2) as Uint8Array) as Uint8Array[])[0]!) as [number, Uint8Array];
    expect(Buffer.from(digest[1]).toString('hex')).toBe(createHash('sha256').update(encodeCbor(fields.get(3)!)).digest('hex'));
  });

  it('writes suit-text keyed by language, with the version and description under the component id', () => {
    const { manifest } = parts(signEnvelope(manifestFor(image, 3, { description: 'June release', componentDescription: 'main application' }), key.privateKey));
    const text = decodeText(manifest.get(23) as Uint8Array);
    expect([...text.keys()]).toEqual(['en']);
    expect(text.get('en')!.manifest).toEqual(new Map([[1, 'June release']]));
    expect(text.get('en')!.components).toEqual([{ componentId: [new TextEncoder().encode('firmware')], fields: new Map([[5, 'main application'], [6, '1.0.3']]) }]);
    const verified = verifyEnvelope(signEnvelope(manifestFor(image, 3, { description: 'June release', componentDescription: 'main application' }), key.privateKey), trust).manifest;
    expect(verified).toMatchObject({ description: 'June release', version: '1.0.3', componentDescription: 'main application' });
  });

  it('round-trips a text map in deterministic order and refuses one that is not', () => {
    const text = new Map([['en', { manifest: new Map([[2, 'b'], [1, 'a']]), components: [{ componentId: [Uint8Array.of(0)], fields: new Map([[6, '1']]) }] }]]);
    const bytes = encodeText(text);
    expect(encodeText(decodeText(bytes))).toEqual(bytes);
    const unsorted = Uint8Array.from([0xa1, 0x62, 0x65, 0x6e, 0xa2, 0x02, 0x61, 0x62, 0x01, 0x61, 0x61]);
    expect(reasonOf(() => decodeText(unsorted))).toBe('malformed-cbor');
    expect(reasonOf(() => decodeText(Uint8Array.from([0xa1, 0x62, 0x31, 0x21, 0xa0])))).toBe('bad-structure'); // "1!" is no language tag
  });

  it('severs install and text on request: digests in the manifest, bytes in the envelope; stripping the text still installs', () => {
    const envelope = signEnvelope(manifestFor(image, 3, { description: 'notes' }), key.privateKey, { severable: true });
    const { fields, manifest } = parts(envelope);
    expect([...fields.keys()]).toEqual([2, 3, 20, 23]);
    for (const k of [20, 23]) {
      const [algorithm, bytes] = manifest.get(k) as [number, Uint8Array];
      expect([algorithm, Buffer.from(bytes).toString('hex')]).toEqual([-16, createHash('sha256').update(encodeCbor(fields.get(k)!)).digest('hex')]);
    }
    expect(verifyEnvelope(envelope, trust).manifest).toMatchObject({ uri: 'firmware.bin', description: 'notes' });
    fields.delete(23);
    const stripped = verifyEnvelope(encodeCbor(new CborTagged(107, fields)), trust).manifest;
    expect(stripped.uri).toBe('firmware.bin');
    expect(stripped.description).toBeUndefined();
  });

  it('writes two components with set-component-index, each with its digest, size and URI', () => {
    const components = [
      { componentId: ['app'], imageDigest: createHash('sha256').update(image).digest(), imageSize: image.length, uri: 'app.bin' },
      { componentId: ['mcu', 'firmware'], imageDigest: createHash('sha256').update(mcu).digest(), imageSize: mcu.length, uri: 'mcu.hex', version: '2.0' },
    ];
    const envelope = signEnvelope({ ...components[0]!, sequence: 4, ...DEVICE, components }, key.privateKey);
    const { manifest } = parts(envelope);
    expect(decodeCbor(manifest.get(7) as Uint8Array)).toEqual([12, 0, 3, 15, 12, 1, 3, 15]);
    const read = readEnvelopeUnverified(envelope).manifest;
    expect(read.components?.map((c) => [c.componentId, c.uri, c.imageSize, c.version])).toEqual([
      [['app'], 'app.bin', image.length, undefined],
      [['mcu', 'firmware'], 'mcu.hex', mcu.length, '2.0'],
    ]);
    expect(() => signEnvelope({ ...components[0]!, sequence: 4, ...DEVICE, components: [components[0]!, components[0]!] }, key.privateKey)).toThrow(/unique/);
  });
});

describe('what a manifest installs', () => {
  const digest = encodeCbor([-16, createHash('sha256').update(image).digest()]);
  const common = (ids: Uint8Array[][], shared: CborValue[]): Uint8Array => encodeCbor(new Map<number, CborValue>([[2, ids], [4, encodeCbor(shared)]]));
  const identity = new Map<number, CborValue>([[1, uuidBytes(DEVICE.vendorId)], [2, uuidBytes(DEVICE.classId)], [3, digest], [14, image.length]]);
  const manifest = (members: [number, CborValue][]): Uint8Array => encodeCbor(new Map<number, CborValue>([[1, 1], [2, 1], ...members]));
  const id = [[Uint8Array.of(0)]];

  it('fetches in suit-payload-fetch and checks in suit-install', () => {
    const bytes = manifest([[3, common(id, [20, identity, 1, 15, 2, 15])], [16, encodeCbor([20, new Map([[21, 'a.bin']]), 21, 2])], [20, encodeCbor([3, 15])]]);
    expect(decodeManifest(bytes)).toMatchObject({ uri: 'a.bin', fetch: true, imageSize: image.length });
  });

  it('refuses commands that do not add up, naming what is wrong', () => {
    // No vendor check.
    expect(() => decodeManifest(manifest([[3, common(id, [20, identity, 2, 15])], [20, encodeCbor([21, 2, 3, 15])]]))).toThrow('no suit-condition-vendor-identifier');
    // A fetch never checked against its digest.
    expect(() => decodeManifest(manifest([[3, common(id, [20, identity, 1, 15, 2, 15])], [20, encodeCbor([21, 2])]]))).toThrow('component 0 is fetched but never checked by suit-condition-image-match');
    // Two components and a command before set-component-index.
    expect(() => decodeManifest(manifest([[3, common([...id, [Uint8Array.of(1)]], [20, identity, 1, 15, 2, 15])]]))).toThrow('before suit-directive-set-component-index (the manifest has 2 components)');
    // An index past the components.
    expect(() => decodeManifest(manifest([[3, common(id, [12, 1, 20, identity])]]))).toThrow('component index 1 is not below 1');
    // A parameter sensorkit does not use is refused by name, as commands are.
    expect(() => decodeManifest(manifest([[3, common(id, [20, new Map([...identity, [12, true]]), 1, 15, 2, 15])], [20, encodeCbor([21, 2, 3, 15])]]))).toThrow('unsupported parameter: suit-parameter-strict-order (in suit-shared-sequence)');
    // A digest algorithm other than SHA-256.
    const sha512 = new Map([...identity, [3, encodeCbor([-44, new Uint8Array(64)])]]);
    expect(reasonOf(() => decodeManifest(manifest([[3, common(id, [20, sha512, 1, 15, 2, 15])], [20, encodeCbor([21, 2, 3, 15])]])))).toBe('unsupported-command');
  });
});

describe("sensorkit's earlier layout", () => {
  /** An envelope as the previous version wrote it: install at 17, text {1, 6}, digest over the bare manifest bytes. */
  function oldEnvelope(): Uint8Array {
    const digest = encodeCbor([-16, createHash('sha256').update(image).digest()]);
    const shared = encodeCbor([20, new Map<number, CborValue>([[1, uuidBytes(DEVICE.vendorId)], [2, uuidBytes(DEVICE.classId)], [3, digest], [14, image.length]]), 1, 15, 2, 15]);
    const common = encodeCbor(new Map<number, CborValue>([[2, [[new TextEncoder().encode('firmware')]]], [4, shared]]));
    const manifest = encodeCbor(
      new Map<number, CborValue>([[1, 1], [2, 7], [3, common], [17, encodeCbor([20, new Map([[21, 'fw.bin']]), 21, 15, 3, 15])], [23, encodeCbor(new Map<number, CborValue>([[6, '1.0.7']]))]]),
    );
    const digestBytes = encodeCbor([-16, createHash('sha256').update(manifest).digest()]);
    return encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, encodeCbor([digestBytes, signDetached(digestBytes, key.privateKey)])], [3, manifest]])));
  }

  it('is refused with a reason that says so, signature good or not', () => {
    const old = oldEnvelope();
    expect(reasonOf(() => verifyEnvelope(old, trust))).toBe('old-layout');
    expect(() => verifyEnvelope(old, trust)).toThrow('old-layout: old sensorkit SUIT layout (install at key 17); re-sign with this version');
    expect(reasonOf(() => readEnvelopeUnverified(old))).toBe('old-layout');
  });
});
