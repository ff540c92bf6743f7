/**
 * A BME280-class environmental sensor at register level (Bosch BME280 datasheet §5 "Global memory
 * map and register description"), for the emulated I2C bus.
 *
 * The physical side is three signals (°C, %RH, Pa). A conversion turns them into the raw ADC words
 * that the datasheet's compensation formulas, applied with this part's own trimming coefficients,
 * turn back into those values: the inverse compensation, found by bisection over the raw range
 * (every formula is monotonic in its raw word over the operating range).
 */
import { ArgumentError } from '../../../sdk/core/errors.js';
import type { SeededRandom } from '../../../sdk/core/random.js';
import {
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  type Bme280Calibration,
} from '../../../sdk/drivers/bme280/compensation.js';
import type { I2cPeripheral, Signal } from '../peripheral.js';

/** Options of {@link Bme280Peripheral}. */
export interface Bme280PeripheralOptions {
  /** 0x76 (SDO to GND, default) or 0x77 (SDO to VDDIO). */
  address?: number;
  /** True air temperature, °C. */
  temperature: Signal;
  /** True relative humidity, %RH. */
  humidity: Signal;
  /** True pressure, Pa. */
  pressure: Signal;
  /**
   * Seeds this part's trimming coefficients, its accuracy errors (within the datasheet's absolute
   * accuracy) and its RMS noise. Without it the part is ideal and noise-free (typical coefficients).
   */
  random?: SeededRandom;
  /** Chip id answered at 0xD0; default 0x60. A BMP280 (0x58) or a counterfeit answers otherwise. */
  chipId?: number;
}

// Datasheet §5.3 memory map.
const REG = {
  calib00: 0x88,
  chipId: 0xd0,
  reset: 0xe0,
  calib26: 0xe1,
  ctrlHum: 0xf2,
  status: 0xf3,
  ctrlMeas: 0xf4,
  config: 0xf5,
  pressMsb: 0xf7,
  humLsb: 0xfe,
} as const;

const RESET_COMMAND = 0xb6;
/** Datasheet §1.1 Table 1: start-up time, 2 ms (NVM copy, status.im_update set meanwhile). */
const STARTUP_MS = 2;
/** Oversampling factor per osrs code (§5.4.3, §5.4.5); 0 means skipped. */
const OVERSAMPLING = [0, 1, 2, 4, 8, 16, 16, 16] as const;
/** IIR filter coefficient per filter code (§5.4.6); 1 means off. */
const FILTER = [1, 2, 4, 8, 16, 16, 16, 16] as const;
/** Normal-mode standby time per t_sb code, ms (§5.4.6, Table 27). */
const STANDBY_MS = [0.5, 62.5, 125, 250, 500, 1000, 10, 20] as const;
/**
 * Cap on normal-mode cycles replayed after a long quiet spell. Older cycles are skipped and the IIR
 * filter restarts at the first replayed one; 256 steps of the slowest filter (16) leave 7e-8 of it.
 */
const MAX_REPLAYED_CYCLES = 256;

/** Typical trimming words of a BME280 (the datasheet's example values and common humidity words). */
const TYPICAL: Bme280Calibration = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
};

interface Raw {
  temperature: number;
  pressure: number;
  humidity: number;
}

/**
 * Register-level BME280 model: chip id, soft reset, ctrl_hum/ctrl_meas/config, status, burst
 * readout with auto-increment, sleep/forced/normal modes timed on the bus clock, oversampling
 * resolution and the IIR filter.
 *
 * @example
 * ```ts
 * const bme = new Bme280Peripheral({ temperature: constant(21.5), humidity: constant(45), pressure: constant(101_325) })
 * board.attachI2c(bme)
 * ```
 */
export class Bme280Peripheral implements I2cPeripheral {
  readonly address: number;
  readonly name = 'BME280';
  /** This part's trimming coefficients, as stored in its NVM. */
  readonly calibration: Bme280Calibration;

  readonly #signals: { temperature: Signal; humidity: Signal; pressure: Signal };
  readonly #random: SeededRandom | undefined;
  readonly #chipId: number;
  readonly #nvm = new Uint8Array(256);
  /** The part's own accuracy errors, within the datasheet's absolute accuracy. */
  readonly #error: Raw;

