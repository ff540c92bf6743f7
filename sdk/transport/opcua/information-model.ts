/**
 * The whole information model of one device, derived from its model: the DI device object with
 * its identification, the channels, the settings, the commands and the limit alarms, in the
 * model's own namespace. Built from the model alone (what `sensorkit model --format nodeset`
 * exports); `attach(device)` then makes it live.
 */
import type { AddressSpace, Namespace } from 'node-opcua';
import type { Device } from '../../device/device.js';
import type { DeviceModel } from '../../model/define-device.js';
import type { Sample } from '../../core/sample.js';
import type { OpcuaAccess } from './access.js';
import { ChannelItems } from './channel-items.js';
import { CommandMethods } from './commands.js';
import { DeviceHealth, addDeviceObject, modelNamespaceUri, type DeviceHealthValue, type DeviceObject } from './device-object.js';
import { LimitAlarms } from './limit-alarms.js';
import { SettingVariables } from './settings.js';

/** The nodes of one device. */
export interface InformationModel {
  readonly namespace: Namespace;
  readonly device: DeviceObject;
  readonly channels: ChannelItems;
  readonly settings: SettingVariables;
  readonly commands: CommandMethods;
  readonly alarms: LimitAlarms;
}

/**
 * Adds a device's information model to an address space that has the DI nodeset loaded.
 *
 * @example
 * ```ts
 * const info = buildInformationModel(addressSpace, model, { deviceId: 'env-node-EMU-1', serialNumber: 'EMU-1' })
 * const detach = attachDevice(info, device)
 * ```
 */
export function buildInformationModel(addressSpace: AddressSpace, model: DeviceModel, unit: { deviceId: string; serialNumber: string }): InformationModel {
  const namespace = addressSpace.registerNamespace(modelNamespaceUri(model));
  const device = addDeviceObject(addressSpace, namespace, model, unit);
  const channels = new ChannelItems(namespace, device.parameterSet, model, unit.deviceId);
  const settings = new SettingVariables(namespace, device.parameterSet, model, unit.deviceId);
  const commands = new CommandMethods(namespace, device.methodSet, model, unit.deviceId);
  const alarms = new LimitAlarms(namespace, device.object, model, unit.deviceId, (id) => channels.variable(id));
  return { namespace, device, channels, settings, commands, alarms };
}

/**
 * NE 107 rank of a sample's quality: a bad value is a FAILURE, another doubtful one is OFF_SPEC,
 * an expired calibration asks for MAINTENANCE_REQUIRED.
 */
function healthOf(sample: Sample): DeviceHealthValue {
  const { level, reason } = sample.quality;
  if (level === 'good') return DeviceHealth.NORMAL;
  if (level === 'bad') return DeviceHealth.FAILURE;
  return reason === 'calibration_expired' ? DeviceHealth.MAINTENANCE_REQUIRED : DeviceHealth.OFF_SPEC;
}

const SEVERITY: readonly DeviceHealthValue[] = [DeviceHealth.NORMAL, DeviceHealth.MAINTENANCE_REQUIRED, DeviceHealth.OFF_SPEC, DeviceHealth.FAILURE];

/**
 * Makes the model live for `device`: every sample sets its channel (value, source timestamp,
 * status), DeviceHealth follows the worst channel, settings and commands reach the device, alarms
 * follow its alarm events. With `access`, calls and writes are checked against the caller's role.
 * Returns a function that detaches.
 */
export function attachDevice(info: InformationModel, device: Device, access?: OpcuaAccess): () => void {
  const health = new Map<string, DeviceHealthValue>();
  const offSample = device.on('sample', (sample) => {
    info.channels.update(sample);
    const rank = healthOf(sample);
    if (health.get(sample.channel) === rank) return;
    health.set(sample.channel, rank);
    let worst: DeviceHealthValue = DeviceHealth.NORMAL;
    for (const value of health.values()) if (SEVERITY.indexOf(value) > SEVERITY.indexOf(worst)) worst = value;
    info.device.setHealth(worst);
  });
  for (const channel of device.model.channels) {
    const latest = device.latest(channel.id);
    if (latest) info.channels.update(latest);
  }
  const offSettings = info.settings.bind(device, () => info.device.bumpRevision(), access);
  info.commands.bind(device, access);
  const offAlarms = info.alarms.bind(device);
  return () => {
    offSample();
    offSettings();
    offAlarms();
  };
}
