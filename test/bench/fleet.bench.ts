/**
 * The update server under a simulated fleet: 1,000 and 10,000 devices (`sensorkit ota fleet
 * simulate`) against 1 and 2 `sensorkit ota serve` instances sharing one throw-away PostgreSQL
 * (test/support/postgres.ts: fsync off). For each size and instance count, two phases:
 *
 * 1. steady polling: no campaign, every device polling at the server's 1 s interval with the ETag
 *    of its last answer (304s), for `--poll-seconds` (default 10);
 * 2. a rollout: a campaign (one wave, no release rate, 1 s poll interval, download slots
 *    unlimited) created while the devices poll; "time to roll" runs from the campaign's creation to
 *    the last device's confirm, read from the fleet database every 250 ms.
 *
 * Figures per phase: polls per second and the poll latency's p50/p99 (measured by the simulators,
 * within their concurrency bound of `--concurrency`, default 32 per simulator), the database's CPU
 * (utime + stime of the postmaster and its backends, and of the backends it reaped, from
 * /proc/<pid>/stat), and the update servers' CPU. The devices are split evenly over the instances,
 * one simulator process each. Prints figures and the growth from the smallest fleet to the largest;
 * asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/fleet.bench.ts [--max-devices=10000] [--poll-seconds=10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SystemClock } from '../../sdk/core/clock.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import type { FleetSummary } from '../../ota/fleet/fleet-simulator.js';
import { startPostgres } from '../support/postgres.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { option } from './options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
const MAX_DEVICES = Math.round(option('max-devices', 10_000));
const POLL_SECONDS = option('poll-seconds', 10);
const CONCURRENCY = Math.round(option('concurrency', 32));
const SIZES = [1000, 10_000].filter((n) => n <= MAX_DEVICES);
const TICKS = 100; // USER_HZ of /proc/<pid>/stat on Linux

interface Phase {
  readonly polls: number;
  readonly pollsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly dbCpuS: number;
  readonly serverCpuS: number;
  readonly seconds: number;
}

interface Row {
  readonly devices: number;
  readonly instances: number;
  readonly polling: Phase;
  readonly rollout: Phase & { readonly rollS: number; readonly confirmed: number };
}

/** CPU seconds of one process (its own, plus its reaped children's when `children`). */
function cpuOf(pid: number, children: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields from the state (3rd): utime is the 14th field overall, stime 15th, cutime 16th, cstime 17th.
    const at = (n: number): number => Number(fields[n - 3]);
    return (at(14) + at(15) + (children ? at(16) + at(17) : 0)) / TICKS;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** CPU seconds of the postmaster, its live backends and the backends it has reaped. */
function databaseCpu(postmaster: number): number {
  let total = cpuOf(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && parentOf(pid) === postmaster) total += cpuOf(pid, false);
  }
  return total;
}

function sensorkit(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A running `fleet simulate`: its end, and when the server first answered it. */
function simulation(child: ChildProcess): { done: ReturnType<typeof finished>; polling: Promise<void> } {
  const polling = new Promise<void>((resolve, reject) => {
    let stderr = '';
    const listen = (chunk: Buffer): void => {
      stderr += chunk.toString();
      if (/^fleet: \d+ devices polling /m.test(stderr)) {
        child.stderr!.off('data', listen);
        resolve();
      }
    };
    child.stderr!.on('data', listen);
    child.once('close', () => reject(new Error(`fleet simulate ended before polling: ${stderr}`)));
  });
  polling.catch(() => undefined);
  return { done: finished(child), polling };
}

/** Starts `ota serve` and resolves with its device listener's URL. */
function serve(args: string[]): Promise<{ child: ChildProcess; device: string }> {
  const child = sensorkit(['ota', 'serve', ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const device = /^device API on (\S+) /m.exec(stdout);
      if (device && /^management API on /m.test(stdout)) resolve({ child, device: device[1]! });
    });
    child.once('exit', (code) => reject(new Error(`ota serve exited with ${code}: ${stderr}`)));
  });
}

