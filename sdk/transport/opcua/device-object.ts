/**
 * The device as an OPC UA for Devices (DI, OPC 10000-100) object: an object type derived from DI
 * `DeviceType` for the model, and one instance of it under `DeviceSet` for this unit, with the
 * identification properties of OPC 10000-100 §4.5 (Manufacturer, Model, SerialNumber, revisions,
 * ProductCode, RevisionCounter) and `DeviceHealth`.
 */
import { DataType, LocalizedText, type AddressSpace, type Namespace, type UAObject, type UAObjectType, type UAVariable } from 'node-opcua';
import { StateError } from '../../core/errors.js';
import type { DeviceModel } from '../../model/define-device.js';

/** Namespace URI of OPC UA for Devices. */
export const DI_NAMESPACE_URI = 'http://opcfoundation.org/UA/DI/';

/** DI `DeviceHealthEnumeration` (OPC 10000-100 §5.5.4), after NAMUR NE 107. */
export const DeviceHealth = { NORMAL: 0, FAILURE: 1, CHECK_FUNCTION: 2, OFF_SPEC: 3, MAINTENANCE_REQUIRED: 4 } as const;
export type DeviceHealthValue = (typeof DeviceHealth)[keyof typeof DeviceHealth];

/** DI identification properties this object fills (browse names in the DI namespace). */
export const IDENTIFICATION = ['Manufacturer', 'ManufacturerUri', 'Model', 'SerialNumber', 'HardwareRevision', 'SoftwareRevision', 'DeviceRevision', 'ProductCode', 'RevisionCounter', 'DeviceHealth'] as const;

/** The namespace URI of a model's information model. */
export function modelNamespaceUri(model: DeviceModel): string {
  return `urn:sensorkit:${model.id}`;
}

/** `env-node` → `EnvNodeDeviceType`. */
export function deviceTypeName(model: DeviceModel): string {
  return `${model.id.replace(/(^|[-_])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}DeviceType`;
}

/** The DI object of one device and the handles to update it. */
export interface DeviceObject {
  readonly type: UAObjectType;
  readonly object: UAObject;
  /** DI `ParameterSet`: channels and settings. */
  readonly parameterSet: UAObject;
  /** DI `MethodSet`: commands. */
  readonly methodSet: UAObject;
  setHealth(health: DeviceHealthValue): void;
  /** Counts a change of the device's static data (a setting written), DI `RevisionCounter`. */
  bumpRevision(): void;
}

/**
 * Adds the model's device type (derived from DI `DeviceType`) and this unit's instance under
 * `DeviceSet`. The DI nodeset must be loaded.
 *
 * @example
 * ```ts
 * const ns = addressSpace.registerNamespace(modelNamespaceUri(model))
 * const device = addDeviceObject(addressSpace, ns, model, { deviceId: 'env-node-EMU-1', serialNumber: 'EMU-1' })
 * device.setHealth(DeviceHealth.FAILURE)
 * ```
 */
export function addDeviceObject(addressSpace: AddressSpace, namespace: Namespace, model: DeviceModel, unit: { deviceId: string; serialNumber: string }): DeviceObject {
  const di = addressSpace.getNamespaceIndex(DI_NAMESPACE_URI);
  if (di < 0) throw new StateError('the OPC UA for Devices (DI) nodeset is not loaded');
  const baseType = addressSpace.findObjectType('DeviceType', di);
  const deviceSet = addressSpace.rootFolder.objects.getFolderElementByName('DeviceSet', di);
  if (!baseType || !deviceSet) throw new StateError('DI DeviceType or DeviceSet missing from the address space');
  const typeName = deviceTypeName(model);
  const type = namespace.addObjectType({
    browseName: typeName,
    nodeId: `s=${typeName}`,
    subtypeOf: baseType,
    isAbstract: false,
    description: model.spec.description ?? `${model.identity.manufacturer} ${model.identity.model}`,
  });
  const object = type.instantiate({
    browseName: unit.deviceId,
    nodeId: `s=${unit.deviceId}`,
    // Children in the model's namespace too (node-opcua would put them in the type's).
    namespace,
    organizedBy: deviceSet,
    // The device is where its alarms come from: an event source of the Server (IEC 62541-9 §4.10).
    eventSourceOf: addressSpace.rootFolder.objects.server,
    eventNotifier: 1,
    optionals: ['ManufacturerUri', 'DeviceRevision', 'ProductCode', 'DeviceHealth', 'ParameterSet', 'MethodSet'],
    description: model.spec.description ?? model.identity.model,
  });
  const identity = model.identity;
  const property = (name: string): UAVariable => {
    const node = object.getChildByName(name, di) as UAVariable | null;
    if (node === null) throw new StateError(`DI property ${name} missing on the device object`);
    return node;
  };
  const text = (value: string) => ({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: value, locale: 'en' }) });
  const string = (value: string) => ({ dataType: DataType.String, value });
  property('Manufacturer').setValueFromSource(text(identity.manufacturer));
  property('ManufacturerUri').setValueFromSource(string(identity.manufacturerUri ?? ''));
  property('Model').setValueFromSource(text(identity.model));
  property('SerialNumber').setValueFromSource(string(unit.serialNumber));
  property('HardwareRevision').setValueFromSource(string(identity.hardwareRevision));
  property('SoftwareRevision').setValueFromSource(string(identity.softwareRevision));
  property('DeviceRevision').setValueFromSource(string(identity.deviceRevision ?? identity.softwareRevision));
  property('ProductCode').setValueFromSource(string(identity.productCode));
  const revision = property('RevisionCounter');
  revision.setValueFromSource({ dataType: DataType.Int32, value: 0 });
  const health = property('DeviceHealth');
  health.setValueFromSource({ dataType: DataType.Int32, value: DeviceHealth.NORMAL });
  const parameterSet = object.getChildByName('ParameterSet', di) as UAObject | null;
  const methodSet = object.getChildByName('MethodSet', di) as UAObject | null;
  if (parameterSet === null || methodSet === null) throw new StateError('DI ParameterSet or MethodSet missing on the device object');
  let revisions = 0;
  return {
    type,
    object,
    parameterSet,
    methodSet,
    setHealth(value) {
      if (health.readValue().value.value !== value) health.setValueFromSource({ dataType: DataType.Int32, value });
    },
    bumpRevision() {
      revisions = (revisions + 1) | 0;
      revision.setValueFromSource({ dataType: DataType.Int32, value: revisions });
    },
  };
}
