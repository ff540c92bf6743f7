/**
 * BME280 compensation: trimming parameters and the formulas that turn raw ADC words into °C, Pa and
 * %RH (Bosch BME280 datasheet §4.2.2 "Trimming parameter readout", §4.2.3 "Compensation formulas"
 * and §8 "Appendix A: alternative compensation formulas"). Written from the datasheet's description.
 *
 * Two flavours are given, as in the datasheet: double precision (what the driver uses) and the
 * fixed-point integer one (32-bit for temperature and humidity, 64-bit for pressure), which firmware
 * without an FPU runs. Both take the same `t_fine`, the shared fine temperature that carries the
 * temperature dependency into the pressure and humidity formulas.
 */
import { ArgumentError } from '../../core/errors.js';

/** Trimming parameters ("dig_*" words) burnt into each part's NVM at production. */
export interface Bme280Calibration {
  readonly T1: number;
  readonly T2: number;
  readonly T3: number;
  readonly P1: number;
  readonly P2: number;
  readonly P3: number;
  readonly P4: number;
  readonly P5: number;
  readonly P6: number;
  readonly P7: number;
  readonly P8: number;
  readonly P9: number;
  readonly H1: number;
  readonly H2: number;
  readonly H3: number;
  readonly H4: number;
  readonly H5: number;
  readonly H6: number;
}

/** Length of the first NVM block, 0x88…0xA1 (dig_T1 … dig_H1). */
export const CALIBRATION_BLOCK1_LENGTH = 26;
/** Length of the second NVM block, 0xE1…0xE7 (dig_H2 … dig_H6). */
export const CALIBRATION_BLOCK2_LENGTH = 7;

/**
 * Decodes the two NVM blocks (datasheet Table 16). Words are little-endian; dig_H4 and dig_H5 are
 * 12-bit values that share the nibbles of register 0xE5.
 *
 * @example
 * ```ts
 * const block1 = await i2c.readRegister(0x88, 26)
 * const block2 = await i2c.readRegister(0xe1, 7)
 * const calibration = parseCalibration(block1, block2)
 * ```
 */
export function parseCalibration(block1: Uint8Array, block2: Uint8Array): Bme280Calibration {
  if (block1.length < CALIBRATION_BLOCK1_LENGTH || block2.length < CALIBRATION_BLOCK2_LENGTH) {
    throw new ArgumentError(
      `Expected calibration blocks of ${CALIBRATION_BLOCK1_LENGTH} and ${CALIBRATION_BLOCK2_LENGTH} bytes, got ${block1.length} and ${block2.length}`,
    );
  }
  const u8 = (bytes: Uint8Array, index: number): number => bytes[index] ?? 0;
  const u16 = (index: number): number => u8(block1, index) | (u8(block1, index + 1) << 8);
  const s16 = (index: number): number => (u16(index) << 16) >> 16;
  const e4 = u8(block2, 3);
  const e5 = u8(block2, 4);
  const e6 = u8(block2, 5);
  return {
    T1: u16(0),
    T2: s16(2),
    T3: s16(4),
    P1: u16(6),
    P2: s16(8),
    P3: s16(10),
    P4: s16(12),
    P5: s16(14),
    P6: s16(16),
    P7: s16(18),
    P8: s16(20),
    P9: s16(22),
    // 0xA0 is reserved; dig_H1 is at 0xA1.
    H1: u8(block1, 25),
    H2: ((u8(block2, 0) | (u8(block2, 1) << 8)) << 16) >> 16,
    H3: u8(block2, 2),
    // dig_H4 = 0xE4[7:0] << 4 | 0xE5[3:0]; dig_H5 = 0xE6[7:0] << 4 | 0xE5[7:4]; both signed 12-bit.
    H4: (((e4 << 4) | (e5 & 0x0f)) << 20) >> 20,
    H5: (((e6 << 4) | (e5 >> 4)) << 20) >> 20,
    H6: (u8(block2, 6) << 24) >> 24,
  };
}

/** A compensated temperature and the fine temperature the other formulas need. */
export interface CompensatedTemperature {
  readonly celsius: number;
  /** `t_fine`: the datasheet's shared fine-resolution temperature (5120 per °C). */
  readonly tFine: number;
}

/**
 * Temperature in °C from the 20-bit `adc_T` (double-precision formula, datasheet §8.1).
 *
 * @example
 * ```ts
 * const { celsius, tFine } = compensateTemperature(519_888, calibration) // ≈ 25.08 °C
 * ```
 */
export function compensateTemperature(adcT: number, cal: Bme280Calibration): CompensatedTemperature {
  // A first-order term in (adc_T − dig_T1) and a second-order correction scaled by dig_T3.
  const linear = (adcT / 16384 - cal.T1 / 1024) * cal.T2;
  const delta = adcT / 131072 - cal.T1 / 8192;
  const quadratic = delta * delta * cal.T3;
  // The datasheet stores t_fine as a 32-bit integer even in the double flavour.
  return { celsius: (linear + quadratic) / 5120, tFine: Math.trunc(linear + quadratic) };
}

/**
 * Pressure in Pa from the 20-bit `adc_P` (double-precision formula, datasheet §8.1). Returns 0 when
 * the trimming makes the divisor zero, as the datasheet does, to avoid a division by zero.
 *
 * @example
 * ```ts
 * compensatePressure(415_148, tFine, calibration) // ≈ 100 653 Pa
 * ```
 */
