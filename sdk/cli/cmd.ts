/**
 * `sensorkit cmd`: signs a command (or a setting change) with an operator key, publishes it on the
 * device's `cmd/<command>` (or `property/<id>/set`) topic, waits for the reply and prints it. Exit
 * 0 when the device ran it, 1 when it refused it (the reason printed) or did not answer in time,
 * 2 for a wrong command line.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { StateError, StorageError, TimeoutError } from '../core/errors.js';
import { topics } from '../encoding/topics.js';
import { readOperatorPrivateKey, signRequest, SIGNED_REQUEST_CONTENT_TYPE, type RequestScalar } from '../../security/operators/index.js';
import { redactCredentials } from '../transport/mqtt/credentials.js';
import { parseBrokerUrl } from '../transport/mqtt/options.js';
import { parseNumberOption, UsageError } from './usage.js';

/** `sensorkit cmd`: send a signed command to a device. */
export const CMD_HELP = `Usage: sensorkit cmd DEVICE COMMAND [ARGS…] --key FILE [options]

Signs COMMAND for DEVICE (its device id, e.g. env-node-EMU-1) with an operator key (COSE_Sign1),
publishes it on sensorkit/v1/DEVICE/cmd/COMMAND, waits for the reply and prints it. A device that
requires signed commands runs it only if the key is in its trust store with a role that suffices.
ARGS are name=value pairs (a value that reads as JSON is taken as JSON: gain=2.5, on=true,
label='"7"'), or one JSON object ('{"gain":2.5}').

Exit status: 0 the device ran it; 1 it refused it (the reason is printed), the command failed, or
no reply came in time; 2 a wrong command line.

Options:
  --key FILE         operator private key (from sensorkit operator keygen)   (required)
  --mqtt URL         broker: mqtt://host[:port] or mqtts://host[:port] (default: mqtt://127.0.0.1:1883)
  --timeout MS       how long to wait for the reply (default: 5000)
  --setting          COMMAND names a setting; the one argument is its new value
  --lifetime S       how long the signed request is valid, seconds (default: 60)
  --ca FILE          with mqtts://: CA certificate(s) the broker's certificate must chain to
  --tls-cert FILE    with mqtts://: client certificate, for mutual TLS (with --tls-key)
  --tls-key FILE     with mqtts://: private key of --tls-cert
  --json             print the reply as JSON
  -h, --help         show this help

Examples:
  sensorkit cmd env-node-EMU-1 ping --key keys/alice.key
  sensorkit cmd env-node-EMU-1 set-gain gain=2.5 --key keys/alice.key --mqtt mqtts://broker:8883 --ca ca.pem
  sensorkit cmd env-node-EMU-1 threshold 4.2 --setting --key keys/bob.key
`;

/** A reply as the device sends it. */
interface Reply {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly code?: string; readonly reason?: string; readonly message?: string };
}

/**
 * Runs `sensorkit cmd …`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await cmdCommand(['env-node-EMU-1', 'ping', '--key', 'keys/alice.key'])
 * ```
 */
export async function cmdCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      mqtt: { type: 'string' },
      timeout: { type: 'string' },
      setting: { type: 'boolean', default: false },
      lifetime: { type: 'string' },
      ca: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(CMD_HELP);
    return 0;
  }
  const [deviceId, name, ...rest] = positionals;
  if (deviceId === undefined || name === undefined) throw new UsageError('cmd: expected DEVICE COMMAND [ARGS…]');
  if (values.key === undefined) throw new UsageError('cmd: --key FILE (an operator private key) is required');
  const timeoutMs = values.timeout === undefined ? 5000 : parseNumberOption('--timeout', values.timeout, { integer: true, min: 1 });
  const lifetimeSeconds = values.lifetime === undefined ? 60 : parseNumberOption('--lifetime', values.lifetime, { integer: true, min: 1, max: 86_400 });
  const url = values.mqtt ?? 'mqtt://127.0.0.1:1883';
  try {
    parseBrokerUrl(url);
  } catch (error) {
    throw new UsageError(`cmd: --mqtt: ${(error as Error).message}`);
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('cmd: --tls-cert and --tls-key go together');
  let t;
  try {
    t = topics(deviceId);
  } catch (error) {
    throw new UsageError(`cmd: DEVICE: ${(error as Error).message}`);
  }
  const args = values.setting ? settingArgs(name, rest) : commandArgs(rest);
  const key = await readOperatorPrivateKey(values.key);
  const payload = signRequest({ deviceId, action: values.setting ? 'set' : 'cmd', id: name, args, lifetimeSeconds }, key);
  let requestTopic: string;
  let replyTopic: string;
  try {
    requestTopic = values.setting ? t.propertySet(name) : t.command(name);
    replyTopic = values.setting ? `${t.propertySet(name)}/result` : t.commandResult(name);
  } catch (error) {
    throw new UsageError(`cmd: COMMAND: ${(error as Error).message}`);
  }
  const tls = {
    ...(values.ca === undefined ? {} : { ca: await readText(values.ca) }),
    ...(values['tls-cert'] === undefined ? {} : { cert: await readText(values['tls-cert']), key: await readText(values['tls-key']!) }),
  };
  const reply = await exchange(url, tls, requestTopic, replyTopic, payload, timeoutMs);
  if (values.json) process.stdout.write(`${JSON.stringify(reply)}\n`);
  if (reply.ok) {
    if (!values.json) process.stdout.write(reply.result === undefined ? 'ok\n' : `ok ${JSON.stringify(reply.result)}\n`);
    return 0;
  }
  const error = reply.error ?? {};
  const text = error.code === 'ERR_REFUSED' ? `refused: ${error.message ?? error.reason ?? 'no reason given'}` : `failed: ${error.code ?? 'error'}: ${error.message ?? ''}`;
  process.stderr.write(`sensorkit: ${text}\n`);
  return 1;
}

