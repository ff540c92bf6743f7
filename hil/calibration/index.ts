/** Calibration: runs that fit a channel's correction with its uncertainty, signed calibration records, and loading them for a device. */
export {
  CALIBRATION_FORMAT,
  signCalibrationRecord,
  calibrationRecordText,
  checkCalibrationRecord,
  calibrationSpecOf,
  type CalibrationRecord,
  type SignedCalibrationRecord,
  type CalibrationStandard,
  type CalibrationPointRecord,
  type CalibrationCheck,
  type CalibrationCheckOptions,
  type CalibrationRefusal,
} from './calibration-record.js';
export {
  calibrationFromRun,
  calibrateChannel,
  verifyCalibrationRecord,
  calibrationsFromRecords,
  type CalibrationFromRunOptions,
  type CalibrateChannelOptions,
  type LoadCalibrationOptions,
} from './calibrate.js';
export { parseStandardFile, readStandardFile, type StandardFile, type ReferenceStandardOf } from './standard-file.js';
