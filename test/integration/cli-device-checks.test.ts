/**
 * `sensorkit run FILE` on device files that used to pass validation and fail later: an array with
 * holes, a range whose span overflows, a 100,000-character id. Each is one short line naming the
 * file and the field, exit code 1 (real child processes).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, 'run', `test/fixtures/devices/${file}`, '--duration', '1', '--no-opcua', '--no-mqtt'], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('sensorkit run: device files refused at definition', () => {
  it.each([
    ['hole-channels.js', 'channels[0]: missing (an array with a hole)'],
    ['empty-array-channels.js', 'channels[0]: missing (an array with a hole)'],
    ['huge-range.js', 'channels[0].range: the span max − min (1e+308 − -1e+308) is not a finite number; narrow the range'],
    ['long-id.js', `id: "${'x'.repeat(60)}"… (100000 characters) must be lower case letters, digits, "_" or "-", starting with a letter`],
  ])('%s: one line naming the file and the field, exit 1', async (file, message) => {
    const result = await run(file);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`sensorkit: ${ROOT}test/fixtures/devices/${file}: ${message}\n`);
    expect(result.stderr.length).toBeLessThan(400);
  }, 60_000);
});
