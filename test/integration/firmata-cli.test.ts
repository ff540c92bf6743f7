/**
 * The command line: `sensorkit emulate firmata` on a real pty, `sensorkit run --board firmata:PATH`
 * against it (the same readings as `--board emulated` for the same seed), control commands on the
 * emulator's stdin, and `sensorkit boards list`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/net.js';
import { findPeer } from '../support/peers.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}bin/sensorkit.js`;
const socat = findPeer('socat');

type Reading = { channel: string; value: number; quality: string };

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      // Cleanup must end: once, under a parallel CI run, the emulator took over 30 s after SIGTERM.
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
  }
});

/** Starts the emulator; resolves with its first line (the path) and a line reader. */
async function emulate(): Promise<{ child: ChildProcess; path: string; next: (match: RegExp) => Promise<string> }> {
  const child = spawn(process.execPath, [CLI, 'emulate', 'firmata', '--seed', '1', ...(socat ? ['--socat', socat] : [])], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters.splice(0)) wake();
  });
  let read = 0;
  const next = async (match: RegExp): Promise<string> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      while (read < lines.length) {
        const line = lines[read++]!;
        if (match.test(line)) return line;
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`emulator: no line matching ${match} (got: ${lines.join(' | ')}; exit ${String(child.exitCode)}; stderr: ${stderr.trim()})`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  };
  const path = await next(/./);
  return { child, path, next };
}

function firstOfEach(stdout: string): Map<string, Reading> {
  const readings = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Reading);
  const first = new Map<string, Reading>();
  for (const reading of readings) if (!first.has(reading.channel)) first.set(reading.channel, reading);
  return first;
}

