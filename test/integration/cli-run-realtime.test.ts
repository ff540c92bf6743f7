/**
 * `sensorkit run --realtime [PRIORITY]` as a user runs it (a real child process): every thread of
 * the process at SCHED_FIFO where that is permitted, read back from /proc/<pid>/task/<tid>/stat;
 * one warning line and a normal run where it is not (the child without CAP_SYS_NICE).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
const SCHED_FIFO = 1;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Policy and real-time priority of every thread, read once the child said it raised them. */
  threads: { policy: number; priority: number }[];
}

/** Policy and rt_priority of each thread of `pid` (fields 41 and 40 of /proc/<pid>/task/<tid>/stat). */
function threadsOf(pid: number): { policy: number; priority: number }[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0: rt_priority (40) is 37, policy (41) is 38.
    return { priority: Number(fields[37]), policy: Number(fields[38]) };
  });
}

/** Whether this test process may set SCHED_FIFO on a child (root, CAP_SYS_NICE or an RLIMIT_RTPRIO). */
function mayRaise(): boolean {
  try {
    execFileSync('chrt', ['-f', '1', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `sensorkit run ARGS --no-mqtt --no-opcua --duration 2 --json`, optionally under `wrapper` (a command that then runs node). */
function run(args: string[], wrapper: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    const command = [...wrapper, process.execPath, BIN, 'run', ...args, '--no-mqtt', '--no-opcua', '--duration', '2', '--json'];
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    let threads: Run['threads'] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (threads.length === 0 && /SCHED_FIFO \d+ for all/.test(stderr) && child.pid !== undefined) threads = threadsOf(child.pid);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, threads }));
  });
}

const warnings = (result: Run): string[] => result.stderr.split('\n').filter((line) => line.includes('warning'));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('sensorkit run --realtime', () => {
  it('puts every thread of the process under SCHED_FIFO at the priority given, where permitted', async () => {
    const result = await run(['--realtime', '12']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/"channel"/); // the device ran and reported readings
    if (mayRaise()) {
      const line = /SCHED_FIFO 12 for all (\d+) threads/.exec(result.stderr);
      expect(line).not.toBeNull();
      expect(Number(line![1])).toBeGreaterThan(1); // V8's and libuv's threads, not only the main one
      expect(result.threads.length).toBeGreaterThanOrEqual(Number(line![1]));
      expect(result.threads.every((thread) => thread.policy === SCHED_FIFO && thread.priority === 12)).toBe(true);
      expect(warnings(result)).toEqual([]);
    } else {
      expect(warnings(result)).toHaveLength(1);
    }
  });

  it('without CAP_SYS_NICE: one warning line, and the device runs at the normal policy', async () => {
    // As root, the child runs without CAP_SYS_NICE (dropped from its bounding set); otherwise the
    // test's own user is not permitted (RLIMIT_RTPRIO 0 unless raised).
    const wrapper = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice'] : [];
    const result = await run(['--realtime'], wrapper);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/"channel"/);
    expect(warnings(result)).toEqual([
      'sensorkit: warning: --realtime: SCHED_FIFO 10 not permitted: needs CAP_SYS_NICE (root, or setcap cap_sys_nice+ep on node) or an RLIMIT_RTPRIO of 10; running at the normal scheduling policy',
    ]);
    expect(result.stderr).not.toMatch(/SCHED_FIFO \d+ for all/);
  });

  it('takes the priority from the configuration, and --no-realtime overrides it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-realtime-'));
    dirs.push(dir);
    const config = join(dir, 'sensorkit.config.json');
    writeFileSync(config, JSON.stringify({ realtime: 11 }));
    const [fromFile, overridden] = await Promise.all([run(['--config', config]), run(['--config', config, '--no-realtime'])]);
    expect(fromFile.code).toBe(0);
    if (mayRaise()) expect(fromFile.stderr).toMatch(/SCHED_FIFO 11 for all \d+ threads/);
    else expect(warnings(fromFile)).toHaveLength(1);
    expect(overridden.code).toBe(0);
    expect(overridden.stderr).not.toMatch(/SCHED_FIFO|warning/);
  });

  it('refuses a priority outside 1–99 as a usage error naming the flag, exit 2', async () => {
    for (const [args, message] of [
      [['--realtime', '100'], 'sensorkit: --realtime: must be at most 99, got 100'],
      [['--realtime=0'], 'sensorkit: --realtime: must be at least 1, got 0'],
      [['--realtime=high'], 'sensorkit: --realtime: expected a number, got "high"'],
    ] as const) {
      const result = await run([...args]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')[0]).toBe(message);
    }
  });
});
