/**
 * ADS1115 register map (TI ADS111x datasheet §9.6) as typed constants: a misspelt register, field
 * or setting is a compile error.
 */

/** Pointer register values (§9.6.1, Table 6). */
export const POINTER = { conversion: 0b00, config: 0b01, loThresh: 0b10, hiThresh: 0b11 } as const;

/** Config register fields (§9.6.3, Table 8). */
export const CONFIG = {
  /** Write 1: start a single conversion; read 0: a conversion is running. */
  os: { shift: 15, mask: 0x8000 },
  mux: { shift: 12, mask: 0x7000 },
  pga: { shift: 9, mask: 0x0e00 },
  /** 1: single-shot / power-down, 0: continuous. */
  mode: { shift: 8, mask: 0x0100 },
  dr: { shift: 5, mask: 0x00e0 },
  compMode: { shift: 4, mask: 0x0010 },
  compPol: { shift: 3, mask: 0x0008 },
  compLat: { shift: 2, mask: 0x0004 },
  /** 0b11 disables the comparator and puts ALERT/RDY in high impedance. */
  compQue: { shift: 0, mask: 0x0003 },
} as const satisfies Record<string, { readonly shift: number; readonly mask: number }>;

/** Input selections: one input against GND, or a differential pair (MUX codes, Table 8). */
export const MUX = {
  diff01: 0b000,
  diff03: 0b001,
  diff13: 0b010,
  diff23: 0b011,
  0: 0b100,
  1: 0b101,
  2: 0b110,
  3: 0b111,
} as const;
/** An input selection: `0`…`3` single-ended, or `'diff01'`, `'diff03'`, `'diff13'`, `'diff23'`. */
export type Ads1115Channel = keyof typeof MUX;

/** Full-scale range (V) → PGA code. */
export const PGA = { 6.144: 0b000, 4.096: 0b001, 2.048: 0b010, 1.024: 0b011, 0.512: 0b100, 0.256: 0b101 } as const;
/** A full-scale range the PGA offers, V. */
export type FullScaleVolts = keyof typeof PGA;

/** Data rate (samples per second) → DR code. */
export const DATA_RATE = { 8: 0b000, 16: 0b001, 32: 0b010, 64: 0b011, 128: 0b100, 250: 0b101, 475: 0b110, 860: 0b111 } as const;
/** A data rate the part offers, SPS. */
export type DataRate = keyof typeof DATA_RATE;

/** The accepted values, in order, for validation messages. */
export const CHANNELS = [0, 1, 2, 3, 'diff01', 'diff03', 'diff13', 'diff23'] as const satisfies readonly Ads1115Channel[];
export const FULL_SCALES = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256] as const satisfies readonly FullScaleVolts[];
export const DATA_RATES = [8, 16, 32, 64, 128, 250, 475, 860] as const satisfies readonly DataRate[];

/**
 * The config word for one single-shot conversion, comparator disabled.
 *
 * @example
 * ```ts
 * singleShotConfig(0, 4.096, 128) // 0xc383: OS, AIN0 vs GND, ±4.096 V, single-shot, 128 SPS
 * ```
 */
export function singleShotConfig(channel: Ads1115Channel, fullScaleVolts: FullScaleVolts, dataRate: DataRate): number {
  const field = (spec: { readonly shift: number; readonly mask: number }, value: number): number => (value << spec.shift) & spec.mask;
  return (
    field(CONFIG.os, 1) |
    field(CONFIG.mux, MUX[channel]) |
    field(CONFIG.pga, PGA[fullScaleVolts]) |
    field(CONFIG.mode, 1) |
    field(CONFIG.dr, DATA_RATE[dataRate]) |
    field(CONFIG.compQue, 0b11)
  );
}

/** §9.3.8: Lo_thresh MSB 0 and Hi_thresh MSB 1 turn ALERT/RDY into a conversion-ready pulse. */
export const READY_THRESHOLDS = { lo: 0x0000, hi: 0x8000 } as const;

/**
 * The config word for continuous conversion (MODE 0) with ALERT/RDY pulsing after each conversion
 * (COMP_QUE 00, with {@link READY_THRESHOLDS}).
 *
 * @example
 * ```ts
 * continuousConfig(0, 4.096, 860) // 0x42e0: AIN0 vs GND, ±4.096 V, continuous, 860 SPS, RDY after each conversion
 * ```
 */
export function continuousConfig(channel: Ads1115Channel, fullScaleVolts: FullScaleVolts, dataRate: DataRate): number {
  const field = (spec: { readonly shift: number; readonly mask: number }, value: number): number => (value << spec.shift) & spec.mask;
  return field(CONFIG.mux, MUX[channel]) | field(CONFIG.pga, PGA[fullScaleVolts]) | field(CONFIG.mode, 0) | field(CONFIG.dr, DATA_RATE[dataRate]) | field(CONFIG.compQue, 0b00);
}
