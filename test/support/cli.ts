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

/** Runs `sensorkit ARGS` in `cwd` (default: the repository) until it exits. */
export function runSensorkit(args: readonly string[], cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Standard error as the user reads it: one line matching `pattern`, no stack trace. */
export function expectOneLine(run: CliRun, pattern: RegExp): void {
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}
