/**
 * What flows from the sampler through the pipeline to encoders and transports.
 */

/** Quality level, as OPC UA's Good / Uncertain / Bad status classes (IEC 62541-4 §7.39). */
export type QualityLevel = 'good' | 'uncertain' | 'bad';

/** Why a sample is not good. */
export type QualityReason =
  /** Outside the channel's measuring range. */
  | 'out_of_range'
  /** The part failed to answer, answered nonsense, or signals a fault (open loop, NAK, timeout). */
  | 'sensor_fault'
  /** No fresh reading: the last good value is repeated. */
  | 'stale'
  /** The channel's calibration is past its validity date. */
  | 'calibration_expired'
  /**
   * Fewer samples than the part took: an aggregate window that missed some (its `completeness`
   * says how many), or the first sample after samples were lost (FIFO overflow, a gap).
   */
  | 'incomplete';

/** A sample's quality: good, or uncertain/bad with a reason. */
export interface Quality {
  readonly level: QualityLevel;
  readonly reason?: QualityReason;
  /** Human detail, e.g. the bus error message. */
  readonly detail?: string;
}

/** The good quality, shared. */
export const GOOD: Quality = Object.freeze({ level: 'good' });

/** Where a value came from: the part, its configuration and the calibration applied. */
export interface Provenance {
  /** Driver part id, e.g. "bme280". */
  readonly part: string;
  /** Bus and address or pin, e.g. "i2c0@0x76" or "A0". */
  readonly source: string;
  /** Driver configuration summary, e.g. "osrs_t=x2 filter=4". */
  readonly configuration?: string;
}

/** How many samples an aggregate window expected and got. */
export interface SampleCompleteness {
  readonly expected: number;
  readonly received: number;
}

/**
 * One processed sample of one channel.
 *
 * `value` is in the channel's SenML unit; it is `null` only when the quality is bad and there is no
 * value worth showing.
 */
export interface Sample {
  readonly channel: string;
  /** Time the reading was taken, ms since the Unix epoch (clock time). */
  readonly time: number;
  readonly value: number | null;
  /** SenML unit symbol. */
  readonly unit: string;
  readonly quality: Quality;
  /** Expanded uncertainty (k = 2) in the channel's unit, when a calibration states it. */
  readonly uncertainty?: number;
  /** Id of the calibration record applied. */
  readonly calibrationId?: string;
  readonly provenance?: Provenance;
  /** On an aggregate's value whose window missed samples: the samples it expected and got. */
  readonly completeness?: SampleCompleteness;
}
