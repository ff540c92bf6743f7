/**
 * MPU-6050 register map (InvenSense RM-MPU-6000A "Register Map and Descriptions" §3–§4) as typed
 * constants: a misspelt register, field or setting is a compile error.
 */

/** Register addresses. */
export const REGISTER = {
  smplrtDiv: 0x19,
  config: 0x1a,
  gyroConfig: 0x1b,
  accelConfig: 0x1c,
  /** FIFO_EN: which outputs each sample adds to the FIFO (§4.6). */
  fifoEn: 0x23,
  intEnable: 0x38,
  intStatus: 0x3a,
  /** ACCEL_XOUT_H; a 14-byte burst reads accel x/y/z, temperature and gyro x/y/z. */
  accelXoutH: 0x3b,
  tempOutH: 0x41,
  userCtrl: 0x6a,
  pwrMgmt1: 0x6b,
  /** FIFO_COUNT_H, FIFO_COUNT_L: bytes queued (§4.30). */
  fifoCountH: 0x72,
  /** FIFO_R_W: a burst read from here pops the FIFO (the address does not increment, §4.31). */
  fifoRw: 0x74,
  whoAmI: 0x75,
} as const;

/** PS §7.17: FIFO size, bytes. */
export const FIFO_BYTES = 1024;
/** A FIFO frame of ACCEL_XOUT_H…ACCEL_ZOUT_L. */
export const ACCEL_FRAME_BYTES = 6;
/** Bytes from INT_STATUS through TEMP_OUT_L: status, accel x/y/z and temperature in one burst. */
export const STATUS_BURST_LENGTH = 9;

/** §4.32: WHO_AM_I of an MPU-6050 (bits 6:1 = 0x34; AD0 does not change it). */
export const WHO_AM_I = 0x68;
/** Length of the accel/temperature/gyro burst from ACCEL_XOUT_H. */
export const BURST_LENGTH = 14;

/** Fields. */
export const FIELD = {
  pwrMgmt1: {
    deviceReset: { shift: 7, mask: 0x80 },
    sleep: { shift: 6, mask: 0x40 },
    tempDis: { shift: 3, mask: 0x08 },
    clkSel: { shift: 0, mask: 0x07 },
  },
  config: { dlpfCfg: { shift: 0, mask: 0x07 } },
  fifoEn: { accel: { shift: 3, mask: 0x08 } },
  intEnable: { fifoOflow: { shift: 4, mask: 0x10 } },
  intStatus: { fifoOflow: { shift: 4, mask: 0x10 }, dataRdy: { shift: 0, mask: 0x01 } },
  userCtrl: { fifoEn: { shift: 6, mask: 0x40 }, fifoReset: { shift: 2, mask: 0x04 } },
  accelConfig: { afsSel: { shift: 3, mask: 0x18 } },
} as const satisfies Record<string, Record<string, { readonly shift: number; readonly mask: number }>>;

/** CLKSEL 1: PLL on the X gyro, which the product specification recommends over the 8 MHz oscillator. */
export const CLOCK_PLL_X = 1;

/** Full-scale range (g) → AFS_SEL and sensitivity, LSB/g (§4.5, PS §6.2). */
export const ACCEL_RANGE = {
  2: { afsSel: 0, lsbPerG: 16384 },
  4: { afsSel: 1, lsbPerG: 8192 },
  8: { afsSel: 2, lsbPerG: 4096 },
  16: { afsSel: 3, lsbPerG: 2048 },
} as const;
/** An accelerometer full-scale range, ±g. */
export type AccelRange = keyof typeof ACCEL_RANGE;

/** Accelerometer bandwidth (Hz) → DLPF_CFG (§4.3); 260 Hz is the filter off (8 kHz gyro rate). */
export const DLPF = { 260: 0, 184: 1, 94: 2, 44: 3, 21: 4, 10: 5, 5: 6 } as const;
/** A low-pass bandwidth the part offers, Hz. */
export type DlpfHz = keyof typeof DLPF;
/** Accelerometer delay (ms) of each bandwidth (§4.3, CONFIG table). */
export const DLPF_DELAY_MS = { 260: 0, 184: 2, 94: 3, 44: 4.9, 21: 8.5, 10: 13.8, 5: 19 } as const satisfies Record<DlpfHz, number>;

/** The accepted values, in order, for validation messages. */
export const RANGES = [2, 4, 8, 16] as const satisfies readonly AccelRange[];
export const BANDWIDTHS = [260, 184, 94, 44, 21, 10, 5] as const satisfies readonly DlpfHz[];

/**
 * Places `value` into `field`.
 *
 * @example
 * ```ts
 * setField(FIELD.accelConfig.afsSel, ACCEL_RANGE[8].afsSel) // 0x10
 * ```
 */
export function setField(field: { readonly shift: number; readonly mask: number }, value: number): number {
  return (value << field.shift) & field.mask;
}

/**
 * SMPLRT_DIV for a 1 kHz sample rate: the gyro output rate is 8 kHz with the DLPF off and 1 kHz
 * with it on, and sample rate = gyro rate / (1 + SMPLRT_DIV) (§4.2). The accelerometer itself
 * outputs at 1 kHz, so faster would only repeat samples.
 *
 * @example
 * ```ts
 * sampleRateDivider(260) // 7
 * ```
 */
export function sampleRateDivider(bandwidth: DlpfHz): number {
  return DLPF[bandwidth] === 0 ? 7 : 0;
}

/**
 * SMPLRT_DIV for `rateHz` (§4.2: sample rate = gyro rate / (1 + SMPLRT_DIV), gyro rate 8 kHz with
 * the DLPF off, 1 kHz with it on), or undefined when the part cannot sample at exactly that rate.
 *
 * @example
 * ```ts
 * divisorFor(4000, 260) // 1
 * divisorFor(4000, 44)  // undefined: with the DLPF on the part samples at most at 1 kHz
 * ```
 */
export function divisorFor(rateHz: number, bandwidth: DlpfHz): number | undefined {
  const gyroRateHz = DLPF[bandwidth] === 0 ? 8000 : 1000;
  const divisor = gyroRateHz / rateHz - 1;
  return Number.isInteger(divisor) && divisor >= 0 && divisor <= 255 ? divisor : undefined;
}
