/**
 * Development profile, signed requests not required: an unsigned command or setting write over
 * MQTT is let through as before, and still leaves an audit record (actor `unsigned`, `signed:
 * false`) with its outcome: success, the handler's failure, an undecodable request, a refused
 * value. With an audit sink but no operator trust store at all, the same. Every command, signed
 * or not, is an audit record.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { defineDevice, requiredRole } from '../../sdk/model/index.js';
import { topics } from '../../sdk/encoding/topics.js';
import { CommandServer, type CommandReply } from '../../sdk/transport/mqtt/command-server.js';
import { PropertyEventServer } from '../../sdk/transport/mqtt/device-topics.js';
import { PayloadWriter } from '../../sdk/transport/mqtt/payloads.js';
import { RequestGuard, UNSIGNED_ACTOR, type SignedRequestOptions } from '../../sdk/transport/mqtt/request-guard.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { CommandAuthorizer, OperatorTrustStore, signRequest } from '../../security/operators/index.js';

const START = Date.UTC(2026, 0, 1);
const DEVICE = 'env-node-7';
const ROOT = `sensorkit/v1/${DEVICE}`;
const model = defineDevice({
  id: 'env-node',
  board: 'arduino-uno',
  identity: { manufacturer: 'sensorkit tests', model: 'Env', productCode: 'E-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: '7' },
  channels: [{ id: 'v0', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.01, accuracy: { mpe: 0.2 }, sampleRate: 1, driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0' } }],
  properties: [{ id: 'threshold', type: 'number', range: { min: 0, max: 5 }, default: 3 }],
  commands: [{ id: 'ping', result: { type: 'string' } }, { id: 'fail' }],
});
const operatorKey = generateKeyPairSync('ed25519').privateKey;

async function setup(mode: 'not required' | 'no trust store') {
  const clock = new VirtualClock({ start: START });
  let signed: SignedRequestOptions | undefined;
  if (mode === 'not required') {
    const store = new OperatorTrustStore();
    await store.trust(createPublicKey(operatorKey).export({ type: 'spki', format: 'pem' }).toString(), { role: 'engineer', name: 'erin' });
    signed = { authorizer: new CommandAuthorizer({ operators: store, clock }), required: false };
  }
  const audit: AuditEvent[] = [];
  const guard = new RequestGuard({ signed, clock, deviceId: DEVICE, requiredRole: (action) => requiredRole(model, action), audit: { record: (event) => void audit.push(event) } });
  const replies: CommandReply[] = [];
  const commands = new CommandServer({
    clock,
    target: {
      invoke: async (id) => {
        if (id === 'fail') throw new ValidationError('ping', 'the sensor is busy');
        return 'pong';
      },
    },
    prefix: `${ROOT}/cmd/`,
    deviceRoot: `${ROOT}/`,
    writer: new PayloadWriter(),
    publish: (reply) => replies.push(reply),
    guard,
  });
  const values = new Map<string, unknown>([['threshold', 3]]);
  const device = {
    model,
    readProperty: (id: string) => values.get(id) as number,
    writeProperty: (id: string, value: unknown) => {
      if (typeof value !== 'number' || value > 5) throw new ValidationError(`properties.${id}`, `expected a number from 0 to 5, got ${String(value)}`);
      values.set(id, value);
    },
    on: () => () => undefined,
  };
  const settings = new PropertyEventServer({ device: device as never, topics: topics(DEVICE), writer: new PayloadWriter(), publish: () => true, storeEvent: async () => undefined, clock, guard, reply: (reply) => replies.push(reply) });
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const command = async (name: string, payload: string | Uint8Array) => {
    commands.handle({ topic: `${ROOT}/cmd/${name}`, payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload });
    await settle();
    return JSON.parse(new TextDecoder().decode(replies.at(-1)!.payload)) as { ok: boolean };
  };
  const write = async (payload: string) => {
    settings.handle(`${ROOT}/property/threshold/set`, new TextEncoder().encode(payload));
    await settle();
  };
  return { audit, values, command, write, clock };
}

for (const mode of ['not required', 'no trust store'] as const) {
  describe(`unsigned commands and writes are audited (development, ${mode === 'not required' ? 'signed requests not required' : 'no operator trust store'})`, () => {
    it('a command that runs, one that fails, one that cannot be decoded: each a record by `unsigned`', async () => {
      const s = await setup(mode);
      expect(await s.command('ping', '{}')).toMatchObject({ ok: true });
      expect(await s.command('fail', '{}')).toMatchObject({ ok: false });
      expect(await s.command('ping', '{not json')).toMatchObject({ ok: false });
      expect(UNSIGNED_ACTOR).toBe('unsigned');
      expect(s.audit).toEqual([
        { category: 'command', event: 'mqtt.command', result: 'success', source: 'mqtt', actor: 'unsigned', detail: { command: 'ping', signed: false } },
        { category: 'command', event: 'mqtt.command', result: 'failure', source: 'mqtt', actor: 'unsigned', detail: { command: 'fail', signed: false, code: 'ERR_VALIDATION' } },
        { category: 'command', event: 'mqtt.command', result: 'failure', source: 'mqtt', actor: 'unsigned', detail: { command: 'ping', signed: false, code: 'ERR_DECODE' } },
      ]);
    });

    it('a setting write applied, one refused by the device, one that is not a value: each a record by `unsigned`', async () => {
      const s = await setup(mode);
      await s.write('4');
      await s.write('9');
      await s.write('{');
      expect(s.values.get('threshold')).toBe(4);
      expect(s.audit).toEqual([
        { category: 'setting', event: 'mqtt.setting', result: 'success', source: 'mqtt', actor: 'unsigned', detail: { setting: 'threshold', signed: false, value: 4 } },
        { category: 'setting', event: 'mqtt.setting', result: 'failure', source: 'mqtt', actor: 'unsigned', detail: { setting: 'threshold', signed: false, value: 9, message: 'properties.threshold: expected a number from 0 to 5, got 9' } },
        { category: 'setting', event: 'mqtt.setting', result: 'failure', source: 'mqtt', actor: 'unsigned', detail: { setting: 'threshold', signed: false, message: 'not a value' } },
      ]);
    });
  });
}

describe('signed requests beside unsigned ones (development)', () => {
  it('a signed command is recorded by its operator, an unsigned one by `unsigned`', async () => {
    const s = await setup('not required');
    const bytes = signRequest({ deviceId: DEVICE, action: 'cmd', id: 'ping', nowMs: START }, operatorKey);
    expect(await s.command('ping', bytes)).toMatchObject({ ok: true });
    expect(await s.command('ping', '{}')).toMatchObject({ ok: true });
    expect(s.audit.map((event) => [event.actor, event.result, (event.detail as { signed?: boolean }).signed])).toEqual([
      ['erin', 'success', undefined],
      ['unsigned', 'success', false],
    ]);
  });
});
