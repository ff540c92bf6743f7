/**
 * Signed calibration records from the command line, as a user runs them (real child processes):
 * `sensorkit hil calibrate` writes a record signed with a `hil keygen` key, `sensorkit run
 * --calibration FILE --calibration-key PEM` (or the configuration file's `calibration` section)
 * loads it, and the readings of the channel name the record's id. A record of the emulated target
 * says so and carries the day it was made. A record for another serial number, a changed byte and
 * an untrusted key are refused with one line, exit 2.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runSensorkit as sensorkit, type CliRun as Run } from '../support/cli.js';
import { Runtime } from '../../sdk/runtime/index.js';

const RUN = ['--duration', '2', '--json', '--no-mqtt', '--no-opcua'];
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

let dir: string;
let record: string;
let id: string;
let calibrateRun: Run;
let dateBefore: string;
let dateAfter: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sensorkit-calibration-cli-'));
  const keygen = await sensorkit(['hil', 'keygen', '--out', join(dir, 'keys')]);
  expect(keygen.code).toBe(0);
  dateBefore = new Date().toISOString().slice(0, 10);
  calibrateRun = await sensorkit([
    'hil', 'calibrate', 'examples/env-node',
    '--channel', 'temperature', '--key', join(dir, 'keys', 'private.pem'),
    '--seed', '1', '--inject', 'temperature:offset=0.8', '--performed-by', 'A. Tester',
    '--out', join(dir, 'cal'),
  ]);
  dateAfter = new Date().toISOString().slice(0, 10);
  const files = readdirSync(join(dir, 'cal'));
  expect(files).toHaveLength(1);
  record = join(dir, 'cal', files[0]!);
  id = files[0]!.replace(/\.json$/, '');
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sensorkit hil calibrate', () => {
  it('writes the signed record <id>.json and prints the correction, the coefficients and U', () => {
    expect(calibrateRun.stderr).toBe('');
    expect(calibrateRun.code).toBe(0);
    expect(id).toMatch(/^CAL-EMU-1-temperature-\d{4}-\d{2}-\d{2}$/);
    const signed = JSON.parse(readFileSync(record, 'utf8')) as { id: string; device: { serialNumber: string }; correction: { method: string; offset: number }; performedBy: string; signature?: unknown; uncertainty: { expanded: number } };
    expect(signed.id).toBe(id);
    expect(signed.device.serialNumber).toBe('EMU-1');
    expect(signed.performedBy).toBe('A. Tester');
    expect(signed.signature).toBeDefined();
    expect(signed.correction.method).toBe('linear');
    // The injected +0.8 °C is corrected (with the unit's own part error of at most ±0.4 °C).
    expect(signed.correction.offset).toBeLessThan(-0.4);
    expect(signed.correction.offset).toBeGreaterThan(-1.2 - 0.1);
    const out = lines(calibrateRun.stdout);
    expect(out[0]).toMatch(new RegExp(`^${id}  .*serial EMU-1, temperature \\[Cel\\]$`));
    expect(calibrateRun.stdout).toMatch(/correction {2}linear: gain [\d.]+, offset -[\d.]+/);
    expect(calibrateRun.stdout).toMatch(/coefficients {2}-[\d.]+, [\d.]+/);
    expect(calibrateRun.stdout).toContain(`U = ${Number(signed.uncertainty.expanded.toPrecision(6))} Cel (k = 2, 95 %)`);
    expect(calibrateRun.stdout).toContain(`signed record: ${record}`);
  });

  it('says that the record is emulated: a statement in the record and on standard output, dated by the wall clock, traced to nothing', () => {
    const signed = JSON.parse(readFileSync(record, 'utf8')) as { date: string; validUntil: string; emulated?: string; standards: { traceability: string }[]; run: { target: string } };
    // The emulated target's virtual clock starts 2026-01-01; the record carries the day it was made.
    expect([dateBefore, dateAfter]).toContain(signed.date);
    expect(id).toBe(`CAL-EMU-1-temperature-${signed.date}`);
    expect(Date.parse(signed.validUntil) - Date.parse(signed.date)).toBe(365 * 86_400_000);
    expect(signed.emulated).toBe('calibrated on the emulated board (seed 1, virtual time from 2026-01-01T00:00:00.000Z), not on a physical unit; dated by the wall clock of the run');
    expect(signed.standards).toEqual([{ description: 'input temperature', traceability: "none: the emulated world's true value" }]);
    expect(signed.run.target).toBe('emulated');
    expect(calibrateRun.stdout).toContain(`  EMULATED: ${signed.emulated}\n`);
  });

  it('takes the simulated calibrator as the reference on the emulated target: its certificate enters U; a SCPI one is refused', async () => {
    const result = await sensorkit([
      'hil', 'calibrate', 'examples/env-node', '--channel', 'temperature', '--key', join(dir, 'keys', 'private.pem'),
      '--inject', 'temperature:offset=0.8', '--instrument', 'reference=sim:calibrator', '--out', join(dir, 'cal-sim'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [name] = readdirSync(join(dir, 'cal-sim'));
    const signed = JSON.parse(readFileSync(join(dir, 'cal-sim', name!), 'utf8')) as { emulated?: string; correction: { offset: number }; uncertainty: { budget: { name: string; value: number; divisor: number }[] } };
    expect(signed.emulated).toMatch(/^calibrated on the emulated board/);
    expect(signed.correction.offset).toBeLessThan(-0.4);
    // The simulated calibrator's certificate: U = 0.04 K (k = 2).
    expect(signed.uncertainty.budget.find((entry) => entry.name === 'reference certificate (through the fit)')).toMatchObject({ value: 0.04, divisor: 2 });
    const scpi = await sensorkit(['hil', 'calibrate', 'examples/env-node', '--channel', 'temperature', '--key', join(dir, 'keys', 'private.pem'), '--instrument', 'reference=scpi-tcp:127.0.0.1:9', '--out', join(dir, 'cal-scpi')]);
    expect(scpi.code).toBe(2);
    expect(scpi.stderr).toBe("sensorkit: hil calibrate: instruments.reference: scpi-tcp:127.0.0.1:9: the emulated target's input follows a simulated instrument only (sim:calibrator); a SCPI instrument's output does not reach it\n");
  }, 60_000);

  it('refuses a method it does not know: one line, exit 2', async () => {
    const result = await sensorkit(['hil', 'calibrate', 'examples/env-node', '--channel', 'temperature', '--key', join(dir, 'keys', 'private.pem'), '--method', 'cubic', '--out', join(dir, 'other')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^sensorkit: --method: expected offset, gain, linear, two-point, polynomial, got "cubic"\n/);
  });
});

describe('sensorkit run --calibration', () => {
  it('loads the record before the device starts: the temperature readings name its id, the others none', async () => {
    const result = await sensorkit(['run', 'examples/env-node', '--calibration', record, '--calibration-key', join(dir, 'keys', 'public.pem'), ...RUN]);
    expect(result.code).toBe(0);
    const readings = lines(result.stdout).map((line) => JSON.parse(line) as { channel: string; value: number | null; calibration?: string });
    const temperature = readings.filter((r) => r.channel === 'temperature');
    expect(temperature.length).toBeGreaterThan(0);
    for (const reading of temperature) {
      expect(reading.calibration).toBe(id);
      expect(typeof reading.value).toBe('number');
    }
    expect(readings.filter((r) => r.channel !== 'temperature').every((r) => r.calibration === undefined)).toBe(true);
  }, 30_000);

  it('takes the records and the key from the configuration file, relative to its folder', async () => {
    writeFileSync(join(dir, 'sensorkit.config.json'), JSON.stringify({ calibration: { records: ['cal'], key: 'keys/public.pem' } }));
    const result = await sensorkit(['run', 'examples/env-node', '--config', join(dir, 'sensorkit.config.json'), ...RUN]);
    expect(result.code).toBe(0);
    const temperature = lines(result.stdout).map((line) => JSON.parse(line) as { channel: string; calibration?: string }).filter((r) => r.channel === 'temperature');
    expect(temperature.length).toBeGreaterThan(0);
    expect(temperature.every((r) => r.calibration === id)).toBe(true);
  }, 30_000);

  it('refuses a record of another unit (serial EMU-2 under --seed 2): one line, exit 2', async () => {
    const result = await sensorkit(['run', 'examples/env-node', '--seed', '2', '--calibration', join(dir, 'cal'), '--calibration-key', join(dir, 'keys', 'public.pem'), ...RUN]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`sensorkit: ${record}: calibration ${id} is for serial EMU-1, not EMU-2\n`);
  }, 30_000);

  it('refuses a record with a changed byte: one line, exit 2', async () => {
    const changed = join(dir, 'changed.json');
    const text = readFileSync(record, 'utf8');
    expect(text).toContain('"A. Tester"');
    writeFileSync(changed, text.replace('"A. Tester"', '"B. Tester"'));
    const result = await sensorkit(['run', 'examples/env-node', '--calibration', changed, '--calibration-key', join(dir, 'keys', 'public.pem'), ...RUN]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^sensorkit: ${changed}: .*changed since it was signed`));
  }, 30_000);

  it('refuses a record signed by a key that is not trusted, and a missing key: one line, exit 2', async () => {
    expect((await sensorkit(['hil', 'keygen', '--out', join(dir, 'other-keys')])).code).toBe(0);
    const untrusted = await sensorkit(['run', 'examples/env-node', '--calibration', record, '--calibration-key', join(dir, 'other-keys', 'public.pem'), ...RUN]);
    expect(untrusted.code).toBe(2);
    expect(lines(untrusted.stderr)).toHaveLength(1);
    expect(untrusted.stderr).toMatch(new RegExp(`^sensorkit: ${record}: .*not by a key trusted for calibrations`));
    const noKey = await sensorkit(['run', 'examples/env-node', '--calibration', record, ...RUN]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^sensorkit: --calibration-key: the public key trusted to sign calibrations is required with calibration records\n/);
  }, 30_000);
});

describe('Runtime.open with calibration records', () => {
  it('refuses records in the configuration without a loader that checks them', async () => {
    await expect(Runtime.open({ device: 'examples/env-node', mqtt: false, opcua: false, calibration: { records: [record], key: join(dir, 'keys', 'public.pem') } })).rejects.toThrow(
      /^calibration: signed calibration records need a loader/,
    );
  });
});
