/** The package's entry points resolve by name and export what the README shows. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string> };

const EXPECTED: Record<string, string[]> = {
  '.': ['defineDevice', 'Device', 'VirtualClock', 'SystemClock', 'ChannelPipeline', 'Sampler', 'driverDefinition', 'SensorkitError'],
  './core': ['VirtualClock', 'SystemClock', 'TypedEmitter', 'SeededRandom', 'ValidationError'],
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
  './ota': ['verifyEnvelope', 'signEnvelope', 'UpdateAgent', 'TrustAnchors', 'CampaignStore', 'startUpdateServer', 'ManifestError'],
  './security': ['AuditLog', 'verifyAuditLog'],
};

describe('package exports', () => {
  it('lists exactly the documented entry points', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('sensorkit%s exports its API by package name', async (subpath, names) => {
    const specifier = subpath === '.' ? 'sensorkit' : `sensorkit/${subpath.slice(2)}`;
    const module = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    for (const name of names) expect(module[name], `${specifier} exports ${name}`).toBeDefined();
  });
});
