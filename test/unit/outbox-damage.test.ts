/**
 * Damaged outbox files at open: one bad byte in a 16-byte file header, a zero-filled, empty or
 * truncated segment, a damaged ack-journal header. Each used to fail every start ("not an outbox
 * file"); now the file is set aside as `<name>.damaged-<time>`, every readable record is kept, the
 * outbox opens, and no seq is handed out twice.
 */
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { DurableOutbox, type OutboxEntry } from '../../sdk/transport/outbox/index.js';

const dirs: string[] = [];
const opened: DurableOutbox[] = [];

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((outbox) => outbox.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const SEGMENTS = ['000000000001.seg', '000000000016.seg', '000000000031.seg'] as const;
const text = (entry: OutboxEntry): string => new TextDecoder().decode(entry.payload);
const payloadOf = (n: number): Uint8Array => new TextEncoder().encode(`record ${n} `.padEnd(40, '.'));

async function open(dir: string): Promise<DurableOutbox> {
  const outbox = await DurableOutbox.open({ dir, segmentBytes: 1024, fsync: 'never', clock: new VirtualClock({ start: Date.UTC(2026, 11, 5) }) });
  opened.push(outbox);
  return outbox;
}

/**
 * Three segments of 15 records each at most (seqs 1–15, 16–30, 31–38), with records pending in
 * every one: 1, 2, 15 | 28, 29, 30 | 31–38. Returns the directory and the pending seqs.
 */
async function threeSegments(): Promise<{ dir: string; pending: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-damage-'));
  dirs.push(dir);
  const outbox = await open(dir);
  for (let n = 1; n <= 38; n++) expect((await outbox.append(payloadOf(n))).seq).toBe(n);
  for (let seq = 3; seq <= 14; seq++) await outbox.ack(seq);
  for (let seq = 16; seq <= 27; seq++) await outbox.ack(seq);
  await outbox.close();
  opened.splice(opened.indexOf(outbox), 1);
  expect((await readdir(dir)).filter((name) => name.endsWith('.seg')).sort()).toEqual([...SEGMENTS]);
  return { dir, pending: [1, 2, 15, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38] };
}

/** Opens, checks the pending records and the one copy set aside, and that a second open is clean. */
async function expectSetAside(dir: string, name: string, damaged: Uint8Array, pending: number[]): Promise<DurableOutbox> {
  let outbox = await open(dir);
  expect(outbox.pending().map((entry) => entry.seq)).toEqual(pending);
  for (const entry of outbox.pending()) expect(text(entry)).toBe(new TextDecoder().decode(payloadOf(entry.seq)));
  expect(outbox.setAside).toHaveLength(1);
  const aside = outbox.setAside[0]!;
  expect(aside.startsWith(join(dir, `${name}.damaged-20261205T000000.000Z`))).toBe(true);
  expect(new Uint8Array(await readFile(aside))).toEqual(damaged);
  // Appending goes on above every seq seen; a reopen finds nothing damaged and the same records.
  const next = await outbox.append(payloadOf(99));
  expect(next.seq).toBeGreaterThan(38);
  await outbox.close();
  outbox = await open(dir);
  expect(outbox.setAside).toEqual([]);
  expect(outbox.pending().map((entry) => entry.seq)).toEqual([...pending, next.seq]);
  expect(await readdir(dir)).toContain(aside.slice(dir.length + 1));
  return outbox;
}

describe('DurableOutbox: a damaged file is set aside, the rest opens', () => {
  it.each(Array.from({ length: 16 }, (_, offset) => offset))('one damaged byte at offset %i of a segment header: set aside, every record kept', async (offset) => {
    const { dir, pending } = await threeSegments();
    const path = join(dir, SEGMENTS[0]);
    const bytes = new Uint8Array(await readFile(path));
    bytes[offset] = bytes[offset]! ^ 0x5a;
    await writeFile(path, bytes);
    // The frames carry their own CRC: the records of the damaged file itself read too.
    await expectSetAside(dir, SEGMENTS[0], bytes, pending);
  });

  it('a segment copied to acks.log: set aside; without acks every record on disk is pending again', async () => {
    const { dir } = await threeSegments();
    const segment = new Uint8Array(await readFile(join(dir, SEGMENTS[1])));
    await writeFile(join(dir, 'acks.log'), segment);
    await expectSetAside(dir, 'acks.log', segment, Array.from({ length: 38 }, (_, i) => i + 1));
  });

  it('the ack journal copied under a segment name: set aside, the records of the other segments kept', async () => {
    const { dir, pending } = await threeSegments();
    const journal = new Uint8Array(await readFile(join(dir, 'acks.log')));
    await writeFile(join(dir, SEGMENTS[1]), journal);
    await expectSetAside(dir, SEGMENTS[1], journal, pending.filter((seq) => seq < 16 || seq > 30));
  });

  it('a segment copied under another segment name: its records are handed out once, not twice', async () => {
    const { dir, pending } = await threeSegments();
    await writeFile(join(dir, '999999999999.seg'), await readFile(join(dir, SEGMENTS[0])));
    await writeFile(join(dir, '000000000020.seg'), await readFile(join(dir, SEGMENTS[0])));
    // Under lower names: the copies are read first, the originals' frames are then the repeats.
    await writeFile(join(dir, '000000000000.seg'), await readFile(join(dir, SEGMENTS[2])));
    await writeFile(join(dir, '000000000002.seg'), await readFile(join(dir, SEGMENTS[1])));
    // An emptied segment between a copy and its original does not make the original's frames new.
    await truncate(join(dir, SEGMENTS[0]), 16);
    const outbox = await open(dir);
    expect(outbox.pending().map((entry) => entry.seq).sort((a, b) => a - b)).toEqual(pending.filter((seq) => seq > 15));
    for (const entry of outbox.pending()) expect(text(entry)).toBe(new TextDecoder().decode(payloadOf(entry.seq)));
    expect((await outbox.append(payloadOf(99))).seq).toBeGreaterThan(38);
  });

  it('a zero-filled segment: set aside, the records of the other segments kept', async () => {
    const { dir, pending } = await threeSegments();
    const path = join(dir, SEGMENTS[1]);
    const zeros = new Uint8Array((await readFile(path)).length);
    await writeFile(path, zeros);
    await expectSetAside(dir, SEGMENTS[1], zeros, pending.filter((seq) => seq < 16 || seq >= 31));
  });

  it('an empty newest segment: set aside, the older records kept, no seq handed out twice', async () => {
    const { dir, pending } = await threeSegments();
    await truncate(join(dir, SEGMENTS[2]), 0);
    await expectSetAside(dir, SEGMENTS[2], new Uint8Array(0), pending.filter((seq) => seq < 31));
  });

  it('a segment truncated inside its header: set aside, the other segments kept', async () => {
    const { dir, pending } = await threeSegments();
    const path = join(dir, SEGMENTS[0]);
    await truncate(path, 7);
    await expectSetAside(dir, SEGMENTS[0], new Uint8Array(await readFile(path)), pending.filter((seq) => seq >= 16));
  });

  it('one damaged byte in the ack journal header: set aside, its acks kept (nothing delivered again)', async () => {
    const { dir, pending } = await threeSegments();
    const path = join(dir, 'acks.log');
    const bytes = new Uint8Array(await readFile(path));
    bytes[3] = bytes[3]! ^ 0x01;
    await writeFile(path, bytes);
    await expectSetAside(dir, 'acks.log', bytes, pending);
  });

  it('a zero-filled ack journal: set aside; acknowledged records still on disk come again (at least once), none lost', async () => {
    const { dir } = await threeSegments();
    const path = join(dir, 'acks.log');
    const zeros = new Uint8Array((await readFile(path)).length);
    await writeFile(path, zeros);
    // Every record on disk is pending again; the seq reservation is gone, the records bound the next seq.
    await expectSetAside(dir, 'acks.log', zeros, Array.from({ length: 38 }, (_, i) => i + 1));
  });

  it('a damaged file left from an open interrupted after its copy is set aside again under a new name', async () => {
    const { dir, pending } = await threeSegments();
    const path = join(dir, SEGMENTS[0]);
    const bytes = new Uint8Array(await readFile(path));
    bytes[0] = 0;
    await writeFile(path, bytes);
    // The copy of an earlier, interrupted open (same clock time: same name).
    await writeFile(`${path}.damaged-20261205T000000.000Z`, bytes);
    const outbox = await open(dir);
    expect(outbox.setAside).toEqual([`${path}.damaged-20261205T000000.000Z-2`]);
    expect(outbox.pending().map((entry) => entry.seq)).toEqual(pending);
  });
});
