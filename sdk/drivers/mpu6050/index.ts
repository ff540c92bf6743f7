/**
 * MPU-6050 driver: three-axis acceleration and die temperature from an InvenSense MPU-6050 on I2C.
 * The part samples on its own at 1 kHz; `sample()` reads the newest output registers in one burst.
 * With `acquisition: 'fifo'` the driver also offers sensor-clocked acquisition: the part queues
 * every accelerometer sample in its 1024-byte FIFO at `rateHz` and the host drains it in bursts.
 */
import { i2cTarget, type I2cDevice } from '../../io/board.js';
import type { Clock } from '../../core/clock.js';
import { SensorError, StateError, ValidationError } from '../../core/errors.js';
import { describe, join, rejectUnknownKeys } from '../../core/check.js';
import type { AcquisitionMode, DriverDefinition, DriverIo, DriverOutput, Reading, SensorClockedAcquisition, SensorDriver } from '../contract.js';
import { ClockWaits } from '../clock-waits.js';
import { Exclusive } from '../exclusive.js';
import { Mpu6050Fifo } from './fifo.js';
import {
  ACCEL_RANGE,
  BANDWIDTHS,
  BURST_LENGTH,
  CLOCK_PLL_X,
  DLPF,
  DLPF_DELAY_MS,
  FIELD,
  RANGES,
  REGISTER,
  WHO_AM_I,
  divisorFor,
  sampleRateDivider,
  setField,
  type AccelRange,
  type DlpfHz,
} from './registers.js';

/** Outputs of the MPU-6050. */
export type Mpu6050Output = 'acceleration-x' | 'acceleration-y' | 'acceleration-z' | 'temperature';

/** Options of the MPU-6050 driver. */
export interface Mpu6050Options {
  /** Accelerometer full scale, ±g: 2 (default), 4, 8 or 16. */
  range?: AccelRange;
  /** Digital low-pass bandwidth, Hz: 260 (default, filter off), 184, 94, 44, 21, 10 or 5. */
  dlpfHz?: DlpfHz;
  /**
   * `'timed'` (default): each `sample()` reads the newest output registers. `'fifo'`: the part
   * queues every sample in its FIFO and the sampler drains it (sensor-clocked, no lost samples).
   */
  acquisition?: 'timed' | 'fifo';
  /**
   * FIFO sample rate, Hz (only with `acquisition: 'fifo'`); default 1000. Gyro rate / (1 + n) for
   * n 0…255: 8 kHz with the DLPF off (8000, 4000, 2000, 1000, 500 …), 1 kHz with it on. The
   * accelerometer itself updates at 1 kHz, so above that frames repeat values.
   */
  rateHz?: number;
}

interface Settings {
  readonly range: AccelRange;
  readonly dlpfHz: DlpfHz;
  readonly acquisition: 'timed' | 'fifo';
  readonly rateHz: number;
}

const G0 = 9.80665;
/** RM §4.28: after DEVICE_RESET, wait 100 ms before using the part. */
const RESET_MS = 100;
/** PS §6.1: gyro (and so the PLL clock) start-up time from sleep, 30 ms. */
const WAKE_MS = 30;

function parseOptions(options: Readonly<Record<string, unknown>>, path: string): Settings {
  rejectUnknownKeys(options, ['range', 'dlpfHz', 'acquisition', 'rateHz'], path);
  const pick = <T>(name: string, allowed: readonly T[], fallback: T, unit: string): T => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(value)) {
      throw new ValidationError(join(path, name), `Expected \`${name}\` to be one of ${allowed.join(', ')} ${unit}, got ${describe(value)}`);
    }
    return value as T;
  };
  const range = pick('range', RANGES, 2, 'g');
  const dlpfHz = pick('dlpfHz', BANDWIDTHS, 260, 'Hz');
  const acquisition = pick('acquisition', ['timed', 'fifo'] as const, 'timed', '');
  const rateHz = options.rateHz ?? 1000;
  if (options.rateHz !== undefined && acquisition !== 'fifo') {
    throw new ValidationError(join(path, 'rateHz'), "`rateHz` sets the FIFO sample rate; it needs `acquisition: 'fifo'`");
  }
  if (typeof rateHz !== 'number' || divisorFor(rateHz, dlpfHz) === undefined) {
    const top = dlpfHz === 260 ? 8000 : 1000;
    throw new ValidationError(join(path, 'rateHz'), `Expected \`rateHz\` to be ${top} Hz / n for an integer n from 1 to 256 (dlpfHz ${dlpfHz}), got ${describe(rateHz)}`);
  }
  return { range, dlpfHz, acquisition, rateHz };
}

