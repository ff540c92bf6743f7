/**
 * `sensorkit hil calibrate DEVICE --channel ID --key PRIVATE.pem`: a calibration run (the accuracy
 * method at the points) on the emulated device or, with `--target` and a reference instrument, on a
 * real unit in the lab; the correction fitted to it, and the signed calibration record written as
 * `<out>/<calibration id>.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError, ValidationError } from '../../core/errors.js';
import { calibrateChannel, calibrationRecordText, readStandardFile, signCalibrationRecord, type ReferenceStandardOf } from '../../../hil/calibration/index.js';
import { QUANTITIES, type InstrumentQuantity } from '../../../hil/instruments/instrument.js';
import type { CorrectionMethod } from '../../../hil/metrology/correction-fit.js';
import type { ConnectedInstrument } from '../../../hil/run/run-options.js';
import { parseInjection } from '../../../hil/targets/emulated-injection.js';
import { parseTargetSpec } from '../../../hil/targets/target-spec.js';
import { resolveDevice } from '../../runtime/device-source.js';
import { UsageError } from '../usage.js';
import { parseOneLine, parseSeed } from './args.js';
import { closeInstruments, connectInstruments, createRunTarget, instrumentSpecs } from './harness.js';
import { readSigningKey } from './run.js';

export const CALIBRATE_HELP = `Usage: sensorkit hil calibrate DEVICE --channel ID --key PRIVATE.pem [options]

Calibrates a channel of DEVICE: the accuracy method at the points, the correction fitted to their
readings with the uncertainty of a corrected reading (GUM), and writes the signed calibration
record <out>/<calibration id>.json that \`sensorkit run --calibration\` loads. On the emulated
target (default) the record says it is emulated; on a real board (--target) a reference instrument
sources each point and the reference standard's certificate (--standard) enters the uncertainty.

Options:
  --channel ID           the channel to calibrate (required)
  --key FILE             private key (PKCS#8 PEM, P-256 or Ed25519) that signs the record (required)
  --target SPEC          the unit: emulated (default; virtual time), firmata:PATH[@BAUD],
                         serial:PATH[@BAUD] or linux[:ROOT] (real time, as \`hil run --target\`)
  --instrument reference=SPEC
                         the reference that sets each point and states its value (a calibrator):
                         scpi-tcp:HOST[:PORT][?timeout=MS], scpi-serial:PATH[@BAUD][?timeout=MS];
                         required on a real board; sim:calibrator on the emulated target
  --quantity Q           what the reference sources: voltage-dc, current-dc, resistance,
                         temperature, relative-humidity, pressure (default: the channel's quantity)
  --standard FILE.json   the reference standard: id, unit, uncertainty {expanded, coverageFactor},
                         certificate, issuer, validUntil, traceability; required on a real board
  --serial SN            the unit's serial number, when the model takes it from the environment
                         (default: $SENSORKIT_SERIAL, else EMU-<seed>)
  --settle-ms N          wait after setting each point (default: ten filter memories, ≥ 10 s)
  --interval-ms N        time between readings of a point (default: one filter memory)
  --laboratory NAME      the laboratory that performed the calibration
  --seed N               seed of the emulated world; the emulated serial is EMU-<seed> (default: 1)
  --points a,b,c…        calibration points in the channel's unit, at least 5
                         (default: -30,0,25,50,80)
  --method M             offset, gain, linear, two-point or polynomial (default: linear)
  --degree N             degree of a polynomial correction, 1 … 5 (default: 2)
  --readings N           readings per point (default: 10)
  --inject CH:KIND=V     a declared truth on the emulated target (offset, gain, nonlinearity,
                         hysteresis, lag [s], noise [σ], drift [/h]); repeatable
  --performed-by NAME    who performed the calibration
  --out DIR              where to write the record (default: calibrations)
  -h, --help             show this help

Exit status: 0 the record was written, 2 a usage or set-up error (one line): a target that does not
answer, a missing reference instrument or standard, an instrument that does not identify within its
timeout, a standard whose certificate has expired, a calibration run that was aborted.
`;

const METHODS: readonly CorrectionMethod[] = ['offset', 'gain', 'linear', 'two-point', 'polynomial'];

/**
 * Runs `sensorkit hil calibrate`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await calibrateCommand(['examples/env-node', '--channel', 'temperature', '--key', 'keys/private.pem', '--out', 'calibrations']) // 0
 * ```
 */
