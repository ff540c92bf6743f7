/** `sensorkit hil init DEVICE`: a test plan written from the device model. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError } from '../../core/errors.js';
import { planFromModel } from '../../../hil/plan/plan-from-model.js';
import { resolveDevice } from '../../runtime/device-source.js';
import { UsageError } from '../usage.js';

export const INIT_HELP = `Usage: sensorkit hil init DEVICE [--channel ID] [--out FILE]

Writes a test plan (JSON) from a device model: for each channel (or the one named), test points over
its range, limits from its accuracy, waits from its sample rate and filters, and the methods that
fit its quantity (accuracy, linearity, hysteresis, repeatability, step response), each with GUM
uncertainty and an ILAC-G8 decision. Edit it, then \`sensorkit hil run FILE\`.

  DEVICE                 a device file or folder (e.g. examples/env-node)

Options:
  --channel ID           only this channel
  --out FILE             write the plan here (an existing file is not overwritten); default: print it
  -h, --help             show this help
`;

/**
 * Runs `sensorkit hil init`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await initCommand(['examples/env-node', '--channel', 'temperature', '--out', 'plans/en-1-temperature.json'])
 * ```
 */
export async function initCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { channel: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(INIT_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil init takes one DEVICE, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  const devicePath = positionals[0]!;
  const { model } = await resolveDevice(devicePath);
  if (values.out !== undefined && existsSync(values.out)) throw new UsageError(`--out ${values.out} exists; choose another file or remove it first`);
  // The plan names its device relative to its own folder, as a plan file resolves it.
  const device = values.out === undefined ? devicePath : planRelative(values.out, devicePath);
  const spec = planFromModel(model, { device, ...(values.channel === undefined ? {} : { channel: values.channel }) });
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  if (values.out === undefined) {
    process.stdout.write(text);
  } else {
    await writeFile(values.out, text, { flag: 'wx' }).catch((error: unknown) => {
      throw new StorageError(values.out!, `cannot write the plan: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    });
    process.stderr.write(`wrote ${values.out}: ${spec.phases.length} phases for ${model.id}; run it with: sensorkit hil run ${values.out}\n`);
  }
  return 0;
}

/** The device's path as seen from the plan file's folder, with `./` so it reads as a path. */
function planRelative(planFile: string, devicePath: string): string {
  const path = relative(dirname(resolve(planFile)), resolve(devicePath)).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}
