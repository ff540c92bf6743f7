/**
 * The exported NodeSet2 XML against the OPC Foundation's own artefacts (test/fixtures/opcua, see
 * its README): it validates against the official UANodeSet.xsd, it references only DI nodes the
 * official DI NodeSet2 defines and requires no newer DI than that set, it references only base
 * nodes of the base release it requires, it writes every date in whole seconds as the official
 * nodesets do, and its model version and date come from the device model. It loads into a
 * node-opcua address space that has the official DI set instead of node-opcua's bundled one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AddressSpace, generateAddressSpace, nodesets, type UAObject } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeviceFile } from '../../sdk/runtime/index.js';
import { deviceIdFor } from '../../sdk/encoding/topics.js';
import type { DeviceModel } from '../../sdk/model/index.js';
import { exportNodeset2 } from '../../sdk/transport/opcua/index.js';
import { PEERS_REQUIRED } from '../support/peers.js';
import { RIG_DEVICE_ID, RIG_MODEL, RIG_SERIAL, tempDir } from '../support/opcua-rig.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/opcua');
const XSD = join(FIXTURES, 'UANodeSet.xsd');
const OFFICIAL_DI = join(FIXTURES, 'Opc.Ua.Di.NodeSet2.xml');
const BASE_NODE_IDS = new Set(readFileSync(join(FIXTURES, 'Opc.Ua.NodeSet2-1.05.01.node-ids.txt'), 'utf8').split('\n').filter(Boolean));
const DI_URI = 'http://opcfoundation.org/UA/DI/';
const UA_URI = 'http://opcfoundation.org/UA/';
const PUBLISHED = new Date('2026-03-01T08:30:00Z');
const EXAMPLES = ['examples/env-node', 'examples/motor-monitor', 'examples/pressure-transmitter'];

/** xmllint (Debian libxml2-utils), or undefined when it is missing and peers are not required. */
function findXmllint(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v xmllint'], { encoding: 'utf8' }).stdout.trim() || undefined;
  if (found === undefined && PEERS_REQUIRED) throw new Error('xmllint is required (SENSORKIT_REQUIRE_PEERS=1) but not installed: apt-get install -y libxml2-utils');
  return found;
}
const XMLLINT = findXmllint();

/** The attributes of the first `<tag …>` in `xml` that has `ModelUri="uri"`. */
function modelAttributes(xml: string, tag: 'Model' | 'RequiredModel', uri: string): Record<string, string> {
  const element = [...xml.matchAll(new RegExp(`<${tag} ([^>]*)>`, 'g'))].map((m) => attributes(m[1] ?? '')).find((a) => a.ModelUri === uri);
  if (element === undefined) throw new Error(`no <${tag} ModelUri="${uri}">`);
  return element;
}

