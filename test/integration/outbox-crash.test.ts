/**
 * The durable outbox under SIGKILL (issue 3, reliability): a writer process is killed at many
 * seeded-random points in the middle of appends, acks, rollovers, segment deletions and journal
 * compactions, and restarted on the same directory. After each kill the outbox must open cleanly,
 * hold every append the writer reported durable and did not acknowledge (in order, exactly once,
 * with its original seq, appendedAt and payload), and none that it reported acknowledged.
 *
 * Kill points are chosen by counting the writer's report lines, not by sleeping, so a slow or fast
 * disk changes timing but not what is checked.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../sdk/core/random.js';
import { DurableOutbox } from '../../sdk/transport/outbox/index.js';
import { WRITER_OPTIONS } from '../fixtures/outbox-writer-options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KILLS = 25;
const SEED = 20_260_301;

interface Durable {
  appendedAt: number;
  payload: string;
}

/** What the parent knows from the writer's reports, across every run. */
class Model {
  readonly durable = new Map<number, Durable>();
  readonly acked = new Set<number>();
  inflightAppend: string | undefined;
  inflightAck: number | undefined;

  read(line: string): void {
    const [tag, ...rest] = line.split(' ');
    if (tag === 'a') this.inflightAppend = rest.join(' ');
    else if (tag === 'A') {
      const seq = Number(rest[0]);
      expect(this.durable.has(seq), `seq ${seq} handed out twice`).toBe(false);
      this.durable.set(seq, { appendedAt: Number(rest[1]), payload: rest.slice(2).join(' ') });
      this.inflightAppend = undefined;
    } else if (tag === 'k') this.inflightAck = Number(rest[0]);
    else if (tag === 'K') {
      this.acked.add(Number(rest[0]));
      this.inflightAck = undefined;
    } else if (tag !== 'O') throw new Error(`unexpected line from the writer: ${JSON.stringify(line)}`);
  }

  /** Reported durable and not reported acknowledged, in seq order. */
  expected(): number[] {
    return [...this.durable.keys()].filter((seq) => !this.acked.has(seq)).sort((a, b) => a - b);
  }
}

/** Runs the writer until it has printed `lines` lines, then SIGKILLs it; feeds every line to `model`. */
function runAndKill(dir: string, seed: number, lines: number, model: Model): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './bin/register-ts.js', 'test/fixtures/outbox-writer.ts', dir, String(seed)], { cwd: ROOT });
    let buffered = '';
    let seen = 0;
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        model.read(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (++seen === lines) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the writer exited by itself (code ${String(code)}): ${stderr}`));
    });
  });
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('DurableOutbox under SIGKILL', () => {
  it(`loses no unacknowledged append and resurrects no acknowledged one over ${KILLS} kills`, { timeout: 55_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-crash-'));
    dirs.push(dir);
    const random = new SeededRandom(SEED);
    const model = new Model();
    let tornTails = 0;
    let resolvedInflight = 0;
    for (let run = 0; run < KILLS; run++) {
      model.inflightAppend = undefined;
      model.inflightAck = undefined;
      await runAndKill(dir, SEED + run, 2 + (random.nextUint32() % 240), model);

      const outbox = await DurableOutbox.open({ dir, ...WRITER_OPTIONS });
      try {
        const stats = outbox.stats();
        expect(stats.corruptRecords, `run ${run}: corrupt records`).toBe(0);
        expect(stats.recoveredTornRecords, `run ${run}: torn tails`).toBeLessThanOrEqual(1);
        tornTails += stats.recoveredTornRecords;
        const pending = outbox.pending();
        const seqs = pending.map((entry) => entry.seq);

        // The one operation in flight when the kill landed may or may not have become durable:
        // settle it from what is on disk, then hold the outbox to it in every later run.
        const expected = model.expected();
        if (model.inflightAck !== undefined && expected.includes(model.inflightAck) && !seqs.includes(model.inflightAck)) {
          model.acked.add(model.inflightAck);
          resolvedInflight++;
        }
        const newest = expected.length ? Math.max(...model.durable.keys()) : 0;
        const extra = pending.filter((entry) => !model.durable.has(entry.seq));
        if (model.inflightAppend !== undefined && extra.length === 1 && extra[0]!.seq > newest) {
          const entry = extra[0]!;
          expect(new TextDecoder().decode(entry.payload)).toBe(model.inflightAppend);
          model.durable.set(entry.seq, { appendedAt: entry.appendedAt, payload: model.inflightAppend });
          resolvedInflight++;
        }

        expect(seqs, `run ${run}: pending seqs`).toEqual(model.expected());
        for (const entry of pending) {
          const known = model.durable.get(entry.seq)!;
          expect(new TextDecoder().decode(entry.payload)).toBe(known.payload);
          expect(entry.appendedAt).toBe(known.appendedAt);
        }
        expect(seqs.filter((seq) => model.acked.has(seq))).toEqual([]);
      } finally {
        await outbox.close();
      }
    }
    // The run exercised what it claims to: many appends and acks, several segments deleted.
    expect(model.durable.size).toBeGreaterThan(500);
    expect(model.acked.size).toBeGreaterThan(300);
    console.log(`outbox crash test: ${KILLS} kills, ${model.durable.size} durable appends, ${model.acked.size} acks, ` +
      `${tornTails} torn tails recovered, ${resolvedInflight} in-flight operations found durable`);
  });
});
