/**
 * Sensor-clocked acquisition against timed reads, on the emulated MPU-6050.
 *
 * For 1 kHz and 4 kHz, two paths side by side:
 *  - FIFO: the part samples on its own clock into its 1024-byte FIFO; a `StreamSampler` drains it
 *    (every 43 ms at 1 kHz, 11 ms at 4 kHz) and stamps each frame from the fitted part clock.
 *  - timed: the `Sampler` reads the output registers once per tick (the driver without FIFO).
 * Each path runs for `--virtual-minutes` (default 10) of `VirtualClock` time, then for `--seconds`
 * (default 60) of real time on the `SystemClock` with `--neighbours` (default 1) busy neighbours:
 * child processes each spinning on a core. The FIFO path runs on the real clock twice: at the
 * normal scheduling policy, and with the process at real-time priority (SCHED_FIFO 10 for all its
 * threads, set with `chrt -a`: the event loop waits on V8's and libuv's threads at times, so
 * raising it alone leaves a priority inversion; skipped where not permitted, or with
 * `--no-realtime`).
 *
 * Where a FIFO loss comes from: on the real clock each drain notes the time since the previous
 * one, and (Linux, /proc/thread-self/schedstat) how long the event-loop thread waited for a CPU
 * in that time and how much CPU it used. A drain gap longer than the FIFO's capacity time
 * overflows it; the notes say whether the thread was busy (event-loop stall: its CPU time fills
 * the gap) or runnable but not running (run-queue wait: other processes had the cores). They also
 * count the frames the driver read back from full FIFOs (the newest 170 after an overflow), which
 * the sampler delivers (only the frames before them are lost).
 *
 * Expected is what should have arrived: for the FIFO path, every frame the part took from the FIFO
 * reset to the stop (counted on the part's own clock); for the timed path, every tick from start to
 * stop. Delivered is what the consumer received; "in FIFO" the frames taken after the last drain
 * (still in the part at stop, not lost); lost what the sampler counted and flagged (overflows,
 * gaps); unaccounted = expected − delivered − in FIFO − lost, samples gone without a trace (must be
 * 0). CPU is process.cpuUsage over the phase: seconds, and % of one core over its wall time.
 *
 *   node --import ./bin/register-ts.js test/bench/fifo.bench.ts [--seconds=60] [--virtual-minutes=10] [--neighbours=1] [--no-realtime]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/mpu6050.js';
import type { I2cPeripheral } from '../../boards/emulated/peripheral.js';
import { SystemClock, VirtualClock, type Clock } from '../../sdk/core/clock.js';
import { Mpu6050Driver } from '../../sdk/drivers/mpu6050/index.js';
import { Sampler } from '../../sdk/sampling/sampler.js';
import { StreamSampler } from '../../sdk/sampling/stream-sampler.js';
import { option } from './options.js';

const SECONDS = option('seconds', 60);
const LOAD_AT_START = `at the start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
const VIRTUAL_MINUTES = option('virtual-minutes', 10);
const NEIGHBOURS = Math.round(option('neighbours', 1));
const REALTIME = !process.argv.includes('--no-realtime');
const G0 = 9.80665;

interface Row {
  readonly clock: string;
  readonly rateHz: number;
  readonly path: 'FIFO' | 'timed';
  readonly expected: number;
  readonly delivered: number;
  readonly inFifo: number;
  readonly lost: number;
  readonly flagged: number;
  readonly wallS: number;
  readonly cpuMs: number;
  readonly cpuPercent: number;
  readonly note: string;
}

/** Notes the times the driver set the sample clock, reset and stopped the FIFO: the part's own count of frames. */
class Spy implements I2cPeripheral {
  readonly address: number;
  readonly name: string;
  clockSetAt = Number.NaN;
  fifoResetAt = Number.NaN;
  fifoStopAt = Number.NaN;
  readonly #inner: Mpu6050Peripheral;

  constructor(inner: Mpu6050Peripheral) {
    this.#inner = inner;
    this.address = inner.address;
    this.name = inner.name;
  }