function phaseOf(summaries: FleetSummary[], dbCpuS: number, serverCpuS: number): Phase {
  const polls = summaries.reduce((sum, s) => sum + s.polls.total, 0);
  // Rates over each simulator's own running time (not its process start); the simulators run at
  // once, so the fleet's rate is their sum. The fleet's percentiles are approximated by the worst
  // simulator's (they see the same database).
  return {
    polls,
    pollsPerSecond: summaries.reduce((sum, s) => sum + s.polls.perSecond, 0),
    p50: Math.max(...summaries.map((s) => s.polls.latencyMs.p50)),
    p99: Math.max(...summaries.map((s) => s.polls.latencyMs.p99)),
    errors: summaries.reduce((sum, s) => sum + s.polls.errors, 0),
    dbCpuS,
    serverCpuS,
    seconds: Math.max(...summaries.map((s) => s.elapsedS)),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'sensorkit-fleet-bench-'));
const pg = await startPostgres();
if (pg === undefined) {
  console.log('fleet benchmark: PostgreSQL is not installed (apt-get install postgresql); skipped');
  process.exit(0);
}
const rows: Row[] = [];
try {
  const key = makeKey();
  const image = makeImage(16 * 1024, 5);
  await writeFile(join(dir, 'fw.bin'), image);
  const envelope = envelopeFor(image, 2, key, { uri: 'fw.bin' });
  await writeFile(join(dir, 'public.pem'), key.publicPem);
  const policy = parseRolloutPolicy({ waves: [100], pollIntervalS: 1, downloadSlotsPerMinute: 10_000_000, errorThreshold: 1, minSample: 1_000_000 });
  for (const devices of SIZES) {
    for (const instances of [1, 2]) {
      const name = `fleet_${devices}_${instances}`;
      const url = await pg.createDatabase(name);
      const store = join(dir, name);
      await mkdir(store);
      // The folder store's key is the manifest's URI: what 'ota campaign create --payload' uploads.
      await writeFile(join(store, 'fw.bin'), image);
      const db = await openDatabase(url);
      const fleet = await FleetStore.open(db, new SystemClock());
      const postmaster = parentOf(((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!).pid)!;
      const perInstance = Math.ceil(devices / instances);
      for (let j = 0; j < instances; j++) {
        const ids = Array.from({ length: Math.min(perInstance, devices - j * perInstance) }, (_, i) => `d${j}-${i}`);
        for (let i = 0; i < ids.length; i += 1000) await fleet.assign('bench', ids.slice(i, i + 1000));
      }
      const servers = await Promise.all(
        Array.from({ length: instances }, (_, j) => serve(['--db', url, '--store', store, '--device-port', '0', '--admin-port', '0', '--rate-limit', '1000000', '--device-rate-limit', '100000000', '--poll-interval', '1', '--instance', `bench-${j}`])),
      );
      const serverCpu = (): number => servers.reduce((sum, s) => sum + cpuOf(s.child.pid!, false), 0);
      const simulate = (j: number, extra: string[]): { done: ReturnType<typeof finished>; polling: Promise<void> } =>
        simulation(sensorkit(['ota', 'fleet', 'simulate', '--devices', String(Math.min(perInstance, devices - j * perInstance)), '--id-prefix', `d${j}-`, '--server', servers[j]!.device, '--key', join(dir, 'public.pem'), '--concurrency', String(CONCURRENCY), '--ramp', '1', '--json', ...extra]));
      const summaries = async (runs: ReturnType<typeof finished>[]): Promise<FleetSummary[]> =>
        (await Promise.all(runs)).map((run) => {
          if (run.code !== 0) throw new Error(`fleet simulate exited with ${run.code}: ${run.stderr}`);
          return JSON.parse(run.stdout) as FleetSummary;
        });
      try {
        // 1. Steady polling, nothing offered.
        let db0 = databaseCpu(postmaster);
        let s0 = serverCpu();
        const polling = await summaries(servers.map((_, j) => simulate(j, ['--duration', String(POLL_SECONDS), '--keep-polling']).done));
        const pollingPhase = phaseOf(polling, databaseCpu(postmaster) - db0, serverCpu() - s0);

        // 2. A rollout to the whole fleet, created while the devices poll.
        db0 = databaseCpu(postmaster);
        s0 = serverCpu();
        const children = servers.map((_, j) => simulate(j, ['--duration', '900']));
        // The campaign comes while the fleet polls: once the server has answered each simulator.
        await Promise.all(children.map((c) => c.polling));
        const runs = children.map((c) => c.done);
        const created = performance.now();
        const status = await fleet.createCampaign({ name: 'bench', group: 'bench', envelope, policy });
        let confirmed = 0;
        let rolled = Number.NaN;
        for (;;) {
          confirmed = (await fleet.status(status.id)).counts.confirmed;
          if (confirmed >= devices) {
            rolled = (performance.now() - created) / 1000;
            break;
          }
          if (performance.now() - created > 900_000) break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        const rollout = await summaries(runs);
        const rolloutPhase = phaseOf(rollout, databaseCpu(postmaster) - db0, serverCpu() - s0);
        rows.push({ devices, instances, polling: pollingPhase, rollout: { ...rolloutPhase, rollS: rolled, confirmed } });
        console.error(`fleet bench: ${devices} devices, ${instances} instance(s): polling ${pollingPhase.pollsPerSecond.toFixed(0)}/s, rolled in ${rolled.toFixed(1)} s`);
      } finally {
        for (const server of servers) server.child.kill('SIGTERM');
        await Promise.all(servers.map((s) => new Promise((resolve) => (s.child.exitCode !== null ? resolve(undefined) : s.child.once('exit', resolve)))));
        await fleet.close();
      }
    }
  }

  const f = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  console.log(`\nUpdate server under a simulated fleet — PostgreSQL (fsync off), ${CONCURRENCY} exchanges in flight per simulator; node ${process.version}, ${process.platform}/${process.arch}\n`);
  console.log('| devices | instances | polling: polls/s | p50 / p99 ms | DB CPU s | servers CPU s | rollout: time to roll | polls/s | p50 / p99 ms | DB CPU s | servers CPU s | errors |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${f(r.devices)} | ${r.instances} | ${f(r.polling.pollsPerSecond)} | ${r.polling.p50} / ${r.polling.p99} | ${f(r.polling.dbCpuS, 1)} | ${f(r.polling.serverCpuS, 1)} | ${f(r.rollout.rollS, 1)} s (${f(r.rollout.confirmed)} confirmed) | ${f(r.rollout.pollsPerSecond)} | ${r.rollout.p50} / ${r.rollout.p99} | ${f(r.rollout.dbCpuS, 1)} | ${f(r.rollout.serverCpuS, 1)} | ${r.polling.errors + r.rollout.errors} |`);
  }
  if (SIZES.length > 1) {
    console.log('\nGrowth from the smallest fleet to the largest (×; 10× the devices is linear for time and CPU):');
    for (const instances of [1, 2]) {
      const small = rows.find((r) => r.instances === instances && r.devices === SIZES[0]);
      const large = rows.find((r) => r.instances === instances && r.devices === SIZES.at(-1));
      if (small === undefined || large === undefined) continue;
      const x = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(1)}×` : 'n/a');
      console.log(
        `  ${instances} instance(s): time to roll ${x(large.rollout.rollS, small.rollout.rollS)}, rollout DB CPU ${x(large.rollout.dbCpuS, small.rollout.dbCpuS)}, ` +
          `DB CPU per confirmed device ${x(large.rollout.dbCpuS / large.devices, small.rollout.dbCpuS / small.devices)}, ` +
          `polling polls/s ${x(large.polling.pollsPerSecond, small.polling.pollsPerSecond)}, polling p99 ${x(large.polling.p99, small.polling.p99)}`,
      );
    }
  }
} finally {
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
