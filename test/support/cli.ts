/**
 * The `sensorkit` binary as a child process, the way a user runs it: its exit code, standard output
 * and standard error, collected whole. For commands that end by themselves.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The repository's root folder, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The binary users run. */
export const BIN = `${ROOT}bin/sensorkit.js`;

/** How a command ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `sensorkit ARGS` in `cwd` (default: the repository) until it exits, without a stack-trace
 * switch or a serial number inherited from the test's environment.
 */
export function runSensorkit(args: readonly string[], cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete env.SENSORKIT_SERIAL;
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `sensorkit ARGS` in `cwd` until `done(stdout, stderr)` holds, then interrupts it (SIGINT, as
 * Ctrl-C) and resolves when it has exited. For commands that run until stopped: the test waits for
 * what it needs to see, not for a duration guessed to be long enough. After `timeoutMs` without
 * `done`, the child is killed and the run resolves with `code` null.
 */
export function runSensorkitUntil(args: readonly string[], cwd: string, done: (stdout: string, stderr: string) => boolean, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete env.SENSORKIT_SERIAL;
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const check = (): void => {
      if (!interrupted && done(stdout, stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    // Conditions on things outside the child (messages a broker delivered) are checked twice a second too.
    const poll = setInterval(check, 500);
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), check()));
    child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), check()));
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code: interrupted ? code : null, stdout, stderr });
    });
  });
}

/** Standard error as the user reads it: one line matching `pattern`, no stack trace. */
export function expectOneLine(run: CliRun, pattern: RegExp): void {
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** A JSON test plan measuring env-node's temperature at 25 °C against `limits` (default ±1 Cel). */
export function temperaturePlanJson(id: string, limits: object = { low: 24, high: 26, unit: 'Cel' }, extra: object = {}): string {
  return JSON.stringify({
    id,
    name: `Plan ${id}`,
    version: '1.0.0',
    device: `${ROOT}examples/env-node`,
    phases: [
      {
        id: 'at-25',
        steps: [
          { kind: 'stimulus', input: 'temperature', value: 25, unit: 'Cel' },
          { kind: 'settle', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 300_000 },
          { kind: 'measure', id: 'temperature@25Cel', channel: 'temperature', samples: 3, reference: { input: 'temperature' }, limits },
        ],
      },
    ],
    ...extra,
  });
}
