/**
 * `sensorkit hil calibrate --target` on a unit in the lab, as a user runs it (real child
 * processes): the device on a Firmata board behind a real pseudo-terminal (`serial:PATH`, the
 * emulated board served by socat), a SCPI calibrator on TCP (the simulator) sourcing each point
 * into the board's sensor, the reference standard's certificate from `--standard`; the signed
 * record is then checked and loaded by `sensorkit run --calibration` on the same board. And each
 * set-up error: one line, exit 2, in bounded time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bme280Peripheral } from '../../boards/emulated/parts/index.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { startScpiSimulator, type ScpiSimulator } from '../../hil/instruments/scpi-simulator.js';
import { calibrateChannel, calibrationRecordText, checkCalibrationRecord, readStandardFile, signCalibrationRecord } from '../../hil/calibration/index.js';
import { BIN, ROOT, expectOneLine, type CliRun } from '../support/cli.js';
import { waitFor } from '../support/net.js';
import { PEERS } from '../support/peers.js';
import { startPtyEmulator, type PtyEmulator } from '../support/pty.js';

/** socat is installed here and in CI: without it this fails, it does not skip. */
function socat(): string {
  const found = PEERS.socat.find((path) => existsSync(path));
  if (found === undefined) throw new Error('socat is required for the Firmata pty tests: apt-get install -y socat');
  return found;
}

/** The unit's own error the calibration must find: it reads 0.8 °C high. */
const UNIT_OFFSET = 0.8;
const SERIAL = 'BENCH-7';

/**
 * A probe with one BME280 temperature channel at 5 Hz and no filters, so that a point settles
 * in about a second of real time (env-node's filters need minutes per point on a real clock).
 */
const DEVICE = `import { defineDevice } from 'sensorkit/model';

export default defineDevice({
  id: 'bench-probe',
  board: 'raspberry-pi-4',
  identity: { manufacturer: 'lab', model: 'BP-1 bench probe', productCode: 'BP-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'env' } },
  channels: [
    { id: 'temperature', quantity: 'temperature', unit: 'Cel', range: { min: -40, max: 85 }, resolution: 0.01, accuracy: { mpe: 1 }, sampleRate: 5,
      driver: { part: 'bme280', address: 0x76, output: 'temperature', options: { oversampling: { temperature: 1, pressure: 1, humidity: 1 } } } },
  ],
});
`;

const STANDARD = {
  id: 'DB-0042',
  description: 'dry-block calibrator, PT100 reference probe',
  unit: 'K',
  uncertainty: { expanded: 0.05, coverageFactor: 2 },
  certificate: 'D-K-15070-01-00 2026-03-12',
  issuer: 'accredited laboratory D-K-15070',
  validUntil: '2099-03-12',
  traceability: 'D-K-15070 → PTB',
};

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const today = (): string => new Date().toISOString().slice(0, 10);

/** `sensorkit ARGS` until it exits, with its wall time; `SENSORKIT_SERIAL` unset. */
function sensorkit(args: readonly string[]): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete env.SENSORKIT_SERIAL;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

