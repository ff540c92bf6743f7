/**
 * The ADS1115 in continuous-conversion mode as a sensor-clocked acquisition (TI ADS111x datasheet
 * §9.4.2 continuous-conversion mode, §9.3.8 conversion-ready pin): the part converts back to back
 * at its data rate on its own oscillator (±10 %, §7.5), and the ALERT/RDY pin pulses after each
 * conversion. The host counts those pulses on an interrupt input (`io.ready`) and reads the
 * conversion register: a drain with no new pulse returns nothing (never the same conversion twice),
 * one with more than one pulse reports the conversions overwritten before it read them.
 *
 * A conversion that completes between the pulse count and the register read is attributed to the
 * count read: one conversion's skew, at most, in the stamping of that frame.
 */
import type { Clock } from '../../core/clock.js';
import type { Provenance } from '../../core/sample.js';
import type { I2cDevice } from '../../io/board.js';
import type { AcquisitionBatch, ReadyLine, SensorClockedAcquisition } from '../contract.js';
import { CONFIG, POINTER, READY_THRESHOLDS, continuousConfig, type Ads1115Channel, type DataRate, type FullScaleVolts } from './registers.js';

/** What {@link Ads1115Continuous} converts. */
export interface Ads1115ContinuousSettings {
  readonly channel: Ads1115Channel;
  readonly fullScaleVolts: FullScaleVolts;
  readonly dataRate: DataRate;
}

/** What {@link Ads1115Continuous} needs from its driver. */
export interface Ads1115ContinuousOptions {
  readonly i2c: I2cDevice;
  readonly clock: Clock;
  readonly ready: ReadyLine;
  readonly settings: Ads1115ContinuousSettings;
  /** Runs `task` under the driver's lock. */
  run<T>(task: () => Promise<T>): Promise<T>;
  provenance(): Provenance;
}

/**
 * Continuous conversion of one ADS1115; created by `Ads1115Driver` with `acquisition: 'continuous'`
 * and an `io.ready` line.
 *
 * @example
 * ```ts
 * const driver = new Ads1115Driver({ clock, i2c, ready }, { acquisition: 'continuous', dataRate: 860 })
 * await driver.acquisition!.start()
 * const { frames, missed } = await driver.acquisition!.drain()
 * ```
 */
export class Ads1115Continuous implements SensorClockedAcquisition<'voltage'> {
  readonly mode = 'continuous' as const;
  readonly outputRateHz: number;
  /** One result register: a conversion not read before the next one completes is lost. */
  readonly capacityFrames = 1;
  readonly #options: Ads1115ContinuousOptions;
  /** Pulses counted at the last read conversion; undefined while stopped. */
  #last: number | undefined;

  constructor(options: Ads1115ContinuousOptions) {
    this.#options = options;
    this.outputRateHz = options.settings.dataRate;
  }

  /** Whether the part is converting continuously (a single-shot conversion would stop it). */
  get running(): boolean {
    return this.#last !== undefined;
  }

  start(): Promise<void> {
    return this.#options.run(async () => {
      const { i2c, settings, ready } = this.#options;
      await i2c.write([POINTER.loThresh, READY_THRESHOLDS.lo >> 8, READY_THRESHOLDS.lo & 0xff]);
      await i2c.write([POINTER.hiThresh, READY_THRESHOLDS.hi >> 8, READY_THRESHOLDS.hi & 0xff]);
      const config = continuousConfig(settings.channel, settings.fullScaleVolts, settings.dataRate);
      // Writing the config (re)starts the conversion train; pulses before it belong to an older one.
      await i2c.write([POINTER.config, config >> 8, config & 0xff]);
      this.#last = ready.pulses();
    });
  }

  drain(): Promise<AcquisitionBatch<'voltage'>> {
    return this.#options.run(async () => {
      const { i2c, clock, ready, settings } = this.#options;
      const pulses = ready.pulses();
      const time = clock.now();
      const provenance = this.#options.provenance();
      const last = this.#last ?? pulses;
      if (pulses === last) return { time, frames: [], overflow: false, provenance };
      const bytes = await i2c.readRegister(POINTER.conversion, 2);
      this.#last = pulses;
      const code = ((((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)) << 16) >> 16;
      const frames = [{ voltage: (code * settings.fullScaleVolts) / 32768 }];
      const missed = pulses - last - 1;
      return missed > 0 ? { time, frames, overflow: false, missed, provenance } : { time, frames, overflow: false, provenance };
    });
  }

  /** Reads the newest conversion (for `sample()` while converting continuously). */
  async latest(): Promise<{ volts: number; time: number }> {
    const bytes = await this.#options.i2c.readRegister(POINTER.conversion, 2);
    const code = ((((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)) << 16) >> 16;
    return { volts: (code * this.#options.settings.fullScaleVolts) / 32768, time: this.#options.clock.now() };
  }

  stop(): Promise<void> {
    return this.#options.run(async () => {
      this.#last = undefined;
      const { i2c, settings } = this.#options;
      // MODE 1 without OS: the part finishes the conversion and powers down (§9.4.1).
      const config = continuousConfig(settings.channel, settings.fullScaleVolts, settings.dataRate) | CONFIG.mode.mask | CONFIG.compQue.mask;
      await i2c.write([POINTER.config, config >> 8, config & 0xff]);
    });
  }
}
