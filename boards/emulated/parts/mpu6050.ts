/**
 * An MPU-6050-class accelerometer at register level (InvenSense MPU-6000/6050 Register Map and
 * Descriptions, RM-MPU-6000A, and Product Specification PS-MPU-6000A), for the emulated I2C bus.
 *
 * The accelerometer is sampled at 1 kHz on the bus clock; the digital low-pass filter is modelled
 * as a moving average whose group delay equals the register map's stated delay for each DLPF_CFG
 * (§4.3), and the sensor registers update at the sample rate (§4.2). Gyroscope outputs read 0.
 */
import { ArgumentError } from '../../../sdk/core/errors.js';
import type { SeededRandom } from '../../../sdk/core/random.js';
import type { I2cPeripheral, Signal } from '../peripheral.js';

/** Options of {@link Mpu6050Peripheral}. */
export interface Mpu6050PeripheralOptions {
  /** 0x68 (AD0 low, default) or 0x69 (AD0 high). */
  address?: number;
  /** True specific force along each axis, m/s2 (a part lying flat reads +9.81 on z). Missing axes read 0. */
  acceleration: { x?: Signal; y?: Signal; z?: Signal };
  /** Die temperature, °C; default 25. */
  temperature?: Signal;
  /**
   * Seeds this part's zero-g offsets (within ±50 mg x/y, ±80 mg z), sensitivity errors (within
   * ±3 %), temperature offset and noise (400 µg/√Hz). Without it the part is ideal.
   */
  random?: SeededRandom;
}

// Register map §3 (register addresses).
const REG = {
  smplrtDiv: 0x19,
  config: 0x1a,
  accelConfig: 0x1c,
  intStatus: 0x3a,
  accelXoutH: 0x3b,
  tempOutH: 0x41,
  gyroXoutH: 0x43,
  gyroZoutL: 0x48,
  pwrMgmt1: 0x6b,
  whoAmI: 0x75,
} as const;

const G0 = 9.80665;
/** PWR_MGMT_1 at reset: SLEEP set (§4.28). */
const PWR_MGMT_1_RESET = 0x40;
const DEVICE_RESET = 0x80;
const SLEEP = 0x40;
const TEMP_DIS = 0x08;
/** LSB per g for AFS_SEL 0…3 (§4.5). */
const SENSITIVITY = [16384, 8192, 4096, 2048] as const;
/** Accelerometer delay (ms) and bandwidth (Hz) per DLPF_CFG (§4.3, Table in CONFIG). */
const DLPF = [
  { delayMs: 0, bandwidthHz: 260 },
  { delayMs: 2, bandwidthHz: 184 },
  { delayMs: 3, bandwidthHz: 94 },
  { delayMs: 4.9, bandwidthHz: 44 },
  { delayMs: 8.5, bandwidthHz: 21 },
  { delayMs: 13.8, bandwidthHz: 10 },
  { delayMs: 19, bandwidthHz: 5 },
  { delayMs: 0, bandwidthHz: 260 },
] as const;
/** PS §6.2: accelerometer noise power spectral density, g/√Hz. */
const NOISE_DENSITY = 400e-6;

type Vector = readonly [number, number, number];

/**
 * Register-level MPU-6050 model: WHO_AM_I, PWR_MGMT_1 (sleep at reset, device reset), SMPLRT_DIV,
 * CONFIG (DLPF), ACCEL_CONFIG (±2/4/8/16 g), INT_STATUS data-ready, ACCEL/TEMP/GYRO outputs with
 * saturation, burst reads and writes with register auto-increment.
 *
 * @example
 * ```ts
 * const imu = new Mpu6050Peripheral({ acceleration: { z: constant(9.80665) } })
 * board.attachI2c(imu) // 0x68
 * ```
 */
export class Mpu6050Peripheral implements I2cPeripheral {
  readonly address: number;
  readonly name = 'MPU-6050';

