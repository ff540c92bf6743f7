/**
 * A sample's quality as an OPC UA StatusCode (IEC 62541-4 §7.39, codes from IEC 62541-6 Annex A):
 * Good, or an Uncertain / Bad sub-code that says why, plus the limit bits of IEC 62541-4 §7.39.2
 * when the value is known to sit past a range end.
 *
 * UncertainDataSubNormal, not UncertainSubNormal (0x40950000): the latter is for a value derived
 * from several *sources* with too few good ones; an aggregate window is one source's values over
 * time, the case the former names ("derived from multiple values … less than the required number
 * of Good values").
 *
 * | quality                         | StatusCode                          | why this one |
 * |---------------------------------|-------------------------------------|--------------|
 * | good                            | Good                                | |
 * | uncertain, `stale`              | UncertainLastUsableValue 0x40900000 | the last good value is repeated |
 * | uncertain, `out_of_range`       | UncertainEngineeringUnitsExceeded 0x40940000 (+ Low/High limit bits) | outside EURange |
 * | uncertain, `calibration_expired`| UncertainSensorCalibration 0x420A0000 | the calibration is past its date |
 * | uncertain, `sensor_fault`       | UncertainSensorNotAccurate 0x40930000 | the part answered, but doubtfully |
 * | uncertain, `incomplete`         | UncertainDataSubNormal 0x40A40000   | an aggregate of fewer good values than required (IEC 62541-13 §5.3.2); also a window's value with a `completeness` below 1 and no reason |
 * | uncertain, no reason            | Uncertain 0x40000000                | |
 * | bad, `sensor_fault`             | BadSensorFailure 0x808C0000         | no value from the part |
 * | bad, `out_of_range`             | BadOutOfRange 0x803C0000            | a value that cannot be right |
 * | bad, `stale`                    | BadNoCommunication 0x80310000       | no reading and no last usable value |
 * | bad, `calibration_expired`      | BadConfigurationError 0x80890000    | the device's configuration is unusable |
 * | bad, `incomplete`               | BadNoData 0x809B0000                | no sample in the window |
 * | bad, no reason                  | Bad 0x80000000                      | |
 */
import type { Quality, QualityReason, SampleCompleteness } from '../../core/sample.js';

/** The StatusCodes the mapping uses, by their IEC 62541-6 Annex A names. */
export const OPCUA_STATUS = {
  Good: 0x0000_0000,
  Uncertain: 0x4000_0000,
  UncertainLastUsableValue: 0x4090_0000,
  UncertainSensorNotAccurate: 0x4093_0000,
  UncertainEngineeringUnitsExceeded: 0x4094_0000,
  UncertainDataSubNormal: 0x40a4_0000,
  UncertainSensorCalibration: 0x420a_0000,
  Bad: 0x8000_0000,
  BadNoCommunication: 0x8031_0000,
  BadOutOfRange: 0x803c_0000,
  BadConfigurationError: 0x8089_0000,
  BadSensorFailure: 0x808c_0000,
  BadNoData: 0x809b_0000,
} as const;

/** Limit bits of a StatusCode (IEC 62541-4 §7.39.2, bits 8–9). */
export const LIMIT_LOW = 0x100;
export const LIMIT_HIGH = 0x200;

const UNCERTAIN: Readonly<Record<QualityReason, number>> = {
  stale: OPCUA_STATUS.UncertainLastUsableValue,
  out_of_range: OPCUA_STATUS.UncertainEngineeringUnitsExceeded,
  calibration_expired: OPCUA_STATUS.UncertainSensorCalibration,
  sensor_fault: OPCUA_STATUS.UncertainSensorNotAccurate,
  incomplete: OPCUA_STATUS.UncertainDataSubNormal,
};

const BAD: Readonly<Record<QualityReason, number>> = {
  sensor_fault: OPCUA_STATUS.BadSensorFailure,
  out_of_range: OPCUA_STATUS.BadOutOfRange,
  stale: OPCUA_STATUS.BadNoCommunication,
  calibration_expired: OPCUA_STATUS.BadConfigurationError,
  incomplete: OPCUA_STATUS.BadNoData,
};

/**
 * The StatusCode (as its 32-bit value) of a sample's quality. With `value` and `range`, an
 * out-of-range sample also carries the Low or High limit bit. With `completeness`, an uncertain
 * sample without a reason whose window missed samples is UncertainDataSubNormal, as `incomplete`.
 *
 * @example
 * ```ts
 * statusCodeOf({ level: 'bad', reason: 'sensor_fault' }) // 0x808C0000 (BadSensorFailure)
 * statusCodeOf({ level: 'uncertain', reason: 'out_of_range' }, 90, { min: -40, max: 85 }) // 0x40940200
 * statusCodeOf({ level: 'uncertain', reason: 'incomplete' }) // 0x40A40000 (UncertainDataSubNormal)
 * ```
 */
export function statusCodeOf(
  quality: Quality,
  value?: number | null,
  range?: { readonly min: number; readonly max: number },
  completeness?: SampleCompleteness,
): number {
  if (quality.level === 'good') return OPCUA_STATUS.Good;
  const missed = completeness !== undefined && completeness.received < completeness.expected;
  const reason = quality.reason ?? (missed && quality.level === 'uncertain' ? 'incomplete' : undefined);
  let code = quality.level === 'uncertain' ? (reason ? UNCERTAIN[reason] : OPCUA_STATUS.Uncertain) : reason ? BAD[reason] : OPCUA_STATUS.Bad;
  if (reason === 'out_of_range' && range !== undefined && typeof value === 'number') {
    if (value < range.min) code += LIMIT_LOW;
    else if (value > range.max) code += LIMIT_HIGH;
  }
  return code;
}