/** `name=value` pairs or one JSON object. */
function commandArgs(rest: readonly string[]): Record<string, RequestScalar> {
  if (rest.length === 1 && rest[0]!.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rest[0]!);
    } catch {
      throw new UsageError('cmd: ARGS: not a JSON object');
    }
    const out = Object.create(null) as Record<string, RequestScalar>;
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) out[name] = scalar(name, value);
    return out;
  }
  const out = Object.create(null) as Record<string, RequestScalar>;
  for (const pair of rest) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`cmd: argument "${pair}": expected name=value`);
    const name = pair.slice(0, at);
    if (name in out) throw new UsageError(`cmd: argument "${name}" given twice`);
    out[name] = valueOf(pair.slice(at + 1));
  }
  return out;
}

function settingArgs(name: string, rest: readonly string[]): Record<string, RequestScalar> {
  if (rest.length !== 1) throw new UsageError(`cmd --setting: expected one value for ${name}, got ${rest.length}`);
  return { value: valueOf(rest[0]!) };
}

/** A value that reads as a JSON scalar is that scalar; anything else is the text itself. */
function valueOf(text: string): RequestScalar {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed === 'number' || typeof parsed === 'string' || typeof parsed === 'boolean') return parsed;
  } catch {
    // not JSON: the text itself
  }
  return text;
}

function scalar(name: string, value: unknown): RequestScalar {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  throw new UsageError(`cmd: argument "${name}" must be a number, string, boolean or null`);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new StorageError(file, `cannot read: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Publishes the request and resolves with the first reply to it: on MQTT 5 with a Response Topic
 * of its own below the result topic and Correlation Data; on 3.1.1 (a broker that refuses 5) the
 * first reply on the result topic after the request.
 */
async function exchange(url: string, tls: { ca?: string; cert?: string; key?: string }, requestTopic: string, replyTopic: string, payload: Uint8Array, timeoutMs: number): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  let client: MqttClient;
  let protocol: 4 | 5 = 5;
  try {
    client = await connect(url, tls, 5, timeoutMs);
  } catch (error) {
    if (!/protocol|unacceptable|unsupported/i.test((error as Error).message)) throw error;
    protocol = 4;
    client = await connect(url, tls, 4, Math.max(1, deadline - Date.now()));
  }
  try {
    const correlation = randomBytes(8);
    // A setting's reply goes to its fixed topic; a command's to a topic of this request's own.
    const ownTopic = protocol === 5 && requestTopic.includes('/cmd/') ? `${replyTopic}/cli-${correlation.toString('hex')}` : replyTopic;
    const reply = new Promise<Reply>((resolve, reject) => {
      client.on('message', (topic: string, body: Buffer, packet: IPublishPacket) => {
        if (topic !== ownTopic) return;
        const echoed = packet.properties?.correlationData;
        if (protocol === 5 && !(echoed && Buffer.from(echoed).equals(correlation))) return;
        try {
          resolve(JSON.parse(body.toString('utf8')) as Reply);
        } catch {
          reject(new StateError(`the reply on ${topic} is not JSON`));
        }
      });
    });
    await client.subscribeAsync(ownTopic, { qos: 1 });
    await client.publishAsync(requestTopic, Buffer.from(payload), {
      qos: 1,
      ...(protocol === 5 ? { properties: { contentType: SIGNED_REQUEST_CONTENT_TYPE, correlationData: correlation, ...(ownTopic === replyTopic ? {} : { responseTopic: ownTopic }) } } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`no reply from the device on ${ownTopic} within ${timeoutMs} ms`)), Math.max(1, deadline - Date.now()));
    });
    try {
      return await Promise.race([reply, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

function connect(url: string, tls: { ca?: string; cert?: string; key?: string }, protocol: 4 | 5, timeoutMs: number): Promise<MqttClient> {
  const options: IClientOptions = {
    protocolVersion: protocol,
    clientId: `sensorkit-cmd-${randomBytes(6).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...tls,
  };
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, options);
    const fail = (error: Error): void => {
      client.removeListener('close', closed);
      client.end(true);
      reject(new StateError(`cannot connect to ${redactCredentials(url)}: ${error.message}`));
    };
    const closed = (): void => fail(new StateError('the broker closed the connection'));
    client.once('connect', () => {
      client.removeListener('error', fail);
      client.removeListener('close', closed);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', closed);
  });
}