describe.skipIf(socat === undefined)('sensorkit emulate firmata + run --board firmata:PATH', () => {
  it('prints the path first; run on it gives the readings of run on the emulated board for the same seed', async () => {
    const { child, path, next } = await emulate();
    expect(path).toMatch(/ttyFIRMATA$/);
    const args = (board: string) => [CLI, 'run', 'examples/env-node', '--board', board, '--seed', '1', '--json', '--duration', '2.5', '--no-mqtt', '--no-opcua'];
    // Both at once, so the slowly varying signals are at nearly the same point of their cycle.
    const [overFirmata, inProcess] = await Promise.all([
      exec(process.execPath, args(`firmata:${path}`), { cwd: ROOT, timeout: 60_000 }),
      exec(process.execPath, args('emulated'), { cwd: ROOT, timeout: 60_000 }),
    ]);
    const firmata = firstOfEach(overFirmata.stdout);
    const local = firstOfEach(inProcess.stdout);
    expect([...firmata.keys()].sort()).toEqual(['humidity', 'pressure', 'temperature']);
    for (const [channel, tolerance] of [['temperature', 0.15], ['humidity', 0.6], ['pressure', 0.1]] as const) {
      expect(firmata.get(channel)!.quality, channel).toBe('good');
      expect(Math.abs(firmata.get(channel)!.value - local.get(channel)!.value), channel).toBeLessThanOrEqual(tolerance);
    }
    expect(overFirmata.stderr).toMatch(/on Firmata board "sensorkit-env-node\.ino"/);

    // Control commands on stdin: faults, counters, bad input answered and survived.
    child.stdin!.write('fault i2c1@0x76 nak 500\n');
    expect(await next(/^(ok|error)/)).toMatch(/^ok: fault \d+ nak on i2c1@0x76 for 500 ms/);
    child.stdin!.write('melt everything\n');
    expect(await next(/^(ok|error)/)).toMatch(/^error: unknown command "melt"/);
    child.stdin!.write('stats\n');
    const stats = JSON.parse(await next(/^\{/)) as { sessions: number; i2cReplies: number; parser: { skippedBytes: number } };
    expect(stats.sessions).toBe(1);
    expect(stats.i2cReplies).toBeGreaterThan(0);
    expect(stats.parser.skippedBytes).toBe(0);
  }, 90_000);

  it('run on a pty where nothing answers: one clear line after the handshake timeout, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-silent-'));
    const path = join(dir, 'tty');
    // Nothing serves the other end (socat waits for a slave that never comes), so the line is silent.
    const line = spawn(socat!, ['pty,raw,echo=0,link=' + path, `pty,raw,echo=0,link=${join(dir, 'other')},wait-slave`], { stdio: 'ignore' });
    children.push(line);
    try {
      const deadline = Date.now() + 5000;
      while (!existsSync(path) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const error = await exec(process.execPath, [CLI, 'run', 'examples/env-node', '--board', `firmata:${path}@115200`, '--no-mqtt', '--no-opcua'], { cwd: ROOT, timeout: 60_000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 1 });
      const stderr = (error as { stderr: string }).stderr.trim().split('\n').filter((l) => l.startsWith('sensorkit:'));
      expect(stderr).toEqual([`sensorkit: no Firmata handshake on ${path} at 115200 baud within 5000 ms (no REPORT_VERSION): the line is silent (no Firmata sketch, wrong port, or a board still resetting)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('Ctrl-C (SIGINT to the emulator alone): it exits 0 and leaves no socat behind; bad commands before it changed nothing', async () => {
    const { child, next } = await emulate();
    child.stdin!.write('fault A0 stuck 100 200\n');
    expect(await next(/^(ok|error)/)).toBe('error: DURATION_MS given twice ("100" and "200")');
    child.stdin!.write('clear now\n');
    expect(await next(/^(ok|error)/)).toBe('error: clear takes no arguments, got "now"');
    child.stdin!.write('faults\n');
    expect(await next(/faults/)).toBe('no active faults');
    const socats = (await exec('pgrep', ['-P', String(child.pid), '-x', 'socat'])).stdout.trim().split('\n').map(Number);
    expect(socats).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // The socat run is gone (not reparented to init and left waiting for a client).
    for (const pid of socats) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  }, 60_000);

  it('emulate: a wrong command line exits with 2 and a one-line reason', async () => {
    const error = await exec(process.execPath, [CLI, 'emulate', 'modbus'], { cwd: ROOT }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 2, stderr: expect.stringContaining('emulate: unknown protocol "modbus" (available: firmata)') });
    const help = await exec(process.execPath, [CLI, 'emulate', '--help'], { cwd: ROOT });
    for (const command of ['fault TARGET KIND', 'clear ', 'faults ', 'stats ', 'drop ', 'help ']) expect(help.stdout).toContain(`\n  ${command}`);
    expect(help.stdout).toMatch(/A bad command is answered with one line starting "error:"; the engine keeps serving/);
  }, 60_000);
});

describe.skipIf(socat === undefined || process.platform !== 'linux')('sensorkit emulate firmata killed', () => {
  /** Pids of live (not zombie) processes whose command line contains `text`. */
  function processesWith(text: string): number[] {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const live = !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
          return live && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
        } catch {
          return false; // gone meanwhile
        }
      })
      .map(Number);
  }

  it('takes its socat with it when SIGKILLed (no process left holding the ptys)', async () => {
    const { child, path } = await emulate();
    const [socatPid] = processesWith(path);
    expect(socatPid).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await waitFor(() => (processesWith(path).length === 0 ? true : undefined), 5000, `socat (pid ${String(socatPid)}) to end with the emulator`);
    expect(existsSync(path)).toBe(false); // socat removed its link on the way out
    rmSync(dirname(path), { recursive: true, force: true }); // the emulator could not: it was killed
  }, 60_000);
});

describe('sensorkit emulate firmata without socat', () => {
  it('names the last error line of a socat that fails at once, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-fake-socat-'));
    try {
      const fake = join(dir, 'socat');
      writeFileSync(fake, '#!/bin/sh\necho "socat[1] E openpty(): no space left on device" >&2\nexit 1\n', { mode: 0o755 });
      const error = await exec(process.execPath, [CLI, 'emulate', 'firmata', '--socat', fake], { cwd: ROOT, timeout: 60_000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sensorkit: socat exited \(code 1\).* before creating the pty pair: socat\[1\] E openpty\(\): no space left on device\n$/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says it cannot start socat, in one line, exit 1', async () => {
    const error = await exec(process.execPath, [CLI, 'emulate', 'firmata', '--socat', '/nonexistent/socat'], { cwd: ROOT, timeout: 60_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sensorkit: cannot start socat \(\/nonexistent\/socat\): spawn \/nonexistent\/socat ENOENT\n$/) });
  }, 60_000);
});

describe('sensorkit boards list', () => {
  it('lists ttyACM/ttyUSB ports and /dev/serial/by-id aliases with readable descriptions', async () => {
    const dev = mkdtempSync(join(tmpdir(), 'sensorkit-dev-'));
    try {
      writeFileSync(join(dev, 'ttyACM0'), '');
      writeFileSync(join(dev, 'ttyUSB1'), '');
      writeFileSync(join(dev, 'ttyS0'), '');
      mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
      symlinkSync('../../ttyACM0', join(dev, 'serial', 'by-id', 'usb-Arduino__www.arduino.cc__0043_75833353035351F0C0B1-if00'));
      const { stdout } = await exec(process.execPath, [CLI, 'boards', 'list', '--dev', dev], { cwd: ROOT });
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^${join(dev, 'ttyACM0')}\\s+Arduino www.arduino.cc 0043 75833353035351F0C0B1 .*by-id`));
      expect(lines[1]).toMatch(/ttyUSB1\s+USB-serial adapter/);
      const json = await exec(process.execPath, [CLI, 'boards', 'list', '--dev', dev, '--json'], { cwd: ROOT });
      expect(JSON.parse(json.stdout.split('\n')[0]!)).toMatchObject({ path: join(dev, 'ttyACM0'), byId: expect.stringContaining('by-id') });
    } finally {
      rmSync(dev, { recursive: true, force: true });
    }
  }, 60_000);

  it('on this machine (serialport cannot spawn udevadm): falls back to scanning, exits 0', async () => {
    const { stdout } = await exec(process.execPath, [CLI, 'boards', 'list'], { cwd: ROOT });
    expect(stdout.length).toBeGreaterThan(0);
  }, 60_000);
});
