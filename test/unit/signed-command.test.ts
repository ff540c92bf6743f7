/**
 * Signed commands and settings over MQTT: a COSE_Sign1 by a trusted operator key whose role
 * suffices, for this device and action, in its time window, seen once. Every refusal reason with
 * its bad input, through the command server's and the setting server's public interfaces: an
 * error reply, an audit record, and no action.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { defineDevice, requiredRole } from '../../sdk/model/index.js';
import { CommandServer, type CommandReply } from '../../sdk/transport/mqtt/command-server.js';
import { PropertyEventServer } from '../../sdk/transport/mqtt/device-topics.js';
import { PayloadWriter } from '../../sdk/transport/mqtt/payloads.js';
import { RequestGuard } from '../../sdk/transport/mqtt/request-guard.js';
import { presentRequest } from '../../sdk/transport/mqtt/signed-request.js';
import { topics } from '../../sdk/encoding/topics.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { CoseTagged, encodeCoseCbor, signSign1 } from '../../security/cose/index.js';
import { CommandAuthorizer, encodeClaims, OperatorTrustStore, signRequest, type OperatorRole, type RefusalReason, type SignRequestOptions } from '../../security/operators/index.js';

const START = Date.UTC(2026, 0, 1);
const DEVICE = 'env-node-7';
const ROOT = `sensorkit/v1/${DEVICE}`;

const model = defineDevice({
  id: 'env-node',
  board: 'arduino-uno',
  identity: { manufacturer: 'sensorkit tests', model: 'Env', productCode: 'E-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: '7' },
  channels: [{ id: 'v0', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.01, accuracy: { mpe: 0.2 }, sampleRate: 1, driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0' } }],
  properties: [
    { id: 'threshold', type: 'number', range: { min: 0, max: 5 }, default: 3 },
    { id: 'label', type: 'string', default: 'a', role: 'operator' },
  ],
  commands: [
    { id: 'ping', result: { type: 'string' } },
    { id: 'set-gain', arguments: [{ name: 'gain', type: 'number' }], role: 'engineer' },
    { id: 'rotate-keys', role: 'security-admin' },
  ],
});

const ed = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
const keys = { viewer: ed(), operator: ed(), engineer: ed(), admin: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, revoked: ed(), stranger: ed() };
const pem = (key: KeyObject): string => createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();

async function setup(options: { required?: boolean; noncesPerKey?: number } = {}) {
  const clock = new VirtualClock({ start: START });
  const store = new OperatorTrustStore();
  const roles: [keyof typeof keys, OperatorRole][] = [['viewer', 'viewer'], ['operator', 'operator'], ['engineer', 'engineer'], ['admin', 'security-admin'], ['revoked', 'engineer']];
  for (const [name, role] of roles) await store.trust(pem(keys[name]), { role, name });
  const revoked = store.list().find((operator) => operator.name === 'revoked')!;
  await store.revoke(revoked.keyId);
  const authorizer = new CommandAuthorizer({ operators: store, clock, ...(options.noncesPerKey ? { noncesPerKey: options.noncesPerKey } : {}) });
  const audit: AuditEvent[] = [];
  const guard = new RequestGuard({ signed: { authorizer, required: options.required ?? true }, clock, deviceId: DEVICE, requiredRole: (action) => requiredRole(model, action), audit: { record: (event) => void audit.push(event) } });
  const invoked: { id: string; args: Record<string, unknown> }[] = [];
  const replies: CommandReply[] = [];
  const commands = new CommandServer({
    clock,
    target: {
      invoke: async (id, args) => {
        invoked.push({ id, args: { ...args } });
        return id === 'ping' ? 'pong' : undefined;
      },
    },
    prefix: `${ROOT}/cmd/`,
    deviceRoot: `${ROOT}/`,
    writer: new PayloadWriter(),
    publish: (reply) => replies.push(reply),
    guard,
  });
  return { clock, store, authorizer, audit, guard, invoked, replies, commands };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const body = (reply: CommandReply | undefined): { ok: boolean; result?: unknown; error?: { code: string; reason?: string; message: string } } => JSON.parse(new TextDecoder().decode(reply!.payload));

function signed(key: KeyObject, options: Partial<SignRequestOptions> = {}): Uint8Array {
  return signRequest({ deviceId: DEVICE, action: 'cmd', id: 'ping', nowMs: START, ...options }, key);
}

async function send(s: Awaited<ReturnType<typeof setup>>, command: string, payload: Uint8Array, contentType?: string) {
  s.commands.handle({ topic: `${ROOT}/cmd/${command}`, payload, ...(contentType ? { contentType } : {}) });
  await settle();
  return body(s.replies.at(-1));
}

describe('signed commands over MQTT (production: required)', () => {
  it('runs a command signed by an operator, with the signed arguments, and records who ran it', async () => {
    const s = await setup();
    const reply = await send(s, 'ping', signed(keys.operator));
    expect(reply).toEqual({ ok: true, result: 'pong' });
    expect(s.invoked).toEqual([{ id: 'ping', args: {} }]);
    expect(s.audit).toEqual([expect.objectContaining({ category: 'command', event: 'mqtt.command', result: 'success', actor: 'operator', source: 'mqtt', detail: expect.objectContaining({ command: 'ping', role: 'operator' }) })]);
  });

  it('takes an ECDSA P-256 key as well as Ed25519, and the arguments from the signed claims', async () => {
    const s = await setup();
    const reply = await send(s, 'set-gain', signed(keys.admin, { id: 'set-gain', args: { gain: 2.5 } }));
    expect(reply.ok).toBe(true);
    expect(s.invoked).toEqual([{ id: 'set-gain', args: { gain: 2.5 } }]);
  });

  const refusals: [RefusalReason, string, (s: Awaited<ReturnType<typeof setup>>) => Uint8Array | Promise<Uint8Array>, string?][] = [
    ['unsigned', 'a plain JSON request', () => new TextEncoder().encode('{}')],
    ['unsigned', 'an empty request', () => new Uint8Array(0)],
    ['unknown-key', 'a key the device does not trust', () => signed(keys.stranger)],
    ['revoked', 'a revoked key', () => signed(keys.revoked)],
    ['wrong-role', "a viewer calling an operator's command", () => signed(keys.viewer)],
    ['wrong-role', "a viewer calling an engineer's command", () => signed(keys.viewer, { id: 'set-gain', args: { gain: 1 } }), 'set-gain'],
    ['wrong-role', "an operator calling an engineer's command", () => signed(keys.operator, { id: 'set-gain', args: { gain: 1 } }), 'set-gain'],
    ['wrong-role', "an engineer calling a security administrator's command", () => signed(keys.engineer, { id: 'rotate-keys' }), 'rotate-keys'],
    ['wrong-role', 'a command the model does not declare (needs security-admin)', () => signed(keys.engineer, { id: 'format-disk' }), 'format-disk'],
    ['expired', 'a request past its expiry and the skew', async (s) => {
      const bytes = signed(keys.operator, { lifetimeSeconds: 60 });
      await s.clock.advance(91_000);
      return bytes;
    }],
    ['not-yet-valid', 'a request issued 5 minutes ahead', () => signed(keys.operator, { nowMs: START + 300_000 })],
    ['bad-signature', 'a request whose signature was changed', () => {
      const bytes = signed(keys.operator);
      bytes[bytes.length - 1]! ^= 1;
      return bytes;
    }],
    ['bad-signature', "a request with one key's id and another's signature", () => {
      const forged = signSign1(encodeClaims({ deviceId: DEVICE, action: 'cmd', id: 'ping', args: {}, issuedAt: START / 1000, expiresAt: START / 1000 + 60, nonce: new Uint8Array(16) }), keys.stranger);
      const engineerKid = Buffer.from(signed(keys.engineer)).indexOf(Buffer.from([0xa1, 0x04, 0x48]));
      const strangerKid = Buffer.from(forged).indexOf(Buffer.from([0xa1, 0x04, 0x48]));
      const copy = Uint8Array.from(forged);
      copy.set(signed(keys.engineer).subarray(engineerKid + 3, engineerKid + 11), strangerKid + 3);
      return copy;
    }],
    ['wrong-device', 'a request signed for another device', () => signed(keys.operator, { deviceId: 'env-node-8' })],
    ['malformed', 'a request signed for another command', () => signed(keys.engineer, { id: 'set-gain', args: { gain: 1 } })],
    ['malformed', 'a request valid for a day', () => signed(keys.operator, { lifetimeSeconds: 86_400 })],
    ['malformed', 'a COSE_Sign1 with trailing bytes', () => Uint8Array.from([...signed(keys.operator), 0x00])],
    ['malformed', 'a COSE_Sign1 with a detached payload', () => signSign1(new Uint8Array(8), keys.operator, { detached: true })],
    ['malformed', 'a COSE_Sign1 whose payload is not the claims', () => signSign1(encodeCoseCbor(new Map([['dev', DEVICE]])), keys.operator)],
    ['malformed', 'a deeply nested COSE_Sign1', () => encodeCoseCbor(new CoseTagged(18, [[[[[[[[1]]]]]]]]))],
    ['malformed', 'a request above the size limit', () => signed(keys.operator, { args: { pad: 'x'.repeat(5000) } })],
    ['malformed', 'a key id of 1000 bytes', () => {
      const claims = encodeClaims({ deviceId: DEVICE, action: 'cmd', id: 'ping', args: {}, issuedAt: START / 1000, expiresAt: START / 1000 + 60, nonce: new Uint8Array(16) });
      return encodeCoseCbor(new CoseTagged(18, [encodeCoseCbor(new Map([[1, -8]])), new Map([[4, new Uint8Array(1000)]]), claims, new Uint8Array(64)]));
    }],
    ['malformed', 'a claim with a 2000-character name', () => signSign1(encodeCoseCbor(new Map([['y'.repeat(2000), 1]])), keys.operator)],
  ];

  it.each(refusals)('refuses %s (%s): an error reply, an audit record, nothing run', async (reason, _name, make, command = 'ping') => {
    const s = await setup();
    const reply = await send(s, command, await make(s));
    expect(reply.ok).toBe(false);
    expect(reply.error).toMatchObject({ code: 'ERR_REFUSED', reason });
    expect(reply.error!.message.startsWith(`${reason}: `)).toBe(true);
    expect(reply.error!.message.length, 'a reply tells the reason in one short line').toBeLessThan(200);
    expect(s.invoked).toEqual([]);
    expect(s.audit).toEqual([expect.objectContaining({ category: 'command', event: 'mqtt.command', result: 'denied', source: 'mqtt', detail: expect.objectContaining({ reason, command }) })]);
    expect(s.commands.stats().refused).toBe(1);
  });

  it('refuses a replayed request: the same signed bytes run once', async () => {
    const s = await setup();
    const bytes = signed(keys.operator);
    expect((await send(s, 'ping', bytes)).ok).toBe(true);
    expect((await send(s, 'ping', bytes)).error).toMatchObject({ reason: 'replayed' });
    expect(s.invoked).toHaveLength(1);
    expect(s.audit.map((event) => event.result)).toEqual(['success', 'denied']);
  });

  it('still refuses a replay once the nonce cache is full: a forgotten nonce raises the floor of issue times', async () => {
    const s = await setup({ noncesPerKey: 2 });
    const first = signed(keys.operator, { nowMs: START });
    expect((await send(s, 'ping', first)).ok).toBe(true);
    expect((await send(s, 'ping', signed(keys.operator, { nowMs: START + 1000 }))).ok).toBe(true);
    expect((await send(s, 'ping', signed(keys.operator, { nowMs: START + 2000 }))).ok).toBe(true); // the first nonce is forgotten
    expect((await send(s, 'ping', first)).error).toMatchObject({ reason: 'replayed' });
    expect((await send(s, 'ping', signed(keys.operator, { nowMs: START + 3000 }))).ok).toBe(true);
    expect(s.invoked).toHaveLength(4);
  });

  it('accepts a request within the clock skew on either side', async () => {
    const s = await setup();
    expect((await send(s, 'ping', signed(keys.operator, { nowMs: START + 20_000 }))).ok).toBe(true);
    const late = signed(keys.operator, { lifetimeSeconds: 60 });
    await s.clock.advance(80_000);
    expect((await send(s, 'ping', late)).ok).toBe(true);
  });
});

describe('signed commands over MQTT (development: not required)', () => {
  it('runs an unsigned request as before, and records it with the actor `unsigned`', async () => {
    const s = await setup({ required: false });
    expect(await send(s, 'ping', new TextEncoder().encode('{}'))).toEqual({ ok: true, result: 'pong' });
    expect(s.audit).toEqual([{ category: 'command', event: 'mqtt.command', result: 'success', source: 'mqtt', actor: 'unsigned', detail: { command: 'ping', signed: false } }]);
  });

  it('still checks a request that is signed', async () => {
    const s = await setup({ required: false });
    expect((await send(s, 'ping', signed(keys.stranger))).error).toMatchObject({ reason: 'unknown-key' });
    expect((await send(s, 'ping', signed(keys.operator))).ok).toBe(true);
    expect(s.invoked).toHaveLength(1);
  });
});

describe('signed setting writes over MQTT', () => {
  async function settings(required = true) {
    const s = await setup({ required });
    const values = new Map<string, unknown>([['threshold', 3], ['label', 'a']]);
    const device = {
      model,
      readProperty: (id: string) => values.get(id) as number,
      writeProperty: (id: string, value: unknown) => {
        if (id === 'threshold' && (typeof value !== 'number' || value > 5)) throw new Error('out of range');
        values.set(id, value);
      },
      on: () => () => undefined,
    };
    const server = new PropertyEventServer({ device: device as never, topics: topics(DEVICE), writer: new PayloadWriter(), publish: () => true, storeEvent: async () => undefined, clock: s.clock, guard: s.guard, reply: (reply) => s.replies.push(reply) });
    const write = async (id: string, payload: Uint8Array) => {
      server.handle(`${ROOT}/property/${id}/set`, payload, { correlationData: Uint8Array.of(9) });
      await settle();
      return s.replies.at(-1);
    };
    return { ...s, values, server, write };
  }
  const setSigned = (key: KeyObject, id: string, value: number | string) => signRequest({ deviceId: DEVICE, action: 'set', id, args: { value }, nowMs: START }, key);

  it('applies a write signed by an engineer and answers on property/<id>/set/result', async () => {
    const s = await settings();
    const reply = await s.write('threshold', setSigned(keys.engineer, 'threshold', 4));
    expect(reply!.topic).toBe(`${ROOT}/property/threshold/set/result`);
    expect(reply!.correlationData).toEqual(Uint8Array.of(9));
    expect(body(reply)).toEqual({ ok: true });
    expect(s.values.get('threshold')).toBe(4);
    expect(s.audit).toEqual([expect.objectContaining({ category: 'setting', event: 'mqtt.setting', result: 'success', actor: 'engineer', detail: expect.objectContaining({ setting: 'threshold', value: 4 }) })]);
  });

  it("refuses an operator's write of a setting that needs an engineer, and an unsigned write", async () => {
    const s = await settings();
    expect(body(await s.write('threshold', setSigned(keys.operator, 'threshold', 4))).error).toMatchObject({ code: 'ERR_REFUSED', reason: 'wrong-role' });
    expect(body(await s.write('threshold', new TextEncoder().encode('4'))).error).toMatchObject({ reason: 'unsigned' });
    expect(s.values.get('threshold')).toBe(3);
    expect(s.audit.map((event) => [event.category, event.result])).toEqual([['setting', 'denied'], ['setting', 'denied']]);
    expect(s.server.stats()).toMatchObject({ writes: 2, applied: 0, rejected: 2 });
  });

  it("applies an operator's write of a setting the model opens to operators", async () => {
    const s = await settings();
    expect(body(await s.write('label', setSigned(keys.operator, 'label', 'b')))).toEqual({ ok: true });
    expect(s.values.get('label')).toBe('b');
  });

  it('answers a granted write the device refuses with the reason, and records the failure', async () => {
    const s = await settings();
    expect(body(await s.write('threshold', setSigned(keys.engineer, 'threshold', 9))).error).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(s.audit.map((event) => event.result)).toEqual(['failure']);
  });

  it('refuses a write signed for another setting', async () => {
    const s = await settings();
    expect(body(await s.write('label', setSigned(keys.engineer, 'threshold', 4))).error).toMatchObject({ reason: 'malformed' });
  });

  it('development: an unsigned write is applied as before, unanswered, and recorded with the actor `unsigned`', async () => {
    const s = await settings(false);
    expect(await s.write('threshold', new TextEncoder().encode('4'))).toBeUndefined();
    expect(s.values.get('threshold')).toBe(4);
    expect(s.audit).toEqual([{ category: 'setting', event: 'mqtt.setting', result: 'success', source: 'mqtt', actor: 'unsigned', detail: { setting: 'threshold', signed: false, value: 4 } }]);
  });
});

describe('presentRequest', () => {
  it('tells unsigned requests (a CBOR map, JSON) from signed ones (tag 18, or the COSE content type)', () => {
    expect(presentRequest(Uint8Array.of(0xa0), undefined).kind).toBe('unsigned');
    expect(presentRequest(new TextEncoder().encode('{"a":1}'), undefined).kind).toBe('unsigned');
    expect(presentRequest(signed(keys.operator), undefined).kind).toBe('signed');
    expect(presentRequest(Uint8Array.of(0xa0), 'application/cose; cose-type="cose-sign1"')).toMatchObject({ kind: 'malformed' });
  });
});
