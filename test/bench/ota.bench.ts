/**
 * OTA benchmarks, ours beside the raw peer in the same run:
 * 1. Verification of a 64 MiB payload: envelope check + SHA-256 and size of the payload in memory
 *    (`verifyEnvelope` + `checkPayload`) beside raw `createHash('sha256')` of the same bytes; and the
 *    agent's re-verification of a staged image file (`ImageSlots.hashImage`, streamed) beside a raw
 *    `readFile` + SHA-256 of the same file. Target ≥ 0.9× raw.
 * 2. End-to-end update of a 16 MiB payload over loopback (verify, free-space check, download with
 *    streaming digest, stage, re-verify, atomic switch, trial boot, confirm, audit log) beside a raw
 *    HTTP GET of the same file into memory with SHA-256, and into a file with SHA-256 and fsync.
 * 3. The update server's device API on PGlite in memory: 1,000 devices polling with 16 at a time,
 *    first without a tag (200 with the envelope and payload URLs), then with it (304): polls per
 *    second and p50/p99 latency. (Fleets of 10,000 on PostgreSQL: fleet.bench.ts.)
 * Median of `--rounds` (default 9), ours and raw measured alternately. Prints figures; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/ota.bench.ts [--rounds=9]
 */
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../sdk/core/clock.js';
import { AuditLog } from '../../security/audit-log.js';
import { UpdateAgent } from '../../ota/agent/update-agent.js';
import { ImageSlots } from '../../ota/agent/image-slots.js';
import { nodeFileSystem } from '../../ota/agent/file-system.js';
import { checkPayload } from '../../ota/manifest/policy.js';
import { verifyEnvelope } from '../../ota/manifest/suit-envelope.js';
import { startUpdateServer } from '../../ota/server/file-server.js';
import { openArtefactStore } from '../../ota/server/artefacts/index.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { deviceApi } from '../../ota/server/device-api.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { DEVICE, envelopeFor, makeImage, makeKey, trustOf } from '../support/ota-fixtures.js';
import { option } from './options.js';

/** An image directory name as the agent writes them (sequence, digest prefix). */
const BENCH_IMAGE = '000000000001-0123456789ab';

const ROUNDS = Math.round(option('rounds', 9));
const MiB = 1024 * 1024;

/** Median time of `rounds` runs, ms; a run that returns a number reports its own time (setup excluded). */
async function median(rounds: number, run: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const own = await run();
    times.push(typeof own === 'number' ? own : performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Medians of two runs measured alternately, so load on a shared machine hits both alike. */
async function paired(rounds: number, ours: () => Promise<unknown> | unknown, raw: () => Promise<unknown> | unknown): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  // Warm-up, not counted: JIT, page faults of first touches, file cache.
  await ours();
  await raw();
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always runs on a warmer or colder machine.
    if (i % 2 === 0) {
      a.push(await median(1, ours));
      b.push(await median(1, raw));
    } else {
      b.push(await median(1, raw));
      a.push(await median(1, ours));
    }
  }
  const mid = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [mid(a), mid(b)];
}

