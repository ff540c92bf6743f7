/**
 * Which role an OPC UA session has (the users file's role, the X.509 user's mapped role, the
 * defaults for users without one and anonymous sessions, the least role for an unactivated
 * session) and what a call or write below the model's role gets: a refusal, recorded.
 */
import { AnonymousIdentityToken, UserNameIdentityToken, X509IdentityToken, type ISessionContext } from 'node-opcua';
import { describe, expect, it } from 'vitest';
import { defineDevice } from '../../sdk/model/index.js';
import type { OperatorRole } from '../../sdk/model/index.js';
import { OpcuaAccess, type OpcuaRoleOptions } from '../../sdk/transport/opcua/access.js';
import type { AuditEvent } from '../../security/audit/event.js';

const model = defineDevice({
  id: 'env-node',
  board: 'arduino-uno',
  identity: { manufacturer: 'm', model: 'm', productCode: 'p', hardwareRevision: '1', softwareRevision: '1', serialNumber: '1' },
  channels: [{ id: 'v0', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.01, accuracy: { mpe: 0.2 }, sampleRate: 1, driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0' } }],
  properties: [{ id: 'interval', type: 'integer', default: 1 }],
  commands: [{ id: 'zero' }, { id: 'rotate-keys', role: 'security-admin' }],
});

const context = (token: unknown, userName = ''): ISessionContext => ({ session: { userIdentityToken: token }, getUserName: () => userName }) as unknown as ISessionContext;

function access(roles: OpcuaRoleOptions = {}, users: Record<string, OperatorRole> = {}) {
  const events: AuditEvent[] = [];
  return { events, access: new OpcuaAccess({ model, roleOfUser: (name) => users[name], roles, audit: { record: (event) => void events.push(event) } }) };
}

describe('OPC UA session roles', () => {
  it("takes a user's role from the users file, else the default user role (engineer unless set)", () => {
    const { access: a } = access({}, { vic: 'viewer' });
    expect(a.sessionActor(context(new UserNameIdentityToken({ userName: 'vic' })))).toEqual({ actor: 'vic', role: 'viewer' });
    expect(a.sessionActor(context(new UserNameIdentityToken({ userName: 'erin' })))).toEqual({ actor: 'erin', role: 'engineer' });
    const { access: strict } = access({ defaultUserRole: 'viewer' });
    expect(strict.sessionActor(context(new UserNameIdentityToken({ userName: 'erin' })))).toEqual({ actor: 'erin', role: 'viewer' });
  });

  it('gives X.509 users the role mapped to their common name, anonymous sessions theirs, an unactivated session the least', () => {
    const { access: a } = access({ x509: { 'plant-scada': 'operator' }, anonymous: 'viewer', defaultUserRole: 'viewer' });
    expect(a.sessionActor(context(new X509IdentityToken({ certificateData: Buffer.alloc(0) }), 'plant-scada'))).toEqual({ actor: 'x509:plant-scada', role: 'operator' });
    expect(a.sessionActor(context(new X509IdentityToken({ certificateData: Buffer.alloc(0) }), 'other'))).toEqual({ actor: 'x509:other', role: 'viewer' });
    expect(a.sessionActor(context(new AnonymousIdentityToken({})))).toEqual({ actor: 'anonymous', role: 'viewer' });
    expect(a.sessionActor(context(undefined))).toEqual({ actor: 'unauthenticated', role: 'viewer' });
    // The server's own, in-process calls have no session.
    expect(a.sessionActor(undefined)).toEqual({ actor: 'device', role: 'security-admin' });
  });

  it("refuses a viewer's command and an operator's setting write, records both, and lets the roles that suffice through unrecorded", () => {
    const { access: a, events } = access({}, { vic: 'viewer', olga: 'operator', erin: 'engineer' });
    const as = (name: string) => context(new UserNameIdentityToken({ userName: name }));
    expect(a.check(as('vic'), { kind: 'command', id: 'zero' })).toEqual({ allowed: false, needed: 'operator', actor: 'vic', role: 'viewer' });
    expect(a.check(as('olga'), { kind: 'command', id: 'zero' }).allowed).toBe(true);
    expect(a.check(as('olga'), { kind: 'setting', id: 'interval' })).toMatchObject({ allowed: false, needed: 'engineer' });
    expect(a.check(as('erin'), { kind: 'setting', id: 'interval' }).allowed).toBe(true);
    expect(a.check(as('erin'), { kind: 'command', id: 'rotate-keys' })).toMatchObject({ allowed: false, needed: 'security-admin' });
    expect(events).toEqual([
      { category: 'command', event: 'opcua.call', result: 'denied', source: 'opcua', actor: 'vic', detail: { command: 'zero', role: 'viewer', needed: 'operator' } },
      { category: 'setting', event: 'opcua.write', result: 'denied', source: 'opcua', actor: 'olga', detail: { setting: 'interval', role: 'operator', needed: 'engineer' } },
      { category: 'command', event: 'opcua.call', result: 'denied', source: 'opcua', actor: 'erin', detail: { command: 'rotate-keys', role: 'engineer', needed: 'security-admin' } },
    ]);
  });

  it('keeps deciding when the audit sink throws', () => {
    const a = new OpcuaAccess({ model, audit: { record: () => { throw new Error('disk full'); } } });
    expect(a.check(context(new UserNameIdentityToken({ userName: 'x' })), { kind: 'command', id: 'rotate-keys' }).allowed).toBe(false);
  });
});
