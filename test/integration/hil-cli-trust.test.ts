/**
 * What `sensorkit hil` trusts, as a user runs it (a real child process through bin/sensorkit.js):
 * replay never runs a plan file a record names unless the record is signed by a key given, and
 * never a plan whose digest changed; verify accepts a signer only with --key (or --any-key), and a
 * station folder only when summary.json lists exactly its records; run refuses to overwrite an
 * earlier run and warns when it writes an unsigned record; the plan's conditionalOutcomes decide
 * junit.xml and the exit code; a file that is not a run record, or carries a byte order mark, is one
 * line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runSensorkit as sensorkit, expectOneLine, type CliRun as Run, temperaturePlanJson } from '../support/cli.js';
import { RECORD_FORMAT, recordText, signRecord, type RunRecord } from '../../hil/record/index.js';

const ENV_NODE = join(ROOT, 'examples/env-node');





function pemPair(): { privateKey: string; publicKey: string; keys: ReturnType<typeof generateKeyPairSync> } {
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { keys, privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

let dir: string;
let trusted: ReturnType<typeof pemPair>;
let other: ReturnType<typeof pemPair>;
/** A plan file, a run of it (unsigned) and the record as read. */
let plan: string;
let base: RunRecord;
/** Code that leaves a mark when it runs. */
let evil: string;
let mark: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hil-trust-'));
  trusted = pemPair();
  other = pemPair();
  for (const [name, pair] of [['trusted', trusted], ['other', other]] as const) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'private.pem'), pair.privateKey, { mode: 0o600 });
    await writeFile(join(dir, name, 'public.pem'), pair.publicKey);
  }
  mark = join(dir, 'RAN');
  evil = join(dir, 'evil.mjs');
  await writeFile(evil, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(mark)}, 'x');\nexport default {};\n`);
  await mkdir(join(dir, 'plans'));
  plan = join(dir, 'plans', 'p.json');
  await writeFile(plan, temperaturePlanJson('p'));
  // Run from the plan's own folder with a relative path: the record names the file absolutely.
  const run = await sensorkit(['hil', 'run', 'p.json', '--seed', '3', '--out', join(dir, 'base')], join(dir, 'plans'));
  expect(run.code, run.stderr).toBe(0);
  base = JSON.parse(await readFile(join(dir, 'base', 'record.json'), 'utf8')) as RunRecord;
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeRecord(name: string, record: RunRecord, key?: ReturnType<typeof pemPair>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, recordText(key === undefined ? record : signRecord(record, key.keys.privateKey)));
  return file;
}

describe('sensorkit hil replay trusts a record before it runs anything', { timeout: 60_000 }, () => {
  it('records the plan file by its absolute path, and a run without --key warns once that the record is unsigned', async () => {
    expect(base.plan.file).toBe(plan);
    const again = await sensorkit(['hil', 'run', plan, '--seed', '3', '--out', join(dir, 'warned')]);
    expect(again.code).toBe(0);
    expectOneLine(again, /^sensorkit: warning: .*warned\/record\.json is not signed \(no --key\), and `hil verify` refuses it; `sensorkit hil keygen` makes a key$/);
  });

  it('never imports a plan file named by an unsigned record, a record of another signer, or a record whose signature fails', async () => {
    const pointing = { ...base, plan: { ...base.plan, file: evil } };
    const unsigned = await writeRecord('evil-unsigned.json', pointing);
    const run1 = await sensorkit(['hil', 'replay', unsigned]);
    expect(run1.code).toBe(2);
    expectOneLine(run1, /evil-unsigned\.json: names the plan file .*evil\.mjs, which runs code, but it is not signed: give the plan file with --plan FILE, or the signer's key with --key$/);

    const foreign = await writeRecord('evil-foreign.json', pointing, other);
    const run2 = await sensorkit(['hil', 'replay', foreign, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(run2.code).toBe(2);
    expectOneLine(run2, /evil-foreign\.json: names the plan file .*evil\.mjs, which runs code, but it is signed by sha-256:[0-9a-f]{64}, not by a key given with --key/);
    const run3 = await sensorkit(['hil', 'replay', foreign]);
    expect(run3.code).toBe(2);
    expectOneLine(run3, /but its signer sha-256:[0-9a-f]{64} was not checked \(no --key\)/);

    // Signed by the trusted key, then edited to name other code: the signature no longer holds.
    const signed = signRecord(base, trusted.keys.privateKey);
    const edited = join(dir, 'evil-edited.json');
    await writeFile(edited, recordText(signed).replace(JSON.stringify(plan), JSON.stringify(evil)));
    const run4 = await sensorkit(['hil', 'replay', edited, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(run4.code).toBe(2);
    expectOneLine(run4, /evil-edited\.json: the record's signature does not verify: the signature does not match the content/);

    // Signed by the trusted key and naming other code, but with the digest of the plan that ran.
    const trustedEvil = await writeRecord('evil-trusted.json', pointing, trusted);
    const run5 = await sensorkit(['hil', 'replay', trustedEvil, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(run5.code).toBe(2);
    expectOneLine(run5, /evil\.mjs: the plan file changed since the run: it is sha-256:[0-9a-f]{64}, the record names sha-256:[0-9a-f]{64}$/);
    expect(existsSync(mark)).toBe(false);
  });

  it('replays a record signed by a key given from any working directory; a plan changed since is refused, not noted', async () => {
    const signed = await writeRecord('signed.json', base, trusted);
    const replay = await sensorkit(['hil', 'replay', signed, '--key', join(dir, 'trusted', 'public.pem')], '/');
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/no differences \(1 phase, 1 measurements, seed 3;/);

    const copy = join(dir, 'changed.json');
    await writeFile(copy, `${temperaturePlanJson('p')}\n`);
    const changed = await sensorkit(['hil', 'replay', signed, '--plan', copy]);
    expect(changed.code).toBe(2);
    expectOneLine(changed, /changed\.json: the plan file changed since the run: it is sha-256:[0-9a-f]{64}, the record names sha-256:[0-9a-f]{64}$/);
  });

  it('replays an unsigned record with --plan FILE given by the user, whose digest matches', async () => {
    const copy = join(dir, 'copy-of-p.json');
    await copyFile(plan, copy);
    const replay = await sensorkit(['hil', 'replay', join(dir, 'base', 'record.json'), '--plan', copy]);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/no differences/);
    // Its --out does not write over a record either.
    const over = await sensorkit(['hil', 'replay', join(dir, 'base', 'record.json'), '--plan', copy, '--out', join(dir, 'base')]);
    expect(over.code).toBe(2);
    expectOneLine(over, /base\/record\.json: the results of an earlier run are there; give another --out, or --force to overwrite them$/);
  });
});

describe('sensorkit hil verify trusts a signer only when told', { timeout: 60_000 }, () => {
  it('without --key: an intact record is not accepted (exit 1) unless --any-key; a record re-signed by another key is refused', async () => {
    const signed = await writeRecord('verify-signed.json', base, trusted);
    const keyless = await sensorkit(['hil', 'verify', signed]);
    expect(keyless.code).toBe(1);
    expect(keyless.stdout).toBe('');
    expectOneLine(keyless, /verify-signed\.json: signature intact, but the signer was not checked: give --key PUBLIC\.pem \(signed by sha-256:[0-9a-f]{64}\), or --any-key to accept any signer$/);
    const anyKey = await sensorkit(['hil', 'verify', signed, '--any-key']);
    expect(anyKey.code).toBe(0);
    expect(anyKey.stdout).toMatch(/^ok: .*verify-signed\.json: signed ES256 by sha-256:[0-9a-f]{64} \(any key accepted: the signer was not checked\); p 1\.0\.0 on emulated/);

    const forged = await writeRecord('verify-forged.json', { ...base, device: { ...base.device, serialNumber: 'FORGED-1' } }, other);
    expect((await sensorkit(['hil', 'verify', forged])).code).toBe(1);
    const wrong = await sensorkit(['hil', 'verify', forged, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(wrong.code).toBe(1);
    expectOneLine(wrong, /not by the key given/);
    const both = await sensorkit(['hil', 'verify', forged, '--key', join(dir, 'trusted', 'public.pem'), '--any-key']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^sensorkit: give --key or --any-key, not both\n/);
  });

  it('a station folder: every */record.json is verified, and summary.json must list exactly them', async () => {
    const station = join(dir, 'station');
    const run = await sensorkit(['hil', 'run', plan, '--target', 'emulated', '--target', 'emulated', '--seed', '3', '--out', station, '--key', join(dir, 'trusted', 'private.pem')]);
    expect(run.code, run.stderr).toBe(0);
    const key = ['--key', join(dir, 'trusted', 'public.pem')];
    expect((await sensorkit(['hil', 'verify', station, ...key])).code).toBe(0);

    // The summary lists emulated-1 twice and hides emulated-2, whose record is garbage.
    const summaryFile = join(station, 'summary.json');
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as { runs: { dir: string }[] };
    summary.runs[1]!.dir = 'emulated-1';
    await writeFile(summaryFile, JSON.stringify(summary, null, 2));
    await writeFile(join(station, 'emulated-2', 'record.json'), 'GARBAGE\n');
    const hidden = await sensorkit(['hil', 'verify', station, ...key]);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/summary\.json: runs\[1\] \(emulated-2\) lists emulated-1 a second time\n/);
    expect(hidden.stderr).toMatch(/emulated-2\/record\.json: not listed in .*summary\.json\n/);
    expect(hidden.stderr).toMatch(/emulated-2\/record\.json: not JSON/);

    // A dir that leaves the folder, and a listed run whose record is missing.
    summary.runs[1]!.dir = '../..';
    summary.runs.push({ ...summary.runs[0]!, dir: 'emulated-3' });
    await writeFile(summaryFile, JSON.stringify(summary, null, 2));
    const escaped = await sensorkit(['hil', 'verify', station, ...key]);
    expect(escaped.code).toBe(1);
    expect(escaped.stderr).toMatch(/runs\[1\] \(emulated-2\) names the folder "\.\.\/\.\.", not a folder of this station/);
    expect(escaped.stderr).toMatch(/runs\[2\] \(emulated-1\) lists .*emulated-3\/record\.json, which is not there/);
  });

  it('a station summary that claims another outcome than the record is refused', async () => {
    const station = join(dir, 'station-claims');
    const run = await sensorkit(['hil', 'run', plan, '--target', 'emulated', '--target', 'emulated', '--out', station, '--key', join(dir, 'trusted', 'private.pem')]);
    expect(run.code, run.stderr).toBe(0);
    const summaryFile = join(station, 'summary.json');
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as { runs: { outcome: string }[] };
    summary.runs[0]!.outcome = 'fail';
    await writeFile(summaryFile, JSON.stringify(summary, null, 2));
    const claimed = await sensorkit(['hil', 'verify', station, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(claimed.code).toBe(1);
    expectOneLine(claimed, /emulated-1\/record\.json: summary\.json says emulated-1 had the outcome fail, the record pass$/);

    // A record put beside summary.json does not stand for the station.
    summary.runs[0]!.outcome = 'pass';
    await writeFile(summaryFile, JSON.stringify(summary, null, 2));
    await copyFile(join(station, 'emulated-2', 'record.json'), join(station, 'record.json'));
    const beside = await sensorkit(['hil', 'verify', station, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(beside.code).toBe(1);
    expect(beside.stdout.match(/^ok: /gm)).toHaveLength(2);
    expectOneLine(beside, /station-claims\/record\.json: a station folder has no record of its own/);
  });
});

describe('sensorkit hil: records that are not what they claim, output folders, options', { timeout: 60_000 }, () => {
  it('a signed file that is not shaped like a run record is one line in verify (exit 1) and replay (exit 2)', async () => {
    const minimal = await writeRecord('minimal.json', { format: RECORD_FORMAT } as unknown as RunRecord, trusted);
    const verify = await sensorkit(['hil', 'verify', minimal, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(verify.code).toBe(1);
    expectOneLine(verify, /^sensorkit: .*minimal\.json: not a run record: missing plan$/);
    const replay = await sensorkit(['hil', 'replay', minimal]);
    expect(replay.code).toBe(2);
    expectOneLine(replay, /^sensorkit: hil replay: .*minimal\.json: not a run record: missing plan$/);
  });

  it('a byte order mark before record.json is refused by verify and replay alike', async () => {
    const text = recordText(signRecord(base, trusted.keys.privateKey));
    const bom = join(dir, 'bom.json');
    await writeFile(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    const verify = await sensorkit(['hil', 'verify', bom, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(verify.code).toBe(1);
    expectOneLine(verify, /bom\.json: the file starts with a byte order mark \(U\+FEFF\): not the exact text that was written$/);
    const replay = await sensorkit(['hil', 'replay', bom, '--key', join(dir, 'trusted', 'public.pem')]);
    expect(replay.code).toBe(2);
    expectOneLine(replay, /bom\.json: the file starts with a byte order mark/);
  });

  it('run refuses an --out that holds an earlier record (exit 2, one line) unless --force', async () => {
    const out = join(dir, 'earlier');
    await mkdir(out);
    const before = 'the record of an earlier run\n';
    await writeFile(join(out, 'record.json'), before);
    const refused = await sensorkit(['hil', 'run', plan, '--seed', '4', '--out', out]);
    expect(refused.code).toBe(2);
    expectOneLine(refused, /^sensorkit: hil run: .*earlier\/record\.json: the results of an earlier run are there; give another --out, or --force to overwrite them$/);
    expect(await readFile(join(out, 'record.json'), 'utf8')).toBe(before);
    const forced = await sensorkit(['hil', 'run', plan, '--seed', '4', '--out', out, '--force', '--key', join(dir, 'trusted', 'private.pem')]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'record.json'), 'utf8'))).toMatchObject({ seed: 4, signature: { alg: 'ES256' } });
  });

  it('--seed takes decimal digits only, and an option value starting with "-" is one line', async () => {
    const negative = await sensorkit(['hil', 'run', plan, '--seed', '-1']);
    expect(negative.code).toBe(2);
    expect(negative.stderr.split('\n')[0]).toMatch(/^sensorkit: Option '--seed' argument is ambiguous\. .*'--seed=-XYZ'\.$/);
    expect(negative.stderr.split('\n')).toHaveLength(3); // the line, the hint to --help, the final newline
    const exponent = await sensorkit(['hil', 'run', plan, '--seed', '1e3']);
    expect(exponent.code).toBe(2);
    expect(exponent.stderr).toMatch(/^sensorkit: --seed: expected an integer from 0 to 9007199254740991 in decimal digits, got "1e3"\n/);
  });

  it("the plan's conditionalOutcomes make a conditional pass fail: exit 1 and <failure> in junit.xml", async () => {
    const strict = join(dir, 'strict.json');
    await writeFile(
      strict,
      JSON.stringify({
        id: 'strict',
        name: 'Strict',
        version: '1',
        device: ENV_NODE,
        conditionalOutcomes: { pass: 'fail', fail: 'fail' },
        phases: [{ id: 'p', steps: [{ kind: 'accuracy', channel: 'temperature', points: [-30, 0, 25, 50, 80], readings: 5, limits: { tolerance: 0.155, unit: 'K' } }] }],
      }),
    );
    const out = join(dir, 'strict');
    const run = await sensorkit(['hil', 'run', strict, '--seed', '7', '--out', out]);
    const record = JSON.parse(await readFile(join(out, 'record.json'), 'utf8')) as RunRecord;
    const outcomes = record.phases.flatMap((p) => p.measurements).map((m) => m.outcome);
    expect(outcomes).toContain('conditional-pass');
    const failing = outcomes.filter((o) => o === 'fail' || o === 'conditional-fail' || o === 'conditional-pass').length;
    expect(record.conditionalOutcomes).toEqual({ pass: 'fail', fail: 'fail' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^FAIL strict 1 on emulated, .*: \\d+ passed, ${failing} failed`, 'm'));
    expect((await readFile(join(out, 'junit.xml'), 'utf8')).match(/<failure /g)).toHaveLength(failing);
  });
});
