/**
 * A flood of signed-but-invalid commands while the device samples at 100 Hz, on a virtual clock:
 * every request is counted, at most the signature-check bucket's worth (10 at once, then 20/s) is
 * read, verified and answered, none runs, and the device delivers exactly its 100 samples a second.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/index.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { Device } from '../../sdk/device/index.js';
import { requiredRole } from '../../sdk/model/index.js';
import { CommandServer, type CommandReply } from '../../sdk/transport/mqtt/command-server.js';
import { PayloadWriter } from '../../sdk/transport/mqtt/payloads.js';
import { RequestGuard } from '../../sdk/transport/mqtt/request-guard.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { CommandAuthorizer, OperatorTrustStore, signRequest, type Authorization } from '../../security/operators/index.js';
import { probeCommands, probeEmulation, probeModel } from '../fixtures/mqtt-probe.js';

const RATE_HZ = 100;
const SECONDS = 10;
const PER_TICK = 20; // 2000 requests a second

describe('a flood of signed-but-invalid commands at 100 Hz sampling', () => {
  it(`of ${PER_TICK * RATE_HZ * SECONDS} requests over ${SECONDS} s: bounded verification work, nothing run, every sample delivered`, async () => {
    const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
    const model = probeModel(2, RATE_HZ);
    const board = new EmulatedBoard({ definition: model.board, clock, seed: 1 });
    probeEmulation(board, 2);
    const device = new Device(model, { board, serialNumber: 'F1' });
    probeCommands(device);
    const deviceId = 'mqtt-probe-F1';
    const viewer = generateKeyPairSync('ed25519').privateKey;
    const store = new OperatorTrustStore();
    await store.trust(createPublicKey(viewer).export({ type: 'spki', format: 'pem' }).toString(), { role: 'viewer', name: 'viewer' });
    const authorizer = new CommandAuthorizer({ operators: store, clock });
    let verified = 0;
    const counting = { authorize: (...args: Parameters<CommandAuthorizer['authorize']>): Authorization => (verified++, authorizer.authorize(...args)) };
    const audit: AuditEvent[] = [];
    const guard = new RequestGuard({ signed: { authorizer: counting, required: true }, clock, deviceId, requiredRole: (action) => requiredRole(model, action), audit: { record: (event) => void audit.push(event) } });
    const replies: CommandReply[] = [];
    const invoked: string[] = [];
    const server = new CommandServer({
      clock,
      target: { invoke: (id, args) => (invoked.push(id), device.invoke(id, args)) },
      prefix: `sensorkit/v1/${deviceId}/cmd/`,
      deviceRoot: `sensorkit/v1/${deviceId}/`,
      writer: new PayloadWriter(),
      publish: (reply) => replies.push(reply),
      guard,
    });
    // Validly signed by a trusted viewer, for a command that needs an operator: each one costs a
    // signature check when it is read.
    const requests = Array.from({ length: 64 }, (_, i) => signRequest({ deviceId, action: 'cmd', id: 'set-gain', args: { gain: i % 10 }, nowMs: clock.now() }, viewer));
    let sent = 0;
    const samples: number[] = [];
    device.on('sample', (sample) => {
      if (sample.channel === 'v0') samples.push(sample.time);
    });
    await device.start();
    const from = clock.now();
    for (let tick = 0; tick < RATE_HZ * SECONDS; tick++) {
      for (let i = 0; i < PER_TICK; i++) server.handle({ topic: `sensorkit/v1/${deviceId}/cmd/set-gain`, payload: requests[sent++ % requests.length]! });
      await clock.advance(1000 / RATE_HZ);
    }
    await device.stop();
    await board.close();

    const stats = server.stats();
    console.log(`signed-command flood: ${stats.received} requests in ${SECONDS} virtual s, ${verified} verified, ${stats.answered} answered, ${stats.ignored} ignored; ${samples.length} samples`);
    expect(stats.received).toBe(PER_TICK * RATE_HZ * SECONDS);
    const bound = 10 + 20 * SECONDS + 1;
    expect(verified).toBeLessThanOrEqual(bound);
    expect(stats.answered).toBe(verified);
    expect(stats.ignored).toBe(stats.received - verified);
    expect(invoked).toEqual([]);
    expect(new Set(replies.map((reply) => JSON.parse(new TextDecoder().decode(reply.payload)).error.reason))).toEqual(new Set(['wrong-role']));
    expect(audit).toHaveLength(verified);
    // 100 samples a second, each on its 10 ms tick.
    const inWindow = samples.filter((time) => time >= from && time < from + SECONDS * 1000);
    expect(inWindow.length).toBe(RATE_HZ * SECONDS);
    for (let i = 1; i < inWindow.length; i++) expect(inWindow[i]! - inWindow[i - 1]!).toBe(1000 / RATE_HZ);
  }, 60_000);
});
