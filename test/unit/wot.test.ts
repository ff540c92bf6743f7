/**
 * The WoT Thing Description export: valid against the official TD 1.1 JSON Schema for every
 * example, and a faithful translation of the model (properties, actions, events, units, ranges,
 * MQTT forms).
 */
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import envNode from '../../examples/env-node/device.js';
import motorMonitor from '../../examples/motor-monitor/device.js';
import pressureTransmitter from '../../examples/pressure-transmitter/device.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { deviceIdFor, topics } from '../../sdk/encoding/topics.js';
import { ALARM_EVENT_FIELDS, STATUS_FIELDS, thingDescription, type Affordance, type MqttForm } from '../../sdk/encoding/wot.js';
import { defineDevice, type DeviceModel } from '../../sdk/model/index.js';
import { exportModel } from '../support/export-model.js';

const require = createRequire(import.meta.url);
const tdSchema = require('@thing-description-playground/core/td-schema.json') as Record<string, unknown>;

/**
 * The official schema is draft-07 but borrows `prefixItems` from 2020-12 and is not written for
 * ajv's strict mode (union types, `required` without `properties`); strict mode judges how a schema
 * is written, not what it accepts, so it is off. Unknown keywords are ignored, as draft-07 says.
 */
function tdValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(tdSchema);
}
const validate = tdValidator();

const EXAMPLES: readonly [string, DeviceModel][] = [
  ['env-node', envNode],
  ['motor-monitor', motorMonitor],
  ['pressure-transmitter', pressureTransmitter],
  ['export fixture', exportModel],
];

const td = (model: DeviceModel, serial = 'EMU-1') => thingDescription(model, { deviceId: deviceIdFor(model, serial), serialNumber: serial });
const forms = (affordance: Affordance | undefined): readonly MqttForm[] => affordance!.forms;
const formFor = (affordance: Affordance | undefined, op: string): MqttForm => forms(affordance).find((form) => form.op === op)!;