  read(count: number, t: number): Uint8Array {
    return this.#inner.read(count, t);
  }

  write(bytes: Uint8Array, t: number): void {
    if (bytes[0] === 0x19) this.clockSetAt = t;
    if (bytes[0] === 0x6a && bytes[1] !== undefined) {
      // The first reset starts the count; later ones are the driver's recovery from an overflow.
      if ((bytes[1] & 0x04) !== 0 && Number.isNaN(this.fifoResetAt)) this.fifoResetAt = t;
      else if (bytes[1] === 0 && !Number.isNaN(this.fifoResetAt)) this.fifoStopAt = t;
    }
    this.#inner.write(bytes, t);
  }

  /** Frames left in the FIFO (read from the part after the sampler stopped it: nothing more is queued). */
  framesInFifo(t: number): number {
    this.#inner.write(Uint8Array.of(0x72), t);
    const count = this.#inner.read(2, t);
    return ((count[0]! << 8) | count[1]!) / 6;
  }

  /** Frames the part took between the FIFO reset and its stop. */
  framesTaken(rateHz: number): number {
    const period = 1000 / rateHz;
    const index = (t: number): number => Math.floor((t - this.clockSetAt) / period);
    return index(this.fifoStopAt) - index(this.fifoResetAt);
  }
}

function rig(clock: Clock, options: Record<string, unknown>): { spy: Spy; board: EmulatedBoard; driver: Mpu6050Driver } {
  const part = new Mpu6050Peripheral({ acceleration: { z: { valueAt: (t) => G0 + Math.sin(t / 3) } } });
  const spy = new Spy(part);
  const board = new EmulatedBoard({ definition: 'raspberry-pi-4', clock, seed: 1 });
  board.attachI2c(spy);
  const driver = new Mpu6050Driver({ clock, i2c: board.openI2c({ address: 0x68, hz: 400_000 }) }, options);
  return { spy, board, driver };
}

/** CPU time and run-queue wait of the calling thread so far, ms (Linux); undefined elsewhere. */
function threadSchedule(): { cpuMs: number; waitMs: number } | undefined {
  try {
    const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6 };
  } catch {
    return undefined;
  }
}

/** Drain-to-drain gaps on the real clock, and what the event-loop thread did during the longest ones. */
class DrainGaps {
  readonly #limitMs: number;
  #last: { at: number; schedule: ReturnType<typeof threadSchedule> } | undefined;
  longest = { gapMs: 0, waitMs: Number.NaN, cpuMs: Number.NaN };
  /** Gaps longer than the FIFO holds, with the thread's run-queue wait and CPU time in each. */
  readonly overflowing: { gapMs: number; waitMs: number; cpuMs: number }[] = [];
  waitMs = 0;

  constructor(limitMs: number) {
    this.#limitMs = limitMs;
  }

  drained(): void {
    const at = performance.now();
    const schedule = threadSchedule();
    const last = this.#last;
    this.#last = { at, schedule };
    if (last === undefined) return;
    const gapMs = at - last.at;
    const waitMs = schedule && last.schedule ? schedule.waitMs - last.schedule.waitMs : Number.NaN;
    const cpuMs = schedule && last.schedule ? schedule.cpuMs - last.schedule.cpuMs : Number.NaN;
    if (Number.isFinite(waitMs)) this.waitMs += waitMs;
    if (gapMs > this.longest.gapMs) this.longest = { gapMs, waitMs, cpuMs };
    if (gapMs > this.#limitMs) this.overflowing.push({ gapMs, waitMs, cpuMs });
  }

  describe(): string {
    const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(0) : '?');
    const over = this.overflowing;
    const waited = over.reduce((sum, gap) => sum + gap.waitMs, 0);
    const busy = over.reduce((sum, gap) => sum + gap.cpuMs, 0);
    const total = over.reduce((sum, gap) => sum + gap.gapMs, 0);
    return (
      `longest drain gap ${ms(this.longest.gapMs)} ms (${ms(this.longest.waitMs)} ms of it waiting for a CPU, ${ms(this.longest.cpuMs)} ms running); ` +
      `${over.length} gaps > FIFO capacity ${ms(this.#limitMs)} ms` +
      (over.length === 0 ? '' : ` (in them: ${ms(waited)} ms run-queue wait, ${ms(busy)} ms running, of ${ms(total)} ms)`)
    );
  }
}