function attributes(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

/** The namespace index of `uri` in a NodeSet2 document (its `<NamespaceUris>`, from 1). */
function namespaceIndex(xml: string, uri: string): number {
  const uris = [...(xml.match(/<NamespaceUris>([\s\S]*?)<\/NamespaceUris>/)?.[1] ?? '').matchAll(/<Uri>([^<]*)<\/Uri>/g)].map((m) => m[1]);
  const index = uris.indexOf(uri);
  if (index < 0) throw new Error(`namespace ${uri} is not declared`);
  return index + 1;
}

/** Every node id the document mentions in namespace `ns` (`ns=N;i=…` or, for 0, `i=…`). */
function nodeIdsIn(xml: string, ns: number): Set<string> {
  const pattern = ns === 0 ? /(?<![;\w])i=(\d+)/g : new RegExp(`ns=${ns};i=(\\d+)`, 'g');
  return new Set([...xml.matchAll(pattern)].map((m) => `i=${m[1]}`));
}

/** The node ids a NodeSet2 document defines in namespace `ns`. */
function definedNodeIds(xml: string, ns: number): Set<string> {
  return new Set([...xml.matchAll(new RegExp(`<UA\\w+ NodeId="ns=${ns};i=(\\d+)"`, 'g'))].map((m) => `i=${m[1]}`));
}

/** The browse names a NodeSet2 document uses in namespace `ns` (`N:Name`). */
function browseNamesIn(xml: string, ns: number): Set<string> {
  return new Set([...xml.matchAll(new RegExp(`BrowseName="${ns}:([^"]+)"`, 'g'))].map((m) => m[1] ?? ''));
}

/** -1, 0 or 1 as dotted version `a` is below, equal to or above `b` (1.05.01 vs 1.5.1 compare equal). */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const officialDi = readFileSync(OFFICIAL_DI, 'utf8');
const officialDiModel = modelAttributes(officialDi, 'Model', DI_URI);
const officialDiBase = modelAttributes(officialDi, 'RequiredModel', UA_URI);

let dir: ReturnType<typeof tempDir>;
const exports = new Map<string, { model: DeviceModel; xml: string }>();

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-nodeset-interop-');
  exports.set('opcua-rig', { model: RIG_MODEL, xml: await exportNodeset2(RIG_MODEL, { deviceId: RIG_DEVICE_ID, serialNumber: RIG_SERIAL, publicationDate: PUBLISHED }) });
  for (const path of EXAMPLES) {
    const { model } = await loadDeviceFile(path);
    exports.set(path, { model, xml: await exportNodeset2(model, { deviceId: deviceIdFor(model, 'EMU-1'), serialNumber: 'EMU-1', publicationDate: PUBLISHED }) });
  }
}, 120_000);
afterAll(() => dir?.remove());

const CASES = ['opcua-rig', ...EXAMPLES];
const exported = (name: string): { model: DeviceModel; xml: string } => {
  const found = exports.get(name);
  if (found === undefined) throw new Error(`no export of ${name}`);
  return found;
};