let dir: string;
let device: string;
let standard: string;
let emulator: PtyEmulator;
let calibrator: ScpiSimulator;
let silentLine: ChildProcess | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sensorkit-calibration-target-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // sensorkit installed beside the device file, as in a user's project.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'sensorkit'), 'dir');
  device = join(dir, 'bench-probe');
  mkdirSync(device);
  writeFileSync(join(device, 'device.ts'), DEVICE);
  standard = join(dir, 'standard.json');
  writeFileSync(standard, JSON.stringify(STANDARD));
  calibrator = await startScpiSimulator({ kind: 'calibrator', port: 0, seed: 3 });
  cleanups.push(() => calibrator.close());
  const output = calibrator.instrument.output('temperature');
  // The calibrator's dry block holds the unit's sensor: the BME280 feels its output, plus the unit's error.
  emulator = await startPtyEmulator({
    socat: socat(),
    definition: 'raspberry-pi-4',
    wire: (board) =>
      void board.attachI2c(
        new Bme280Peripheral({
          address: 0x76,
          temperature: { valueAt: (t) => output.valueAt(t) + UNIT_OFFSET },
          humidity: { valueAt: () => 45 },
          pressure: { valueAt: () => 101_325 },
          random: new SeededRandom(7).fork('bme280'),
        }),
        { bus: 'i2c1' },
      ),
  });
  cleanups.push(() => emulator.close());
  expect((await sensorkit(['hil', 'keygen', '--out', join(dir, 'keys')])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  silentLine?.kill();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('sensorkit hil calibrate --target serial:PATH with a SCPI calibrator', () => {
  let run: CliRun & { ms: number };
  let file: string;
  let record: {
    id: string;
    device: { id: string; serialNumber: string };
    correction: { method: string; gain: number; offset: number };
    uncertainty: { expanded: number; coverageFactor: number; budget: { name: string; type: string; value: number; divisor: number; standardUncertainty: number }[] };
    points: { reference: number; mean: number }[];
    standards: { description: string; id?: string; certificate?: { expanded: number; coverageFactor: number; id?: string; issuer?: string; validUntil?: string }; traceability: string }[];
    date: string;
    validUntil: string;
    performedBy: string;
    laboratory: string;
    run: { target: string };
    emulated?: string;
    signature?: unknown;
  };

  beforeAll(async () => {
    const before = today();
    run = await sensorkit([
      'hil', 'calibrate', device, '--channel', 'temperature', '--key', join(dir, 'keys', 'private.pem'),
      '--target', `serial:${emulator.path}`, '--instrument', `reference=${calibrator.spec}`, '--standard', standard,
      '--serial', SERIAL, '--points', '0,20,40,60,80', '--readings', '5', '--settle-ms', '1500', '--interval-ms', '200',
      '--performed-by', 'A. Tester', '--laboratory', 'Lab 2', '--out', join(dir, 'cal'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const files = readdirSync(join(dir, 'cal'));
    expect(files).toHaveLength(1);
    file = join(dir, 'cal', files[0]!);
    record = JSON.parse(readFileSync(file, 'utf8')) as typeof record;
    expect([before, today()]).toContain(record.date);
  }, 120_000);

  it('sources every point from the calibrator over SCPI and fits the unit\'s error', () => {
    for (const point of [0, 20, 40, 60, 80]) expect(calibrator.received).toContain(`SOUR:TEMP ${point}`);
    expect(record.points.map((p) => p.reference)).toEqual([0, 20, 40, 60, 80]);
    expect(record.correction.method).toBe('linear');
    // The unit reads 0.8 °C high, with its BME280's own seeded error (within ±0.5 °C).
    expect(record.correction.offset).toBeLessThan(-UNIT_OFFSET + 0.5);
    expect(record.correction.offset).toBeGreaterThan(-UNIT_OFFSET - 0.5);
    expect(record.correction.gain).toBeCloseTo(1, 1);
  });

  it('is a lab record: the unit\'s serial, the real date, the target, and no emulated statement', () => {
    expect(record.id).toBe(`CAL-${SERIAL}-temperature-${record.date}`);
    expect(record.device).toMatchObject({ id: 'bench-probe', serialNumber: SERIAL });
    expect(record.emulated).toBeUndefined();
    expect(record.run.target).toBe(`serial:${emulator.path}`);
    expect(record.performedBy).toBe('A. Tester');
    expect(record.laboratory).toBe('Lab 2');
    expect(Date.parse(record.validUntil) - Date.parse(record.date)).toBe(365 * 86_400_000);
    expect(record.signature).toBeDefined();
    expect(run.stdout).not.toContain('EMULATED');
    expect(lines(run.stdout)[0]).toBe(`${record.id}  BP-1 bench probe, serial ${SERIAL}, temperature [Cel]`);
    expect(run.stdout).toContain(`  standards  DB-0042, dry-block calibrator, PT100 reference probe, certificate D-K-15070-01-00 2026-03-12; traceability D-K-15070 → PTB\n`);
    expect(run.stdout).toContain(`signed record: ${file}`);
  });

  it('states the standard with its certificate, and its U (K converted to Cel) enters the uncertainty', () => {
    expect(record.standards).toEqual([
      {
        description: 'DB-0042, dry-block calibrator, PT100 reference probe',
        id: 'DB-0042',
        certificate: { expanded: 0.05, coverageFactor: 2, id: 'D-K-15070-01-00 2026-03-12', issuer: 'accredited laboratory D-K-15070', validUntil: '2099-03-12' },
        traceability: 'D-K-15070 → PTB',
      },
    ]);
    // The certificate's U / k = 0.025 °C enters the budget of a corrected reading through the fit's weights.
    const certificate = record.uncertainty.budget.find((entry) => entry.name === 'reference certificate (through the fit)');
    expect(certificate).toMatchObject({ type: 'B', distribution: 'normal', value: 0.05, divisor: 2 });
    expect(certificate!.standardUncertainty).toBeGreaterThan(0.01);
    expect(record.uncertainty.expanded).toBeGreaterThan(2 * certificate!.standardUncertainty);
  });

  it('sensorkit run --calibration checks the record and applies it on the same board: readings of the calibrator\'s 25 °C read 25 °C', async () => {
    await calibrator.instrument.source('temperature', 25, 'Cel');
    const result = await sensorkit([
      'run', device, '--board', `firmata:${emulator.path}`, '--serial', SERIAL,
      '--calibration', file, '--calibration-key', join(dir, 'keys', 'public.pem'),
      '--duration', '3', '--json', '--no-mqtt', '--no-opcua',
    ]);
    expect(result.code).toBe(0);
    const readings = lines(result.stdout).map((line) => JSON.parse(line) as { channel: string; value: number; calibration?: string });
    expect(readings.length).toBeGreaterThan(0);
    for (const reading of readings) {
      expect(reading.calibration).toBe(record.id);
      // The calibrator's output is within its U = 0.04 K of 25 °C; the unit's noise and the fit add little.
      expect(Math.abs(reading.value - 25)).toBeLessThan(0.3);
    }
    const other = await sensorkit(['run', device, '--board', `firmata:${emulator.path}`, '--serial', 'BENCH-8', '--calibration', file, '--calibration-key', join(dir, 'keys', 'public.pem'), '--duration', '1', '--json', '--no-mqtt', '--no-opcua']);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe(`sensorkit: ${file}: calibration ${record.id} is for serial ${SERIAL}, not BENCH-8\n`);
  }, 60_000);

  it('sensorkit run on a real board refuses a record made on the emulated board, even for this serial and key', async () => {
    // The lab record with an emulated statement, signed again by the same trusted key.
    const { signature: _signature, ...lab } = record as typeof record & { signature: unknown };
    const emulatedFile = join(dir, 'cal-emulated.json');
    writeFileSync(emulatedFile, calibrationRecordText(signCalibrationRecord({ ...lab, emulated: 'calibrated on the emulated board (seed 1), not on a physical unit' } as unknown as Parameters<typeof signCalibrationRecord>[0], createPrivateKey(readFileSync(join(dir, 'keys', 'private.pem'))))));
    const result = await sensorkit(['run', device, '--board', `firmata:${emulator.path}`, '--serial', SERIAL, '--calibration', emulatedFile, '--calibration-key', join(dir, 'keys', 'public.pem'), '--duration', '1', '--json', '--no-mqtt', '--no-opcua']);
    expectOneLine(result, /was made on the emulated board, not on this unit/);
    expect(result.code).toBe(2);
  }, 60_000);
});

describe('sensorkit hil calibrate --target: set-up errors are one line, exit 2, in bounded time', () => {
  const base = (): string[] => ['hil', 'calibrate', device, '--channel', 'temperature', '--key', join(dir, 'keys', 'private.pem'), '--out', join(dir, 'refused')];

  it('a target that does not answer: a serial line where no Firmata board speaks', async () => {
    const silent = join(dir, 'silent-tty');
    silentLine = spawn(socat(), ['-d', `pty,raw,echo=0,link=${silent}`, `pty,raw,echo=0,link=${join(dir, 'silent-other-end')}`], { stdio: 'ignore' });
    await waitFor(() => existsSync(silent), 10_000, 'the silent pty');
    const result = await sensorkit([...base(), '--target', `serial:${silent}`, '--instrument', `reference=${calibrator.spec}`, '--standard', standard]);
    expectOneLine(result, new RegExp(`^sensorkit: hil calibrate: .*no Firmata handshake on .*${silent}.* within 5000 ms`));
    expect(result.code).toBe(2);
    expect(result.ms).toBeLessThan(30_000);
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  }, 60_000);

  it('a real board without the reference instrument, or without the standard', async () => {
    const noInstrument = await sensorkit([...base(), '--target', `serial:${emulator.path}`, '--standard', standard]);
    expect(noInstrument.code).toBe(2);
    expect(noInstrument.stderr).toBe(
      `sensorkit: hil calibrate: instruments: target serial:${emulator.path} sets no physical input itself: give --instrument reference=SPEC, the calibrator that sources temperature (scpi-tcp:HOST[:PORT] or scpi-serial:PATH)\n`,
    );
    const noStandard = await sensorkit([...base(), '--target', `serial:${emulator.path}`, '--instrument', `reference=${calibrator.spec}`]);
    expect(noStandard.code).toBe(2);
    expect(noStandard.stderr).toBe(`sensorkit: hil calibrate: standard: a calibration on serial:${emulator.path} states the reference standard and its certificate: give --standard FILE.json\n`);
    const simulated = await sensorkit([...base(), '--target', `serial:${emulator.path}`, '--instrument', 'reference=sim:calibrator', '--standard', standard]);
    expect(simulated.code).toBe(2);
    expectOneLine(simulated, /^sensorkit: hil calibrate: instruments\.reference: sim:calibrator: a simulated instrument's output does not reach the real board/);
  }, 60_000);

  it('an instrument that does not answer: *IDN? unanswered within the spec\'s timeout, or nothing listening', async () => {
    const mute = await startScpiSimulator({ kind: 'calibrator', port: 0, misbehave: { silent: true } });
    try {
      const result = await sensorkit([...base(), '--target', `serial:${emulator.path}`, '--instrument', `reference=${mute.spec}?timeout=500`, '--standard', standard]);
      expectOneLine(result, /^sensorkit: hil calibrate: .*reference.*\*IDN\?.*did not identify/);
      expect(result.code).toBe(2);
      expect(result.ms).toBeLessThan(20_000);
    } finally {
      await mute.close();
    }
    const closed = await startScpiSimulator({ kind: 'calibrator', port: 0 });
    const spec = closed.spec;
    await closed.close();
    const nobody = await sensorkit([...base(), '--target', `serial:${emulator.path}`, '--instrument', `reference=${spec}`, '--standard', standard]);
    expectOneLine(nobody, /^sensorkit: hil calibrate: .*reference.*ECONNREFUSED/);
    expect(nobody.code).toBe(2);
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  }, 60_000);

  it('a standard whose certificate has expired, or that is not a standard file', async () => {
    const expired = join(dir, 'expired.json');
    writeFileSync(expired, JSON.stringify({ ...STANDARD, validUntil: '2020-01-31' }));
    const result = await sensorkit([...base(), '--target', `serial:${emulator.path}`, '--instrument', `reference=${calibrator.spec}`, '--standard', expired]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`sensorkit: hil calibrate: ${expired}: the certificate D-K-15070-01-00 2026-03-12 of DB-0042 was valid until 2020-01-31; recalibrate the standard first\n`);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...STANDARD, uncertainty: { expanded: -1, coverageFactor: 2 } }));
    const malformed = await sensorkit([...base(), '--standard', bad]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe(`sensorkit: hil calibrate: ${bad}: uncertainty.expanded: expected a number above 0, got -1\n`);
  }, 60_000);
});

describe('calibrateChannel and readStandardFile from code', () => {
  const options = { device: 'examples/env-node', seed: 2, channel: 'temperature', points: [-30, 0, 25, 50, 80], method: 'linear' as const, readings: 3 };

  it('an emulated run keeps its virtual date without `now` and says so; with `now` it takes that day', async () => {
    const { calibration } = await calibrateChannel(options);
    expect(calibration).toMatchObject({ id: 'CAL-EMU-2-temperature-2026-01-01', date: '2026-01-01', validUntil: '2027-01-01' });
    expect(calibration.emulated).toBe('calibrated on the emulated board (seed 2, virtual time from 2026-01-01T00:00:00.000Z), not on a physical unit; dated by the virtual clock');
    const dated = await calibrateChannel({ ...options, now: () => Date.parse('2031-06-30T23:00:00Z') });
    expect(dated.calibration).toMatchObject({ id: 'CAL-EMU-2-temperature-2031-06-30', date: '2031-06-30', validUntil: '2032-06-29' });
    expect(dated.calibration.emulated).toMatch(/dated by the wall clock of the run$/);
  });

  it('a record made on the emulated board is refused by a loader on a real board (emulatedBoard: false), taken on the emulated one', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { calibration } = await calibrateChannel(options);
    const text = calibrationRecordText(signCalibrationRecord(calibration, privateKey));
    const key = createPublicKey(privateKey);
    expect(checkCalibrationRecord(text, { key, serialNumber: 'EMU-2', emulatedBoard: true })).toMatchObject({ ok: true });
    expect(checkCalibrationRecord(text, { key, serialNumber: 'EMU-2' })).toMatchObject({ ok: true });
    expect(checkCalibrationRecord(text, { key, serialNumber: 'EMU-2', emulatedBoard: false })).toEqual({
      ok: false,
      reason: 'emulated',
      message: `calibration ${calibration.id} was made on the emulated board, not on this unit (${calibration.emulated})`,
    });
  });

  it('states a standard in the channel\'s unit, refuses one that does not convert, and a run after its certificate expired', async () => {
    const file = join(dir, 'standard-degF.json');
    writeFileSync(file, JSON.stringify({ ...STANDARD, unit: 'degF', uncertainty: { expanded: 0.09, coverageFactor: 2, degreesOfFreedom: 30 }, validUntil: '2031-01-31' }));
    const { spec, standard } = await readStandardFile(file, 'Cel');
    // 0.09 °F is 0.05 °C as a difference.
    expect(spec.certificate!.expanded).toBeCloseTo(0.05, 12);
    expect(spec).toMatchObject({ certificate: { coverageFactor: 2, degreesOfFreedom: 30 }, description: 'DB-0042, dry-block calibrator, PT100 reference probe, certificate D-K-15070-01-00 2026-03-12' });
    expect(standard.certificate).toMatchObject({ coverageFactor: 2, id: 'D-K-15070-01-00 2026-03-12', validUntil: '2031-01-31' });
    expect(standard.certificate!.expanded).toBeCloseTo(0.05, 12);
    await expect(readStandardFile(file, 'hPa')).rejects.toThrow(`${file}: unit: "degF" does not convert to the channel's unit "hPa"`);
    await expect(calibrateChannel({ ...options, standard: spec, standards: [standard], now: () => Date.parse('2031-06-30T12:00:00Z') })).rejects.toThrow(
      'standard: certificate D-K-15070-01-00 2026-03-12 of DB-0042, dry-block calibrator, PT100 reference probe was valid until 2031-01-31, before the calibration date 2031-06-30',
    );
  });
});
