/**
 * Run records: canonical JSON (RFC 8785), plan digests, COSE_Sign1 signatures over the canonical
 * record, verification with its refusals, replay comparison and the output folder.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import {
  RECORD_FORMAT,
  canonicalJson,
  compareRecords,
  describeDifference,
  planDigest,
  prettyCanonicalJson,
  recordKeyId,
  recordShapeProblem,
  recordText,
  signRecord,
  verifyRecord,
  writeRunOutput,
  type RunRecord,
} from '../../hil/record/index.js';

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    format: RECORD_FORMAT,
    plan: { id: 'env-node-temperature', name: 'Temperature channel', version: '1.0.0', digest: 'sha-256:00', file: 'hil/plans/env-node-temperature.ts' },
    target: { kind: 'emulated', description: 'emulated', observation: 'in-process', virtualTime: true },
    device: { id: 'env-node', manufacturer: 'Example', model: 'EN-1', serialNumber: 'EMU-1', softwareRevision: '1.0.0' },
    sensorkit: { version: '0.1.0' },
    instruments: [],
    seed: 1,
    clock: { kind: 'virtual', start: '2024-01-01T00:00:00.000Z', duration: 600_000 },
    context: { operator: 'A. Tester' },
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:00:01.500Z',
    wallDuration: 1500,
    outcome: 'pass',
    phases: [
      {
        id: 'accuracy',
        name: 'Accuracy at 5 points',
        iteration: 1,
        outcome: 'pass',
        start: 0,
        duration: 600_000,
        log: [{ time: 0, message: 'temperature set to 25 Cel' }],
        measurements: [
          { id: 'error@25Cel', channel: 'temperature', value: 25.03, unit: 'Cel', reference: { value: 25, unit: 'Cel', source: 'input temperature' }, samples: 10, limits: { low: 24, high: 26, unit: 'Cel', basis: 'MPE ±1 Cel' }, outcome: 'pass', time: 120_000 },
          { id: 'error@40Cel', channel: 'temperature', value: 40.12, unit: 'Cel', limits: { low: 39, high: 41, unit: 'Cel' }, outcome: 'pass', time: 240_000 },
        ],
      },
    ],
    ...overrides,
  };
}

const p256 = (): ReturnType<typeof generateKeyPairSync> => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units and writes no whitespace', () => {
    // The sorting example of RFC 8785 §3.2.3.
    const names = ['\u20ac', '\r', '\ufb33', '1', '\ud83d\ude00', '\u0080', '\u00f6'];
    const value = Object.fromEntries(names.map((name, i) => [name, i]));
    const text = canonicalJson(value);
    expect(text).toBe('{"\\r":1,"1":3,"\u0080":5,"ö":6,"€":0,"😀":4,"\ufb33":2}');
  });

  it('writes numbers in the shortest round-trip form (RFC 8785 §3.2.2.3)', () => {
    expect(canonicalJson([1e21, 1e-7, 333333333.33333329, 4.5, 0.002, -0, 1e30, 5e-324, 100])).toBe('[1e+21,1e-7,333333333.3333333,4.5,0.002,0,1e+30,5e-324,100]');
  });

  it('escapes strings as JSON.stringify does and leaves undefined members out', () => {
    expect(canonicalJson({ b: 'a"\\\n\u0001', a: undefined, c: [true, null, false] })).toBe('{"b":"a\\"\\\\\\n\\u0001","c":[true,null,false]}');
  });

  it('refuses NaN, Infinity, lone surrogates, functions, class instances and cycles, naming the path', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(/\$\.a\[1\] is NaN/);
    expect(() => canonicalJson({ a: { b: Infinity } })).toThrow(/\$\.a\.b is Infinity/);
    expect(() => canonicalJson({ s: 'x\ud800' })).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/\$\.f is a function/);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(/\$\.d is a Date object/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(ArgumentError);
  });

  it('pretty form parses to the same value and prints back byte for byte', () => {
    const value = record();
    const pretty = prettyCanonicalJson(value);
    expect(canonicalJson(JSON.parse(pretty))).toBe(canonicalJson(value));
    expect(prettyCanonicalJson(JSON.parse(pretty))).toBe(pretty);
    expect(pretty.split('\n')[1]).toBe('  "clock": {');
  });
});

describe('planDigest', () => {
  it('digests a file\'s bytes, and a plan object through its canonical JSON with functions by source', () => {
    expect(planDigest(Buffer.from('abc'))).toBe('sha-256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const a = planDigest({ id: 'p', steps: [{ run: async () => 1 }], limit: Infinity });
    expect(a).toMatch(/^sha-256:[0-9a-f]{64}$/);
    expect(planDigest({ limit: Infinity, steps: [{ run: async () => 1 }], id: 'p' })).toBe(a);
    expect(planDigest({ id: 'p', steps: [{ run: async () => 2 }], limit: Infinity })).not.toBe(a);
  });
});

describe('signRecord / verifyRecord', () => {
  it('signs with ES256 for P-256 and EdDSA for Ed25519; the record verifies with and without the key', () => {
    for (const [pair, alg] of [[p256(), 'ES256'], [generateKeyPairSync('ed25519'), 'EdDSA']] as const) {
      const signed = signRecord(record(), pair.privateKey);
      expect(signed.signature.alg).toBe(alg);
      expect(signed.signature.keyId).toBe(recordKeyId(pair.publicKey));
      const withKey = verifyRecord(recordText(signed), [pair.publicKey]);
      expect(withKey).toMatchObject({ ok: true, trusted: true, algorithm: alg, keyId: recordKeyId(pair.publicKey) });
      expect(verifyRecord(recordText(signed))).toMatchObject({ ok: true, trusted: false });
    }
  });

  it('refuses a changed byte of a measured value, with one line', () => {
    const pair = p256();
    const text = recordText(signRecord(record(), pair.privateKey));
    const changed = text.replace('"value": 25.03', '"value": 25.04');
    expect(changed).not.toBe(text);
    for (const result of [verifyRecord(changed, pair.publicKey), verifyRecord(changed)]) {
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.reason).toBe('changed');
      expect(result.message).not.toMatch(/\n/);
    }
  });

  it('refuses a wrong key, naming both key ids', () => {
    const signer = p256();
    const other = p256();
    const result = verifyRecord(recordText(signRecord(record(), signer.privateKey)), [other.publicKey]);
    expect(result).toMatchObject({ ok: false, reason: 'wrong-key' });
    if (!result.ok) expect(result.message).toContain(recordKeyId(signer.publicKey).slice(0, 24));
  });

  it('refuses a record re-signed by another key when the trusted key is given', () => {
    const trusted = p256();
    const forger = p256();
    const forged = signRecord({ ...record(), outcome: 'pass' }, forger.privateKey);
    // The forger's own key is embedded: integrity alone holds, trust does not.
    expect(verifyRecord(recordText(forged))).toMatchObject({ ok: true, trusted: false });
    expect(verifyRecord(recordText(forged), [trusted.publicKey])).toMatchObject({ ok: false, reason: 'wrong-key' });
  });

  it('refuses an unsigned record, a non-record, bad JSON and a damaged signature member', () => {
    expect(verifyRecord(recordText(record()))).toMatchObject({ ok: false, reason: 'not-signed', message: 'not signed (no signature member)' });
    expect(verifyRecord('{"format":"other/1"}')).toMatchObject({ ok: false, reason: 'not-a-record' });
    expect(verifyRecord('{"format":')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyRecord(Uint8Array.of(0xff, 0xfe))).toMatchObject({ ok: false, reason: 'malformed' });
    const pair = p256();
    const signed = signRecord(record(), pair.privateKey);
    const swappedKey = { ...signed, signature: { ...signed.signature, publicKey: p256().publicKey.export({ type: 'spki', format: 'der' }).toString('base64') } };
    expect(verifyRecord(recordText(swappedKey))).toMatchObject({ ok: false, reason: 'bad-signature' });
    const wrongAlg = { ...signed, signature: { ...signed.signature, alg: 'EdDSA' } };
    expect(verifyRecord(recordText(wrongAlg as typeof signed))).toMatchObject({ ok: false, reason: 'bad-signature' });
    const truncated = { ...signed, signature: { ...signed.signature, cose: signed.signature.cose.slice(0, 40) } };
    expect(verifyRecord(recordText(truncated))).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses text edited around intact content: a duplicate member, a number spelled otherwise', () => {
    const pair = p256();
    const text = recordText(signRecord(record(), pair.privateKey));
    expect(verifyRecord(text.replace('"seed": 1,', '"seed": 1.0,'), pair.publicKey)).toMatchObject({ ok: false, reason: 'not-canonical' });
    // JSON.parse keeps the last of two members; another reader may keep the first.
    expect(verifyRecord(text.replace('"seed": 1,', '"seed": 7,\n  "seed": 1,'), pair.publicKey)).toMatchObject({ ok: false, reason: 'not-canonical' });
    expect(verifyRecord(text.trimEnd(), pair.publicKey)).toMatchObject({ ok: true });
  });

  it('refuses a UTF-8 byte order mark before the text, as bytes and as a string', () => {
    const pair = p256();
    const text = recordText(signRecord(record(), pair.privateKey));
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    for (const input of [new Uint8Array(withBom), `\uFEFF${text}`]) {
      const result = verifyRecord(input, pair.publicKey);
      expect(result).toMatchObject({ ok: false, reason: 'not-canonical' });
      if (!result.ok) expect(result.message).toMatch(/^the file starts with a byte order mark \(U\+FEFF\): not the exact text that was written$/);
    }
    expect(verifyRecord(new Uint8Array(Buffer.from(text, 'utf8')), pair.publicKey)).toMatchObject({ ok: true });
  });

  it('refuses a signed file that names the format but is not shaped like a run record, in one line', () => {
    const pair = p256();
    const minimal = signRecord({ format: RECORD_FORMAT } as unknown as RunRecord, pair.privateKey);
    expect(verifyRecord(recordText(minimal), pair.publicKey)).toMatchObject({ ok: false, reason: 'not-a-record', message: 'not a run record: missing plan' });
    const { phases: _phases, ...noPhases } = record();
    expect(verifyRecord(recordText(signRecord(noPhases as RunRecord, pair.privateKey)))).toMatchObject({ ok: false, reason: 'not-a-record', message: 'not a run record: missing phases' });
    const badMeasurement = record();
    const phases = [{ ...badMeasurement.phases[0]!, measurements: [{ ...badMeasurement.phases[0]!.measurements[0]!, outcome: 'great' }] }];
    expect(verifyRecord(recordText(signRecord({ ...badMeasurement, phases } as unknown as RunRecord, pair.privateKey)))).toMatchObject({
      ok: false,
      reason: 'not-a-record',
      message: 'not a run record: phases[0].measurements[0].outcome is not of the expected type',
    });
    expect(recordShapeProblem(record())).toBeUndefined();
    expect(recordShapeProblem({ ...record(), conditionalOutcomes: { pass: 'maybe' } })).toBe('conditionalOutcomes.pass is not of the expected type');
    expect(recordShapeProblem({ ...record(), plan: { id: 'x' } })).toBe('missing plan.name');
  });

  it('writes record.json with format first and the signature last', () => {
    const text = recordText(signRecord(record(), p256().privateKey));
    expect(text.startsWith(`{\n  "format": "${RECORD_FORMAT}",\n  "clock": {`)).toBe(true);
    expect(text).toMatch(/\n {2}"signature": \{\n {4}"alg": "ES256",[^]*\n {2}\}\n\}\n$/);
  });

  it('re-signing drops the old signature; wall-clock fields are signed too', () => {
    const pair = p256();
    const once = signRecord(record(), pair.privateKey);
    const twice = signRecord(once, pair.privateKey);
    expect(verifyRecord(recordText(twice), pair.publicKey).ok).toBe(true);
    const later = recordText(once).replace('"wallDuration": 1500', '"wallDuration": 1501');
    expect(verifyRecord(later, pair.publicKey)).toMatchObject({ ok: false, reason: 'changed' });
  });

  it('refuses keys it cannot sign with', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => signRecord(record(), rsa.privateKey)).toThrow(ArgumentError);
    expect(() => signRecord(record(), p256().publicKey)).toThrow(/private key/);
  });
});

describe('compareRecords', () => {
  it('finds nothing between a run and its replay apart from wall-clock fields and the signature', () => {
    const pair = p256();
    const a = signRecord(record(), pair.privateKey);
    const b = record({ startedAt: '2026-02-02T00:00:00.000Z', finishedAt: '2026-02-02T00:00:09.000Z', wallDuration: 9000 });
    expect(compareRecords(a, b)).toEqual([]);
  });

  it('lists changed, added and removed values with their JSON paths', () => {
    const a = record();
    const phase = a.phases[0]!;
    const b = record({
      seed: 2,
      context: { operator: 'A. Tester', 'ambient °C': 23 },
      phases: [{ ...phase, measurements: [{ ...phase.measurements[0]!, value: 25.04 }] }],
    });
    const differences = compareRecords(a, b);
    expect(differences.map((d) => [d.path, d.kind])).toEqual([
      ['$.context["ambient °C"]', 'added'],
      ['$.phases[0].measurements[0].value', 'changed'],
      ['$.phases[0].measurements[1]', 'removed'],
      ['$.seed', 'changed'],
    ]);
    expect(describeDifference(differences[1]!)).toBe('$.phases[0].measurements[0].value: 25.03 → 25.04');
  });
});

describe('writeRunOutput', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const stubReport = (r: RunRecord): string => `<!doctype html><title>${r.plan.name}</title>`;

  it('writes a signed record.json, junit.xml and report.html', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hil-record-'));
    const pair = p256();
    const out = join(dir, 'run', 'one');
    const { files, record: written } = await writeRunOutput(out, record(), { key: pair.privateKey, renderReport: stubReport });
    expect((await readdir(out)).sort()).toEqual(['junit.xml', 'record.json', 'report.html']);
    expect(verifyRecord(await readFile(files.record), pair.publicKey)).toMatchObject({ ok: true, trusted: true });
    expect('signature' in written).toBe(true);
    expect(await readFile(files.junit, 'utf8')).toContain('<testcase classname="env-node-temperature.accuracy" name="error@25Cel"');
    expect(await readFile(files.report, 'utf8')).toContain('<title>Temperature channel</title>');
  });

  it('writes an unsigned record without a key, which verify calls not signed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hil-record-'));
    const { files } = await writeRunOutput(dir, record(), { renderReport: stubReport });
    expect(verifyRecord(await readFile(files.record))).toMatchObject({ ok: false, reason: 'not-signed' });
  });
});