describe('the TD JSON Schema validator', () => {
  it('is the draft-07 TD 1.1 schema, and it rejects a broken TD', () => {
    expect(tdSchema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(String(tdSchema.version)).toMatch(/^1\.1/);
    const broken = structuredClone(td(envNode)) as unknown as Record<string, any>;
    broken.properties.temperature.forms[0].op = 'invokeaction';
    broken.id = 'not a URI';
    delete broken.security;
    expect(validate(broken)).toBe(false);
    const paths = validate.errors!.map((error) => error.instancePath);
    expect(paths).toContain('/id');
    expect(paths).toContain('/properties/temperature/forms/0/op');
    expect(validate.errors!.some((error) => error.params && (error.params as { missingProperty?: string }).missingProperty === 'security')).toBe(true);
  });
});

describe.each(EXAMPLES)('thingDescription() of %s', (_name, model) => {
  const description = td(model);

  it('validates against the W3C WoT TD 1.1 JSON Schema', () => {
    const valid = validate(JSON.parse(JSON.stringify(description)));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('has one read-only, observable property per channel with its SenML unit and measuring range', () => {
    for (const channel of model.channels) {
      const property = description.properties[channel.id]!;
      expect(property).toMatchObject({
        type: channel.dataType === 'integer' ? 'integer' : 'number',
        unit: channel.unit,
        minimum: channel.range.min,
        maximum: channel.range.max,
        readOnly: true,
        observable: true,
      });
      const t = topics(deviceIdFor(model, 'EMU-1'));
      expect(forms(property)).toEqual([
        { op: 'observeproperty', href: `mqtt://127.0.0.1:1883/${t.telemetry}`, contentType: 'application/senml+cbor', 'mqv:filter': t.telemetry, 'mqv:controlPacket': 'subscribe', 'mqv:qos': '1' },
        { op: 'unobserveproperty', href: `mqtt://127.0.0.1:1883/${t.telemetry}`, contentType: 'application/senml+cbor', 'mqv:filter': t.telemetry, 'mqv:controlPacket': 'unsubscribe' },
      ]);
      expect(property.description).toContain(`"${t.deviceId}/${channel.id}"`);
    }
  });

  it('has exactly the channels and settings as properties, the commands as actions, the alarms and status as events', () => {
    expect(Object.keys(description.properties)).toEqual([...model.channels.map((c) => c.id), ...model.properties.map((p) => p.id)]);
    expect(Object.keys(description.actions)).toEqual(model.commands.map((c) => c.id));
    expect(Object.keys(description.events)).toEqual(['status', ...model.alarms.map((a) => a.id)]);
  });

  it('identifies the device: stable urn:uuid id, title, version, manufacturer, product code and serial', () => {
    expect(description.id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(td(model).id).toBe(description.id);
    expect(td(model, 'EMU-2').id).not.toBe(description.id);
    expect(description.title).toBe(model.identity.model);
    expect(description.version).toEqual({ instance: model.identity.softwareRevision });
    expect(description['schema:manufacturer']).toEqual({ 'schema:name': model.identity.manufacturer });
    expect(description['schema:productID']).toBe(model.identity.productCode);
    expect(description['@context'][0]).toBe('https://www.w3.org/2022/wot/td/v1.1');
    expect(description['@context'][1]).toMatchObject({ mqv: 'https://www.w3.org/2019/wot/mqtt#' });
  });
});

describe('thingDescription() settings, commands and events', () => {
  const description = td(exportModel, 'SN 0042/b');
  const t = topics(deviceIdFor(exportModel, 'SN 0042/b'));

  it('uses the serial-qualified device id in every topic', () => {
    expect(t.deviceId).toBe('export-probe-SN_0042_b');
    expect(description['schema:serialNumber']).toBe('SN 0042/b');
    expect(description.support).toBe('https://acme.example/support');
  });

  it('maps settings to properties with type, unit, range, enum and default; writable ones get a publish form on …/set', () => {
    expect(description.properties.interval).toMatchObject({ type: 'integer', unit: 's', minimum: 1, maximum: 3600, default: 60, readOnly: false });
    expect(description.properties.gain).toMatchObject({ type: 'number', minimum: 0.5, maximum: 2.5, default: 1 });
    expect(description.properties.mode).toMatchObject({ type: 'string', enum: ['normal', 'eco'], default: 'normal' });
    expect(description.properties.location).toMatchObject({ type: 'string', description: 'Where it is mounted' });
    const read = formFor(description.properties.interval, 'readproperty');
    expect(read).toMatchObject({ 'mqv:controlPacket': 'subscribe', 'mqv:filter': t.property('interval'), 'mqv:retain': true, contentType: 'application/json' });
    const write = formFor(description.properties.interval, 'writeproperty');
    expect(write).toEqual({
      op: 'writeproperty',
      href: `mqtt://127.0.0.1:1883/${t.propertySet('interval')}`,
      contentType: 'application/json',
      'mqv:controlPacket': 'publish',
      'mqv:topic': t.propertySet('interval'),
      'mqv:qos': '1',
      'mqv:retain': false,
    });
  });

  it('a read-only setting is readOnly and has no write form', () => {
    const locked = description.properties['firmware-locked']!;
    expect(locked).toMatchObject({ type: 'boolean', readOnly: true, default: true });
    expect(forms(locked).map((form) => form.op)).toEqual(['readproperty', 'observeproperty', 'unobserveproperty']);
  });

  it('maps a command to an action: input object from the typed arguments, output from the result', () => {
    const zero = description.actions.zero!;
    expect(zero.input).toEqual({
      type: 'object',
      properties: {
        offset: { type: 'number', unit: 'Pa', minimum: -500, maximum: 500 },
        samples: { type: 'integer', minimum: 1, maximum: 100 },
        method: { type: 'string', enum: ['mean', 'median'] },
        persist: { type: 'boolean' },
        note: { type: 'string' },
      },
      required: ['offset', 'method'],
    });
    expect(zero.output).toEqual({ type: 'object', properties: { ok: { type: 'boolean', const: true }, result: { type: 'number', unit: 'Pa' } }, required: ['ok'] });
    expect(description.actions.reboot!.input).toEqual({ type: 'object', properties: {}, required: [] });
    expect(zero.safe).toBe(false);
    expect(zero.idempotent).toBe(false);
  });

  it('invokes on …/cmd/<id> in JSON or CBOR, names the reply topic, and describes the error reply', () => {
    const zero = description.actions.zero!;
    expect(forms(zero).map((form) => [form.op, form.contentType, form['mqv:topic'], form['mqv:controlPacket']])).toEqual([
      ['invokeaction', 'application/json', t.command('zero'), 'publish'],
      ['invokeaction', 'application/cbor', t.command('zero'), 'publish'],
    ]);
    expect(forms(zero)[0]!.response).toEqual({ contentType: 'application/json' });
    expect(forms(zero)[0]!.additionalResponses).toEqual([{ success: false, contentType: 'application/json', schema: 'commandError' }]);
    expect(description.schemaDefinitions.commandError!.required).toEqual(['ok', 'error']);
    expect(zero.description).toContain(t.commandResult('zero'));
  });

  it('maps each alarm to an event on …/event/<id> with its data schema', () => {
    const hot = description.events['too-hot']!;
    expect(Object.keys(hot.data!.properties!)).toEqual([...ALARM_EVENT_FIELDS]);
    expect(hot.data!.required).toEqual([...ALARM_EVENT_FIELDS]);
    expect(hot.data!.properties).toMatchObject({
      alarm: { const: 'too-hot' },
      channel: { const: 'air_temperature' },
      state: { enum: ['active', 'cleared'] },
      value: { type: 'number', unit: 'Cel' },
      limit: { const: 60.5, unit: 'Cel' },
      severity: { const: 800 },
    });
    expect(hot.title).toBe('Cabinet above 60.5 °C');
    expect(description.events.vacuum!.description).toMatch(/below 50000 Pa.*\+ 0 Pa.*severity 300/);
    expect(formFor(hot, 'subscribeevent')).toMatchObject({ 'mqv:filter': t.event('too-hot'), 'mqv:controlPacket': 'subscribe', contentType: 'application/json' });
    expect(formFor(hot, 'unsubscribeevent')).toMatchObject({ 'mqv:filter': t.event('too-hot'), 'mqv:controlPacket': 'unsubscribe' });
  });

  it('has a status event on the retained status topic with the transport\'s status object', () => {
    const status = description.events.status!;
    expect(Object.keys(status.data!.properties!)).toEqual([...STATUS_FIELDS]);
    expect(status.data!.properties!.state).toEqual({ type: 'string', enum: ['online', 'offline'] });
    expect(formFor(status, 'subscribeevent')).toMatchObject({ 'mqv:filter': t.status, 'mqv:retain': true });
  });
});

describe('thingDescription() options', () => {
  const deviceId = 'env-node-EMU-1';

  it('puts the broker in every href; mqtts defaults to port 8883, mqtt to 1883', () => {
    const secure = thingDescription(envNode, { deviceId, brokerUrl: 'mqtts://broker.example' });
    expect(formFor(secure.properties.temperature, 'observeproperty').href).toBe(`mqtts://broker.example:8883/sensorkit/v1/${deviceId}/telemetry`);
    const plain = thingDescription(envNode, { deviceId, brokerUrl: 'mqtt://[::1]:18830/' });
    expect(formFor(plain.events.overheat, 'subscribeevent').href).toBe(`mqtt://[::1]:18830/sensorkit/v1/${deviceId}/event/overheat`);
    expect(validate(plain)).toBe(true);
  });

  it.each([
    ['http://broker.example', /mqtt:\/\/ or mqtts:\/\//],
    ['not a url', /not a URL/],
  ])('rejects the broker URL %s', (brokerUrl, message) => {
    expect(() => thingDescription(envNode, { deviceId, brokerUrl })).toThrow(message);
    expect(() => thingDescription(envNode, { deviceId, brokerUrl })).toThrow(ValidationError);
  });

  it('never copies credentials of the broker URL into the public TD', () => {
    const text = JSON.stringify(thingDescription(envNode, { deviceId, brokerUrl: 'mqtts://user:secret@broker.example:8884', security: 'basic' }));
    expect(text).toContain(`"mqtts://broker.example:8884/sensorkit/v1/${deviceId}/telemetry"`);
    expect(text).not.toMatch(/secret|user@/);
  });

  it('announces nosec by default, or basic / psk for production brokers', () => {
    expect(td(envNode).securityDefinitions).toMatchObject({ nosec_sc: { scheme: 'nosec' } });
    expect(td(envNode).security).toEqual(['nosec_sc']);
    const basic = thingDescription(envNode, { deviceId, security: 'basic' });
    expect(basic.security).toEqual(['basic_sc']);
    expect(basic.securityDefinitions.basic_sc).toMatchObject({ scheme: 'basic' });
    const psk = thingDescription(envNode, { deviceId, security: 'psk', pskIdentity: 'node-7' });
    expect(psk.securityDefinitions.psk_sc).toMatchObject({ scheme: 'psk', identity: 'node-7' });
    expect(validate(basic)).toBe(true);
    expect(validate(psk)).toBe(true);
  });

  it('rejects a device id that is not one topic level', () => {
    expect(() => thingDescription(envNode, { deviceId: 'a/b' })).toThrow(ValidationError);
  });

  it('rejects a model whose setting has a channel\'s id, or whose alarm is called "status"', () => {
    const spec = structuredClone(exportModel.spec) as { -readonly [K in keyof typeof exportModel.spec]: (typeof exportModel.spec)[K] };
    const clash = defineDevice({ ...spec, properties: [{ id: 'pressure', type: 'number', default: 1 }] });
    expect(() => td(clash)).toThrow(/properties\[0\]\.id: "pressure" is also a channel id/);
    const status = defineDevice({ ...spec, alarms: [{ id: 'status', channel: 'pressure', kind: 'low', limit: 1, severity: 1 }] });
    expect(() => td(status)).toThrow(/alarms\[0\]\.id/);
  });
});
