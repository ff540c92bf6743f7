/**
 * BME280 register map (Bosch BME280 datasheet §5.3 memory map, §5.4 register descriptions) as typed
 * constants: a misspelt register or field name is a compile error, not a silently cleared bit.
 */

/** A bit field inside an 8-bit register. */
export interface BitField {
  readonly shift: number;
  readonly mask: number;
}

/** Register addresses. */
export const REGISTER = {
  /** First trimming block, 0x88…0xA1 (26 bytes). */
  calib00: 0x88,
  chipId: 0xd0,
  reset: 0xe0,
  /** Second trimming block, 0xE1…0xE7 (7 bytes). */
  calib26: 0xe1,
  ctrlHum: 0xf2,
  status: 0xf3,
  ctrlMeas: 0xf4,
  config: 0xf5,
  /** press_msb; a burst of 8 bytes reads pressure, temperature and humidity (§4). */
  data: 0xf7,
} as const;

/** §5.4.1: the chip id of a BME280 (a BMP280 answers 0x56…0x58). */
export const CHIP_ID = 0x60;
/** §5.4.2: the word that triggers a power-on-reset. */
export const RESET_WORD = 0xb6;
/** Length of the pressure/temperature/humidity burst. */
export const DATA_LENGTH = 8;
/** Raw value the part reports for a skipped (osrs = 0) 20-bit measurement, §4. */
export const SKIPPED_20BIT = 0x80000;

/** Fields of ctrl_hum, status, ctrl_meas and config. */
export const FIELD = {
  ctrlHum: { osrsH: { shift: 0, mask: 0x07 } },
  status: { measuring: { shift: 3, mask: 0x08 }, imUpdate: { shift: 0, mask: 0x01 } },
  ctrlMeas: { osrsT: { shift: 5, mask: 0xe0 }, osrsP: { shift: 2, mask: 0x1c }, mode: { shift: 0, mask: 0x03 } },
  config: { tSb: { shift: 5, mask: 0xe0 }, filter: { shift: 2, mask: 0x1c }, spi3wEn: { shift: 0, mask: 0x01 } },
} as const satisfies Record<string, Record<string, BitField>>;

/** ctrl_meas mode values (§3.3, Table 25). */
export const MODE = { sleep: 0b00, forced: 0b01, normal: 0b11 } as const;

/** Oversampling factor → osrs code (Tables 20, 23, 24). */
export const OVERSAMPLING_CODE = { 1: 0b001, 2: 0b010, 4: 0b011, 8: 0b100, 16: 0b101 } as const;
/** The oversampling factors the part supports. */
export type Oversampling = keyof typeof OVERSAMPLING_CODE;

/** IIR filter coefficient → filter code (Table 28); 0 means off. */
export const FILTER_CODE = { 0: 0b000, 2: 0b001, 4: 0b010, 8: 0b011, 16: 0b100 } as const;
/** The IIR filter coefficients the part supports (0 = off). */
export type FilterCoefficient = keyof typeof FILTER_CODE;

/**
 * Places `value` into `field`.
 *
 * @example
 * ```ts
 * setField(FIELD.ctrlMeas.mode, MODE.forced) | setField(FIELD.ctrlMeas.osrsT, OVERSAMPLING_CODE[2])
 * ```
 */
export function setField(field: BitField, value: number): number {
  return (value << field.shift) & field.mask;
}

/**
 * Reads `field` out of a register value.
 *
 * @example
 * ```ts
 * getField(FIELD.status.measuring, status) === 1 // a conversion is running
 * ```
 */
export function getField(field: BitField, register: number): number {
  return (register & field.mask) >> field.shift;
}

/**
 * Maximum measurement time, ms, datasheet §9.1 (Appendix B): 1.25 ms plus 2.3 ms per temperature
 * and pressure/humidity oversampling step, plus 0.575 ms for each of pressure and humidity.
 *
 * @example
 * ```ts
 * maxMeasurementMs(1, 1, 1) // 9.3
 * ```
 */
export function maxMeasurementMs(temperature: Oversampling, pressure: Oversampling, humidity: Oversampling): number {
  return 1.25 + 2.3 * temperature + (2.3 * pressure + 0.575) + (2.3 * humidity + 0.575);
}
