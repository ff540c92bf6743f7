/**
 * Outbox recovery (`DurableOutbox.open`): a real outbox is written once (several segments, some
 * records acknowledged), then each input damages a copy of its files (bit flips, byte changes,
 * truncations, insertions, zero-filled or emptied files, deleted files, stray segment files) and
 * opens it. Properties: open settles within the time limit, with an outbox or a `StorageError`;
 * every record it returns was appended, with that seq and those bytes (the CRC holds);
 * close settles. Which way each open went (opened, files set aside, refused) is counted.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { StorageError } from '../../../sdk/core/errors.js';
import { DurableOutbox } from '../../../sdk/transport/outbox/index.js';
import { applyMutations, byteArb, byteMutationArb, type ByteMutation } from '../mutate.js';
import { FuzzViolation, Outcomes, withDeadline, type FuzzTarget } from '../target.js';

const RECORDS = 30;
const ACKED = 8;
const SEGMENT_BYTES = 1024;

type FileDamage =
  | { readonly kind: 'edit'; readonly file: number; readonly mutations: readonly ByteMutation[] }
  | { readonly kind: 'zero'; readonly file: number; readonly at: number; readonly length: number }
  | { readonly kind: 'empty' | 'delete'; readonly file: number }
  | { readonly kind: 'stray'; readonly name: string; readonly bytes: readonly number[]; readonly copyOf: number };

const damageArb: fc.Arbitrary<FileDamage> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('edit' as const), file: fc.nat(), mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 4 }) }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant('zero' as const), file: fc.nat(), at: fc.nat(), length: fc.integer({ min: 1, max: 600 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constantFrom('empty' as const, 'delete' as const), file: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('stray' as const),
      name: fc.constantFrom('000000000000.seg', '000000000099.seg', '999999999999.seg', 'acks.log', 'acks.log.tmp', '000000000001.seg.tmp'),
      bytes: fc.array(byteArb, { maxLength: 64 }),
      copyOf: fc.integer({ min: -1, max: 20 }),
    }),
    weight: 1,
  },
);

interface Template {
  readonly base: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly appended: ReadonlyMap<number, Uint8Array>;
}

let template: Template | undefined;
let inputs = 0;
const outcomes = new Outcomes();

function payloadOf(i: number): Uint8Array {
  const bytes = new Uint8Array(20 + ((i * 37) % 100));
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 7) & 0xff;
  return bytes;
}

async function makeTemplate(): Promise<Template> {
  const base = await mkdtemp(join(tmpdir(), 'sensorkit-fuzz-outbox-'));
  const dir = join(base, 'template');
  const outbox = await DurableOutbox.open({ dir, segmentBytes: SEGMENT_BYTES, maxBytes: 64 * SEGMENT_BYTES, fsync: 'never' });
  const appended = new Map<number, Uint8Array>();
  for (let i = 0; i < RECORDS; i++) {
    const payload = payloadOf(i);
    const entry = await outbox.append(payload);
    appended.set(entry.seq, payload);
  }
  for (const seq of [...appended.keys()].slice(0, ACKED)) await outbox.ack(seq);
  await outbox.close();
  const files = new Map<string, Uint8Array>();
  for (const name of (await readdir(dir)).sort()) files.set(name, new Uint8Array(await readFile(join(dir, name))));
  return { base, files, appended };
}

/** The damaged files, by name. */
function damage(files: ReadonlyMap<string, Uint8Array>, damages: readonly FileDamage[]): Map<string, Uint8Array> {
  const out = new Map(files);
  const originals = [...files.values()];
  for (const d of damages) {
    const names = [...out.keys()];
    if (d.kind === 'stray') {
      const source = d.copyOf >= 0 ? originals[d.copyOf % originals.length] : undefined;
      out.set(d.name, source ? applyMutations(source, [{ op: 'insert', at: source.length, bytes: d.bytes }], originals) : Uint8Array.from(d.bytes));
      continue;
    }
    if (names.length === 0) continue;
    const name = names[d.file % names.length]!;
    const bytes = out.get(name)!;
    if (d.kind === 'edit') out.set(name, applyMutations(bytes, d.mutations, originals));
    else if (d.kind === 'zero') {
      const copy = bytes.slice();
      copy.fill(0, d.at % (bytes.length + 1), (d.at % (bytes.length + 1)) + d.length);
      out.set(name, copy);
    } else if (d.kind === 'empty') out.set(name, new Uint8Array(0));
    else out.delete(name);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export const outboxTarget: FuzzTarget<readonly FileDamage[]> = {
  name: 'outbox-recovery',
  property: 'open settles with an outbox or a StorageError; every pending record was appended with that seq and bytes; close settles',
  arbitrary: fc.array(damageArb, { minLength: 1, maxLength: 4 }),
  shortRuns: 300,
  async setup() {
    template ??= await makeTemplate();
    if (template.files.size < 3) throw new Error(`the template outbox has ${template.files.size} files; expected several segments and a journal`);
  },
  async teardown() {
    if (template) await rm(template.base, { recursive: true, force: true });
    template = undefined;
  },
  async check(damages) {
    if (!template) throw new Error('setup() was not run');
    const dir = join(template.base, `input-${inputs++}`);
    await mkdir(dir);
    try {
      for (const [name, bytes] of damage(template.files, damages)) await writeFile(join(dir, name), bytes);
      let outbox: DurableOutbox;
      try {
        outbox = await withDeadline('DurableOutbox.open', DurableOutbox.open({ dir, segmentBytes: SEGMENT_BYTES, maxBytes: 64 * SEGMENT_BYTES, fsync: 'never' }));
      } catch (error) {
        if (!(error instanceof StorageError)) throw error; // anything else is a crash (or a hang, as FuzzViolation)
        outcomes.add(`refused: ${error.message.replace(/^.*\//, '').replace(/\d+/g, 'N').slice(0, 60)}`);
        return;
      }
      try {
        const setAside = (outbox as { readonly setAside?: readonly string[] }).setAside ?? [];
        outcomes.add(setAside.length > 0 ? 'opened, files set aside' : 'opened');
        const seen = new Set<number>();
        for (const entry of outbox.pending()) {
          const appended = template.appended.get(entry.seq);
          if (appended === undefined || !sameBytes(appended, entry.payload)) throw new FuzzViolation(`open returned seq ${entry.seq}, which was not appended with these ${entry.payload.length} bytes`);
          if (seen.has(entry.seq)) throw new FuzzViolation(`open returned seq ${entry.seq} twice`);
          seen.add(entry.seq);
        }
        outcomes.add(`records kept: ${seen.size === RECORDS - ACKED ? 'all' : seen.size > RECORDS - ACKED ? 'more (acks lost)' : 'fewer'}`);
      } finally {
        await withDeadline('DurableOutbox.close', outbox.close());
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  outcomes: () => outcomes.snapshot(),
};
