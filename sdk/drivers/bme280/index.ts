/**
 * BME280 driver: temperature, relative humidity and pressure from a Bosch BME280 on I2C, in forced
 * mode (one conversion per `sample()`, the part sleeps in between; datasheet §3.3.3).
 */
import { SensorError, StateError, ValidationError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { i2cTarget, type I2cDevice } from '../../io/board.js';
import { describe, join, rejectUnknownKeys, requireObject } from '../../core/check.js';
import type { DriverDefinition, DriverIo, DriverOutput, Reading, SensorDriver } from '../contract.js';
import { ClockWaits } from '../clock-waits.js';
import { Exclusive } from '../exclusive.js';
import {
  CALIBRATION_BLOCK1_LENGTH,
  CALIBRATION_BLOCK2_LENGTH,
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  parseCalibration,
  type Bme280Calibration,
} from './compensation.js';
import {
  CHIP_ID,
  DATA_LENGTH,
  FIELD,
  FILTER_CODE,
  MODE,
  OVERSAMPLING_CODE,
  REGISTER,
  RESET_WORD,
  SKIPPED_20BIT,
  getField,
  maxMeasurementMs,
  setField,
  type FilterCoefficient,
  type Oversampling,
} from './registers.js';

/** Outputs of the BME280. */
export type Bme280Output = 'temperature' | 'humidity' | 'pressure';

/** Options of the BME280 driver. */
export interface Bme280Options {
  /** Oversampling per quantity: 1, 2, 4, 8 or 16 (default 1 each). More is quieter and slower. */
  oversampling?: { temperature?: Oversampling; pressure?: Oversampling; humidity?: Oversampling };
  /** IIR filter coefficient for temperature and pressure: 0 (off, default), 2, 4, 8 or 16. */
  filter?: FilterCoefficient;
}

interface Settings {
  readonly t: Oversampling;
  readonly p: Oversampling;
  readonly h: Oversampling;
  readonly filter: FilterCoefficient;
}

const OVERSAMPLINGS = [1, 2, 4, 8, 16] as const;
const FILTERS = [0, 2, 4, 8, 16] as const;
/** How long to keep polling `status.measuring` after the datasheet maximum has passed. */
const POLL_LIMIT = 10;
const POLL_MS = 1;
/** §1.1 Table 1: start-up time after a power-on-reset, 2 ms. */
const STARTUP_MS = 2;
/**
 * Bus time of one sample at 400 kHz (I2C fast mode): the ctrl_hum/ctrl_meas write (address and
 * 4 bytes), one status read (address, register, address, 1 byte) and the data burst (address,
 * register, address, 8 bytes); 9 clocks a byte plus one for each START, repeated START and STOP.
 */
const SAMPLE_BUS_MS = (47 + 39 + 102) / 400;

// Datasheet §1.2–1.4 (humidity, pressure, temperature parameter specifications), absolute accuracy:
// humidity ±3 %RH (stated for 20…80 %RH at 25 °C), pressure ±1.0 hPa (300…1100 hPa, 0…65 °C),
// temperature ±1.0 °C (stated for 0…65 °C; the datasheet gives no tighter figure beyond).
const OUTPUTS: Readonly<Record<Bme280Output, DriverOutput>> = Object.freeze({
  temperature: { unit: 'Cel', quantity: 'temperature', range: { min: -40, max: 85 }, tolerance: { absolute: 1 } },
  humidity: { unit: '%RH', quantity: 'relative-humidity', range: { min: 0, max: 100 }, tolerance: { absolute: 3 } },
  pressure: { unit: 'Pa', quantity: 'pressure', range: { min: 30_000, max: 110_000 }, tolerance: { absolute: 100 } },
});

/** Checks BME280 options; throws `ValidationError` with the path of the bad field. */
function parseOptions(options: Readonly<Record<string, unknown>>, path: string): Settings {
  rejectUnknownKeys(options, ['oversampling', 'filter'], path);
  const oversampling = options.oversampling === undefined ? {} : requireObject(options.oversampling, join(path, 'oversampling'));
  const osPath = join(path, 'oversampling');
  rejectUnknownKeys(oversampling, ['temperature', 'pressure', 'humidity'], osPath);
  const pick = <T extends number>(value: unknown, allowed: readonly T[], name: string, where: string, fallback: T): T => {
    if (value === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(value)) {
      throw new ValidationError(where, `Expected \`${name}\` to be one of ${allowed.join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  };
  return {
    t: pick(oversampling.temperature, OVERSAMPLINGS, 'oversampling.temperature', join(osPath, 'temperature'), 1),
    p: pick(oversampling.pressure, OVERSAMPLINGS, 'oversampling.pressure', join(osPath, 'pressure'), 1),
    h: pick(oversampling.humidity, OVERSAMPLINGS, 'oversampling.humidity', join(osPath, 'humidity'), 1),
    filter: pick(options.filter, FILTERS, 'filter', join(path, 'filter'), 0),
  };
}

/**
 * Most forced-mode samples a second: each takes the maximum measurement time (§9.1, Appendix B),
 * which the driver waits before reading, plus its bus transfers.
 */
function forcedModeRateHz({ t, p, h }: Settings): number {
  return 1000 / (maxMeasurementMs(t, p, h) + SAMPLE_BUS_MS);
}

function describeSettings(settings: Settings): string {
  return `mode=forced osrs_t=x${settings.t} osrs_p=x${settings.p} osrs_h=x${settings.h} filter=${settings.filter === 0 ? 'off' : settings.filter}`;
}

/**
 * Reads a BME280. On first use it checks the chip id, resets the part and reads its trimming
 * coefficients; each `sample()` then triggers one forced conversion, waits the datasheet's maximum
 * measurement time on the clock and compensates the raw words.
 *
 * @example
 * ```ts
 * const driver = new Bme280Driver({ clock, i2c: board.openI2c({ address: 0x76 }) }, { oversampling: { pressure: 4 } })
 * const { values } = await driver.sample() // { temperature: 21.5, humidity: 45.1, pressure: 101325 }
 * driver.close()
 * ```
 */
export class Bme280Driver implements SensorDriver<Bme280Output> {
  readonly #clock: Clock;
  readonly #waits: ClockWaits;
  readonly #i2c: I2cDevice;
  #settings: Settings;
  #calibration: Bme280Calibration | undefined;
  /** The config register value last written, so a changed filter is written before the next trigger. */
  #writtenConfig: number | undefined;
  #closed = false;
  readonly #exclusive = new Exclusive();

  constructor(io: DriverIo, options: Readonly<Record<string, unknown>> = {}) {
    if (io.i2c === undefined) throw new ValidationError('io.i2c', 'the bme280 driver needs an I2C device');
    this.#clock = io.clock;
    this.#waits = new ClockWaits(io.clock);
    this.#i2c = io.i2c;
    this.#settings = parseOptions(options, '');
  }

  /** Changes oversampling or filter; omitted options keep their current value. */
  async configure(options: Readonly<Record<string, unknown>>): Promise<void> {
    const current = this.#settings;
    let oversampling: Record<string, unknown> = { temperature: current.t, pressure: current.p, humidity: current.h };
    if (options.oversampling !== undefined) {
      oversampling = { ...oversampling, ...requireObject(options.oversampling, 'oversampling') };
    }
    const settings = parseOptions({ filter: current.filter, ...options, oversampling }, '');
    await this.#exclusive.run(async () => {
      this.#assertOpen();
      this.#settings = settings;
    });
  }

  sample(): Promise<Reading<Bme280Output>> {
    return this.#exclusive.run(() => this.#sample());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waits.cancelAll(new StateError(`the bme280 driver at ${this.#source()} is closed`));
    this.#i2c.close();
  }

  async #sample(): Promise<Reading<Bme280Output>> {
    this.#assertOpen();
    const calibration = this.#calibration ?? (await this.#initialise());
    const { t, p, h, filter } = this.#settings;
    const config = setField(FIELD.config.filter, FILTER_CODE[filter]);
    if (config !== this.#writtenConfig) {
      // Written while the part sleeps: in normal mode the part may ignore config writes (§5.4.6).
      await this.#i2c.writeRegister(REGISTER.config, [config]);
      this.#writtenConfig = config;
    }
    // §5.4.3: ctrl_hum takes effect only after a ctrl_meas write, hence one transfer of both pairs.
    const ctrlMeas =
      setField(FIELD.ctrlMeas.osrsT, OVERSAMPLING_CODE[t]) |
      setField(FIELD.ctrlMeas.osrsP, OVERSAMPLING_CODE[p]) |
      setField(FIELD.ctrlMeas.mode, MODE.forced);
    await this.#i2c.write([REGISTER.ctrlHum, setField(FIELD.ctrlHum.osrsH, OVERSAMPLING_CODE[h]), REGISTER.ctrlMeas, ctrlMeas]);
    await this.#waitWhile(FIELD.status.measuring, maxMeasurementMs(t, p, h), 'conversion');
    const data = await this.#i2c.readRegister(REGISTER.data, DATA_LENGTH);
    const time = this.#clock.now();
    this.#assertOpen();
    return { time, values: this.#compensate(data, calibration), provenance: this.#provenance() };
  }

  #compensate(data: Uint8Array, calibration: Bme280Calibration): Record<Bme280Output, number> {
    const byte = (index: number): number => data[index] ?? 0;
    const adcP = (byte(0) << 12) | (byte(1) << 4) | (byte(2) >> 4);
    const adcT = (byte(3) << 12) | (byte(4) << 4) | (byte(5) >> 4);
    const adcH = (byte(6) << 8) | byte(7);
    // §4: a skipped or never-run measurement reads 0x80000; with every osrs set that means the part
    // lost its configuration (a brown-out reset) between trigger and readout.
    if (adcT === SKIPPED_20BIT || adcP === SKIPPED_20BIT) {
      // Start over on the next sample: check the id, reload trimming, rewrite config.
      this.#calibration = undefined;
      this.#writtenConfig = undefined;
      throw new SensorError(`BME280 at ${this.#source()} returned no measurement (raw 0x80000): the part was reset`);
    }
    const { celsius, tFine } = compensateTemperature(adcT, calibration);
    return {
      temperature: celsius,
      humidity: compensateHumidity(adcH, tFine, calibration),
      pressure: compensatePressure(adcP, tFine, calibration),
    };
  }

  /** Chip id check, soft reset and trimming readout (§5.4.1, §5.4.2, §4.2.2). */
  async #initialise(): Promise<Bme280Calibration> {
    const [id] = await this.#i2c.readRegister(REGISTER.chipId, 1);
    if (id !== CHIP_ID) {
      const hint = id !== undefined && id >= 0x56 && id <= 0x58 ? ' (a BMP280, which has no humidity sensor)' : '';
      throw new SensorError(
        `expected BME280 chip id 0x60 at ${this.#source()} register 0xD0, got 0x${(id ?? 0).toString(16).padStart(2, '0')}${hint}`,
      );
    }
    await this.#i2c.writeRegister(REGISTER.reset, [RESET_WORD]);
    this.#writtenConfig = undefined;
    await this.#waitWhile(FIELD.status.imUpdate, STARTUP_MS, 'NVM copy after reset');
    const block1 = await this.#i2c.readRegister(REGISTER.calib00, CALIBRATION_BLOCK1_LENGTH);
    const block2 = await this.#i2c.readRegister(REGISTER.calib26, CALIBRATION_BLOCK2_LENGTH);
    const calibration = parseCalibration(block1, block2);
    // Blank NVM (all 0x00 or 0xFF) would divide by zero in the pressure formula.
    if (calibration.T1 === 0 || calibration.P1 === 0 || calibration.T1 === 0xffff || calibration.P1 === 0xffff) {
      throw new SensorError(`BME280 at ${this.#source()} has blank trimming coefficients (dig_T1=${calibration.T1}, dig_P1=${calibration.P1})`);
    }
    this.#calibration = calibration;
    return calibration;
  }

  /** Waits `ms` on the clock, then polls `status` until `field` clears. */
  async #waitWhile(field: (typeof FIELD.status)[keyof typeof FIELD.status], ms: number, what: string): Promise<void> {
    await this.#waits.wait(ms);
    for (let attempt = 0; ; attempt++) {
      this.#assertOpen();
      const [status] = await this.#i2c.readRegister(REGISTER.status, 1);
      if (getField(field, status ?? 0) === 0) return;
      if (attempt >= POLL_LIMIT) {
        throw new SensorError(`BME280 at ${this.#source()}: ${what} still running ${ms + POLL_LIMIT * POLL_MS} ms after it started`);
      }
      await this.#waits.wait(POLL_MS);
    }
  }

  #provenance(): Reading['provenance'] {
    return { part: 'bme280', source: this.#source(), configuration: describeSettings(this.#settings) };
  }

  #source(): string {
    return i2cTarget(this.#i2c.bus, this.#i2c.address);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StateError(`the bme280 driver at ${this.#source()} is closed`);
  }
}

/**
 * The BME280 part: temperature (Cel), humidity (%RH) and pressure (Pa) at 0x76 or 0x77.
 * `maxRateHz` is for the default x1 oversampling in forced mode (9.3 ms maximum measurement plus
 * 0.47 ms on a 400 kHz bus: 102 Hz); `maxRateFor` gives it for other oversampling (x16 on all
 * three: 112.8 ms, 8.8 Hz). The IIR filter is not part of the measurement time (§9.1).
 *
 * @example
 * ```ts
 * registerDriver(bme280Driver) // already built in
 * bme280Driver.validateOptions({ filter: 4 }, 'channels[0].driver.options')
 * bme280Driver.maxRateFor?.({ oversampling: { temperature: 16, pressure: 16, humidity: 16 } }) // 8.83
 * ```
 */
export const bme280Driver: DriverDefinition<Bme280Output> = Object.freeze({
  part: 'bme280',
  description: 'Bosch BME280 temperature, humidity and pressure sensor (I2C, forced mode)',
  io: 'i2c',
  addresses: [0x76, 0x77],
  maxRateHz: Math.floor(forcedModeRateHz(parseOptions({}, ''))),
  outputs: OUTPUTS,
  validateOptions(options: Readonly<Record<string, unknown>>, path: string): Readonly<Record<Bme280Output, DriverOutput>> {
    parseOptions(options, path);
    return OUTPUTS;
  },
  maxRateFor(options: Readonly<Record<string, unknown>>): number {
    return forcedModeRateHz(parseOptions(options, ''));
  },
  describeRateOptions(options: Readonly<Record<string, unknown>>): string {
    const { t, p, h } = parseOptions(options, '');
    return `oversampling t×${t} p×${p} h×${h}`;
  },
  create(io: DriverIo, options: Readonly<Record<string, unknown>>): SensorDriver<Bme280Output> {
    return new Bme280Driver(io, options);
  },
});
