/**
 * The package's entry points and a few names each must export: the contract of package.json
 * `exports`, checked from the sources (test/contract/package-exports.test.ts) and from an installed
 * tarball (test/package/consumer.test.ts).
 */
export const EXPECTED_EXPORTS: Readonly<Record<string, readonly string[]>> = {
  '.': ['defineDevice', 'Device', 'VirtualClock', 'SystemClock', 'ChannelPipeline', 'Sampler', 'driverDefinition', 'SensorkitError'],
  './core': ['VirtualClock', 'SystemClock', 'TypedEmitter', 'SeededRandom', 'ValidationError', 'MissingPackageError'],
  './io': ['MODES', 'i2cTarget', 'ARDUINO_UNO', 'RASPBERRY_PI_4', 'boardDefinition'],
  './model': ['defineDevice', 'DeviceModel', 'convert', 'senmlUnitProblem'],
  './drivers': ['driverDefinition', 'registerDriver', 'registeredParts', 'BUILTIN_DRIVERS'],
  './sampling': ['Sampler', 'WindowAggregator'],
  './pipeline': ['ChannelPipeline', 'createCalibration', 'createFilter', 'ReportByException', 'AlarmEvaluator', 'FaultTracker'],
  './device': ['Device'],
  './runtime': ['loadDeviceFile'],
  './encoding': ['SenmlCborEncoder', 'SenmlCborDecoder', 'resolveSenml', 'topics', 'deviceIdFor', 'thingDescription', 'payloadCddl'],
  './transport': ['MqttTransport', 'startEmbeddedBroker', 'DurableOutbox'],
  './transport/opcua': ['OpcuaServer', 'exportNodeset2'],
  './boards': ['MODES', 'ARDUINO_UNO', 'RASPBERRY_PI_4', 'EmulatedBoard'],
  './boards/emulated': ['EmulatedBoard', 'AdcModel', 'sine', 'gaussianNoise', 'thermistorDivider'],
  './boards/emulated/parts': ['Bme280Peripheral', 'Ads1115Peripheral', 'Mpu6050Peripheral', 'currentLoopTransmitter'],
  './boards/emulated/firmata': ['FirmataEngine', 'FirmataPtyServer'],
  './boards/firmata': ['FirmataBoard', 'FirmataParser', 'listSerialPorts'],
  './boards/linux': ['LinuxBoard', 'listIioChannels'],
  './ota': ['verifyEnvelope', 'signEnvelope', 'UpdateAgent', 'TrustAnchors', 'FleetStore', 'openArtefactStore', 'startUpdateServer', 'ManifestError'],
  './security': ['AuditLog', 'verifyAuditLog', 'auditConfiguration', 'CommandAuthorizer', 'signWithIdentity'],
  './hil': ['RECORD_FORMAT', 'defineTestPlan', 'loadTestPlan', 'runTestPlan', 'createEmulatedTarget', 'createTarget', 'connectInstrument', 'ScpiInstrument', 'startScpiSimulator', 'SimulatedDmm', 'SimulatedCalibrator', 'SimulatedPowerSupply', 'SimulatedChamber', 'signRecord', 'verifyRecord', 'junitXml', 'renderReport', 'combineUncertainty', 'decide', 'calibrationsFromRecords'],
};

/** `'.'` → `'sensorkit'`, `'./core'` → `'sensorkit/core'`. */
export const specifierOf = (subpath: string): string => (subpath === '.' ? 'sensorkit' : `sensorkit/${subpath.slice(2)}`);
