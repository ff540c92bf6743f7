/**
 * The information model of a device as NodeSet2 XML (IEC 62541-6 Annex F): the model's namespace
 * only (device type, device object, channels, settings, commands, alarms), which depends on the
 * OPC UA base nodeset and OPC UA for Devices (DI). It loads into any address space that has those.
 */
import { AddressSpace, generateAddressSpace, nodesets } from 'node-opcua';
import type { DeviceModel } from '../../model/define-device.js';
import { buildInformationModel } from './information-model.js';

/** The nodesets the information model builds on: the OPC UA base nodeset and DI. */
export const BASE_NODESETS: readonly string[] = [nodesets.standard, nodesets.di];

/**
 * Builds a device's information model in a fresh address space and returns its namespace as
 * NodeSet2 XML.
 *
 * @example
 * ```ts
 * const xml = await exportNodeset2(model, { deviceId: 'env-node-EMU-1', serialNumber: 'EMU-1' })
 * await writeFile('env-node.NodeSet2.xml', xml)
 * ```
 */
export async function exportNodeset2(model: DeviceModel, unit: { deviceId: string; serialNumber: string }): Promise<string> {
  const addressSpace = AddressSpace.create();
  try {
    await generateAddressSpace(addressSpace, [...BASE_NODESETS]);
    const info = buildInformationModel(addressSpace, model, unit);
    return info.namespace.toNodeset2XML();
  } finally {
    addressSpace.dispose();
  }
}
