/**
 * The device as an OPC UA server (profile dev, SecurityPolicy None, anonymous), checked with
 * node-opcua's client over real TCP: the DI device object and its identification, the channels'
 * engineering units and ranges, a subscription at the channel's rate with the sampling times as
 * source timestamps, settings with range checks, a command method, an injected fault, an alarm.
 */
import {
  AttributeIds,
  BrowseDirection,
  constructEventFilter,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  DeadbandType,
  StatusCodes,
  TimestampsToReturn,
  Variant,
  VariantArrayType,
  type ClientSession,
  type DataValue,
} from 'node-opcua';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineeringUnits } from '../../sdk/transport/opcua/opcua-units.js';
import type { Sample } from '../../sdk/core/sample.js';
import { DeviceHealth } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { RIG_DEVICE_ID, RIG_MODEL, RIG_SERIAL, connect, rigNamespace, rigNode, startRig, tempDir, type Connection, type OpcuaRig } from '../support/opcua-rig.js';

const DI = 'http://opcfoundation.org/UA/DI/';
let pki: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
let connection: Connection;
let session: ClientSession;
let ns: number;
let di: number;

beforeAll(async () => {
  pki = tempDir('sensorkit-opcua-server-');
  rig = await startRig({ profile: 'dev', pkiDir: pki.path });
  connection = await connect(rig.server.endpointUrl, { clientPki: join(pki.path, 'client') });
  session = connection.session;
  ns = await rigNamespace(session);
  di = (await session.readNamespaceArray()).indexOf(DI);
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await rig?.close();
  pki?.remove();
});

const read = (nodeId: string, attributeId = AttributeIds.Value): Promise<DataValue> => session.read({ nodeId, attributeId });
const value = async (nodeId: string): Promise<unknown> => (await read(nodeId)).value.value;
/** A child of `parent` by browse name (the DI properties keep their DI browse names). */
async function child(parent: string, name: string, namespace: number): Promise<string> {
  const result = await session.browse({ nodeId: parent, browseDirection: BrowseDirection.Forward, includeSubtypes: true, resultMask: 63 });
  const found = result.references?.find((r) => r.browseName.name === name && r.browseName.namespaceIndex === namespace);
  if (!found) throw new Error(`${parent} has no child ${namespace}:${name}`);
  return found.nodeId.toString();
}

/** An optional Int32 argument: a one-dimensional array of at most one element. */
const int32s = (...values: number[]): Variant => new Variant({ dataType: DataType.Int32, arrayType: VariantArrayType.Array, value: Int32Array.from(values) });

