/**
 * An MPU-6050-class accelerometer at register level (InvenSense MPU-6000/6050 Register Map and
 * Descriptions, RM-MPU-6000A, and Product Specification PS-MPU-6000A), for the emulated I2C bus.
 *
 * The accelerometer is sampled at 1 kHz on the bus clock; the digital low-pass filter is modelled
 * as a moving average whose group delay equals the register map's stated delay for each DLPF_CFG
 * (§4.3), and the sensor registers update at the sample rate (§4.2). Gyroscope outputs read 0.
 *
 * The part's sample clock may run `clockPpm` fast (or slow, negative) against the bus clock, as a
 * real part's oscillator does against its host's. The 1024-byte FIFO (§4.6, §4.29–§4.31) takes
 * every sample while USER_CTRL.FIFO_EN and FIFO_EN select data, in register order (accel, temp,
 * gyro); when full, the oldest bytes are overwritten and INT_STATUS.FIFO_OFLOW_INT is set, so a
 * host that drains too late finds a frame-misaligned FIFO, exactly as on the part.
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
  /**
   * How many parts per million the part's sample clock runs fast against the bus clock (negative:
   * slow), −10 000…10 000; default 0. PS-MPU-6000A §6.4 allows ±1 % for the internal oscillator,
   * much less on the gyro PLL.
   */
  clockPpm?: number;
}

// Register map §3 (register addresses).
const REG = {
  smplrtDiv: 0x19,
  config: 0x1a,
  accelConfig: 0x1c,
  fifoEn: 0x23,
  intEnable: 0x38,
  intStatus: 0x3a,
  accelXoutH: 0x3b,
  tempOutH: 0x41,
  gyroXoutH: 0x43,
  gyroZoutL: 0x48,
  userCtrl: 0x6a,
  pwrMgmt1: 0x6b,
  fifoCountH: 0x72,
  fifoCountL: 0x73,
  fifoRw: 0x74,
  whoAmI: 0x75,
} as const;

