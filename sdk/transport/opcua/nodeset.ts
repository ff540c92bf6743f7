/**
 * The information model of a device as NodeSet2 XML (IEC 62541-6 Annex F): the model's namespace
 * only (device type, device object, channels, settings, commands, alarms), which depends on the
 * OPC UA base nodeset and OPC UA for Devices (DI). It loads into any address space that has those.
 */
import { AddressSpace, generateAddressSpace, nodesets } from 'node-opcua';
import { ArgumentError } from '../../core/errors.js';
import type { DeviceModel } from '../../model/define-device.js';
import { buildInformationModel } from './information-model.js';

/** The nodesets the information model builds on: the OPC UA base nodeset and DI. */
export const BASE_NODESETS: readonly string[] = [nodesets.standard, nodesets.di];

/** A model another model requires, as a NodeSet2 `RequiredModel` states it. */
export interface RequiredModel {
  readonly uri: string;
  readonly version: string;
  readonly publicationDate: Date;
}

/**
 * The DI release the export requires: 1.04.0 (2022-11-03), the DI NodeSet2 the OPC Foundation
 * publishes in its UA-Nodeset repository. It defines every DI node the model references
 * (DeviceType, DeviceSet, DeviceHealthEnumeration); an importer refuses a nodeset whose
 * RequiredModel is newer than the DI set it has (IEC 62541-6 F.2), so requiring the release the
 * bundled node-opcua set carries (1.05.0) would lock out stacks that load the official one.
 */
export const REQUIRED_DI: RequiredModel = {
  uri: 'http://opcfoundation.org/UA/DI/',
  version: '1.04.0',
  publicationDate: new Date('2022-11-03T00:00:00Z'),
};

/**
 * The base OPC UA release the export requires: 1.05.01 (2022-02-24), the release DI 1.04.0 itself
 * requires, so any stack that has the official DI set has it; every base node the model
 * references (AnalogItemType, the alarm types, EUInformation, ...) is defined there.
 */
export const REQUIRED_UA: RequiredModel = {
  uri: 'http://opcfoundation.org/UA/',
  version: '1.05.01',
  publicationDate: new Date('2022-02-24T00:00:00Z'),
};

/** What one export is of: the unit it describes and when its model is published. */
export interface Nodeset2ExportOptions {
  /** The device object's id (`<model>-<serial>`). */
  readonly deviceId: string;
  readonly serialNumber: string;
  /**
   * The model's `PublicationDate`, truncated to whole seconds:
   * the official nodesets write xs:dateTime without fractional seconds and some importers
   * accept no other form. Default: the time of the export. Example:
   * `new Date('2026-03-01T00:00:00Z')` for a reproducible file.
   */
  readonly publicationDate?: Date;
}

/**
 * Builds a device's information model in a fresh address space and returns its namespace as
 * NodeSet2 XML. The model's `Version` is the device's software revision; its `RequiredModel`s are
 * {@link REQUIRED_UA} and {@link REQUIRED_DI}; every date is written in whole seconds.
 *
 * @example
 * ```ts
 * const xml = await exportNodeset2(model, { deviceId: 'env-node-EMU-1', serialNumber: 'EMU-1', publicationDate: new Date('2026-03-01T00:00:00Z') })
 * await writeFile('env-node.NodeSet2.xml', xml)
 * ```
 */
export async function exportNodeset2(model: DeviceModel, options: Nodeset2ExportOptions): Promise<string> {
  const published = wholeSeconds(options.publicationDate ?? new Date(), 'publicationDate');
  const addressSpace = AddressSpace.create();
  try {
    await generateAddressSpace(addressSpace, [...BASE_NODESETS]);
    const info = buildInformationModel(addressSpace, model, { deviceId: options.deviceId, serialNumber: options.serialNumber });
    info.namespace.version = model.identity.softwareRevision;
    info.namespace.publicationDate = published;
    for (const required of [REQUIRED_UA, REQUIRED_DI]) {
      const namespace = addressSpace.getNamespace(required.uri);
      if (namespace === null) throw new ArgumentError(`The address space has no namespace ${required.uri}`);
      namespace.version = required.version;
      namespace.publicationDate = required.publicationDate;
    }
    return withoutFractionalSeconds(info.namespace.toNodeset2XML());
  } finally {
    addressSpace.dispose();
  }
}

/** `date` truncated to whole seconds; throws when it is not a valid date. */
function wholeSeconds(date: Date, name: string): Date {
  const time = date.getTime();
  if (!Number.isFinite(time)) throw new ArgumentError(`Expected \`${name}\` to be a valid Date, got ${String(date)}`);
  return new Date(Math.floor(time / 1000) * 1000);
}

/**
 * Drops the fractional seconds node-opcua writes (`toISOString`) from every date of the document:
 * the model dates (`PublicationDate="…"`) and DateTime values (`<uax:DateTime>…</uax:DateTime>`,
 * e.g. an alarm's transition times), leaving `YYYY-MM-DDThh:mm:ssZ` as the official nodesets write.
 */
function withoutFractionalSeconds(xml: string): string {
  return xml
    .replace(/(PublicationDate="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z"/g, '$1Z"')
    .replace(/(<uax:DateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z</g, '$1Z<');
}