const key = makeKey('ed25519');
const trust = trustOf(key);
const dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-bench-'));
try {
  // 1. Verification throughput, 64 MiB.
  const big = makeImage(64 * MiB, 1);
  const bigEnvelope = envelopeFor(big, 1, key);
  const [oursMemory, rawMemory] = await paired(
    ROUNDS,
    () => void checkPayload(verifyEnvelope(bigEnvelope, trust).manifest, big),
    () => void createHash('sha256').update(big).digest(),
  );
  const slots = new ImageSlots(nodeFileSystem, dir);
  await slots.init();
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'images', BENCH_IMAGE), { recursive: true }));
  await writeFile(slots.imagePath(BENCH_IMAGE), big);
  const [oursFile, rawFile] = await paired(
    ROUNDS,
    async () => void (await slots.hashImage(BENCH_IMAGE)),
    async () => void createHash('sha256').update(await readFile(slots.imagePath(BENCH_IMAGE))).digest(),
  );
  await slots.remove(BENCH_IMAGE);

  const rate = (ms: number, bytes: number): string => `${((bytes / MiB) / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`\nOTA verification — 64 MiB payload, median of ${ROUNDS} rounds; node ${process.version}, ${process.platform}/${process.arch}\n`);
  console.log(`${'run'.padEnd(58)}${'time'.padStart(10)}${'throughput'.padStart(14)}`);
  const row = (name: string, ms: number, bytes: number): void => console.log(`${name.padEnd(58)}${`${ms.toFixed(1)} ms`.padStart(10)}${rate(ms, bytes).padStart(14)}`);
  row('ours: verifyEnvelope + checkPayload (in memory)', oursMemory, big.length);
  row('raw:  node:crypto SHA-256 of the same bytes', rawMemory, big.length);
  row('ours: staged image re-verification (streamed from file)', oursFile, big.length);
  row('raw:  readFile + SHA-256 of the same file', rawFile, big.length);
  console.log(`\nin memory, ours / raw: ${(rawMemory / oursMemory).toFixed(2)}×  (target ≥ 0.9)`);
  console.log(`from file, ours / raw: ${(rawFile / oursFile).toFixed(2)}×  (target ≥ 0.9)`);

  // 2. End-to-end update, 16 MiB over loopback.
  const served = join(dir, 'served');
  await import('node:fs/promises').then((fs) => fs.mkdir(served, { recursive: true }));
  const image = makeImage(16 * MiB, 2);
  await writeFile(join(served, 'firmware.bin'), image);
  await writeFile(join(served, 'firmware.bin.suit'), envelopeFor(image, 2, key)); // the server serves only signed payloads
  const server = await startUpdateServer({ dir: served });
  const factory = makeImage(64 * 1024, 3);
  let sequence = 1;
  const clock = new SystemClock();
  const endToEnd = await median(ROUNDS, async () => {
    const root = join(dir, `device-${sequence}`);
    const agent = await UpdateAgent.open({ root, clock, trust, device: { ...DEVICE, deviceId: 'bench' }, audit: await AuditLog.open(join(root, 'audit.log'), { clock }) });
    await agent.provision(envelopeFor(factory, 1, key), factory);
    const envelope = envelopeFor(image, ++sequence, key);
    const start = performance.now();
    const result = await agent.update({ envelope, url: `${server.url}firmware.bin` });
    const elapsed = performance.now() - start;
    if (result.trial !== 'confirmed') throw new Error(`update did not confirm: ${JSON.stringify(result)}`);
    await rm(root, { recursive: true, force: true });
    return elapsed;
  });
  const rawGet = await median(ROUNDS, () => new Promise<void>((resolve, reject) => {
    get(`${server.url}firmware.bin`, (response) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => (hash.update(chunk), chunks.push(chunk)));
      response.on('end', () => (hash.digest(), resolve()));
      response.on('error', reject);
    }).on('error', reject);
  }));
  const rawDurable = await median(ROUNDS, async () => {
    const handle = await open(join(dir, 'raw.bin'), 'w');
    await new Promise<void>((resolve, reject) => {
      get(`${server.url}firmware.bin`, (response) => {
        const hash = createHash('sha256');
        response.on('data', (chunk: Buffer) => (hash.update(chunk), void handle.write(chunk)));
        response.on('end', () => (hash.digest(), resolve()));
        response.on('error', reject);
      }).on('error', reject);
    });
    await handle.sync();
    await handle.close();
  });
  await server.close();
  console.log(`\nOTA end-to-end update — 16 MiB over loopback HTTP, median of ${ROUNDS} rounds\n`);
  row('ours: offer → download → stage → re-verify → switch → confirm', endToEnd, image.length);
  row('raw:  HTTP GET into memory + SHA-256', rawGet, image.length);
  row('raw:  HTTP GET to a file + SHA-256 + fsync', rawDurable, image.length);
  console.log(`\nend-to-end / raw GET to a file: ${(endToEnd / rawDurable).toFixed(2)}× the time (plus: re-verification, atomic switch, trial, confirm, audit)\n`);

  // 3. Polls of the device API on PGlite in memory.
  const fleet = await FleetStore.open(await openDatabase(undefined), clock);
  const artefacts = openArtefactStore(join(dir, 'store'));
  const payload = makeImage(4096, 4);
  await artefacts.put('firmware.bin', payload);
  const ids = Array.from({ length: 1000 }, (_, i) => `bench-${i}`);
  await fleet.assign('bench', ids);
  await fleet.createCampaign({ name: 'bench', group: 'bench', envelope: envelopeFor(payload, 2, key), policy: parseRolloutPolicy({}) });
  const listener = await startUpdateServer({ api: deviceApi(fleet, artefacts, { clock, rateLimit: { perMinute: 1e9, burst: 1e9 } }) });
  const tags = new Map<string, string>();
  const pollAll = async (withTag: boolean): Promise<{ perSecond: number; p50: number; p99: number; statuses: Set<number> }> => {
    const latencies: number[] = [];
    const statuses = new Set<number>();
    let next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const tag = tags.get(id);
        const t0 = performance.now();
        const response = await fetch(`${listener.url}api/offer?device=${id}`, { headers: withTag && tag ? { 'if-none-match': tag } : {} });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        statuses.add(response.status);
        tags.set(id, response.headers.get('etag') ?? '');
      }
    }));
    const elapsed = performance.now() - start;
    latencies.sort((a, b) => a - b);
    return { perSecond: ids.length / (elapsed / 1000), p50: latencies[Math.floor(latencies.length * 0.5)]!, p99: latencies[Math.floor(latencies.length * 0.99)]!, statuses };
  };
  await pollAll(false); // warm-up: JIT, connections, the campaign cache
  const offered = await pollAll(false);
  const unchanged = await pollAll(true);
  await listener.close();
  await fleet.close();
  console.log(`Device API polls — 1,000 devices, 16 at a time, PGlite in memory, one process\n`);
  console.log(`${'run'.padEnd(40)}${'polls/s'.padStart(10)}${'p50'.padStart(10)}${'p99'.padStart(10)}`);
  for (const [name, r] of [[`offer, no tag (${[...offered.statuses].join('/')})`, offered], [`offer with If-None-Match (${[...unchanged.statuses].join('/')})`, unchanged]] as const) {
    console.log(`${name.padEnd(40)}${r.perSecond.toFixed(0).padStart(10)}${`${r.p50.toFixed(2)} ms`.padStart(10)}${`${r.p99.toFixed(2)} ms`.padStart(10)}`);
  }
  console.log('');
} finally {
  await rm(dir, { recursive: true, force: true });
}