/** §4.6 FIFO_EN bits, and the bytes each adds to a frame. */
const FIFO_SOURCES = [
  { bit: 0x80, bytes: 2 }, // TEMP_FIFO_EN
  { bit: 0x08, bytes: 6 }, // ACCEL_FIFO_EN
  { bit: 0x40, bytes: 2 }, // XG_FIFO_EN
  { bit: 0x20, bytes: 2 }, // YG_FIFO_EN
  { bit: 0x10, bytes: 2 }, // ZG_FIFO_EN
] as const;
/** Each FIFO byte in the order the part writes them (§4.6: by register address), with its FIFO_EN bit. */
const FIFO_BYTE_ORDER: readonly { readonly bit: number; readonly register: number }[] = [
  ...[0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40].map((register) => ({ bit: 0x08, register })),
  { bit: 0x80, register: 0x41 },
  { bit: 0x80, register: 0x42 },
  ...[0x43, 0x44].map((register) => ({ bit: 0x40, register })),
  ...[0x45, 0x46].map((register) => ({ bit: 0x20, register })),
  ...[0x47, 0x48].map((register) => ({ bit: 0x10, register })),
];
/** §4.29 USER_CTRL bits. */
const USER_FIFO_EN = 0x40;
const USER_FIFO_RESET = 0x04;
/** §4.16 INT_STATUS bits. */
const INT_FIFO_OFLOW = 0x10;
const INT_DATA_RDY = 0x01;
/** PS §7.17: the FIFO holds 1024 bytes. */
const FIFO_BYTES = 1024;

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
 * CONFIG (DLPF), ACCEL_CONFIG (±2/4/8/16 g), INT_STATUS data-ready and FIFO overflow, ACCEL/TEMP/GYRO
 * outputs with saturation, the 1024-byte FIFO (FIFO_EN, USER_CTRL FIFO_EN/FIFO_RESET, FIFO_COUNT,
 * FIFO_R_W), burst reads and writes with register auto-increment, a sample clock `clockPpm` off.
 *
 * @example
 * ```ts
 * const imu = new Mpu6050Peripheral({ acceleration: { z: constant(9.80665) }, clockPpm: 200 })
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
  /** Sample clock rate against the bus clock: 1 + ppm · 10⁻⁶. */
  readonly #clockFactor: number;
  readonly #registers = new Uint8Array(128);
  /** FIFO ring: `#fifoHead` is the oldest byte, `#fifoCount` bytes are queued. */
  readonly #fifo = new Uint8Array(FIFO_BYTES);
  #fifoHead = 0;
  #fifoCount = 0;
  #fifoOverflow = false;
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
  #lastPruned = -Infinity;

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
    const ppm = options.clockPpm ?? 0;
    if (typeof ppm !== 'number' || !(ppm >= -10_000 && ppm <= 10_000)) {
      throw new ArgumentError(`Expected \`clockPpm\` to be a number from -10000 to 10000, got ${String(ppm)}`);
    }
    this.#clockFactor = 1 + ppm * 1e-6;
    this.#reset();
  }

  write(bytes: Uint8Array, timeMs: number): void {
    const register = bytes[0];
    if (register === undefined) return;
    this.#latch(timeMs);
    this.#pointer = register & 0x7f;
    // Burst writes auto-increment the register address (PS §9.3), except at FIFO_R_W.
    for (let i = 1; i < bytes.length; i++) {
      this.#writeRegister(this.#pointer, bytes[i]!, timeMs);
      if (this.#pointer !== REG.fifoRw) this.#pointer = (this.#pointer + 1) & 0x7f;
    }
  }

  read(count: number, timeMs: number): Uint8Array {
    this.#latch(timeMs);
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = this.#readRegister(this.#pointer);
      // A burst from FIFO_R_W keeps reading the FIFO (RM §4.31).
      if (this.#pointer !== REG.fifoRw) this.#pointer = (this.#pointer + 1) & 0x7f;
    }
    return out;
  }

  #readRegister(register: number): number {
    if (register === REG.whoAmI) return 0x68; // bits 6:1 = 0x34, independent of AD0 (§4.32)
    if (register === REG.intStatus) {
      const value = (this.#dataReady ? INT_DATA_RDY : 0) | (this.#fifoOverflow ? INT_FIFO_OFLOW : 0);
      // Cleared by reading INT_STATUS (§4.16).
      this.#dataReady = false;
      this.#fifoOverflow = false;
      return value;
    }
    if (register === REG.fifoCountH) return this.#fifoCount >> 8;
    if (register === REG.fifoCountL) return this.#fifoCount & 0xff;
    if (register === REG.fifoRw) {
      // Reading an empty FIFO repeats nothing: the part returns its last byte; 0 here.
      if (this.#fifoCount === 0) return 0;
      const byte = this.#fifo[this.#fifoHead]!;
      this.#fifoHead = (this.#fifoHead + 1) % FIFO_BYTES;
      this.#fifoCount--;
      return byte;
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
    // Outputs, INT_STATUS, FIFO_COUNT and WHO_AM_I are read-only; FIFO_R_W writes are not modelled.
    if (register === REG.whoAmI || register === REG.intStatus || (register >= REG.accelXoutH && register <= REG.gyroZoutL)) return;
    if (register === REG.fifoCountH || register === REG.fifoCountL || register === REG.fifoRw) return;
    if (register === REG.userCtrl) {
      // FIFO_RESET empties the FIFO and clears itself (§4.29).
      if ((value & USER_FIFO_RESET) !== 0) this.#fifoClear();
      this.#registers[register] = value & ~USER_FIFO_RESET;
      return;
    }
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
    this.#fifoClear();
  }

  #fifoClear(): void {
    this.#fifoHead = 0;
    this.#fifoCount = 0;
    this.#fifoOverflow = false;
  }

  /**
   * Sample period, ms of bus-clock time: gyro output rate (8 kHz with the DLPF off, else 1 kHz) /
   * (1 + SMPLRT_DIV) (§4.2), on the part's own clock.
   */
  #samplePeriodMs(): number {
    const dlpf = this.#registers[REG.config]! & 0x07;
    const gyroRateHz = dlpf === 0 || dlpf === 7 ? 8000 : 1000;
    return ((1 + this.#registers[REG.smplrtDiv]!) * (1000 / gyroRateHz)) / this.#clockFactor;
  }

  /** Bytes one sample adds to the FIFO with the current FIFO_EN; 0 while the FIFO is off. */
  #fifoFrameBytes(): number {
    if ((this.#registers[REG.userCtrl]! & USER_FIFO_EN) === 0) return 0;
    const enabled = this.#registers[REG.fifoEn]!;
    let bytes = 0;
    for (const source of FIFO_SOURCES) if ((enabled & source.bit) !== 0) bytes += source.bytes;
    return bytes;
  }

  /**
   * Latches the samples due by `timeMs`: every one of them into the FIFO (when on), the newest into
   * the output registers.
   */
  #latch(timeMs: number): void {
    if (this.#awakeSince === undefined) return;
    const period = this.#samplePeriodMs();
    const index = Math.floor((timeMs - this.#awakeSince) / period);
    if (index < 1 || index <= this.#latched) return;
    const frameBytes = this.#fifoFrameBytes();
    let first = index;
    if (frameBytes > 0) {
      // Samples older than a full FIFO would be overwritten anyway: only their count matters.
      first = Math.max(this.#latched + 1, 1, index - Math.ceil(FIFO_BYTES / frameBytes) - 1);
      if (first > Math.max(this.#latched + 1, 1)) this.#fifoOverflow = true;
    }
    for (let k = first; k <= index; k++) {
      this.#sample(this.#awakeSince + k * period);
      if (frameBytes > 0) this.#fifoPush();
    }
    this.#latched = index;
    this.#dataReady = true;
  }

  /** Appends one frame of the output registers to the FIFO, overwriting the oldest bytes when full. */
  #fifoPush(): void {
    const enabled = this.#registers[REG.fifoEn]!;
    for (const { bit, register } of FIFO_BYTE_ORDER) {
      if ((enabled & bit) === 0) continue;
      const byte = register >= REG.gyroXoutH ? 0 : this.#registers[register]!;
      if (this.#fifoCount === FIFO_BYTES) {
        this.#fifoHead = (this.#fifoHead + 1) % FIFO_BYTES;
        this.#fifoCount--;
        this.#fifoOverflow = true;
      }
      this.#fifo[(this.#fifoHead + this.#fifoCount) % FIFO_BYTES] = byte;
      this.#fifoCount++;
    }
  }

  /** Takes the sample due at `atMs` into the output registers. */
  #sample(atMs: number): void {
    const { accel, celsius } = this.#filtered(atMs);
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
    if (newest !== this.#lastPruned) {
      this.#lastPruned = newest;
      for (const k of this.#history.keys()) if (k <= newest - 40) this.#history.delete(k);
    }
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