describe('NodeSet2 export against the official OPC UA artefacts', () => {
  it('the fixtures are the official DI 1.04.0 set and the schema', () => {
    expect(officialDiModel.Version).toBe('1.04.0');
    expect(readFileSync(XSD, 'utf8')).toContain('targetNamespace="http://opcfoundation.org/UA/2011/03/UANodeSet.xsd"');
    expect(BASE_NODE_IDS.has('i=2368')).toBe(true); // AnalogItemType
  });

  it.runIf(XMLLINT !== undefined).each(CASES)('%s validates against the official UANodeSet.xsd', (name) => {
    const file = join(dir.path, `${name.replaceAll('/', '_')}.NodeSet2.xml`);
    writeFileSync(file, exported(name).xml);
    const result = spawnSync(XMLLINT ?? 'xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
    expect(result.stderr).toContain('validates');
    expect(result.status).toBe(0);
  });

  it('xmllint rejects a document the schema does not allow (the check can fail)', () => {
    if (XMLLINT === undefined) return expect(PEERS_REQUIRED).toBe(false);
    const file = join(dir.path, 'broken.NodeSet2.xml');
    writeFileSync(file, exported('opcua-rig').xml.replace('<Models>', '<Models><Bogus/>'));
    expect(() => execFileSync(XMLLINT, ['--noout', '--schema', XSD, file], { stdio: 'pipe' })).toThrow();
  });

  it.each(CASES)('%s writes every date in whole seconds (xs:dateTime YYYY-MM-DDThh:mm:ssZ)', (name) => {
    const { xml } = exported(name);
    const dates = [...xml.matchAll(/PublicationDate="([^"]*)"|<uax:DateTime>([^<]*)<\/uax:DateTime>/g)].map((m) => m[1] ?? m[2] ?? '');
    expect(dates.length).toBeGreaterThan(2);
    for (const date of dates) expect(date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(xml).not.toMatch(/\d\d:\d\d:\d\d\.\d+Z/);
  });

  it.each(CASES)('%s is versioned by the device software revision and dated by the publicationDate option', (name) => {
    const { model, xml } = exported(name);
    const own = modelAttributes(xml, 'Model', `urn:sensorkit:${model.id}`);
    expect(own.Version).toBe(model.identity.softwareRevision);
    expect(own.PublicationDate).toBe('2026-03-01T08:30:00Z');
  });

  it('is dated at the export, in whole seconds, without the publicationDate option', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const xml = await exportNodeset2(RIG_MODEL, { deviceId: RIG_DEVICE_ID, serialNumber: RIG_SERIAL });
    const after = Date.now();
    const date = modelAttributes(xml, 'Model', `urn:sensorkit:${RIG_MODEL.id}`).PublicationDate ?? '';
    expect(date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(date)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(date)).toBeLessThanOrEqual(after);
  }, 60_000);

  it('rejects an invalid publicationDate', async () => {
    await expect(exportNodeset2(RIG_MODEL, { deviceId: RIG_DEVICE_ID, serialNumber: RIG_SERIAL, publicationDate: new Date('not a date') }))
      .rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  });

  it.each(CASES)('%s requires no newer DI than the official set, which defines every DI node it references', (name) => {
    const { xml } = exported(name);
    const required = modelAttributes(xml, 'RequiredModel', DI_URI);
    // An importer accepts a RequiredModel no newer than the model it has (IEC 62541-6 F.2).
    expect(compareVersions(required.Version ?? '', officialDiModel.Version ?? '')).toBeLessThanOrEqual(0);
    expect(Date.parse(required.PublicationDate ?? '')).toBeLessThanOrEqual(Date.parse(officialDiModel.PublicationDate ?? ''));
    // ...and the official set, as old as the requirement or older, has every DI node the export uses.
    const officialNs = namespaceIndex(officialDi, DI_URI);
    const defined = definedNodeIds(officialDi, officialNs);
    const used = nodeIdsIn(xml, namespaceIndex(xml, DI_URI));
    expect(used.size).toBeGreaterThan(0);
    for (const id of used) expect(defined.has(id), `DI ${id}`).toBe(true);
    const officialNames = browseNamesIn(officialDi, officialNs);
    for (const browseName of browseNamesIn(xml, namespaceIndex(xml, DI_URI))) expect(officialNames.has(browseName), `DI ${browseName}`).toBe(true);
    expect(compareVersions(officialDiModel.Version ?? '', required.Version ?? '')).toBeLessThanOrEqual(0);
  });

  it.each(CASES)('%s requires the base release the official DI set requires, which defines every base node it references', (name) => {
    const { xml } = exported(name);
    const required = modelAttributes(xml, 'RequiredModel', UA_URI);
    expect(required.Version).toBe(officialDiBase.Version);
    expect(required.PublicationDate).toBe(officialDiBase.PublicationDate);
    const used = [...nodeIdsIn(xml, 0)].filter((id) => id !== 'i=0'); // i=0 is the null NodeId, a value
    expect(used.length).toBeGreaterThan(10);
    for (const id of used) expect(BASE_NODE_IDS.has(id), `base ${id}`).toBe(true);
  });

  it('loads into an address space that has the official DI set', async () => {
    const file = join(dir.path, 'official-di.NodeSet2.xml');
    writeFileSync(file, exported('opcua-rig').xml);
    const addressSpace = AddressSpace.create();
    try {
      await generateAddressSpace(addressSpace, [nodesets.standard, OFFICIAL_DI, file]);
      expect(addressSpace.getNamespace(DI_URI)?.version).toBe('1.04.0');
      const ns = addressSpace.getNamespaceIndex(`urn:sensorkit:${RIG_MODEL.id}`);
      const device = addressSpace.findNode(`ns=${ns};s=${RIG_DEVICE_ID}`) as UAObject;
      expect(device.typeDefinitionObj.subtypeOfObj?.browseName.name).toBe('DeviceType');
    } finally {
      addressSpace.dispose();
    }
  }, 60_000);
});