/** Puts every thread of this process under SCHED_FIFO `priority` (0: back to SCHED_OTHER); false if not permitted. */
function schedulingPolicy(priority: number): boolean {
  try {
    execFileSync('chrt', priority > 0 ? ['-a', '-f', '-p', String(priority), String(process.pid)] : ['-a', '-o', '-p', '0', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `durationMs` of clock time: virtual time is advanced, real time waited on the clock. */
async function elapse(clock: Clock, durationMs: number): Promise<void> {
  if (clock instanceof VirtualClock) await clock.advance(durationMs);
  else await new Promise<void>((resolve) => clock.schedule(clock.now() + durationMs, resolve));
}

async function fifoPhase(label: string, clock: Clock, rateHz: number, durationMs: number): Promise<Row> {
  const { spy, board, driver } = rig(clock, { acquisition: 'fifo', rateHz, range: 4 });
  const acquisition = driver.acquisition!;
  // A gap longer than the FIFO holds (less one frame period: the part's phase) overflows it.
  const gaps = new DrainGaps(((acquisition.capacityFrames - 1) * 1000) / rateHz);
  // Frames the driver recovered from full FIFOs (the newest 170 after an overflow), which the sampler delivers.
  let recovered = 0;
  if (!(clock instanceof VirtualClock)) {
    const drain = acquisition.drain.bind(acquisition);
    acquisition.drain = async () => {
      gaps.drained();
      const batch = await drain();
      if (batch.overflow) recovered += batch.frames.length;
      return batch;
    };
  }
  const sampler = new StreamSampler({ clock });
  let delivered = 0;
  let flagged = 0;
  sampler.add({
    id: 'imu',
    acquisition,
    onResult: (result) => {
      if (result.ok) delivered++;
      if (!result.ok || result.quality !== undefined) flagged++;
    },
  });
  const cpu = process.cpuUsage();
  const start = performance.now();
  sampler.start();
  await elapse(clock, durationMs);
  const pending = sampler.stop();
  if (clock instanceof VirtualClock) await clock.runUntilSettled(pending);
  else await pending;
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const stats = sampler.stats().imu!;
  const expected = spy.framesTaken(rateHz);
  const inFifo = spy.framesInFifo(clock.now());
  driver.close();
  await board.close();
  return {
    clock: label,
    rateHz,
    path: 'FIFO',
    expected,
    delivered,
    inFifo,
    lost: stats.lost,
    flagged,
    wallS: wallMs / 1000,
    cpuMs: (used.user + used.system) / 1000,
    cpuPercent: ((used.user + used.system) / 1000 / wallMs) * 100,
    note:
      `${stats.drains} drains every ${sampler.drainIntervalMs.toFixed(1)} ms, ${stats.overflows} overflows, ${stats.gaps} gaps, ${stats.duplicates} dup., drift ${stats.driftPpm.toFixed(1)} ppm` +
      (clock instanceof VirtualClock ? '' : `; ${gaps.describe()}; run-queue wait in all ${gaps.waitMs.toFixed(0)} ms; ${recovered} frames read back from full FIFOs and delivered`),
  };
}

async function timedPhase(label: string, clock: Clock, rateHz: number, durationMs: number): Promise<Row> {
  const { board, driver } = rig(clock, { range: 4 });
  // The part's first read initialises it (130 ms of reset and wake-up): done before timing starts.
  const first = driver.sample();
  if (clock instanceof VirtualClock) await clock.runUntilSettled(first);
  else await first;
  const sampler = new Sampler({ clock });
  let delivered = 0;
  let flagged = 0;
  sampler.add({
    id: 'imu',
    rateHz,
    read: () => driver.sample(),
    onResult: (result) => {
      if (result.ok) delivered++;
      if (!result.ok || result.missedBefore !== undefined) flagged++;
    },
  });
  const cpu = process.cpuUsage();
  const start = performance.now();
  const t0 = clock.now();
  sampler.start();
  await elapse(clock, durationMs);
  const stopAt = clock.now();
  const pending = sampler.stop();
  if (clock instanceof VirtualClock) await clock.runUntilSettled(pending);
  else await pending;
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const stats = sampler.stats().imu!;
  driver.close();
  await board.close();
  const expected = Math.floor(((stopAt - t0) * rateHz) / 1000) + 1;
  return {
    clock: label,
    rateHz,
    path: 'timed',
    expected,
    delivered,
    inFifo: 0,
    lost: stats.overruns,
    flagged,
    wallS: wallMs / 1000,
    cpuMs: (used.user + used.system) / 1000,
    cpuPercent: ((used.user + used.system) / 1000 / wallMs) * 100,
    note: `${stats.ticks} ticks, ${stats.overruns} overruns, ${stats.failures} failures`,
  };
}

function busyNeighbours(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function print(rows: readonly Row[]): void {
  const header = ['clock', 'rate', 'path', 'expected', 'delivered', 'in FIFO', 'lost (flagged)', 'unaccounted', 'wall s', 'CPU s', 'CPU %', 'notes'];
  const widths = [34, 7, 6, 10, 10, 8, 15, 12, 7, 7, 6, 0];
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 || i === 2 || i === 11 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' ');
  console.log(`\nFIFO vs timed reads on the emulated MPU-6050 — node ${process.version}, load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${LOAD_AT_START})\n`);
  console.log(line(header));
  for (const r of rows) {
    const unaccounted = r.expected - r.delivered - r.inFifo - r.lost;
    console.log(
      line([
        r.clock,
        `${r.rateHz / 1000} kHz`,
        r.path,
        String(r.expected),
        String(r.delivered),
        String(r.inFifo),
        `${r.lost} (${r.flagged})`,
        String(unaccounted),
        r.wallS.toFixed(1),
        (r.cpuMs / 1000).toFixed(2),
        r.cpuPercent.toFixed(1),
        r.note,
      ]),
    );
  }
  console.log('\nFIFO: expected = frames the part took from FIFO reset to stop; in FIFO = taken after the last drain. timed: expected = ticks due; lost = overruns.');
  console.log('flagged: results with a quality or missedBefore mark (FIFO) / with missedBefore (timed). CPU s: process CPU time over the phase;');
  console.log('CPU %: of one core over the phase wall time (on virtual time: the cost of simulating as fast as possible). Target: FIFO lost 0, unaccounted 0.\n');
}

const rows: Row[] = [];
for (const rateHz of [1000, 4000]) {
  rows.push(await fifoPhase(`virtual ${VIRTUAL_MINUTES} min`, new VirtualClock(), rateHz, VIRTUAL_MINUTES * 60_000));
  rows.push(await timedPhase(`virtual ${VIRTUAL_MINUTES} min`, new VirtualClock(), rateHz, VIRTUAL_MINUTES * 60_000));
}
const neighbours = busyNeighbours(NEIGHBOURS);
const busy = `SystemClock ${SECONDS} s, ${NEIGHBOURS} busy nbr`;
try {
  for (const rateHz of [1000, 4000]) {
    rows.push(await fifoPhase(busy, new SystemClock(), rateHz, SECONDS * 1000));
    rows.push(await timedPhase(busy, new SystemClock(), rateHz, SECONDS * 1000));
  }
  if (REALTIME) {
    if (schedulingPolicy(10)) {
      try {
        for (const rateHz of [1000, 4000]) rows.push(await fifoPhase(`${busy}, SCHED_FIFO`, new SystemClock(), rateHz, SECONDS * 1000));
      } finally {
        schedulingPolicy(0);
      }
    } else {
      console.log('SCHED_FIFO not permitted here (chrt -f -p failed): the real-time rows are skipped.');
    }
  }
} finally {
  for (const neighbour of neighbours) neighbour.kill();
}
print(rows);
