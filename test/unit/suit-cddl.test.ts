/**
 * Envelopes sensorkit signs conform to the draft's CDDL (test/fixtures/suit/draft-ietf-suit-manifest.cddl),
 * checked by test/support/suit-cddl-check.ts. The check passes the draft's own examples (so it reads the
 * CDDL as the draft's tools do) and fails envelopes that break a rule (so it is not vacuous).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signKeyUpdate } from '../../ota/keys/key-update.js';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from '../../ota/manifest/cbor.js';
import { signEnvelope } from '../../ota/manifest/suit-envelope.js';
import { DEVICE, envelopeFor, makeImage, makeKey, manifestFor } from '../support/ota-fixtures.js';
import { suitCddlProblems } from '../support/suit-cddl-check.js';

const dir = new URL('../fixtures/suit/', import.meta.url);
const ed = makeKey('ed25519');
const p256 = makeKey('p256');
const app = makeImage(3000, 1);
const mcu = makeImage(1000, 2);
const digest = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

describe('the CDDL check', () => {
  it.each(['example0.suit', 'example1.suit', 'example2.suit', 'example2-severed.suit', 'example3.suit', 'example4.suit', 'example5.suit'])('passes the draft example %s', (name) => {
    expect(suitCddlProblems(new Uint8Array(readFileSync(new URL(name, dir))))).toEqual([]);
  });

  it('is checked against the CDDL file it was written from', () => {
    const cddl = readFileSync(new URL('draft-ietf-suit-manifest.cddl', dir), 'utf8');
    // The numbers the check relies on, as the reference file assigns them.
    for (const line of ['suit-install = 20', 'suit-validate = 7', 'suit-text = 23', 'suit-directive-override-parameters      = 20', 'suit-condition-image-match       = 3', 'suit-parameter-uri               = 21', 'SUIT_Envelope_Tagged = #6.107(SUIT_Envelope)']) {
      expect(cddl).toContain(line);
    }
  });

  it('fails envelopes that break the CDDL', () => {
    const good = envelopeFor(app, 3, ed);
    const outer = decodeCbor(good, { tags: [107] }) as CborTagged;
    const fields = outer.value as Map<number, CborValue>;
    const manifest = decodeCbor(fields.get(3) as Uint8Array) as Map<number, CborValue>;
    const rebuilt = (change: (m: Map<number, CborValue>) => void): Uint8Array => {
      const copy = new Map(manifest);
      change(copy);
      return encodeCbor(new CborTagged(107, new Map([...fields, [3, encodeCbor(copy)]])));
    };
    // The old layout: install at key 17.
    expect(suitCddlProblems(rebuilt((m) => (m.set(17, m.get(20)!), m.delete(20))))).toContain('envelope/3: key 17 not in the CDDL');
    // A reporting policy outside uint .bits 0..3.
    expect(suitCddlProblems(rebuilt((m) => m.set(7, encodeCbor([3, 16]))))).toEqual(['envelope/3/7[0]: not a SUIT_Rep_Policy (uint .bits 0..3)']);
    // A directive where only shared commands may be.
    const common = decodeCbor(manifest.get(3) as Uint8Array) as Map<number, CborValue>;
    const badShared = new Map(common).set(4, encodeCbor([21, 2]));
    expect(suitCddlProblems(rebuilt((m) => m.set(3, encodeCbor(badShared))))).toEqual(['envelope/3/3/4[0]: command 21 is not allowed in a SUIT_Shared_Sequence']);
    // Text as sensorkit once wrote it ({1: description, 6: version}) is not a SUIT_Text_Map.
    expect(suitCddlProblems(rebuilt((m) => m.set(23, encodeCbor(new Map<number, CborValue>([[1, 'x'], [6, '1.0']])))))[0]).toMatch(/SUIT_Text_Map|tag38-ltag/);
    // A vendor id that is not 16 bytes, and a manifest without its sequence number.
    expect(suitCddlProblems(rebuilt((m) => m.delete(2)))).toEqual(['envelope/3: required key 2 missing']);
    expect(suitCddlProblems(encodeCbor(new CborTagged(106, fields)))).toEqual(['not SUIT_Envelope_Tagged (#6.107)']);
  });
});

describe('envelopes sensorkit signs conform to the draft CDDL', () => {
  const { version: _version, ...withoutVersion } = manifestFor(app, 1);
  const two = { ...manifestFor(app, 4), components: [{ ...manifestFor(app, 4), componentId: ['app'], uri: 'app.bin' }, { componentId: ['mcu', 'firmware'], imageDigest: digest(mcu), imageSize: mcu.length, uri: 'mcu.hex', version: '2.1' }] };
  it.each([
    ['one component, Ed25519', () => envelopeFor(app, 1, ed)],
    ['one component, ES256, no text', () => signEnvelope(withoutVersion, p256.privateKey)],
    ['one component with manifest and component text', () => envelopeFor(app, 2, ed, { description: 'June release\nwith notes' })],
    ['one component, install and text severed', () => signEnvelope(manifestFor(app, 2, { description: 'severed' }), ed.privateKey, { severable: true })],
    ['two components with text', () => signEnvelope(two, ed.privateKey)],
    ['two components, severed', () => signEnvelope(two, p256.privateKey, { severable: true })],
    ['a key update', () => signKeyUpdate({ add: [p256.publicPem] }, { sequence: 2, device: DEVICE }, ed.privateKey).envelope],
  ])('%s', (_name, make) => {
    expect(suitCddlProblems(make())).toEqual([]);
  });
});
