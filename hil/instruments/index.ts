/** Instruments: simulated on the harness's clock, or real over SCPI. */
export type * from './instrument.js';
export { InstrumentError, type InstrumentErrorReason } from './errors.js';
export { SimulatedInstrument, type SimulatedInstrumentOptions } from './sim-common.js';
export { QUANTITY_UNITS } from './instrument.js';
export { SimulatedCalibrator, defaultCalibratorCertificate, type SimulatedCalibratorOptions } from './sim-calibrator.js';
export { SimulatedDmm, DEFAULT_DMM_ACCURACY, DEFAULT_DMM_RANGES, type DmmAccuracy, type DmmQuantity, type SimulatedDmmOptions } from './sim-dmm.js';
export { SimulatedPowerSupply, type SimulatedPowerSupplyOptions, type SupplyEvent } from './sim-supply.js';
export { SimulatedChamber, type SimulatedChamberOptions } from './sim-chamber.js';
export { RampLag } from './ramp-lag.js';
export {
  DEFAULT_SCPI_DIALECT,
  SCPI_MODEL_DIALECTS,
  parseIdn,
  parseScpiNumber,
  parseSystemError,
  resolveDialect,
  type ScpiDialect,
  type ScpiIdentity,
  type ScpiNumber,
  type ScpiQuantityMapping,
} from './scpi-dialect.js';
export { headerPattern, type HeaderPattern } from './scpi-headers.js';
export { openSerialLink, openTcpLink, streamLink, type LinkEnd, type ScpiLink, type ScpiTerminator } from './scpi-link.js';
export { DEFAULT_SCPI_TIMEOUT_MS, ScpiInstrument, type ScpiConnectOptions, type ScpiInstrumentOptions } from './scpi-instrument.js';
export { ScpiEngine, SIMULATED_KINDS, nr3, type SimulatedKind } from './scpi-engine.js';
export { createSimulatedInstrument, startScpiSimulator, type ScpiMisbehaviour, type ScpiSimulator, type ScpiSimulatorOptions } from './scpi-simulator.js';
export { connectInstrument, parseInstrumentSpec, type ConnectInstrumentOptions, type InstrumentSpec } from './connect.js';
