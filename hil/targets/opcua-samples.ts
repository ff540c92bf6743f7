/**
 * What the OPC UA observer needs without node-opcua: its options, a read's shape, and the way back
 * from a status code to a quality (IEC 62541-4 §7.39) and from a UNECE unit id to a SenML unit
 * (IEC 62541-8 §5.6.3). The observer itself (opcua-observer.ts) loads node-opcua.
 */
import type { Quality, QualityReason, Sample } from '../../sdk/core/sample.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';
import { OPCUA_STATUS } from '../../sdk/transport/opcua/opcua-status.js';
import { engineeringUnits, mappedUnits } from '../../sdk/transport/opcua/opcua-units.js';

/** Options of {@link OpcuaObserver.connect}. */
export interface OpcuaObserverOptions {
  /** `opc.tcp://host:port` of the device's server (the `dev` profile: SecurityPolicy None, anonymous). */
  readonly endpointUrl: string;
  readonly model: DeviceModel;
  /** The device id, `<model id>-<serial number>`. */
  readonly deviceId: string;
  /** Folder of the client's own PKI (its certificate is made there on first use). */
  readonly pkiDir: string;
  /** Longest wait for the connection, the session and the subscription, ms. Default 15,000. */
  readonly timeoutMs?: number;
  /** Publishing interval of the subscription, ms. Default 100. */
  readonly publishingIntervalMs?: number;
}

/** A channel variable read once. */
export interface OpcuaReading {
  readonly sample: Sample;
  /** The status code as its 32-bit value. */
  readonly statusCode: number;
}

const REASONS: ReadonlyMap<number, { level: Quality['level']; reason?: QualityReason }> = new Map([
  [OPCUA_STATUS.UncertainLastUsableValue, { level: 'uncertain', reason: 'stale' }],
  [OPCUA_STATUS.UncertainEngineeringUnitsExceeded, { level: 'uncertain', reason: 'out_of_range' }],
  [OPCUA_STATUS.UncertainSensorCalibration, { level: 'uncertain', reason: 'calibration_expired' }],
  [OPCUA_STATUS.UncertainSensorNotAccurate, { level: 'uncertain', reason: 'sensor_fault' }],
  [OPCUA_STATUS.BadSensorFailure, { level: 'bad', reason: 'sensor_fault' }],
  [OPCUA_STATUS.BadOutOfRange, { level: 'bad', reason: 'out_of_range' }],
  [OPCUA_STATUS.BadNoCommunication, { level: 'bad', reason: 'stale' }],
  [OPCUA_STATUS.BadConfigurationError, { level: 'bad', reason: 'calibration_expired' }],
  [OPCUA_STATUS.UncertainDataSubNormal, { level: 'uncertain', reason: 'incomplete' }],
  [OPCUA_STATUS.BadNoData, { level: 'bad', reason: 'incomplete' }],
]);

/**
 * The quality of an OPC UA status code (its limit bits ignored).
 *
 * @example
 * ```ts
 * qualityOfStatus(0x808c0000) // { level: 'bad', reason: 'sensor_fault' }
 * qualityOfStatus(0x40a40000) // { level: 'uncertain', reason: 'incomplete' } (UncertainDataSubNormal)
 * ```
 */
export function qualityOfStatus(code: number): Quality {
  const severity = code >>> 30;
  if (severity === 0) return { level: 'good' };
  const known = REASONS.get((code & 0xffff0000) >>> 0);
  if (known !== undefined) return known.reason === undefined ? { level: known.level } : { level: known.level, reason: known.reason };
  return { level: severity === 1 ? 'uncertain' : 'bad' };
}

/**
 * The SenML unit of a UNECE `unitId`: `preferred` when it maps to that id, else the first SenML
 * unit that does; undefined when none does.
 *
 * @example
 * ```ts
 * senmlUnitOf(4408652, 'Cel') // 'Cel'
 * ```
 */
export function senmlUnitOf(unitId: number, preferred?: string): string | undefined {
  const idOf = (unit: string): number | undefined => {
    try {
      return engineeringUnits(unit).unitId;
    } catch {
      return undefined;
    }
  };
  if (preferred !== undefined && idOf(preferred) === unitId) return preferred;
  return mappedUnits().find((unit) => idOf(unit) === unitId);
}