  #pointer = 0;
  #ctrlHum = 0;
  /** ctrl_hum takes effect only with the next ctrl_meas write (§5.4.3). */
  #ctrlHumActive = 0;
  #ctrlMeas = 0;
  #config = 0;
  #updatingUntil = -Infinity;
  #data: Raw = { temperature: 0x80000, pressure: 0x80000, humidity: 0x8000 };
  #filtered: { temperature: number; pressure: number } | undefined;
  /** Forced conversion in progress. */
  #forced: { readonly end: number } | undefined;
  /** Normal mode: start of the cycle train and how many cycles have been converted. */
  #normal: { readonly start: number; converted: number } | undefined;

  constructor(options: Bme280PeripheralOptions) {
    const address = options.address ?? 0x76;
    if (address !== 0x76 && address !== 0x77) {
      throw new ArgumentError(`Expected \`address\` to be 0x76 or 0x77, got 0x${address.toString(16)}`);
    }
    for (const name of ['temperature', 'humidity', 'pressure'] as const) {
      if (typeof options[name]?.valueAt !== 'function') {
        throw new ArgumentError(`Expected \`${name}\` to be a Signal (an object with valueAt(timeMs)), got ${String(options[name])}`);
      }
    }
    this.address = address;
    this.#signals = { temperature: options.temperature, humidity: options.humidity, pressure: options.pressure };
    this.#random = options.random?.fork('bme280');
    this.#chipId = options.chipId ?? 0x60;
    this.calibration = this.#random === undefined ? TYPICAL : varyCalibration(this.#random);
    // Kept well inside ±1 °C, ±3 %RH, ±100 Pa so that the part meets its datasheet.
    this.#error =
      this.#random === undefined
        ? { temperature: 0, humidity: 0, pressure: 0 }
        : { temperature: uniform(this.#random, 0.4), humidity: uniform(this.#random, 1.5), pressure: uniform(this.#random, 40) };
    writeCalibration(this.#nvm, this.calibration);
  }

  write(bytes: Uint8Array, timeMs: number): void {
    this.#advance(timeMs);
    if (bytes.length === 0) return;
    // §6.2.1: a multi-byte write is register/data pairs, not an auto-incremented run.
    for (let i = 0; i < bytes.length; i += 2) {
      const register = bytes[i]!;
      this.#pointer = register;
      const value = bytes[i + 1];
      if (value !== undefined) this.#writeRegister(register, value, timeMs);
    }
  }

  read(count: number, timeMs: number): Uint8Array {
    this.#advance(timeMs);
    const out = new Uint8Array(count);
    // One snapshot per transfer: the data registers are shadowed during a burst read (§4).
    const data = dataBytes(this.#data);
    for (let i = 0; i < count; i++) {
      out[i] = this.#readRegister(this.#pointer, data, timeMs);
      this.#pointer = (this.#pointer + 1) & 0xff;
    }
    return out;
  }

  #readRegister(register: number, data: Uint8Array, timeMs: number): number {
    if (register >= REG.pressMsb && register <= REG.humLsb) return data[register - REG.pressMsb]!;
    switch (register) {
      case REG.chipId:
        return this.#chipId;
      case REG.reset:
        return 0x00;
      case REG.ctrlHum:
        return this.#ctrlHum;
      case REG.status:
        return (this.#isMeasuring(timeMs) ? 0x08 : 0) | (timeMs < this.#updatingUntil ? 0x01 : 0);
      case REG.ctrlMeas:
        return this.#ctrlMeas;
      case REG.config:
        return this.#config;
      default:
        return this.#nvm[register]!;
    }
  }

  #writeRegister(register: number, value: number, timeMs: number): void {
    switch (register) {
      case REG.reset:
        if (value === RESET_COMMAND) this.#reset(timeMs);
        return;
      case REG.ctrlHum:
        this.#ctrlHum = value & 0x07;
        return;
      case REG.ctrlMeas:
        this.#ctrlMeas = value;
        this.#ctrlHumActive = this.#ctrlHum;
        this.#startMode(timeMs);
        return;
      case REG.config:
        // §5.4.6: writes to config in normal mode may be ignored; this part ignores them.
        if ((this.#ctrlMeas & 0x03) !== 0x03) this.#config = value & 0xfd;
        return;
      default:
        // Read-only registers (id, status, data, NVM) ignore writes.
        return;
    }
  }

  #reset(timeMs: number): void {
    this.#ctrlHum = 0;
    this.#ctrlHumActive = 0;
    this.#ctrlMeas = 0;
    this.#config = 0;
    this.#forced = undefined;
    this.#normal = undefined;
    this.#filtered = undefined;
    this.#data = { temperature: 0x80000, pressure: 0x80000, humidity: 0x8000 };
    this.#updatingUntil = timeMs + STARTUP_MS;
  }

  #startMode(timeMs: number): void {
    const mode = this.#ctrlMeas & 0x03;
    this.#forced = undefined;
    this.#normal = undefined;
    if (mode === 0x01 || mode === 0x02) this.#forced = { end: timeMs + this.#measurementMs() };
    else if (mode === 0x03) this.#normal = { start: timeMs, converted: 0 };
  }

  /** Typical measurement time, datasheet §9.1 (Appendix B): 1 ms + 2 ms per oversampled conversion. */
  #measurementMs(): number {
    const { t, p, h } = this.#oversampling();
    return 1 + (t > 0 ? 2 * t : 0) + (p > 0 ? 2 * p + 0.5 : 0) + (h > 0 ? 2 * h + 0.5 : 0);
  }

  #oversampling(): { t: number; p: number; h: number } {
    return {
      t: OVERSAMPLING[(this.#ctrlMeas >> 5) & 0x07]!,
      p: OVERSAMPLING[(this.#ctrlMeas >> 2) & 0x07]!,
      h: OVERSAMPLING[this.#ctrlHumActive & 0x07]!,
    };
  }

  #isMeasuring(timeMs: number): boolean {
    if (this.#forced !== undefined) return timeMs < this.#forced.end;
    if (this.#normal === undefined) return false;
    const period = this.#measurementMs() + STANDBY_MS[(this.#config >> 5) & 0x07]!;
    return (timeMs - this.#normal.start) % period < this.#measurementMs();
  }

  /** Completes the conversions due by `timeMs`; the part returns to sleep after a forced one. */
  #advance(timeMs: number): void {
    if (this.#forced !== undefined && timeMs >= this.#forced.end) {
      this.#convert(this.#forced.end);
      this.#forced = undefined;
      this.#ctrlMeas &= 0xfc;
    }
    const normal = this.#normal;
    if (normal === undefined) return;
    const measurement = this.#measurementMs();
    const period = measurement + STANDBY_MS[(this.#config >> 5) & 0x07]!;
    const due = Math.floor((timeMs - normal.start - measurement) / period) + 1;
    if (due - normal.converted > MAX_REPLAYED_CYCLES) {
      normal.converted = due - MAX_REPLAYED_CYCLES;
      this.#filtered = undefined;
    }
    for (; normal.converted < due; normal.converted++) this.#convert(normal.start + normal.converted * period + measurement);
  }

  /** One measurement at `atMs`: the true values, this part's errors and noise, then the raw words. */
  #convert(atMs: number): void {
    const { t, p, h } = this.#oversampling();
    const filter = FILTER[(this.#config >> 2) & 0x07]!;
    const noise = (rms: number, factor: number): number =>
      this.#random === undefined ? 0 : this.#random.gaussian(0, rms / Math.sqrt(factor));
    // Datasheet §3.6 noise tables, reduced by oversampling.
    const celsius = this.#signals.temperature.valueAt(atMs) + this.#error.temperature + noise(0.005, t || 1);
    const pascal = this.#signals.pressure.valueAt(atMs) + this.#error.pressure + noise(1.3, p || 1);
    const percent = this.#signals.humidity.valueAt(atMs) + this.#error.humidity + noise(0.02, h || 1);

    const cal = this.calibration;
    // Resolution: 16 bit at x1, one more bit per doubling, always 20 bit with the filter on (§3.4).
    const bitsFor = (factor: number): number => (filter > 1 ? 20 : 16 + Math.log2(factor));
    let rawT = t === 0 ? 0x80000 : invert(celsius, 20, bitsFor(t), (raw) => compensateTemperature(raw, cal).celsius);
    const tFine = compensateTemperature(rawT, cal).tFine;
    let rawP = p === 0 ? 0x80000 : invert(pascal, 20, bitsFor(p), (raw) => -compensatePressure(raw, tFine, cal), -1);
    const rawH = h === 0 ? 0x8000 : invert(percent, 16, 16, (raw) => compensateHumidity(raw, tFine, cal));

    // §3.4.4: the IIR filter acts on temperature and pressure only.
    if (filter > 1 && t > 0 && p > 0) {
      const previous = this.#filtered ?? { temperature: rawT, pressure: rawP };
      this.#filtered = {
        temperature: (previous.temperature * (filter - 1) + rawT) / filter,
        pressure: (previous.pressure * (filter - 1) + rawP) / filter,
      };
      rawT = Math.round(this.#filtered.temperature);
      rawP = Math.round(this.#filtered.pressure);
    }
    this.#data = { temperature: rawT, pressure: rawP, humidity: rawH };
  }
}

/**
 * The raw word whose compensated value is closest to `target`, with the low `width − bits` bits
 * clear. `compensate` must be non-decreasing in the raw word; `sign` −1 means the quantity is
 * passed negated (pressure falls as adc_P rises).
 */
function invert(target: number, width: number, bits: number, compensate: (raw: number) => number, sign: 1 | -1 = 1): number {
  const step = 2 ** (width - bits);
  const goal = sign * target;
  let low = 0;
  let high = 2 ** bits - 1;
  // Smallest index whose value is ≥ goal.
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compensate(mid * step) < goal) low = mid + 1;
    else high = mid;
  }
  if (low > 0 && Math.abs(compensate((low - 1) * step) - goal) <= Math.abs(compensate(low * step) - goal)) low -= 1;
  return low * step;
}

function dataBytes(data: Raw): Uint8Array {
  const { pressure: p, temperature: t, humidity: h } = data;
  // §5.4.7–5.4.9: msb, lsb, xlsb[7:4] for the 20-bit words; msb, lsb for humidity.
  return Uint8Array.of((p >> 12) & 0xff, (p >> 4) & 0xff, (p & 0x0f) << 4, (t >> 12) & 0xff, (t >> 4) & 0xff, (t & 0x0f) << 4, (h >> 8) & 0xff, h & 0xff);
}

/** Writes the trimming words into the NVM image (datasheet Table 16 layout). */
function writeCalibration(nvm: Uint8Array, cal: Bme280Calibration): void {
  const words = [cal.T1, cal.T2, cal.T3, cal.P1, cal.P2, cal.P3, cal.P4, cal.P5, cal.P6, cal.P7, cal.P8, cal.P9];
  words.forEach((word, i) => {
    nvm[REG.calib00 + 2 * i] = word & 0xff;
    nvm[REG.calib00 + 2 * i + 1] = (word >> 8) & 0xff;
  });
  nvm[0xa1] = cal.H1 & 0xff;
  nvm[REG.calib26] = cal.H2 & 0xff;
  nvm[REG.calib26 + 1] = (cal.H2 >> 8) & 0xff;
  nvm[REG.calib26 + 2] = cal.H3 & 0xff;
  nvm[REG.calib26 + 3] = (cal.H4 >> 4) & 0xff;
  nvm[REG.calib26 + 4] = (cal.H4 & 0x0f) | ((cal.H5 & 0x0f) << 4);
  nvm[REG.calib26 + 5] = (cal.H5 >> 4) & 0xff;
  nvm[REG.calib26 + 6] = cal.H6 & 0xff;
}

/** Per-device trimming: the typical words with small production spread. */
function varyCalibration(random: SeededRandom): Bme280Calibration {
  const vary = (value: number, spread: number): number => value + Math.round(uniform(random, spread));
  return {
    T1: vary(TYPICAL.T1, 400), T2: vary(TYPICAL.T2, 300), T3: vary(TYPICAL.T3, 30),
    P1: vary(TYPICAL.P1, 600), P2: vary(TYPICAL.P2, 200), P3: vary(TYPICAL.P3, 60), P4: vary(TYPICAL.P4, 400),
    P5: vary(TYPICAL.P5, 40), P6: TYPICAL.P6, P7: vary(TYPICAL.P7, 300), P8: vary(TYPICAL.P8, 300), P9: vary(TYPICAL.P9, 200),
    H1: vary(TYPICAL.H1, 5), H2: vary(TYPICAL.H2, 10), H3: TYPICAL.H3, H4: vary(TYPICAL.H4, 20), H5: vary(TYPICAL.H5, 5), H6: vary(TYPICAL.H6, 3),
  };
}

function uniform(random: SeededRandom, halfWidth: number): number {
  return (random.next() * 2 - 1) * halfWidth;
}
