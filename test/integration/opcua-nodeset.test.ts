/**
 * The exported NodeSet2 XML (IEC 62541-6 Annex F) of a device's information model loads back into
 * a fresh node-opcua address space beside the base and DI nodesets, with the device type, the
 * device object under DeviceSet, its channels and their ranges.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AddressSpace, generateAddressSpace, nodesets, type UAObject, type UAVariable } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeviceFile } from '../../sdk/runtime/index.js';
import { deviceIdFor } from '../../sdk/encoding/topics.js';
import { engineeringUnits } from '../../sdk/transport/opcua/opcua-units.js';
import type { DeviceModel } from '../../sdk/model/index.js';
import { exportNodeset2 } from '../../sdk/transport/opcua/index.js';
import { RIG_DEVICE_ID, RIG_MODEL, RIG_NAMESPACE, RIG_SERIAL, tempDir } from '../support/opcua-rig.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => void (dir = tempDir('sensorkit-opcua-nodeset-')));
afterAll(() => dir?.remove());

/** Exports `model` and loads the XML into a fresh address space. */
async function roundTrip(model: DeviceModel, serialNumber: string): Promise<{ addressSpace: AddressSpace; xml: string; ns: number }> {
  const xml = await exportNodeset2(model, { deviceId: deviceIdFor(model, serialNumber), serialNumber });
  const file = join(dir.path, `${model.id}.NodeSet2.xml`);
  writeFileSync(file, xml);
  const addressSpace = AddressSpace.create();
  await generateAddressSpace(addressSpace, [nodesets.standard, nodesets.di, file]);
  return { addressSpace, xml, ns: addressSpace.getNamespaceIndex(`urn:sensorkit:${model.id}`) };
}

describe('NodeSet2 export', () => {
  it('loads back with the device type, the device under DeviceSet, channels, settings, methods and alarms', async () => {
    const { addressSpace, xml, ns } = await roundTrip(RIG_MODEL, RIG_SERIAL);
    try {
      expect(xml.startsWith('<?xml')).toBe(true);
      expect(addressSpace.getNamespaceIndex(RIG_NAMESPACE)).toBe(ns);
      const di = addressSpace.getNamespaceIndex('http://opcfoundation.org/UA/DI/');
      const device = addressSpace.findNode(`ns=${ns};s=${RIG_DEVICE_ID}`) as UAObject;
      expect(device.typeDefinitionObj.browseName.name).toBe('OpcuaRigDeviceType');
      expect(device.typeDefinitionObj.subtypeOfObj?.browseName.toString()).toBe(`${di}:DeviceType`);
      const deviceSet = addressSpace.rootFolder.objects.getFolderElementByName('DeviceSet', di) as UAObject;
      expect(deviceSet.findReferencesAsObject('Organizes', true).map((node) => node.browseName.name)).toContain(RIG_DEVICE_ID);
      expect(((device.getChildByName('SerialNumber', di) as UAVariable).readValue().value.value)).toBe(RIG_SERIAL);
      for (const channel of RIG_MODEL.channels) {
        const variable = addressSpace.findNode(`ns=${ns};s=${RIG_DEVICE_ID}.${channel.id}`) as UAVariable;
        expect(variable.typeDefinitionObj.browseName.name).toBe('AnalogItemType');
        expect((variable.getChildByName('EURange') as UAVariable).readValue().value.value).toMatchObject({ low: channel.range.min, high: channel.range.max });
        expect((variable.getChildByName('EngineeringUnits') as UAVariable).readValue().value.value).toMatchObject({ unitId: engineeringUnits(channel.unit).unitId });
      }
      expect(addressSpace.findNode(`ns=${ns};s=${RIG_DEVICE_ID}.setpoint`)).not.toBeNull();
      expect(addressSpace.findNode(`ns=${ns};s=${RIG_DEVICE_ID}.scale()`)?.browseName.name).toBe('scale');
      expect((addressSpace.findNode(`ns=${ns};s=${RIG_DEVICE_ID}.high-voltage`) as UAObject).typeDefinitionObj.browseName.name).toBe('NonExclusiveLimitAlarmType');
    } finally {
      addressSpace.dispose();
    }
  }, 60_000);

  it.each(['examples/env-node', 'examples/motor-monitor', 'examples/pressure-transmitter'])('exports %s so that it loads back', async (path) => {
    const { model } = await loadDeviceFile(path);
    const { addressSpace, ns } = await roundTrip(model, 'EMU-1');
    try {
      for (const channel of model.channels) expect(addressSpace.findNode(`ns=${ns};s=${model.id}-EMU-1.${channel.id}`), channel.id).not.toBeNull();
    } finally {
      addressSpace.dispose();
    }
  }, 60_000);
});
