/**
 * The MPU-6050's FIFO as a sensor-clocked acquisition (RM-MPU-6000A §4.6 FIFO_EN, §4.29 USER_CTRL,
 * §4.30 FIFO_COUNT, §4.31 FIFO_R_W, §4.16 INT_STATUS): every accelerometer sample goes into the
 * part's 1024-byte FIFO at the configured sample rate, and a drain reads the level and then that
 * many whole frames in one burst.
 *
 * On overflow the part overwrites its oldest bytes one at a time; 1024 is not a multiple of the
 * 6-byte frame, so what is left is no longer frame-aligned. But it is misaligned by a known amount:
 * the FIFO was frame-aligned after the last drain (whole frames read) or reset, and the part adds
 * whole frames, so a full FIFO starts 1024 mod 6 = 4 bytes before a frame boundary. A drain that
 * finds FIFO_OFLOW_INT set with a full FIFO skips those 4 bytes and returns the newest 170 frames
 * with `overflow` (only what the part overwrote is lost, not everything since the last drain). A
 * level that cannot be explained so (not full, or not whole frames without the flag) makes it
 * discard the contents and reset the FIFO, reporting `overflow` with no frames.
 */
import type { Clock } from '../../core/clock.js';
import type { Provenance } from '../../core/sample.js';
import type { I2cDevice } from '../../io/board.js';
import type { AcquisitionBatch, SensorClockedAcquisition } from '../contract.js';
import { ACCEL_FRAME_BYTES, ACCEL_RANGE, FIELD, FIFO_BYTES, REGISTER, STATUS_BURST_LENGTH, setField, type AccelRange } from './registers.js';

type Output = 'acceleration-x' | 'acceleration-y' | 'acceleration-z' | 'temperature';

const G0 = 9.80665;
const FIFO_ON = setField(FIELD.userCtrl.fifoEn, 1);
const FIFO_RESET = setField(FIELD.userCtrl.fifoReset, 1);

/** What {@link Mpu6050Fifo} needs from its driver. */
export interface Mpu6050FifoOptions {
  readonly i2c: I2cDevice;
  readonly clock: Clock;
  /** FIFO sample rate the driver configured, Hz. */
  readonly rateHz: number;
  /** Runs `task` exclusively on an initialised, configured part (the driver's lock). */
  run<T>(task: (range: AccelRange) => Promise<T>): Promise<T>;
  provenance(): Provenance;
}

/**
 * The FIFO of one MPU-6050; created by `Mpu6050Driver` with `acquisition: 'fifo'`.
 *
 * @example
 * ```ts
 * const driver = new Mpu6050Driver(io, { acquisition: 'fifo', rateHz: 4000 })
 * await driver.acquisition!.start()
 * const { frames, overflow } = await driver.acquisition!.drain()
 * ```
 */
export class Mpu6050Fifo implements SensorClockedAcquisition<Output> {
  readonly mode = 'fifo' as const;
  readonly outputRateHz: number;
  /** 170 frames of 6 bytes. */
  readonly capacityFrames = Math.floor(FIFO_BYTES / ACCEL_FRAME_BYTES);
  readonly #options: Mpu6050FifoOptions;

  constructor(options: Mpu6050FifoOptions) {
    this.#options = options;
    this.outputRateHz = options.rateHz;
  }

  start(): Promise<void> {
    return this.#options.run(async () => {
      const { i2c } = this.#options;
      await i2c.writeRegister(REGISTER.userCtrl, [0]);
      await i2c.writeRegister(REGISTER.fifoEn, [setField(FIELD.fifoEn.accel, 1)]);
      await i2c.writeRegister(REGISTER.intEnable, [setField(FIELD.intEnable.fifoOflow, 1)]);
      await i2c.readRegister(REGISTER.intStatus, 1); // clears a stale overflow flag
      await i2c.writeRegister(REGISTER.userCtrl, [FIFO_RESET]);
      await i2c.writeRegister(REGISTER.userCtrl, [FIFO_ON]);
    });
  }

  drain(): Promise<AcquisitionBatch<Output>> {
    return this.#options.run(async (range) => {
      const { i2c, clock } = this.#options;
      // INT_STATUS, ACCEL_*OUT and TEMP_OUT are consecutive: one burst gives the flags and the temperature.
      const status = await i2c.readRegister(REGISTER.intStatus, STATUS_BURST_LENGTH);
      const before = clock.now();
      const countBytes = await i2c.readRegister(REGISTER.fifoCountH, 2);
      // The level was latched during that read: its middle is the best host time for it.
      const time = (before + clock.now()) / 2;
      const count = ((countBytes[0] ?? 0) << 8) | (countBytes[1] ?? 0);
      const flagged = ((status[0] ?? 0) & FIELD.intStatus.fifoOflow.mask) !== 0;
      const provenance = this.#options.provenance();
      // Bytes before the first whole frame: none normally; after an overflow, a full FIFO's 1024 mod 6.
      const skip = flagged && count === FIFO_BYTES ? FIFO_BYTES % ACCEL_FRAME_BYTES : 0;
      if ((flagged && count !== FIFO_BYTES) || (!flagged && count % ACCEL_FRAME_BYTES !== 0) || count > FIFO_BYTES) {
        await i2c.writeRegister(REGISTER.userCtrl, [FIFO_RESET | FIFO_ON]);
        // Every frame up to the reset is gone: the reset's time is what the sampler must count to.
        return { time: clock.now(), frames: [], overflow: true, provenance };
      }
      // RM §4.18: temperature in °C = TEMP_OUT / 340 + 36.53.
      const temperature = signedWord(status, 7) / 340 + 36.53;
      const frames: Record<Output, number>[] = [];
      if (count > 0) {
        // The whole level, so that what stays in the FIFO is frame-aligned again.
        const data = await i2c.readRegister(REGISTER.fifoRw, count);
        // A full FIFO may have overwritten more frames while it was read (still 4 bytes off, so
        // what was read is whole frames): clear the flag that set, or the next drain would take
        // it for a new overflow of an aligned FIFO.
        if (skip > 0) await i2c.readRegister(REGISTER.intStatus, 1);
        const perLsb = G0 / ACCEL_RANGE[range].lsbPerG;
        for (let at = skip; at + ACCEL_FRAME_BYTES <= data.length; at += ACCEL_FRAME_BYTES) {
          frames.push({
            'acceleration-x': signedWord(data, at) * perLsb,
            'acceleration-y': signedWord(data, at + 2) * perLsb,
            'acceleration-z': signedWord(data, at + 4) * perLsb,
            temperature,
          });
        }
      }
      return { time, frames, overflow: skip > 0, provenance };
    });
  }

  stop(): Promise<void> {
    return this.#options.run(async () => {
      await this.#options.i2c.writeRegister(REGISTER.userCtrl, [0]);
      await this.#options.i2c.writeRegister(REGISTER.fifoEn, [0]);
    });
  }
}

function signedWord(bytes: Uint8Array, at: number): number {
  return ((((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0)) << 16) >> 16;
}