describe('OPC UA server: the device model as an address space', () => {
  it('puts the device under DI DeviceSet, typed by a subtype of DI DeviceType, with every DI identification property', async () => {
    const deviceSet = `ns=${di};i=5001`;
    const device = await child(deviceSet, RIG_DEVICE_ID, ns);
    expect(device).toBe(rigNode(ns));
    const type = await session.browse({ nodeId: device, referenceTypeId: 'HasTypeDefinition', browseDirection: BrowseDirection.Forward, resultMask: 63 });
    const typeNode = type.references![0]!;
    expect(typeNode.browseName.toString()).toBe(`${ns}:OpcuaRigDeviceType`);
    const supertype = await session.browse({ nodeId: typeNode.nodeId, referenceTypeId: 'HasSubtype', browseDirection: BrowseDirection.Inverse, resultMask: 63 });
    expect(supertype.references![0]!.browseName.toString()).toBe(`${di}:DeviceType`);

    const identity = RIG_MODEL.identity;
    const expected: Record<string, unknown> = {
      Manufacturer: identity.manufacturer,
      ManufacturerUri: identity.manufacturerUri,
      Model: identity.model,
      SerialNumber: RIG_SERIAL,
      HardwareRevision: identity.hardwareRevision,
      SoftwareRevision: identity.softwareRevision,
      DeviceRevision: identity.deviceRevision,
      ProductCode: identity.productCode,
      RevisionCounter: 0,
      DeviceHealth: DeviceHealth.NORMAL,
    };
    const actual: Record<string, unknown> = {};
    for (const name of Object.keys(expected)) {
      const v = await value(await child(device, name, di));
      actual[name] = typeof v === 'object' && v !== null && 'text' in v ? (v as { text: string }).text : v;
    }
    expect(actual).toEqual(expected);
  });

  it('makes each channel an AnalogItemType with its UNECE EngineeringUnits, EURange, InstrumentRange and ValuePrecision', async () => {
    const parameterSet = await child(rigNode(ns), 'ParameterSet', di);
    for (const channel of RIG_MODEL.channels) {
      const node = await child(parameterSet, channel.id, ns);
      expect(node).toBe(rigNode(ns, channel.id));
      const type = await session.browse({ nodeId: node, referenceTypeId: 'HasTypeDefinition', browseDirection: BrowseDirection.Forward, resultMask: 63 });
      expect(type.references![0]!.browseName.name).toBe('AnalogItemType');
      const eu = (await value(await child(node, 'EngineeringUnits', 0))) as { namespaceUri: string; unitId: number; displayName: { text: string } };
      const want = engineeringUnits(channel.unit);
      expect({ namespaceUri: eu.namespaceUri, unitId: eu.unitId, displayName: eu.displayName.text }).toEqual({ namespaceUri: want.namespaceUri, unitId: want.unitId, displayName: want.displayName });
      expect(await value(await child(node, 'EURange', 0))).toMatchObject({ low: channel.range.min, high: channel.range.max });
      // The analog-voltage part reads 0…5 V (the Uno's reference), in the channel's unit.
      const scale = channel.unit === 'mV' ? 1000 : 1;
      expect(await value(await child(node, 'InstrumentRange', 0))).toMatchObject({ low: 0, high: 5 * scale });
      expect(await value(await child(node, 'ValuePrecision', 0))).toBe(channel.unit === 'mV' ? 0 : 3);
    }
    expect(engineeringUnits('V').unitId).toBe(5655636); // VLT
  });

  it('delivers samples at the channel rate, with the sampling time as source timestamp', async () => {
    const times: number[] = [];
    const offDevice = rig.device.on('sample', (s: Sample) => void (s.channel === 'voltage' && times.push(s.time)));
    const subscription = await session.createSubscription2({ requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, publishingEnabled: true });
    const seen: DataValue[] = [];
    const item = await subscription.monitor(
      { nodeId: rigNode(ns, 'voltage'), attributeId: AttributeIds.Value },
      // Every sample, even an unchanged value: trigger on the source timestamp too.
      { samplingInterval: 0, queueSize: 100, discardOldest: true, filter: new DataChangeFilter({ trigger: DataChangeTrigger.StatusValueTimestamp, deadbandType: DeadbandType.None }) },
      TimestampsToReturn.Both,
    );
    item.on('changed', (dataValue: DataValue) => seen.push(dataValue));
    await waitFor(() => seen.length >= 25, 20_000, '25 notifications');
    await subscription.terminate();
    offDevice();
    const sourceTimes = seen.slice(1).map((dv) => dv.sourceTimestamp!.getTime());
    // Each notification carries the time of a sample the device took…
    const sampled = new Set(times.map(Math.trunc)); // a Date holds whole milliseconds
    expect(sourceTimes.every((t) => sampled.has(t))).toBe(true);
    // …one per sample, 100 ms apart (10 Hz): median spacing within a few ms of the period.
    const gaps = sourceTimes.slice(1).map((t, i) => t - sourceTimes[i]!).sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeGreaterThanOrEqual(95);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThanOrEqual(105);
    expect(gaps.every((gap) => gap > 0)).toBe(true);
    expect(seen.every((dv) => dv.statusCode.equals(StatusCodes.Good))).toBe(true);
  });

  it('writes settings through the device, refusing an out-of-range value with BadOutOfRange', async () => {
    const write = (name: string, variant: Variant) => session.write({ nodeId: rigNode(ns, name), attributeId: AttributeIds.Value, value: { value: variant } });
    expect(await write('setpoint', new Variant({ dataType: DataType.Double, value: 3.25 }))).toEqual(StatusCodes.Good);
    expect(rig.device.readProperty('setpoint')).toBe(3.25);
    expect(await value(rigNode(ns, 'setpoint'))).toBe(3.25);
    expect(await write('setpoint', new Variant({ dataType: DataType.Double, value: 7 }))).toEqual(StatusCodes.BadOutOfRange);
    expect(await write('setpoint', new Variant({ dataType: DataType.Double, value: -0.1 }))).toEqual(StatusCodes.BadOutOfRange);
    expect(rig.device.readProperty('setpoint')).toBe(3.25);
    expect(await write('mode', new Variant({ dataType: DataType.String, value: 'turbo' }))).toEqual(StatusCodes.BadOutOfRange);
    expect(await write('mode', new Variant({ dataType: DataType.String, value: 'manual' }))).toEqual(StatusCodes.Good);
    expect(rig.device.readProperty('mode')).toBe('manual');
    expect((await write('label', new Variant({ dataType: DataType.Double, value: 1 }))).isGood()).toBe(false);
    expect((await write('locked', new Variant({ dataType: DataType.Boolean, value: false }))).isGood()).toBe(false);
    expect(rig.device.readProperty('locked')).toBe(true);
    // Two changes of the device's configuration so far (DI RevisionCounter).
    expect(await value(await child(rigNode(ns), 'RevisionCounter', di))).toBe(2);
    const range = await value(await child(rigNode(ns, 'setpoint'), 'EURange', 0));
    expect(range).toMatchObject({ low: 0, high: 5 });
  });

  it('runs a command method with typed arguments, and refuses bad ones', async () => {
    const objectId = await child(rigNode(ns), 'MethodSet', di);
    const methodId = rigNode(ns, 'scale()');
    const good = await session.call({ objectId, methodId, inputArguments: [new Variant({ dataType: DataType.Double, value: 1.5 }), int32s(4)] });
    expect(good.statusCode).toEqual(StatusCodes.Good);
    expect(good.outputArguments![0]!.value).toBe(7);
    // An optional argument is a one-element array; empty (or Null) leaves it out.
    const optionalLeftOut = await session.call({ objectId, methodId, inputArguments: [new Variant({ dataType: DataType.Double, value: 2 }), new Variant({ dataType: DataType.Null })] });
    expect(optionalLeftOut.outputArguments![0]!.value).toBe(4);
    const outOfRange = await session.call({ objectId, methodId, inputArguments: [new Variant({ dataType: DataType.Double, value: 11 }), int32s(0)] });
    expect(outOfRange.statusCode).toEqual(StatusCodes.BadInvalidArgument);
    expect(outOfRange.inputArgumentResults).toEqual([StatusCodes.BadOutOfRange, StatusCodes.Good]);
    const wrongType = await session.call({ objectId, methodId, inputArguments: [new Variant({ dataType: DataType.String, value: 'two' }), int32s(0)] });
    expect(wrongType.statusCode.isGood()).toBe(false);
    const offsetOutOfRange = await session.call({ objectId, methodId, inputArguments: [new Variant({ dataType: DataType.Double, value: 1 }), int32s(500)] });
    expect(offsetOutOfRange.inputArgumentResults).toEqual([StatusCodes.Good, StatusCodes.BadOutOfRange]);
    const twoOffsets = await session.call({ objectId, methodId, inputArguments: [new Variant({ dataType: DataType.Double, value: 1 }), int32s(1, 2)] });
    expect(twoOffsets.statusCode).toEqual(StatusCodes.BadInvalidArgument);
    const missing = await session.call({ objectId, methodId, inputArguments: [] });
    expect(missing.statusCode.isGood()).toBe(false);
    const args = await value(await child(methodId, 'InputArguments', 0));
    expect((args as { name: string; dataType: { value: number } }[]).map((a) => [a.name, a.dataType.value])).toEqual([['factor', DataType.Double], ['offset', DataType.Int32]]);
  });

  it('shows an injected sensor fault as Bad (BadSensorFailure) and DeviceHealth FAILURE, and Good again after recovery', async () => {
    const health = await child(rigNode(ns), 'DeviceHealth', di);
    const fault = rig.board.faults.inject({ target: 'A0', kind: 'dropout' });
    const bad = await waitFor(async () => {
      const dv = await read(rigNode(ns, 'voltage'));
      return dv.statusCode.equals(StatusCodes.BadSensorFailure) ? dv : undefined;
    }, 10_000, 'BadSensorFailure');
    expect(bad.value.dataType).toBe(DataType.Null);
    expect(await value(health)).toBe(DeviceHealth.FAILURE);
    fault.clear();
    const good = await waitFor(async () => {
      const dv = await read(rigNode(ns, 'voltage'));
      return dv.statusCode.equals(StatusCodes.Good) ? dv : undefined;
    }, 10_000, 'Good after recovery');
    expect(good.value.value).toBeCloseTo(1.5, 1);
    await waitFor(async () => (await value(health)) === DeviceHealth.NORMAL, 5000, 'DeviceHealth NORMAL');
  });

  it('raises and clears the limit alarm with the model hysteresis', async () => {
    const alarm = rigNode(ns, 'high-voltage');
    const active = async (): Promise<boolean> => (await value(await child(await child(alarm, 'ActiveState', 0), 'Id', 0))) as boolean;
    expect(await value(await child(alarm, 'HighLimit', 0))).toBe(4);
    expect(await active()).toBe(false);
    rig.voltage.set(4.5);
    await waitFor(active, 10_000, 'the alarm active');
    rig.voltage.set(3.8); // below the limit, above limit − hysteresis
    await waitFor(async () => Math.abs(((await value(rigNode(ns, 'voltage'))) as number) - 3.8) < 0.05, 10_000, '3.8 V read');
    expect(await active()).toBe(true);
    // Disable then Enable (ConditionType methods i=9028, i=9027): on Enable node-opcua re-evaluates
    // the input node without hysteresis, which would clear the alarm at 3.8 V; it must stay active.
    for (const methodId of ['i=9028', 'i=9027']) {
      const result = await session.call({ objectId: alarm, methodId, inputArguments: [] });
      expect(result.statusCode.equals(StatusCodes.Good)).toBe(true);
    }
    expect(await active()).toBe(true);
    rig.voltage.set(3.2);
    await waitFor(async () => !(await active()), 10_000, 'the alarm cleared');
    rig.voltage.set(1.5);
  });

  it('sends the alarm transitions as events to a client subscribed to the Server object', async () => {
    const subscription = await session.createSubscription2({ requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 20, publishingEnabled: true });
    const fields = ['SourceName', 'Message', 'Severity', 'ActiveState.Id', 'ConditionName', 'HighState.Id', 'Retain'];
    const item = await subscription.monitor(
      { nodeId: 'i=2253', attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize: 100, discardOldest: true, filter: constructEventFilter(fields) },
      TimestampsToReturn.Both,
    );
    const events: Record<string, unknown>[] = [];
    item.on('changed', (values: unknown) => {
      const variants = values as Variant[];
      events.push(Object.fromEntries(fields.map((field, i) => [field, variants[i]?.value])));
    });
    const ours = () => events.filter((event) => event.ConditionName === 'high-voltage');
    rig.voltage.set(4.6);
    const raised = await waitFor(() => ours().find((event) => event['ActiveState.Id'] === true), 10_000, 'the activation event');
    expect(raised).toMatchObject({ SourceName: `${ns}:${RIG_DEVICE_ID}`, Severity: 700, 'HighState.Id': true, Retain: true });
    expect((raised.Message as { text: string }).text).toBe('Voltage above 4 V');
    rig.voltage.set(1.5);
    const cleared = await waitFor(() => ours().find((event) => event['ActiveState.Id'] === false), 10_000, 'the clearing event');
    expect(cleared).toMatchObject({ Severity: 0, 'HighState.Id': false });
    await subscription.terminate();
  });
});