  readonly #axes: readonly [Signal | undefined, Signal | undefined, Signal | undefined];
  readonly #temperature: Signal | undefined;
  readonly #random: SeededRandom | undefined;
  readonly #offsetG: Vector;
  readonly #gain: Vector;
  readonly #temperatureOffset: number;
  readonly #registers = new Uint8Array(128);
  #pointer = 0;
  /** Clock time sampling started (wake-up), undefined while asleep. */
  #awakeSince: number | undefined;
  /** Index of the last sample latched into the output registers. */
  #latched = -1;
  /** Whether a sample has been latched since INT_STATUS was last read. */
  #dataReady = false;
  /** 1 kHz accelerometer samples by integer ms, for the DLPF window. */
  readonly #history = new Map<number, { accel: Vector; celsius: number }>();
  #lastEvaluated = -Infinity;

  constructor(options: Mpu6050PeripheralOptions) {
    const address = options.address ?? 0x68;
    if (address !== 0x68 && address !== 0x69) {
      throw new ArgumentError(`Expected \`address\` to be 0x68 or 0x69, got 0x${Number(address).toString(16)}`);
    }
    this.address = address;
    const acceleration = options.acceleration ?? {};
    this.#axes = [acceleration.x, acceleration.y, acceleration.z];
    this.#temperature = options.temperature;
    this.#random = options.random?.fork('mpu6050');
    const spread = (halfWidth: number): number => (this.#random === undefined ? 0 : (this.#random.next() * 2 - 1) * halfWidth);
    // PS §6.2: zero-g initial calibration tolerance ±50 mg (x, y), ±80 mg (z); sensitivity ±3 %.
    this.#offsetG = [spread(0.04), spread(0.04), spread(0.06)];
    this.#gain = [1 + spread(0.02), 1 + spread(0.02), 1 + spread(0.02)];
    this.#temperatureOffset = spread(1.5);
    this.#reset();
  }

  write(bytes: Uint8Array, timeMs: number): void {
    const register = bytes[0];
    if (register === undefined) return;
    this.#latch(timeMs);
    this.#pointer = register & 0x7f;
    // Burst writes auto-increment the register address (PS §9.3).
    for (let i = 1; i < bytes.length; i++) {
      this.#writeRegister(this.#pointer, bytes[i]!, timeMs);
      this.#pointer = (this.#pointer + 1) & 0x7f;
    }
  }

  read(count: number, timeMs: number): Uint8Array {
    this.#latch(timeMs);
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = this.#readRegister(this.#pointer);
      this.#pointer = (this.#pointer + 1) & 0x7f;
    }
    return out;
  }