/**
 * Stated accuracy (PS-MPU-6000A §6.2): zero-g initial calibration tolerance ±80 mg (z; ±50 mg x/y)
 * plus cross-axis sensitivity ±2 % of the 1 g the other axes see at rest, so ±100 mg absolute;
 * sensitivity initial tolerance ±3 % plus nonlinearity 0.5 %, so 3.5 % relative. The die
 * temperature sensor's offset is given as typical only (35 °C at −521 LSB) with ±1 °C linearity;
 * ±3 °C is this driver's bound, not a datasheet guarantee.
 */
function outputsFor(settings: Settings): Readonly<Record<Mpu6050Output, DriverOutput>> {
  const span = settings.range * G0;
  const axis: DriverOutput = {
    unit: 'm/s2',
    quantity: 'acceleration',
    range: { min: -span, max: span },
    tolerance: { absolute: 0.1 * G0, relative: 0.035 },
  };
  return Object.freeze({
    'acceleration-x': axis,
    'acceleration-y': axis,
    'acceleration-z': axis,
    temperature: { unit: 'Cel', quantity: 'temperature', range: { min: -40, max: 85 }, tolerance: { absolute: 3 } },
  });
}

/**
 * Reads an MPU-6050. On first use it checks WHO_AM_I, resets the part, wakes it (it powers up
 * asleep) on the gyro PLL clock and sets range, DLPF and a 1 kHz sample rate.
 *
 * @example
 * ```ts
 * const imu = new Mpu6050Driver({ clock, i2c: board.openI2c({ address: 0x68 }) }, { range: 4, dlpfHz: 44 })
 * const { values } = await imu.sample() // { 'acceleration-z': 9.81, temperature: 27.3, … }
 *
 * const fifo = new Mpu6050Driver(io, { range: 4, acquisition: 'fifo', rateHz: 1000 })
 * await fifo.acquisition!.start()
 * const { frames } = await fifo.acquisition!.drain() // every sample since start()
 * ```
 */
export class Mpu6050Driver implements SensorDriver<Mpu6050Output> {
  readonly #clock: Clock;
  readonly #waits: ClockWaits;
  readonly #i2c: I2cDevice;
  #settings: Settings;
  /** Settings written to the part; undefined until the part is initialised. */
  #applied: Settings | undefined;
  #closed = false;
  readonly #exclusive = new Exclusive();
  readonly acquisition: SensorClockedAcquisition<Mpu6050Output> | undefined;

