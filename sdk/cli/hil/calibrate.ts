/**
 * `sensorkit hil calibrate DEVICE --channel ID --key PRIVATE.pem`: a calibration run on the emulated
 * device (the accuracy method at the points), the correction fitted to it, and the signed
 * calibration record written as `<out>/<calibration id>.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError } from '../../core/errors.js';
import { calibrateChannel, calibrationRecordText, signCalibrationRecord } from '../../../hil/calibration/index.js';
import type { CorrectionMethod } from '../../../hil/metrology/correction-fit.js';
import { parseInjection } from '../../../hil/targets/emulated-injection.js';
import { UsageError } from '../usage.js';
import { parseOneLine, parseSeed } from './args.js';
import { readSigningKey } from './run.js';

export const CALIBRATE_HELP = `Usage: sensorkit hil calibrate DEVICE --channel ID --key PRIVATE.pem [options]

Calibrates a channel of the emulated DEVICE: the accuracy method at the points, the correction
fitted to their readings with the uncertainty of a corrected reading (GUM), and writes the signed
calibration record <out>/<calibration id>.json that \`sensorkit run --calibration\` loads.

Options:
  --channel ID           the channel to calibrate (required)
  --key FILE             private key (PKCS#8 PEM, P-256 or Ed25519) that signs the record (required)
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

Exit status: 0 the record was written, 2 a usage or set-up error.
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
  const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
  const inject = (values.inject ?? []).flatMap((text) => parseInjection(text));
  const key = await readSigningKey(values.key);

  const { calibration } = await calibrateChannel({
    device: positionals[0]!,
    seed,
    channel: values.channel,
    method,
    points,
    ...(degree === undefined ? {} : { degree }),
    ...(readings === undefined ? {} : { readings }),
    ...(inject.length === 0 ? {} : { inject }),
    ...(values['performed-by'] === undefined ? {} : { performedBy: values['performed-by'] }),
  });
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
      `  valid until ${calibration.validUntil}\n` +
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