export function compensatePressure(adcP: number, tFine: number, cal: Bme280Calibration): number {
  // Offset (var2) and sensitivity (var1) are polynomials in the temperature around 25 °C.
  const dt = tFine / 2 - 64000;
  let offset = (dt * dt * cal.P6) / 32768 + dt * cal.P5 * 2;
  offset = offset / 4 + cal.P4 * 65536;
  let sensitivity = ((cal.P3 * dt * dt) / 524288 + cal.P2 * dt) / 524288;
  sensitivity = (1 + sensitivity / 32768) * cal.P1;
  if (sensitivity === 0) return 0;
  // adc_P falls as pressure rises.
  let pressure = 1048576 - adcP;
  pressure = ((pressure - offset / 4096) * 6250) / sensitivity;
  // Second-order linearity correction in the pressure itself.
  const square = (cal.P9 * pressure * pressure) / 2147483648;
  const first = (pressure * cal.P8) / 32768;
  return pressure + (square + first + cal.P7) / 16;
}

/**
 * Relative humidity in %RH from the 16-bit `adc_H` (double-precision formula, datasheet §8.1),
 * limited to 0…100 %RH as the datasheet does.
 *
 * @example
 * ```ts
 * compensateHumidity(30_000, tFine, calibration) // %RH
 * ```
 */
export function compensateHumidity(adcH: number, tFine: number, cal: Bme280Calibration): number {
  const dt = tFine - 76800;
  // Offset and slope both depend on temperature (dig_H4/H5 offset, dig_H2/H3/H6 slope).
  const offset = cal.H4 * 64 + (cal.H5 / 16384) * dt;
  const slope = (cal.H2 / 65536) * (1 + (cal.H6 / 67108864) * dt * (1 + (cal.H3 / 67108864) * dt));
  let humidity = (adcH - offset) * slope;
  // A quadratic linearisation scaled by dig_H1.
  humidity *= 1 - (cal.H1 * humidity) / 524288;
  return Math.min(100, Math.max(0, humidity));
}

/** Arithmetic right shift of an exact integer held in a double (no 32-bit wrap-around). */
function asr(value: number, bits: number): number {
  return Math.floor(value / 2 ** bits);
}

/**
 * Fixed-point temperature (datasheet §4.2.3, 32-bit integer): hundredths of °C, "5123" = 51.23 °C.
 *
 * @example
 * ```ts
 * compensateTemperatureInt32(519_888, calibration) // { centiCelsius: 2508, tFine: 128422 }
 * ```
 */
export function compensateTemperatureInt32(
  adcT: number,
  cal: Bme280Calibration,
): { readonly centiCelsius: number; readonly tFine: number } {
  const var1 = asr((asr(adcT, 3) - cal.T1 * 2) * cal.T2, 11);
  const delta = asr(adcT, 4) - cal.T1;
  const var2 = asr(asr(delta * delta, 12) * cal.T3, 14);
  const tFine = var1 + var2;
  return { centiCelsius: asr(tFine * 5 + 128, 8), tFine };
}

/**
 * Fixed-point pressure (datasheet §4.2.3, 64-bit integer): Pa in Q24.8, "24674867" = 96 386.2 Pa.
 * Uses `BigInt` for the 64-bit intermediates.
 *
 * @example
 * ```ts
 * Number(compensatePressureInt64(415_148, 128_422, calibration)) / 256 // ≈ 100 653 Pa
 * ```
 */
export function compensatePressureInt64(adcP: number, tFine: number, cal: Bme280Calibration): bigint {
  const P = (value: number): bigint => BigInt(value);
  let var1 = P(tFine) - 128000n;
  let var2 = var1 * var1 * P(cal.P6);
  var2 += (var1 * P(cal.P5)) << 17n;
  var2 += P(cal.P4) << 35n;
  var1 = ((var1 * var1 * P(cal.P3)) >> 8n) + ((var1 * P(cal.P2)) << 12n);
  var1 = (((1n << 47n) + var1) * P(cal.P1)) >> 33n;
  if (var1 === 0n) return 0n;
  let pressure = 1048576n - P(adcP);
  // BigInt division truncates toward zero, as C's int64 division does.
  pressure = (((pressure << 31n) - var2) * 3125n) / var1;
  var1 = (P(cal.P9) * (pressure >> 13n) * (pressure >> 13n)) >> 25n;
  var2 = (P(cal.P8) * pressure) >> 19n;
  return ((pressure + var1 + var2) >> 8n) + (P(cal.P7) << 4n);
}

/**
 * Fixed-point humidity (datasheet §4.2.3, 32-bit integer): %RH in Q22.10, "47445" = 46.333 %RH.
 *
 * @example
 * ```ts
 * compensateHumidityInt32(30_000, tFine, calibration) / 1024 // %RH
 * ```
 */
export function compensateHumidityInt32(adcH: number, tFine: number, cal: Bme280Calibration): number {
  let x = tFine - 76800;
  const offsetTerm = asr(adcH * 16384 - cal.H4 * 1048576 - cal.H5 * x + 16384, 15);
  const slopeTerm = asr((asr(asr(x * cal.H6, 10) * (asr(x * cal.H3, 11) + 32768), 10) + 2097152) * cal.H2 + 8192, 14);
  x = offsetTerm * slopeTerm;
  x -= asr(asr(asr(x, 15) * asr(x, 15), 7) * cal.H1, 4);
  x = Math.min(419430400, Math.max(0, x));
  return asr(x, 12);
}