  constructor(io: DriverIo, options: Readonly<Record<string, unknown>> = {}) {
    if (io.i2c === undefined) throw new ValidationError('io.i2c', 'the mpu6050 driver needs an I2C device');
    this.#clock = io.clock;
    this.#waits = new ClockWaits(io.clock);
    this.#i2c = io.i2c;
    this.#settings = parseOptions(options, '');
    const settings = this.#settings;
    this.acquisition =
      settings.acquisition === 'fifo'
        ? new Mpu6050Fifo({
            i2c: this.#i2c,
            clock: this.#clock,
            rateHz: settings.rateHz,
            run: (task) =>
              this.#exclusive.run(async () => {
                this.#assertOpen();
                if (this.#applied === undefined) await this.#initialise();
                if (this.#applied !== this.#settings) await this.#apply(this.#settings);
                return task(this.#settings.range);
              }),
            provenance: () => this.#provenance(this.#settings),
          })
        : undefined;
  }

  /** Changes range or bandwidth; omitted options keep their current value. The acquisition mode and FIFO rate are fixed at construction. */
  async configure(options: Readonly<Record<string, unknown>>): Promise<void> {
    const { range, dlpfHz, acquisition, rateHz } = this.#settings;
    const current = acquisition === 'fifo' ? { range, dlpfHz, acquisition, rateHz } : { range, dlpfHz };
    const settings = parseOptions({ ...current, ...options }, '');
    if (settings.acquisition !== this.#settings.acquisition || settings.rateHz !== this.#settings.rateHz) {
      throw new ValidationError('acquisition', 'the acquisition mode and FIFO rate are fixed when the driver is created');
    }
    await this.#exclusive.run(async () => {
      this.#assertOpen();
      this.#settings = settings;
    });
  }

  sample(): Promise<Reading<Mpu6050Output>> {
    return this.#exclusive.run(async () => {
      this.#assertOpen();
      if (this.#applied === undefined) await this.#initialise();
      if (this.#applied !== this.#settings) await this.#apply(this.#settings);
      const settings = this.#settings;
      const data = await this.#i2c.readRegister(REGISTER.accelXoutH, BURST_LENGTH);
      const time = this.#clock.now();
      this.#assertOpen();
      const word = (index: number): number => ((((data[index] ?? 0) << 8) | (data[index + 1] ?? 0)) << 16) >> 16;
      const perLsb = G0 / ACCEL_RANGE[settings.range].lsbPerG;
      return {
        time,
        values: {
          'acceleration-x': word(0) * perLsb,
          'acceleration-y': word(2) * perLsb,
          'acceleration-z': word(4) * perLsb,
          // RM §4.18: temperature in °C = TEMP_OUT / 340 + 36.53.
          temperature: word(6) / 340 + 36.53,
        },
        provenance: this.#provenance(settings),
      };
    });
  }

  #provenance(settings: Settings): Reading['provenance'] {
    const configuration =
      settings.acquisition === 'fifo'
        ? `afs=±${settings.range}g dlpf=${settings.dlpfHz}Hz rate=${settings.rateHz}Hz fifo`
        : `afs=±${settings.range}g dlpf=${settings.dlpfHz}Hz rate=1000Hz`;
    return { part: 'mpu6050', source: this.#source(), configuration };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waits.cancelAll(new StateError(`the mpu6050 driver at ${this.#source()} is closed`));
    this.#i2c.close();
  }

  async #initialise(): Promise<void> {
    const [id] = await this.#i2c.readRegister(REGISTER.whoAmI, 1);
    if (id !== WHO_AM_I) {
      const hint = id === 0x70 || id === 0x71 || id === 0x73 ? ' (an MPU-6500/9250-family part, a different register map)' : '';
      throw new SensorError(
        `expected MPU-6050 WHO_AM_I 0x68 at ${this.#source()} register 0x75, got 0x${(id ?? 0).toString(16).padStart(2, '0')}${hint}`,
      );
    }
    await this.#i2c.writeRegister(REGISTER.pwrMgmt1, [setField(FIELD.pwrMgmt1.deviceReset, 1)]);
    await this.#waits.wait(RESET_MS);
    this.#assertOpen();
    // Clearing SLEEP (set at reset) starts sampling; the PLL clock is the recommended source.
    await this.#i2c.writeRegister(REGISTER.pwrMgmt1, [setField(FIELD.pwrMgmt1.clkSel, CLOCK_PLL_X)]);
    await this.#apply(this.#settings, WAKE_MS);
  }

  /**
   * Writes range and filter, then waits until every output register holds samples taken with
   * them: one sample period plus the filter's window (twice its delay), at least `minimumMs`.
   */
  async #apply(settings: Settings, minimumMs = 0): Promise<void> {
    // SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG are consecutive: one burst write (auto-increment).
    await this.#i2c.writeRegister(REGISTER.smplrtDiv, [
      settings.acquisition === 'fifo' ? divisorFor(settings.rateHz, settings.dlpfHz)! : sampleRateDivider(settings.dlpfHz),
      setField(FIELD.config.dlpfCfg, DLPF[settings.dlpfHz]),
      0x00,
      setField(FIELD.accelConfig.afsSel, ACCEL_RANGE[settings.range].afsSel),
    ]);
    await this.#waits.wait(Math.max(minimumMs, 2 + 2 * DLPF_DELAY_MS[settings.dlpfHz]));
    this.#assertOpen();
    this.#applied = settings;
  }

  #source(): string {
    return i2cTarget(this.#i2c.bus, this.#i2c.address);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StateError(`the mpu6050 driver at ${this.#source()} is closed`);
  }
}

/**
 * The MPU-6050 part: acceleration on three axes (m/s2) and die temperature (Cel) at 0x68 or 0x69.
 *
 * @example
 * ```ts
 * mpu6050Driver.validateOptions({ range: 8 }, 'options')['acceleration-x'].range // ±78.45 m/s2
 * ```
 */
export const mpu6050Driver: DriverDefinition<Mpu6050Output> = Object.freeze({
  part: 'mpu6050',
  description: 'InvenSense MPU-6050 three-axis accelerometer and die temperature (I2C)',
  io: 'i2c',
  addresses: [0x68, 0x69],
  maxRateHz: 1000,
  maxRateFor(options: Readonly<Record<string, unknown>>): number {
    const settings = parseOptions(options, '');
    return settings.acquisition === 'fifo' ? settings.rateHz : 1000;
  },
  describeRateOptions(options: Readonly<Record<string, unknown>>): string {
    const settings = parseOptions(options, '');
    return settings.acquisition === 'fifo' ? `FIFO rate ${settings.rateHz} Hz` : 'timed reads';
  },
  acquisitionFor(options: Readonly<Record<string, unknown>>): AcquisitionMode | undefined {
    return parseOptions(options, '').acquisition === 'fifo' ? 'fifo' : undefined;
  },
  outputs: outputsFor(parseOptions({}, '')),
  validateOptions(options: Readonly<Record<string, unknown>>, path: string): Readonly<Record<Mpu6050Output, DriverOutput>> {
    return outputsFor(parseOptions(options, path));
  },
  create(io: DriverIo, options: Readonly<Record<string, unknown>>): SensorDriver<Mpu6050Output> {
    return new Mpu6050Driver(io, options);
  },
});
