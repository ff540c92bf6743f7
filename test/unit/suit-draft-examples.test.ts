/**
 * The examples of draft-ietf-suit-manifest-37 (Appendix "Examples"), byte for byte, signed by the
 * draft's published ES256 test key: every one verifies (signature, manifest digest, severed members)
 * and decodes; those sensorkit executes are read into what they install, the others are refused by
 * the name of the command sensorkit does not execute. Nothing here is regenerated: the bytes are
 * the draft's (test/fixtures/suit/README.md).
 */
import { describe, expect, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ManifestError } from '../../ota/errors.js';
import { TrustAnchors } from '../../ota/keys/trust-anchors.js';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from '../../ota/manifest/cbor.js';
import { authenticateEnvelope, readEnvelopeUnverified, signEnvelope, verifyEnvelope } from '../../ota/manifest/suit-envelope.js';
import { formatEnvelopeReport, inspectEnvelope } from '../../ota/manifest/suit-inspect.js';
import { interpretManifest } from '../../ota/manifest/suit-manifest.js';
import { decodeText } from '../../ota/manifest/suit-text.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { makeImage, manifestFor, reasonOf } from '../support/ota-fixtures.js';

const dir = new URL('../fixtures/suit/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const trust = TrustAnchors.of([readFileSync(new URL('draft-test-public-key.pem', dir), 'utf8')]);
const VENDOR = 'fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe';
const CLASS = '1492af14-2569-5e48-bf42-9b2d51f2ab45';
const SAMPLE_DIGEST = '00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210';

const EXAMPLES = ['example0.suit', 'example1.suit', 'example2.suit', 'example2-severed.suit', 'example3.suit', 'example4.suit', 'example5.suit'];

describe('the draft examples verify and decode', () => {
  it.each(EXAMPLES)('%s: signature by the draft key, SUIT digest of the bstr-wrapped manifest', (name) => {
    const { document, keyId } = authenticateEnvelope(read(name), trust);
    expect(keyId).toBe(trust.keyIds[0]);
    expect(document.sequence).toBe(Number(/example(\d)/.exec(name)![1]));
    expect(document.componentIds.length).toBeGreaterThan(0);
    expect(document.sequences.has('suit-shared-sequence')).toBe(true);
  });

  it('holds the draft test key pair: the public key is the SPKI of the published private key, and it verifies what that key signs', () => {
    const privatePem = readFileSync(new URL('draft-test-private-key.pem', dir), 'utf8');
    const publicPem = readFileSync(new URL('draft-test-public-key.pem', dir), 'utf8');
    expect(createPublicKey(privatePem).export({ type: 'spki', format: 'pem' })).toBe(publicPem);
    const envelope = signEnvelope(manifestFor(makeImage(100, 1), 9), createPrivateKey(privatePem));
    expect(verifyEnvelope(envelope, trust).manifest.sequence).toBe(9);
  });

  it('computes the digest over the bstr head too: the digest of the bare manifest bytes is not the one signed', () => {
    const outer = decodeCbor(read('example1.suit'), { tags: [107] }) as CborTagged;
    const fields = outer.value as Map<number, Uint8Array>;
    const auth = decodeCbor(fields.get(2)!) as Uint8Array[];
    const signed = (decodeCbor(auth[0]!) as [number, Uint8Array])[1];
    expect(Buffer.from(signed).toString('hex')).toBe(createHash('sha256').update(encodeCbor(fields.get(3)!)).digest('hex'));
    expect(Buffer.from(signed).toString('hex')).not.toBe(createHash('sha256').update(fields.get(3)!).digest('hex'));
  });

  it('reads examples 0, 1, 2 and 5 into what they install', () => {
    const zero = verifyEnvelope(read('example0.suit'), trust).manifest;
    expect(zero).toMatchObject({ sequence: 0, vendorId: VENDOR, classId: CLASS, componentId: ["h'00'"], imageSize: 34768, fetch: false });
    expect(Buffer.from(zero.imageDigest).toString('hex')).toBe(SAMPLE_DIGEST);
    const one = verifyEnvelope(read('example1.suit'), trust).manifest;
    expect(one).toMatchObject({ sequence: 1, uri: 'http://example.com/file.bin', imageSize: 34768, fetch: true });
    const two = verifyEnvelope(read('example2.suit'), trust).manifest;
    expect(two).toMatchObject({ sequence: 2, uri: 'http://example.com/very/long/path/to/file/file.bin', referenceUri: 'https://git.io/JJYoj' });
    expect(two.description).toMatch(/^## Example 2: Simultaneous Download, Installation, Secure Boot, Severed Fields/);
    const five = verifyEnvelope(read('example5.suit'), trust).manifest;
    expect(five.components?.map((c) => [c.componentId, c.uri, c.imageSize])).toEqual([
      [["h'00'"], 'http://example.com/file1.bin', 34768],
      [["h'01'"], 'http://example.com/file2.bin', 76834],
    ]);
  });

  it('refuses examples 3 and 4 by the name of the command sensorkit does not execute', () => {
    const three = (): unknown => verifyEnvelope(read('example3.suit'), trust);
    expect(reasonOf(three)).toBe('unsupported-command');
    expect(three).toThrow('unsupported command: suit-directive-try-each (in suit-shared-sequence)');
    const four = (): unknown => verifyEnvelope(read('example4.suit'), trust);
    expect(reasonOf(four)).toBe('unsupported-command');
    expect(four).toThrow('unsupported command: suit-directive-copy (in suit-install)');
  });

  it('example 2: the severed install and text are checked against their digests; without them, install cannot run', () => {
    const full = authenticateEnvelope(read('example2.suit'), trust).document;
    expect(full.severable.map((m) => [m.name, m.inEnvelope])).toEqual([['suit-install', true], ['suit-text', true]]);
    expect(full.text?.get('en-US')?.components[0]?.fields.get(3)).toBe('arm.com');
    const severed = authenticateEnvelope(read('example2-severed.suit'), trust).document;
    expect(severed.severable.map((m) => [m.name, m.inEnvelope])).toEqual([['suit-install', false], ['suit-text', false]]);
    expect(severed.sequences.has('suit-install')).toBe(false);
    expect(() => interpretManifest(severed)).toThrow('suit-install is severed and not in the envelope');
  });
});

/** Example 2 with its envelope map changed (the signature stays the draft's). */
function example2With(change: (fields: Map<number | string, CborValue>) => void): Uint8Array {
  const outer = decodeCbor(read('example2.suit'), { tags: [107] }) as CborTagged;
  const fields = new Map(outer.value as Map<number | string, CborValue>);
  change(fields);
  return encodeCbor(new CborTagged(107, fields));
}

describe('severed members are checked', () => {
  it('refuses a severed member whose bytes do not match the digest in the manifest', () => {
    const text = example2With((fields) => {
      const bytes = Uint8Array.from(fields.get(23) as Uint8Array);
      bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x01;
      fields.set(23, bytes);
    });
    expect(reasonOf(() => authenticateEnvelope(text, trust))).toBe('digest-mismatch');
    const install = example2With((fields) => fields.set(20, encodeCbor([20, new Map([[21, 'http://evil.example/x.bin']]), 21, 2, 3, 15])));
    expect(() => authenticateEnvelope(install, trust)).toThrow('severable member 20 does not match its digest in the manifest');
  });

  it('refuses a member present in the envelope that the manifest holds no digest of', () => {
    const extra = decodeCbor(read('example1.suit'), { tags: [107] }) as CborTagged;
    const fields = new Map(extra.value as Map<number, CborValue>);
    fields.set(23, encodeCbor(new Map([[1, 'x']])));
    const withText = encodeCbor(new CborTagged(107, fields));
    expect(reasonOf(() => authenticateEnvelope(withText, trust))).toBe('bad-structure');
    // And one for a member the manifest holds inline (example 1 has suit-install inline).
    fields.delete(23);
    fields.set(20, encodeCbor([21, 2]));
    expect(() => authenticateEnvelope(encodeCbor(new CborTagged(107, fields)), trust)).toThrow(/carries member 20 but the manifest holds no digest/);
  });

  it('refuses an integrated payload and an unknown envelope key by name', () => {
    expect(reasonOf(() => authenticateEnvelope(example2With((f) => f.set('#payload', Uint8Array.of(1))), trust))).toBe('unsupported-command');
    expect(() => authenticateEnvelope(example2With((f) => f.set(17, Uint8Array.of(0x80))), trust)).toThrow('envelope key 17 is not understood');
  });
});

describe('ota inspect of the draft examples', () => {
  it.each(EXAMPLES)('%s is printed with named commands and parameters, and "not verified" without a key', (name) => {
    const report = inspectEnvelope(read(name));
    expect(report.error).toBeUndefined();
    expect(report.signature).toBe('present (ES256), not verified');
    expect(report.digest).toBe('matches');
    const text = formatEnvelopeReport(report);
    expect(text).toContain(`vendor-id: ${VENDOR}`);
    expect(text).toContain(`class-id: ${CLASS}`);
    expect(text).toContain('  condition-vendor-identifier');
    expect(text).toContain('  condition-class-identifier');
    expect(text).toMatch(/image-digest: sha-256:[0-9a-f]{64}/);
  });

  it('prints example 1 in full', () => {
    expect(formatEnvelopeReport(inspectEnvelope(read('example1.suit'), trust))).toBe(
      [
        'envelope: 272 bytes',
        `signature: verified (key ${trust.keyIds[0]})`,
        'manifest digest: matches',
        'manifest version: 1',
        'sequence number: 1',
        "components: [h'00']",
        'suit-shared-sequence:',
        `  directive-override-parameters {vendor-id: ${VENDOR}, class-id: ${CLASS}, image-digest: sha-256:${SAMPLE_DIGEST}, image-size: 34768}`,
        '  condition-vendor-identifier',
        '  condition-class-identifier',
        'suit-validate:',
        '  condition-image-match',
        'suit-install:',
        '  directive-override-parameters {uri: "http://example.com/file.bin"}',
        '  directive-fetch',
        '  condition-image-match',
        'suit-install (key 20): inline',
        'sensorkit can execute: yes: 1 image, 1 fetched',
        '',
      ].join('\n'),
    );
  });

  it('shows try-each options, severed members, text and why sensorkit refuses', () => {
    const three = formatEnvelopeReport(inspectEnvelope(read('example3.suit')));
    expect(three).toContain('  directive-try-each\n    option 0:\n      directive-override-parameters {component-slot: 0}\n      condition-component-slot');
    expect(three).toContain('sensorkit can execute: no: unsupported-command: unsupported command: suit-directive-try-each (in suit-shared-sequence)');
    const two = formatEnvelopeReport(inspectEnvelope(read('example2.suit')));
    expect(two).toMatch(/suit-install \(key 20\): severed, in the envelope \(sha-256:cfa90c5c/);
    expect(two).toContain("  en-US: [h'00'] vendor-domain: arm.com");
    expect(two).toContain('reference-uri: https://git.io/JJYoj');
    const severed = inspectEnvelope(read('example2-severed.suit'));
    expect(severed.manifest?.severable.map((m) => m.state)).toEqual(['severed, not in the envelope', 'severed, not in the envelope']);
    const four = formatEnvelopeReport(inspectEnvelope(read('example4.suit')));
    expect(four).toContain('suit-load:\n  directive-set-component-index 2');
    expect(four).toContain('source-component: 0');
  });

  it('says what is wrong instead of throwing: a bad signature with --key, a tampered manifest, garbage', () => {
    const other = TrustAnchors.of([readFileSync(new URL('draft-test-public-key.pem', dir), 'utf8')]);
    const bytes = Uint8Array.from(read('example1.suit'));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01; // the last command's reporting policy, inside the manifest
    const report = inspectEnvelope(bytes, other);
    expect(report.digest).toBe('digest-mismatch: the manifest bytes do not match the signed digest');
    expect(report.signature).toMatch(/^NOT verified: digest-mismatch/);
    expect(inspectEnvelope(Uint8Array.of(1, 2, 3)).error).toMatch(/^malformed-cbor|^bad-structure/);
  });

  it('readEnvelopeUnverified names the reason for the examples it cannot run, never a generic error', () => {
    for (const name of ['example3.suit', 'example4.suit']) {
      try {
        readEnvelopeUnverified(read(name));
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ManifestError);
        expect((error as ManifestError).message).toMatch(/^unsupported-command: unsupported command: suit-directive-/);
      }
    }
  });
});

describe('damaged draft examples (seeded)', () => {
  it('3,000 mutations of examples 2, 3 and 5: verification refuses with a ManifestError, inspect and the text reader never throw anything else', () => {
    const random = new SeededRandom(9124);
    const sources = ['example2.suit', 'example3.suit', 'example5.suit'].map(read);
    const outer = decodeCbor(sources[0]!, { tags: [107] }) as CborTagged;
    const text = (outer.value as Map<number, Uint8Array>).get(23)!;
    const reasons = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const source = i % 4 === 3 ? text : sources[i % 3]!;
      const bytes = Uint8Array.from(source);
      for (let n = 1 + (random.nextUint32() % 3); n > 0; n--) {
        const at = random.nextUint32() % bytes.length;
        bytes[at] = (bytes[at]! + 1 + (random.nextUint32() % 255)) & 0xff;
      }
      const damaged = random.nextUint32() % 5 === 0 ? bytes.subarray(0, random.nextUint32() % bytes.length) : bytes;
      if (source === text) {
        try {
          decodeText(damaged);
        } catch (error) {
          if (!(error instanceof ManifestError)) throw new Error(`text mutation ${i} threw ${String(error)}`);
        }
        continue;
      }
      expect(() => inspectEnvelope(damaged, trust)).not.toThrow();
      try {
        verifyEnvelope(damaged, trust);
        reasons.add('accepted');
      } catch (error) {
        if (!(error instanceof ManifestError)) throw new Error(`mutation ${i} threw ${String(error)}`);
        reasons.add(error.reason);
      }
    }
    expect(reasons).not.toContain('accepted');
    expect(reasons).toContain('bad-signature');
  });
});
