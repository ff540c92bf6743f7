/**
 * The command server's reply policy: where it replies (its own `cmd/<c>/result…` or a configured
 * prefix, never another device's tree) and what it tells a client when a handler throws.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { CommandServer, type CommandLimits, type CommandReply } from '../../sdk/transport/mqtt/command-server.js';
import { PayloadWriter } from '../../sdk/transport/mqtt/payloads.js';

const ROOT = 'sensorkit/v1/env-node-7';

function server(limits: CommandLimits = {}, invoke: (id: string) => unknown = () => 'pong') {
  const replies: CommandReply[] = [];
  const failures: Error[] = [];
  const commands = new CommandServer({
    clock: new VirtualClock(),
    target: { invoke: async (id) => invoke(id) },
    prefix: `${ROOT}/cmd/`,
    deviceRoot: `${ROOT}/`,
    writer: new PayloadWriter(),
    publish: (reply) => replies.push(reply),
    onFailure: (error) => failures.push(error),
    limits,
  });
  return { commands, replies, failures };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const body = (reply: CommandReply | undefined): unknown => JSON.parse(new TextDecoder().decode(reply!.payload));

describe('CommandServer reply topics', () => {
  it.each([
    ['its own cmd/<c>/result', `${ROOT}/cmd/ping/result`],
    ['below its own cmd/<c>/result', `${ROOT}/cmd/ping/result/requester-4`],
    ['a configured prefix', 'plant-7/replies/console-1'],
  ])('replies on a Response Topic under %s', async (_name, responseTopic) => {
    const { commands, replies } = server({ responseTopicPrefixes: ['plant-7/replies/'] });
    commands.handle({ topic: `${ROOT}/cmd/ping`, payload: new Uint8Array(0), responseTopic, correlationData: Uint8Array.of(7) });
    await settle();
    expect(replies.map((reply) => reply.topic)).toEqual([responseTopic]);
    expect(replies[0]!.correlationData).toEqual(Uint8Array.of(7));
  });

  it.each([
    ["another device's command", 'sensorkit/v1/other-device/cmd/reboot'],
    ['its own command', `${ROOT}/cmd/reboot`],
    ['its own setting', `${ROOT}/property/threshold/set`],
    ['a topic outside every configured prefix', 'plant-8/replies/x'],
    ['a wildcard', 'plant-7/replies/#'],
  ])('ignores and counts a request whose Response Topic is %s, without running it', async (_name, responseTopic) => {
    const invoked: string[] = [];
    const { commands, replies } = server({ responseTopicPrefixes: ['plant-7/replies/'] }, (id) => invoked.push(id));
    commands.handle({ topic: `${ROOT}/cmd/ping`, payload: new Uint8Array(0), responseTopic });
    await settle();
    expect(replies).toEqual([]);
    expect(invoked).toEqual([]);
    expect(commands.stats()).toMatchObject({ received: 1, answered: 0, ignored: 1, refusedResponseTopics: 1 });
  });

  it('refuses a configured prefix with a wildcard', () => {
    expect(() => server({ responseTopicPrefixes: ['plant/+/replies/'] })).toThrow(/responseTopicPrefixes/);
  });
});

describe('CommandServer errors', () => {
  it("answers a handler's exception with a generic message and a reference; the text goes to onFailure with the same reference", async () => {
    const { commands, replies, failures } = server({}, () => {
      throw new Error("EACCES: permission denied, open '/etc/sensorkit/secret.key'");
    });
    commands.handle({ topic: `${ROOT}/cmd/ping`, payload: new Uint8Array(0) });
    await settle();
    const reply = body(replies[0]) as { ok: boolean; error: { code: string; message: string } };
    expect(reply.ok).toBe(false);
    expect(reply.error.code).toBe('ERR_COMMAND');
    expect(reply.error.message).toMatch(/^command "ping" failed; reference [0-9a-f]{12} in the device log$/);
    expect(JSON.stringify(reply)).not.toContain('secret');
    const reference = /reference ([0-9a-f]{12})/.exec(reply.error.message)![1]!;
    expect(failures.map((error) => error.message)).toEqual([`command "ping" failed (reference ${reference}): EACCES: permission denied, open '/etc/sensorkit/secret.key'`]);
    expect(commands.stats().failed).toBe(1);
  });

  it('tells a ValidationError (the request is wrong) as it is', async () => {
    const { commands, replies, failures } = server({}, () => {
      throw new ValidationError('gain', 'must be from 0 to 10, got 20');
    });
    commands.handle({ topic: `${ROOT}/cmd/set-gain`, payload: new TextEncoder().encode('{"gain":20}') });
    await settle();
    expect(body(replies[0])).toEqual({ ok: false, error: { code: 'ERR_VALIDATION', message: 'gain: must be from 0 to 10, got 20' } });
    expect(failures).toEqual([]);
  });
});
