/**
 * One process per outbox directory, across processes (real child processes): a second process on
 * the same directory is refused with one line naming the first one's PID, and a lock left by a
 * SIGKILLed process is taken over. Two processes on one outbox once sent one `sensorkit-seq` with
 * different payloads and deleted each other's records.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StateError } from '../../sdk/core/errors.js';
import { DurableOutbox } from '../../sdk/transport/outbox/index.js';
import { WRITER_OPTIONS } from '../fixtures/outbox-writer-options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-lock-'));
  dirs.push(dir);
  return dir;
}

/** Starts the outbox writer (test/fixtures/outbox-writer.ts) on `dir`; resolves once it has opened the outbox. */
function startWriter(dir: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', './bin/register-ts.js', 'test/fixtures/outbox-writer.ts', dir, '7'], { cwd: ROOT });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (/^O /m.test(stdout)) resolve(child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => reject(new Error(`the writer exited before opening (code ${String(code)}): ${stderr}`)));
  });
}

/** Runs `sensorkit ARGS` to its end. */
function sensorkit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/sensorkit.js', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function killed(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    child.on('close', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('DurableOutbox: one process per directory', () => {
  it('refuses a second process on the same directory, naming the first one\'s PID', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const first = await startWriter(dir);
    const error = await DurableOutbox.open({ dir, ...WRITER_OPTIONS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toBe(`${dir}: in use by process ${first.pid} (outbox.lock); an outbox directory serves one process at a time`);

    // The same from the command line: one line, exit 1, and the first process keeps writing.
    const run = await sensorkit(['run', '--outbox', dir, '--no-opcua', '--duration', '5']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`sensorkit: ${dir}: in use by process ${first.pid} (outbox.lock); an outbox directory serves one process at a time\n`);
    expect(first.exitCode).toBeNull();
  });

  it('takes over the lock of a SIGKILLed process', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const first = await startWriter(dir);
    const lock = JSON.parse(await readFile(join(dir, 'outbox.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(first.pid);
    await killed(first);
    // The lock file is still there, its PID gone: a second writer process opens the outbox.
    expect(JSON.parse(await readFile(join(dir, 'outbox.lock'), 'utf8'))).toMatchObject({ pid: first.pid });
    const second = await startWriter(dir);
    expect(JSON.parse(await readFile(join(dir, 'outbox.lock'), 'utf8'))).toMatchObject({ pid: second.pid });
    await killed(second);
    const outbox = await DurableOutbox.open({ dir, ...WRITER_OPTIONS });
    expect(JSON.parse(await readFile(join(dir, 'outbox.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await outbox.close();
  });
});
