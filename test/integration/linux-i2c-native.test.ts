/**
 * `sensorkit run DEVICE --board linux:ROOT` with a BME280 on i2c1 and no I2C hardware: the default
 * transport (our addon) opens ROOT/dev/i2c-1, the kernel refuses ioctl(I2C_RDWR) on a regular file
 * (ENOTTY) or the node is missing (ENOENT); either fault becomes the samples' quality, reported once.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sensorkit-linux-i2c-'));
  mkdirSync(join(root, 'sys'));
  writeFileSync(
    join(root, 'device.ts'),
    `import { defineDevice } from '${ROOT}sdk/model/index.ts';
export default defineDevice({
  id: 'i2c-probe', board: 'raspberry-pi-4',
  identity: { manufacturer: 't', model: 'I2C probe', productCode: 'IP-2', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'env' } },
  channels: [{ id: 't', quantity: 'temperature', unit: 'Cel', range: { min: -40, max: 85 }, resolution: 0.01, accuracy: { mpe: 1 }, sampleRate: 5,
    driver: { part: 'bme280', address: 0x76, output: 'temperature' } }],
});
`,
  );
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function sensorkitRun(): Promise<{ readings: Array<{ quality: string; reason?: string }>; stderr: string }> {
  const { stdout, stderr } = await run(
    process.execPath,
    [`${ROOT}bin/sensorkit.js`, 'run', join(root, 'device.ts'), '--board', `linux:${root}`, '--json', '--duration', '1.2', '--no-mqtt', '--no-opcua'],
    { cwd: root, timeout: 60_000 },
  );
  return { readings: stdout.trim().split('\n').map((line) => JSON.parse(line) as { quality: string; reason?: string }), stderr };
}

describe('sensorkit run --board linux:ROOT over i2c-dev', () => {
  it('a node that is not an adapter (ENOTTY) gives bad samples and one clear line, not a crash', async () => {
    mkdirSync(join(root, 'dev'));
    writeFileSync(join(root, 'dev/i2c-1'), '');
    const { readings, stderr } = await sensorkitRun();
    expect(readings.length).toBeGreaterThan(0);
    for (const reading of readings) expect(reading).toMatchObject({ quality: 'bad', reason: 'sensor_fault' });
    const faults = stderr.split('\n').filter((line) => line.includes('not an i2c-dev adapter (ENOTTY'));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toContain(`${join(root, 'dev/i2c-1')} 0x76`);
  }, 70_000);

  it('a missing bus node (ENOENT) is named, with how to enable the bus', async () => {
    const { readings, stderr } = await sensorkitRun();
    expect(readings.every((reading) => reading.quality === 'bad')).toBe(true);
    expect(stderr).toContain(`${join(root, 'dev/i2c-1')}: no such I2C adapter (ENOENT): enable the bus`);
  }, 70_000);
});
