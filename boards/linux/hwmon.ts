/**
 * Temperatures from Linux hwmon (Documentation/hwmon/sysfs-interface.rst): each
 * `/sys/class/hwmon/hwmonN/tempM_input` is millidegrees Celsius, with `name` for the chip and an
 * optional `tempM_label`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusError, ValidationError } from '../../sdk/core/errors.js';

/** One hwmon temperature sensor. */
export interface HwmonTemperature {
  /** "cpu_thermal/temp1" (chip name / sensor), or "hwmon0/temp1" when the chip has no name. */
  readonly id: string;
  readonly chip: string;
  readonly label: string | undefined;
  readonly path: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Every hwmon temperature under `sysRoot` (default "/sys").
 *
 * @example
 * ```ts
 * listHwmonTemperatures().map((t) => t.id) // ['cpu_thermal/temp1']
 * ```
 */
export function listHwmonTemperatures(sysRoot = '/sys'): HwmonTemperature[] {
  const base = join(sysRoot, 'class', 'hwmon');
  let chips: string[];
  try {
    chips = readdirSync(base).filter((name) => /^hwmon\d+$/.test(name));
  } catch {
    return [];
  }
  chips.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return chips.flatMap((chip) => {
    const directory = join(base, chip);
    const name = readText(join(directory, 'name')) ?? chip;
    let files: string[] = [];
    try {
      files = readdirSync(directory);
    } catch {
      return [];
    }
    return files
      .flatMap((file) => {
        const match = /^temp(\d+)_input$/.exec(file);
        return match ? [Number(match[1])] : [];
      })
      .sort((a, b) => a - b)
      .map((n) => ({ id: `${name}/temp${n}`, chip: name, label: readText(join(directory, `temp${n}_label`)), path: join(directory, `temp${n}_input`) }));
  });
}

/**
 * Reads one temperature in °C; `BusError` when the sensor does not answer (ENODATA, EIO).
 *
 * @example
 * ```ts
 * await readHwmonCelsius(listHwmonTemperatures()[0]!) // 48.312
 * ```
 */
export async function readHwmonCelsius(sensor: HwmonTemperature): Promise<number> {
  if (typeof sensor?.path !== 'string') throw new ValidationError('sensor', 'expected a HwmonTemperature from listHwmonTemperatures()');
  const text = readText(sensor.path);
  const milli = text === undefined ? Number.NaN : Number(text);
  if (!Number.isFinite(milli)) throw new BusError('ERR_BUS_TIMEOUT', `${sensor.id}: no reading (${sensor.path} ${text === undefined ? 'unreadable' : `holds "${text}"`})`);
  return milli / 1000;
}
