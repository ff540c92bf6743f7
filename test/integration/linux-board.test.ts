/**
 * `sensorkit run DEVICE --board linux:ROOT`: a device reads an IIO channel of a fake sysfs tree
 * through the real CLI, and a missing i2c-dev transport becomes the samples' quality, not a crash.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let root: string;
const put = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), `${text}\n`);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sensorkit-linux-'));
  put('sys/bus/iio/devices/iio:device0/name', 'ads1015');
  put('sys/bus/iio/devices/iio:device0/in_voltage0_raw', '1100');
  put('sys/bus/iio/devices/iio:device0/in_voltage_scale', '2.000000');
  put('sys/bus/iio/devices/iio:device0/scan_elements/in_voltage0_type', 'be:u12/16>>4');
  // A device file outside the repository, as a user's would be. 12 bits × 2 mV full scale = 8.19 V.
  put(
    'device.ts',
    `import { defineDevice } from '${ROOT}sdk/model/index.ts';
export default defineDevice({
  id: 'iio-probe', board: 'arduino-uno',
  identity: { manufacturer: 't', model: 'IIO probe', productCode: 'IP-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'env' } },
  channels: [{ id: 'v', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.001, accuracy: { mpe: 0.1 }, sampleRate: 5,
    driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0', options: { referenceVoltage: 8.19, resolution: 12 } } }],
});
`,
  );
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('sensorkit run --board linux:ROOT', () => {
  it('reads the IIO channel as the device channel: (raw + offset) × scale', async () => {
    const { stdout } = await run(process.execPath, [`${ROOT}bin/sensorkit.js`, 'run', join(root, 'device.ts'), '--board', `linux:${root}`, '--json', '--duration', '1.5', '--no-mqtt', '--no-opcua'], { cwd: root, timeout: 60_000 });
    const readings = stdout.trim().split('\n').map((line) => JSON.parse(line) as { channel: string; value: number; quality: string });
    expect(readings.length).toBeGreaterThan(0);
    expect(readings[0]).toMatchObject({ channel: 'v', value: 2.2, quality: 'good' });
  }, 70_000);

  it('rejects an empty ROOT as a usage error (exit 2)', async () => {
    const error = await run(process.execPath, [`${ROOT}bin/sensorkit.js`, 'run', join(root, 'device.ts'), '--board', 'linux:', '--no-mqtt', '--no-opcua'], { cwd: root, timeout: 60_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 2, stderr: expect.stringContaining('--board linux:ROOT: ROOT is empty') });
  }, 70_000);
});
