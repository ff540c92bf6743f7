/**
 * The attacker of the signed-command flood test, as its own process:
 *   node --import ./bin/register-ts.js test/integration/signed-commands-flooder.ts URL TOPIC_ROOT DEVICE_ID KEY_FILE COUNT
 * publishes COUNT signed-but-invalid requests (QoS 1) on TOPIC_ROOT/cmd/set-gain, in turn: signed
 * by KEY_FILE (a viewer: wrong role), by a key the device does not know, with a broken signature,
 * and expired; then exits 0 once all are acknowledged.
 */
import { generateKeyPairSync } from 'node:crypto';
import mqtt from 'mqtt';
import { readOperatorPrivateKey, signRequest } from '../../security/operators/index.js';

const [url, root, deviceId, keyFile, countText] = process.argv.slice(2);
if (url === undefined || root === undefined || deviceId === undefined || keyFile === undefined) throw new Error('usage: signed-commands-flooder.ts URL TOPIC_ROOT DEVICE_ID KEY_FILE COUNT');
const count = Number(countText ?? 10_000);
const viewer = await readOperatorPrivateKey(keyFile);
const stranger = generateKeyPairSync('ed25519').privateKey;
const payload = (i: number): Buffer => {
  const base = { deviceId, action: 'cmd' as const, id: 'set-gain', args: { gain: i % 10 } };
  switch (i % 4) {
    case 0:
      return Buffer.from(signRequest(base, viewer));
    case 1:
      return Buffer.from(signRequest(base, stranger));
    case 2: {
      const bytes = Buffer.from(signRequest(base, viewer));
      bytes[bytes.length - 1]! ^= 0xff;
      return bytes;
    }
    default:
      return Buffer.from(signRequest({ ...base, nowMs: Date.now() - 3_600_000 }, viewer));
  }
};
// Signed up front, so that the flood itself is as fast as the broker takes it.
const payloads = Array.from({ length: 64 }, (_, i) => payload(i));
const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: 4 });
const acks: Promise<unknown>[] = [];
for (let i = 0; i < count; i++) acks.push(client.publishAsync(`${root}/cmd/set-gain`, payloads[i % payloads.length]!, { qos: 1 }));
await Promise.all(acks);
await client.endAsync();
