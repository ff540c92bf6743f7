/**
 * The agent runs as root: a symlink planted under its root must never make it write, truncate or
 * read a file outside the root. Each attack leaves a link at one of the agent's names pointing at a
 * file outside; the agent refuses (`unsafe-root`, naming the link) and the outside file is unchanged.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateError } from '../../ota/errors.js';
import { nodeFileSystem, readFileBounded, writeFileAtomic } from '../../ota/agent/file-system.js';
import { downloadImage } from '../../ota/agent/http-download.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { AuditLog } from '../../security/audit-log.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { makeDevice, publishImage, type TestDevice } from '../support/ota-device.js';

const key = makeKey('ed25519');
const image2 = makeImage(64 * 1024, 2);
const VICTIM_TEXT = 'root:x:0:0:root:/root:/bin/bash\n';
let served: string;
let server: UpdateServer;
let outside: string;
const devices: TestDevice[] = [];

beforeAll(async () => {
  served = await mkdtemp(join(tmpdir(), 'sensorkit-ota-links-served-'));
  await publishImage(served, 'fw-2.bin', image2, envelopeFor(image2, 2, key, { uri: 'fw-2.bin' }));
  server = await startUpdateServer({ dir: served });
});
afterAll(async () => {
  await server.close();
  await rm(served, { recursive: true, force: true });
});
afterEach(async () => {
  for (const device of devices.splice(0)) await device.cleanup();
  await rm(outside, { recursive: true, force: true });
});

/** A provisioned device and a file outside its root, as a system file the attacker aims at. */
async function setUp(): Promise<{ d: TestDevice; victim: string }> {
  const d = await makeDevice(key);
  devices.push(d);
  outside = await mkdtemp(join(tmpdir(), 'sensorkit-ota-links-outside-'));
  const victim = join(outside, 'passwd');
  await writeFile(victim, VICTIM_TEXT);
  return { d, victim };
}

const offer = (): { envelope: Uint8Array; baseUrl: string } => ({ envelope: envelopeFor(image2, 2, key, { uri: 'fw-2.bin' }), baseUrl: server.url });
const name2 = `${'2'.padStart(12, '0')}-${createHash('sha256').update(image2).digest('hex').slice(0, 12)}`;

async function refusal(run: Promise<unknown>): Promise<UpdateError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpdateError);
  return error as UpdateError;
}

describe('a symlink planted under the root', () => {
  it('at staging/<image>/image.bin: the update is refused and the target is not written', async () => {
    const { d, victim } = await setUp();
    await mkdir(join(d.root, 'staging', name2), { recursive: true });
    await symlink(victim, join(d.root, 'staging', name2, 'image.bin'));
    const error = await refusal(d.agent.update(offer()));
    expect(error.reason).toBe('unsafe-root');
    expect(error.message).toContain(join(d.root, 'staging', name2, 'image.bin'));
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('at a directory component (staging/<image> → a folder outside): refused, nothing written there', async () => {
    const { d } = await setUp();
    await symlink(outside, join(d.root, 'staging', name2));
    const error = await refusal(d.agent.update(offer()));
    expect(error.reason).toBe('unsafe-root');
    expect(await readdir(outside)).toEqual(['passwd']);
  });

  it('at the installed image (images/<image>/image.bin): boot and update are refused', async () => {
    const { d, victim } = await setUp();
    const installed = (await readdir(join(d.root, 'images')))[0]!;
    const file = join(d.root, 'images', installed, 'image.bin');
    await rename(file, `${file}.moved`);
    await symlink(victim, file);
    expect((await refusal(d.agent.boot())).reason).toBe('unsafe-root');
    expect((await refusal(d.agent.update(offer()))).reason).toBe('unsafe-root');
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('at audit.log: the log will not open and the agent will not start, the target is not appended to', async () => {
    const { d, victim } = await setUp();
    await rm(join(d.root, 'audit.log'));
    await symlink(victim, join(d.root, 'audit.log'));
    await expect(AuditLog.open(join(d.root, 'audit.log'), { clock: new SystemClock() })).rejects.toThrow(/audit\.log/);
    // The already open log does not write through the link either.
    await expect(d.audit.append('probe', {})).rejects.toThrow(/append failed/);
    expect((await refusal(d.agent.update(offer()))).reason).toBe('unsafe-root');
    await expect(makeDevice(key, { root: d.root })).rejects.toThrow(/audit\.log/);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  for (const file of ['counter.json', 'trust.json', 'boot.json']) {
    it(`at state/${file}: refused, the target is neither read as state nor replaced`, async () => {
      const { d, victim } = await setUp();
      await rm(join(d.root, 'state', file), { force: true });
      await symlink(victim, join(d.root, 'state', file));
      expect((await refusal(d.agent.update(offer()))).reason).toBe('unsafe-root');
      expect((await refusal(d.agent.boot())).reason).toBe('unsafe-root');
      expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    });
  }

  it('at state/ itself: refused when the agent opens the root', async () => {
    const { d } = await setUp();
    await rename(join(d.root, 'state'), join(outside, 'state'));
    await symlink(join(outside, 'state'), join(d.root, 'state'));
    const counterBefore = await readFile(join(outside, 'state', 'counter.json'), 'utf8');
    await expect(makeDevice(key, { root: d.root, provision: false })).rejects.toThrow(/unsafe-root: .*state/);
    expect(await readFile(join(outside, 'state', 'counter.json'), 'utf8')).toBe(counterBefore);
  });
});

describe('a root that is itself a symlink (the operator\'s choice)', () => {
  it('is used as it is: links above the agent\'s own folders are not its business', async () => {
    outside = await mkdtemp(join(tmpdir(), 'sensorkit-ota-links-outside-'));
    await mkdir(join(outside, 'data'));
    const root = join(outside, 'device');
    await symlink(join(outside, 'data'), root);
    const d = await makeDevice(key, { root, provision: true });
    expect(await d.agent.update(offer())).toMatchObject({ sequence: 2, trial: 'confirmed' });
  });
});

describe('every open refuses a link at the last component (a link planted after the check)', () => {
  it('the download does not write through a link at its part file', async () => {
    const { victim } = await setUp();
    const part = join(outside, 'image.part');
    await symlink(victim, part);
    const digest = createHash('sha256').update(image2).digest();
    // A fresh download removes the link itself (never its target) and creates a new file.
    await downloadImage(nodeFileSystem, { url: new URL('fw-2.bin', server.url).href, part, size: image2.length, digest });
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect((await readFile(part)).equals(image2)).toBe(true);
  });

  it('atomic writes replace a link, never its target; bounded reads refuse one', async () => {
    const { victim } = await setUp();
    const state = join(outside, 'state.json');
    await symlink(victim, state);
    await expect(readFileBounded(nodeFileSystem, state, 1024)).rejects.toMatchObject({ code: 'ELOOP' });
    await symlink(victim, join(outside, '.state.json.tmp'));
    await writeFileAtomic(nodeFileSystem, state, '{"sequence":7}');
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(await readFile(state, 'utf8')).toBe('{"sequence":7}');
  });
});
