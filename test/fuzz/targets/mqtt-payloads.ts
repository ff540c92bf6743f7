/**
 * What anyone on the broker can send a device: command requests (`decodeCommandRequest`) and
 * setting writes (`PropertyEventServer.handle`). Random bytes, and mutations of valid CBOR and JSON
 * requests, under every content type. Properties: the command decoder never throws and always
 * returns `{ ok, format, args | message }`, accepted arguments being at most `maxEntries` scalars;
 * the setting handler never throws, hands the device only a number, boolean or string, and counts
 * a write applied only when it reached the device.
 */
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { topics } from '../../../sdk/encoding/topics.js';
import { decodeCommandRequest } from '../../../sdk/transport/mqtt/command-payload.js';
import { PropertyEventServer, type PropertyEventDevice } from '../../../sdk/transport/mqtt/device-topics.js';
import { PayloadWriter } from '../../../sdk/transport/mqtt/payloads.js';
import { mutatedBytes, randomBytes } from '../mutate.js';
import { FuzzViolation, timed, type FuzzTarget } from '../target.js';

const text = new TextEncoder();
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });

const COMMANDS: readonly Uint8Array[] = [
  Uint8Array.of(0xa1, 0x61, 0x6e, 0x05),
  Uint8Array.from(cbor.encode({ hard: true, delayMs: 1500, reason: 'operator request', level: -3.25, note: null })),
  Uint8Array.from(cbor.encode({ setpoint: 21.5, unit: 'Cel', big: 2 ** 40 })),
  text.encode('{"hard":true,"delayMs":1500,"reason":"operator"}'),
  text.encode('{"n":5}'),
  text.encode('{}'),
];
const CONTENT_TYPES = [undefined, 'application/json', 'application/cbor', 'text/plain', ''];
const MAX_ENTRIES = 32;

function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
}

export const commandPayloadTarget: FuzzTarget<{ payload: Uint8Array; contentType: string | undefined }> = {
  name: 'command-payload',
  property: 'decodeCommandRequest never throws; it returns ok with ≤ maxEntries scalar arguments, or not ok with a message',
  arbitrary: fc.record({
    payload: fc.oneof(randomBytes(96), mutatedBytes(COMMANDS)),
    contentType: fc.constantFrom(...CONTENT_TYPES),
  }),
  shortRuns: 5000,
  check({ payload, contentType }) {
    const decoded = timed('decodeCommandRequest', () => decodeCommandRequest(payload, contentType, { maxBytes: 4096, maxEntries: MAX_ENTRIES }));
    if (decoded.format !== 'cbor' && decoded.format !== 'json') throw new FuzzViolation(`format ${String(decoded.format)}`);
    if (decoded.ok) {
      const entries = Object.entries(decoded.args);
      if (entries.length > MAX_ENTRIES) throw new FuzzViolation(`${entries.length} arguments accepted`);
      const bad = entries.find(([, value]) => !isScalar(value));
      if (bad) throw new FuzzViolation(`argument ${bad[0]} is not a scalar`);
    } else if (typeof decoded.message !== 'string' || decoded.message.length === 0) {
      throw new FuzzViolation('a refusal without a message');
    }
  },
};

/** A device with one writable setting of each type; writes are recorded, a non-scalar one is a violation. */
function settingDevice(): { device: PropertyEventDevice; written: unknown[] } {
  const written: unknown[] = [];
  const model = { properties: [{ id: 'interval', type: 'number', writable: true }, { id: 'location', type: 'string' }, { id: 'enabled', type: 'boolean' }] };
  const device = {
    model,
    readProperty: () => 1,
    writeProperty: (_id: string, value: unknown) => void written.push(value),
    on: () => () => {},
  } as unknown as PropertyEventDevice;
  return { device, written };
}

const SETTINGS: readonly Uint8Array[] = ['5', '12.5', '-0.001', '"hall 2"', 'true', 'false', '1e3', '"ü"'].map((value) => text.encode(value));
const root = topics('env-node-EMU-1');
const SETTING_IDS = ['interval', 'location', 'enabled', '', 'a/b', 'unknown'];

export const settingPayloadTarget: FuzzTarget<{ id: string; payload: Uint8Array }> = {
  name: 'setting-payload',
  property: 'PropertyEventServer.handle never throws, writes only a number, boolean or string, and counts a write applied only when the device got it',
  arbitrary: fc.record({ id: fc.constantFrom(...SETTING_IDS), payload: fc.oneof(randomBytes(64), mutatedBytes(SETTINGS)) }),
  shortRuns: 5000,
  check({ id, payload }) {
    const { device, written } = settingDevice();
    const server = new PropertyEventServer({ device, topics: root, writer: new PayloadWriter(), publish: () => true, storeEvent: async () => undefined });
    const topic = `${root.root}/property/${id}/set`;
    timed('PropertyEventServer.handle', () => {
      if (server.handles(topic)) server.handle(topic, payload);
    });
    const value = written[0];
    if (written.length > 1 || (written.length === 1 && !['number', 'boolean', 'string'].includes(typeof value))) {
      throw new FuzzViolation(`the device was handed ${JSON.stringify(written)}`);
    }
    // A rate limit may count a write apart from applied and rejected, so this is ≤, not =.
    const stats = server.stats();
    if (stats.applied !== written.length || stats.applied + stats.rejected > stats.writes) throw new FuzzViolation(`counters do not add up: ${JSON.stringify(stats)}`);
    server.detach();
  },
};