  #readRegister(register: number): number {
    if (register === REG.whoAmI) return 0x68; // bits 6:1 = 0x34, independent of AD0 (§4.32)
    if (register === REG.intStatus) {
      const value = this.#dataReady ? 0x01 : 0x00;
      this.#dataReady = false; // cleared by reading INT_STATUS (§4.16)
      return value;
    }
    if (register >= REG.gyroXoutH && register <= REG.gyroZoutL) return 0;
    return this.#registers[register]!;
  }

  #writeRegister(register: number, value: number, timeMs: number): void {
    if (register === REG.pwrMgmt1) {
      if ((value & DEVICE_RESET) !== 0) {
        this.#reset(); // all registers to defaults; DEVICE_RESET clears itself
        return;
      }
      const wasAsleep = this.#awakeSince === undefined;
      this.#registers[register] = value;
      if ((value & SLEEP) !== 0) this.#awakeSince = undefined;
      else if (wasAsleep) {
        this.#awakeSince = timeMs;
        this.#latched = -1;
      }
      return;
    }
    // Outputs, INT_STATUS and WHO_AM_I are read-only.
    if (register === REG.whoAmI || register === REG.intStatus || (register >= REG.accelXoutH && register <= REG.gyroZoutL)) return;
    this.#registers[register] = value;
    if ((register === REG.smplrtDiv || register === REG.config) && this.#awakeSince !== undefined) {
      // A new sample clock: the next sample is one new period from now.
      this.#awakeSince = timeMs;
      this.#latched = -1;
    }
  }

  #reset(): void {
    this.#registers.fill(0);
    this.#registers[REG.pwrMgmt1] = PWR_MGMT_1_RESET;
    this.#awakeSince = undefined;
    this.#latched = -1;
    this.#dataReady = false;
  }

  /** Sample period, ms: gyro output rate (8 kHz with the DLPF off, else 1 kHz) / (1 + SMPLRT_DIV) (§4.2). */
  #samplePeriodMs(): number {
    const dlpf = this.#registers[REG.config]! & 0x07;
    const gyroRateHz = dlpf === 0 || dlpf === 7 ? 8000 : 1000;
    return (1 + this.#registers[REG.smplrtDiv]!) * (1000 / gyroRateHz);
  }

  /** Latches the newest sample due by `timeMs` into the output registers. */
  #latch(timeMs: number): void {
    if (this.#awakeSince === undefined) return;
    const period = this.#samplePeriodMs();
    const index = Math.floor((timeMs - this.#awakeSince) / period);
    if (index < 1 || index <= this.#latched) return;
    this.#latched = index;
    this.#dataReady = true;
    const { accel, celsius } = this.#filtered(this.#awakeSince + index * period);
    const afs = (this.#registers[REG.accelConfig]! >> 3) & 0x03;
    const dlpf = DLPF[this.#registers[REG.config]! & 0x07]!;
    // Noise over the filter's bandwidth (brick-wall equivalent of a first-order roll-off: ×π/2).
    const sigmaG = NOISE_DENSITY * Math.sqrt((dlpf.bandwidthHz * Math.PI) / 2);
    accel.forEach((ms2, axis) => {
      const g = (ms2 / G0) * this.#gain[axis]! + this.#offsetG[axis]! + (this.#random?.gaussian(0, sigmaG) ?? 0);
      this.#putWord(REG.accelXoutH + 2 * axis, g * SENSITIVITY[afs]!);
    });
    if ((this.#registers[REG.pwrMgmt1]! & TEMP_DIS) === 0) {
      // §4.18: temperature in °C = TEMP_OUT / 340 + 36.53.
      this.#putWord(REG.tempOutH, (celsius + this.#temperatureOffset - 36.53) * 340);
    }
  }

  /** Moving average of the 1 kHz samples over the DLPF's window, ending at `atMs`. */
  #filtered(atMs: number): { accel: Vector; celsius: number } {
    const delay = DLPF[this.#registers[REG.config]! & 0x07]!.delayMs;
    // A moving average of N samples delays by (N − 1)/2 samples.
    const count = Math.round(2 * delay) + 1;
    const newest = Math.floor(atMs);
    for (let k = Math.max(this.#lastEvaluated + 1, newest - count + 1); k <= newest; k++) {
      const value = (signal: Signal | undefined): number => signal?.valueAt(k) ?? 0;
      this.#history.set(k, { accel: [value(this.#axes[0]), value(this.#axes[1]), value(this.#axes[2])], celsius: this.#temperature?.valueAt(k) ?? 25 });
      this.#lastEvaluated = k;
    }
    for (const k of this.#history.keys()) if (k <= newest - 40) this.#history.delete(k);
    const sum = [0, 0, 0];
    let used = 0;
    for (let k = newest - count + 1; k <= newest; k++) {
      const sample = this.#history.get(k);
      if (sample === undefined) continue;
      sample.accel.forEach((a, axis) => (sum[axis]! += a));
      used++;
    }
    const latest = this.#history.get(newest);
    return { accel: [sum[0]! / used, sum[1]! / used, sum[2]! / used], celsius: latest?.celsius ?? 25 };
  }

  /** Stores a signed 16-bit big-endian word, saturated at the ends of the scale. */
  #putWord(register: number, value: number): void {
    const word = Math.min(32767, Math.max(-32768, Math.round(value))) & 0xffff;
    this.#registers[register] = word >> 8;
    this.#registers[register + 1] = word & 0xff;
  }
}
