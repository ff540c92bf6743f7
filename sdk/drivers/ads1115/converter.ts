/**
 * One single-shot ADS1115 conversion on an `I2cDevice`: write the config with OS=1, wait the
 * conversion time on the clock, check OS, read the result. Shared by the ADS1115 driver and the
 * 4–20 mA driver, which reads its shunt through an ADS1115.
 */
import { i2cTarget, type I2cDevice } from '../../io/board.js';
import type { Clock } from '../../core/clock.js';
import { SensorError, StateError } from '../../core/errors.js';
import { ClockWaits } from '../clock-waits.js';
import { CONFIG, POINTER, singleShotConfig, type Ads1115Channel, type DataRate, type FullScaleVolts } from './registers.js';

/** What to convert. */
export interface Ads1115ConversionSettings {
  readonly channel: Ads1115Channel;
  readonly fullScaleVolts: FullScaleVolts;
  readonly dataRate: DataRate;
}

/** One result. */
export interface Ads1115Conversion {
  /** Input voltage (differential, or against GND), V. */
  readonly volts: number;
  /** Raw two's-complement code, −32768…32767. */
  readonly code: number;
  /** Clock time the result was read, ms. */
  readonly time: number;
  /** Whether the code is at either end of the scale (the input may be beyond full scale). */
  readonly clipped: boolean;
}

/** §7.6: the data rate may be up to 10 % slow, and the part takes ~25 µs to power up. */
const RATE_TOLERANCE = 0.9;
const WAKE_MS = 0.1;
/** OS polls after the worst-case conversion time, each a tenth of a conversion apart. */
const POLL_LIMIT = 10;
/**
 * Bus time of one conversion at 400 kHz (I2C fast mode): the config write (address, pointer,
 * 2 bytes), one OS poll and the result read (each address, pointer, address, 2 bytes); 9 clocks a
 * byte plus one for each START, repeated START and STOP.
 */
const CONVERSION_BUS_MS = (38 + 48 + 48) / 400;

/** The longest one conversion at `dataRate` takes, ms. */
function worstCaseConversionMs(dataRate: DataRate): number {
  return 1000 / (dataRate * RATE_TOLERANCE);
}

/**
 * The most single-shot conversions a second `Ads1115Converter.convert()` delivers at `dataRate`:
 * each waits the worst-case conversion time and the wake-up before it reads, plus its bus time. Below
 * `dataRate` itself, since the part may run 10 % slow (§7.6).
 *
 * @example
 * ```ts
 * ads1115MaxRateHz(128) // 109.7
 * ads1115MaxRateHz(860) // 579.0
 * ```
 */
export function ads1115MaxRateHz(dataRate: DataRate): number {
  return 1000 / (worstCaseConversionMs(dataRate) + WAKE_MS + CONVERSION_BUS_MS);
}

/**
 * Runs single-shot conversions on an ADS1115.
 *
 * @example
 * ```ts
 * const adc = new Ads1115Converter(board.openI2c({ address: 0x48 }), clock)
 * const { volts } = await adc.convert({ channel: 0, fullScaleVolts: 4.096, dataRate: 128 })
 * ```
 */
export class Ads1115Converter {
  readonly #i2c: I2cDevice;
  readonly #clock: Clock;
  readonly #waits: ClockWaits;

  constructor(i2c: I2cDevice, clock: Clock) {
    this.#i2c = i2c;
    this.#clock = clock;
    this.#waits = new ClockWaits(clock);
  }

  /** "i2c1@0x48": the bus and address, for provenance and messages. */
  get source(): string {
    return i2cTarget(this.#i2c.bus, this.#i2c.address);
  }

  /**
   * One conversion. Rejects with `BusError` when the bus fails and `SensorError` when the part never
   * reports the conversion done.
   */
  async convert(settings: Ads1115ConversionSettings): Promise<Ads1115Conversion> {
    const config = singleShotConfig(settings.channel, settings.fullScaleVolts, settings.dataRate);
    await this.#i2c.write([POINTER.config, config >> 8, config & 0xff]);
    const conversionMs = worstCaseConversionMs(settings.dataRate);
    await this.#waits.wait(conversionMs + WAKE_MS);
    for (let attempt = 0; ; attempt++) {
      const status = await this.#i2c.readRegister(POINTER.config, 2);
      if ((((status[0] ?? 0) << 8) & CONFIG.os.mask) !== 0) break;
      if (attempt >= POLL_LIMIT) {
        throw new SensorError(`ADS1115 at ${this.source}: conversion still running ${(conversionMs * 2).toFixed(1)} ms after it started`);
      }
      await this.#waits.wait(conversionMs / 10);
    }
    const bytes = await this.#i2c.readRegister(POINTER.conversion, 2);
    const time = this.#clock.now();
    const code = ((((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)) << 16) >> 16;
    return { volts: (code * settings.fullScaleVolts) / 32768, code, time, clipped: code === 0x7fff || code === -0x8000 };
  }

  /** Cuts short a conversion in progress (it rejects with `StateError`) and releases the I2C device. */
  close(): void {
    this.#waits.cancelAll(new StateError(`the ADS1115 at ${this.source} is closed`));
    this.#i2c.close();
  }
}