export async function calibrateCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOneLine(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        channel: { type: 'string' },
        key: { type: 'string' },
        seed: { type: 'string' },
        points: { type: 'string' },
        method: { type: 'string', default: 'linear' },
        degree: { type: 'string' },
        readings: { type: 'string' },
        inject: { type: 'string', multiple: true },
        'performed-by': { type: 'string' },
        out: { type: 'string', default: 'calibrations' },
        target: { type: 'string', default: 'emulated' },
        instrument: { type: 'string', multiple: true },
        quantity: { type: 'string' },
        standard: { type: 'string' },
        serial: { type: 'string' },
        'settle-ms': { type: 'string' },
        'interval-ms': { type: 'string' },
        laboratory: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }),
  );
  if (values.help) return void process.stdout.write(CALIBRATE_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil calibrate takes one DEVICE, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  if (values.channel === undefined || values.channel === '') throw new UsageError('hil calibrate: --channel ID is required');
  if (values.key === undefined || values.key === '') throw new UsageError('hil calibrate: --key PRIVATE.pem is required');
  const method = values.method as CorrectionMethod;
  if (!METHODS.includes(method)) throw new UsageError(`--method: expected ${METHODS.join(', ')}, got "${values.method}"`);
  const points = values.points === undefined ? [-30, 0, 25, 50, 80] : values.points.split(',').map((text) => parseNumber('--points', text));
  if (points.length < 5) throw new UsageError(`--points: at least 5 points, got ${points.length}`);
  const degree = values.degree === undefined ? undefined : parseInteger('--degree', values.degree, 1, 5);
  const readings = values.readings === undefined ? undefined : parseInteger('--readings', values.readings, 2, 10_000);
  const settleMs = values['settle-ms'] === undefined ? undefined : parseInteger('--settle-ms', values['settle-ms'], 0, 86_400_000);
  const intervalMs = values['interval-ms'] === undefined ? undefined : parseInteger('--interval-ms', values['interval-ms'], 0, 86_400_000);
  const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
  const inject = (values.inject ?? []).flatMap((text) => parseInjection(text));
  if (values.serial !== undefined && (values.serial.trim() === '' || /[\r\n]/.test(values.serial))) throw new UsageError('--serial: expected one line of text');
  const specs = instrumentSpecs(values.instrument ?? []);
  for (const role of Object.keys(specs)) {
    if (role !== 'reference') throw new UsageError(`--instrument ${role}: hil calibrate has one instrument role, "reference" (the calibrator that sets each point)`);
  }
  const key = await readSigningKey(values.key);
  const device = positionals[0]!;

  // The channel, its unit and quantity, before anything opens.
  const { model } = await resolveDevice(device);
  const channel = model.channel(values.channel);
  if (channel === undefined) throw new ValidationError('--channel', `no channel "${values.channel}" in ${model.id} (channels: ${model.channels.map((c) => c.id).join(', ')})`);
  const targetKind = parseTargetSpec(values.target).kind;
  const reference = specs.reference;
  const quantity = instrumentQuantity(values.quantity, channel.quantity);
  if (targetKind === 'emulated') {
    if (reference !== undefined && !reference.startsWith('sim:')) {
      throw new ValidationError('instruments.reference', `${reference}: the emulated target's input follows a simulated instrument only (sim:calibrator); a SCPI instrument's output does not reach it`);
    }
  } else {
    if (reference === undefined) {
      throw new ValidationError('instruments', `target ${values.target} sets no physical input itself: give --instrument reference=SPEC, the calibrator that sources ${quantity ?? channel.quantity} (scpi-tcp:HOST[:PORT] or scpi-serial:PATH)`);
    }
    if (reference.startsWith('sim:')) {
      throw new ValidationError('instruments.reference', `${reference}: a simulated instrument's output does not reach the real board on ${values.target}; give the calibrator wired to it (scpi-tcp:HOST[:PORT] or scpi-serial:PATH)`);
    }
    if (values.standard === undefined) {
      throw new ValidationError('standard', `a calibration on ${values.target} states the reference standard and its certificate: give --standard FILE.json`);
    }
  }
  if (reference !== undefined && quantity === undefined) {
    throw new UsageError(`--quantity: channel ${channel.id} measures ${channel.quantity}, which no instrument sources; give one of ${QUANTITIES.join(', ')}`);
  }
  let standard: ReferenceStandardOf | undefined;
  if (values.standard !== undefined) {
    standard = await readStandardFile(values.standard, channel.unit);
    const today = new Date().toISOString().slice(0, 10);
    if (standard.file.validUntil < today) {
      throw new ValidationError(values.standard, `the certificate ${standard.file.certificate} of ${standard.file.id} was valid until ${standard.file.validUntil}; recalibrate the standard first`);
    }
  }

  const target = createRunTarget(
    device,
    { name: 'calibration', spec: values.target, seed, instruments: specs, ...(inject.length === 0 ? {} : { inject }), ...(values.serial === undefined ? {} : { serialNumber: values.serial }) },
    { observation: 'in-process' },
  );
  let instruments: Record<string, ConnectedInstrument> = {};
  let calibration;
  try {
    instruments = await connectInstruments(specs, target, seed);
    ({ calibration } = await calibrateChannel({
      device,
      seed,
      channel: channel.id,
      method,
      points,
      target,
      // An emulated run is on virtual time: the record is dated the day it is made.
      now: Date.now,
      instruments,
      ...(reference === undefined || quantity === undefined ? {} : { reference: { role: 'reference', quantity } }),
      ...(standard === undefined ? {} : { standard: standard.spec, standards: [standard.standard] }),
      ...(degree === undefined ? {} : { degree }),
      ...(readings === undefined ? {} : { readings }),
      ...(settleMs === undefined ? {} : { settleMs }),
      ...(intervalMs === undefined ? {} : { intervalMs }),
      ...(values['performed-by'] === undefined ? {} : { performedBy: values['performed-by'] }),
      ...(values.laboratory === undefined ? {} : { laboratory: values.laboratory }),
    }));
  } finally {
    await closeInstruments(instruments);
    await target.close().catch(() => undefined);
  }
  const file = join(values.out, `${calibration.id}.json`);
  try {
    await mkdir(values.out, { recursive: true });
    await writeFile(file, calibrationRecordText(signCalibrationRecord(calibration, key)), { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StorageError(file, code === 'EEXIST' ? 'a calibration record of that id exists; not overwritten' : `cannot write: ${code ?? (error as Error).message}`, { cause: error });
  }
  const u = calibration.uncertainty;
  const round = (value: number): string => Number(value.toPrecision(6)).toString();
  process.stdout.write(
    `${calibration.id}  ${calibration.device.model}, serial ${calibration.device.serialNumber}, ${calibration.channel} [${calibration.unit}]\n` +
      `  correction  ${describeCorrection(calibration.correction)}\n` +
      `  coefficients  ${calibration.coefficients.map(round).join(', ')}\n` +
      `  U = ${round(u.expanded)} ${calibration.unit} (k = ${round(u.coverageFactor)}, ${Math.round(u.coverageProbability * 100)} %) over ${round(calibration.range.low)} … ${round(calibration.range.high)} ${calibration.unit}\n` +
      `  standards  ${calibration.standards.map((st) => `${st.description}${st.certificate?.id === undefined ? '' : `, certificate ${st.certificate.id}`}; traceability ${st.traceability}`).join(' | ')}\n` +
      `  date ${calibration.date}, valid until ${calibration.validUntil}\n` +
      (calibration.emulated === undefined ? '' : `  EMULATED: ${calibration.emulated}\n`) +
      `  signed record: ${file}\n`,
  );
  return 0;
}

/** `linear: gain 0.990099, offset -0.512` from the model's correction object. */
function describeCorrection(correction: object): string {
  const { method, ...rest } = correction as { method: string } & Record<string, unknown>;
  const fields = Object.entries(rest).map(([name, value]) => `${name} ${Array.isArray(value) ? `[${value.map((v) => Number(Number(v).toPrecision(6))).join(', ')}]` : typeof value === 'number' ? Number(value.toPrecision(6)) : JSON.stringify(value)}`);
  return `${method}${fields.length === 0 ? '' : `: ${fields.join(', ')}`}`;
}

/** The instrument quantity a reference sources for a channel: `--quantity`, else the channel's own quantity when an instrument sources it. */
function instrumentQuantity(given: string | undefined, channelQuantity: string): InstrumentQuantity | undefined {
  if (given !== undefined) {
    if (!(QUANTITIES as readonly string[]).includes(given)) throw new UsageError(`--quantity: expected ${QUANTITIES.join(', ')}, got "${given}"`);
    return given as InstrumentQuantity;
  }
  const named = ({ voltage: 'voltage-dc', current: 'current-dc' } as Record<string, string>)[channelQuantity] ?? channelQuantity;
  return (QUANTITIES as readonly string[]).includes(named) ? (named as InstrumentQuantity) : undefined;
}

function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag}: expected numbers separated by commas, got "${text}"`);
  return value;
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < min || value > max) throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${text}"`);
  return value;
}
