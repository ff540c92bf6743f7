/**
 * `sensorkit run [DEVICE]`: runs a device on a board and shows its readings.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SystemClock } from '../core/clock.js';
import { describeStep, watchWallClock } from '../core/wall-clock-watch.js';
import { ValidationError } from '../core/errors.js';
import { Device } from '../device/device.js';
import { loadDeviceFile } from '../runtime/device-file.js';
import { SenmlCborEncoder } from '../encoding/senml-cbor.js';
import { deviceIdFor } from '../encoding/topics.js';
import type { Sample } from '../core/sample.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../transport/mqtt/embedded-broker.js';
import type { MqttTlsOptions } from '../transport/mqtt/options.js';
import { DurableOutbox } from '../transport/outbox/index.js';
import { createTransport, type Transport } from '../transport/registry.js';
import { BOARD_CHOICES, inDeviceFile, openBoard } from './board-option.js';
import { decimalsFor, renderTable } from './live-table.js';
import { UsageError, parseNumberOption } from './usage.js';

export const RUN_HELP = `Usage: sensorkit run [DEVICE] [options]

Runs a device and shows the latest value, unit and quality of each channel.

  DEVICE               a device file (.ts or .js) or a folder with device.ts/device.js
                       (default: examples/env-node)

Options:
  --board NAME         board to run on: ${BOARD_CHOICES.join(', ')} (default: emulated)
  --seed N             seed of the emulated board's random signals (default: 1)
  --duration SECONDS   stop after this many seconds (default: run until Ctrl-C)
  --json               print one JSON object per reported reading:
                       {"channel","value","unit","quality","time"}; events go to stderr
  --serial TEXT        serial number, when the model takes it from the board or environment
                       (default: $SENSORKIT_SERIAL, else EMU-<seed>)
  --mqtt URL           publish to this broker: mqtt://host[:port] or mqtts://host[:port]
                       (default: an embedded broker on 127.0.0.1, its port in the first line)
  --no-mqtt            do not publish over MQTT
  --ca FILE            with mqtts://: CA certificate(s) the broker's certificate must chain to
  --cert FILE          with mqtts://: client certificate, for mutual TLS (with --key)
  --key FILE           with mqtts://: private key of --cert
  --outbox DIR         durable outbox of telemetry (default: .sensorkit/outbox/<device id>)
  --opcua-port N       serve OPC UA on this TCP port; 0 picks a free one (default: 4840)
  --no-opcua           do not serve OPC UA
  --profile NAME       OPC UA security: dev (adds SecurityPolicy None and anonymous login,
                       listens on 127.0.0.1) or production (SignAndEncrypt only, user login)
                       (default: dev)
  --opcua-host ADDR    address to listen on (default: 127.0.0.1 for dev, all for production)
  --pki DIR            OPC UA certificates: own, trusted and rejected (default: .sensorkit/pki)
  --users FILE         OPC UA users, scrypt hashes (default: .sensorkit/opcua-users.json;
                       add users with \`sensorkit opcua user add NAME\`)
  --x509-users         accept X.509 user certificates trusted in <pki>/users
  -h, --help           show this help
`;

/** Runs the `run` verb; resolves with the exit code. */
export async function runCommand(argv: readonly string[], defaultDevice: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      board: { type: 'string', default: 'emulated' },
      seed: { type: 'string', default: '1' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      serial: { type: 'string' },
      mqtt: { type: 'string' },
      'no-mqtt': { type: 'boolean', default: false },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      outbox: { type: 'string' },
      'opcua-port': { type: 'string' },
      'no-opcua': { type: 'boolean', default: false },
      profile: { type: 'string' },
      'opcua-host': { type: 'string' },
      pki: { type: 'string' },
      users: { type: 'string' },
      'x509-users': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`run takes one DEVICE, got ${positionals.length}: ${positionals.join(' ')}`);
  const seed = parseNumberOption('--seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const durationS = values.duration === undefined ? undefined : parseNumberOption('--duration', values.duration, { min: 0.001 });
  const tls = mqttOptions(values);
  const opcuaFlags = opcuaOptions(values);

  const loaded = await loadDeviceFile(positionals[0] ?? defaultDevice);
  const out = process.stdout;
  const log = (line: string): void => {
    (values.json ? process.stderr : out).write(`${line}\n`);
  };
  const clock = new SystemClock();
  const { board, description } = await openBoard(values.board, {
    loaded,
    clock,
    seed,
    warn: (line) => process.stderr.write(`sensorkit: warning: ${line}\n`),
  });
  let device: Device;
  try {
    device = new Device(loaded.model, { board, serialNumber: serialNumber(values.serial, seed) });
    if (loaded.setup) await inDeviceFile(loaded, 'setup', () => loaded.setup!(device));
  } catch (error) {
    await board.close();
    throw error;
  }
  device.on('fault', (event) =>
    log(event.state === 'raised' ? `! ${event.channel}: ${event.quality.level} (${event.quality.reason ?? ''}) ${event.quality.detail ?? ''}`.trimEnd() : `✓ ${event.channel}: fault cleared`),
  );
  device.on('alarm', (event) => log(`${event.state === 'active' ? '▲ alarm' : '▽ cleared'} ${event.alarm} on ${event.channel}: ${event.message} (value ${event.value}, limit ${event.limit})`));
  if (values.json) {
    const decimals = new Map(loaded.model.channels.map((channel) => [channel.id, decimalsFor(channel.resolution)]));
    device.on('report', (sample) => out.write(`${JSON.stringify(toJsonReading(sample, decimals.get(sample.channel) ?? 6))}\n`));
  }

  const mqtt = values['no-mqtt'] ? undefined : await startMqtt(device, clock, { url: values.mqtt, tls, outbox: values.outbox, log });
  // node-opcua needs seconds to load its standard nodesets: sample and publish meanwhile, and say
  // when the OPC UA endpoint is ready (or stop everything if it cannot start).
  const startedAt = performance.now();
  const opcuaStart = opcuaFlags === undefined ? undefined : settle(startOpcua(device, opcuaFlags));
  log(
    `sensorkit: ${loaded.model.id} (${loaded.model.identity.manufacturer} ${loaded.model.identity.model}, serial ${device.serialNumber}) on ${description}` +
      (mqtt === undefined ? '; MQTT off' : mqtt.broker ? `; MQTT ${mqtt.broker.url} (embedded broker, port ${mqtt.broker.port})` : `; MQTT ${mqtt.transport.url}`) +
      (opcuaFlags === undefined ? '; OPC UA off' : `; OPC UA starting on port ${opcuaFlags.port === 0 ? '(any free)' : opcuaFlags.port} (${opcuaFlags.profile})`),
  );
  await mqtt?.transport.start();
  await device.start();
  const table = values.json ? undefined : startTable(device, out, mqtt?.transport);
  const opcuaReady = opcuaStart?.then((result) => {
    if (!result.ok) return;
    for (const warning of result.value.warnings) process.stderr.write(`sensorkit: warning: ${warning}\n`);
    log(`sensorkit: OPC UA ${result.value.endpointUrl} (${result.value.profile}), ready after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    table?.interrupted();
  });

  // A step of the system clock (NTP setting the time of a board without an RTC) is not followed:
  // say so, since the timestamps keep the time base of the start (see wall-clock-watch.ts).
  // `initialLeadMs: 0`: the SystemClock started at the wall time of the process's start.
  const stopWallClockWatch = watchWallClock({ clock, initialLeadMs: 0 }, (step, lead) => {
    const off = `${describeStep(lead).slice(1)} ${lead > 0 ? 'behind' : 'ahead of'} it`;
    process.stderr.write(
      `sensorkit: warning: the system clock stepped by ${describeStep(step)} (NTP setting the time?); sensorkit's timestamps keep ` +
        `the time base of its start, now ${off}, until it restarts: start it after time-sync.target (see README)\n`,
    );
    table?.interrupted();
  });
  try {
    await waitForStop(durationS, opcuaStart?.then((result) => (result.ok ? new Promise<never>(() => undefined) : undefined)));
  } finally {
    stopWallClockWatch();
  }
  await opcuaReady;
  table?.stop();
  await device.stop();
  // Ctrl-C: flush what can be flushed within 2 s; the rest stays in the outbox for the next run.
  await mqtt?.close();
  const opcua = await opcuaStart;
  if (opcua?.ok) await opcua.value.stop();
  await board.close();
  if (opcua?.ok === false) throw opcua.error;
  if (!values.json) out.write('stopped\n');
  return 0;
}

/** A promise's outcome as a value, so that a failure can wait until the rest is shut down. */
async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The serial number: `--serial`, then `SENSORKIT_SERIAL` (when not empty), then `EMU-<seed>`. */
function serialNumber(flag: string | undefined, seed: number): string {
  const fromEnv = process.env.SENSORKIT_SERIAL;
  return flag ?? (fromEnv === undefined || fromEnv === '' ? `EMU-${seed}` : fromEnv);
}

/** The `--json` line of one reading; the value is rounded to the decimals its resolution warrants. */
export function toJsonReading(sample: Sample, decimals: number): Record<string, unknown> {
  return {
    channel: sample.channel,
    value: sample.value === null ? null : Number(sample.value.toFixed(decimals)),
    unit: sample.unit,
    quality: sample.quality.level,
    ...(sample.quality.reason ? { reason: sample.quality.reason } : {}),
    time: new Date(sample.time).toISOString(),
  };
}

/** The live table; `interrupted()` after printing a line below it, so the next redraw keeps that line. */
function startTable(device: Device, out: NodeJS.WriteStream, transport: Transport | undefined): { stop(): void; interrupted(): void } {
  const tty = out.isTTY === true;
  let drawn = 0;
  const draw = (): void => {
    const lines = renderTable(device.model, (id) => device.latest(id), tty);
    if (transport) lines.push(transportFooter(transport));
    if (tty) {
      // Redraw in place: move up over the previous table and clear it.
      out.write(`${drawn ? `\u001b[${drawn}A` : ''}\u001b[0J${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      out.write(`${lines.join('\n')}\n\n`);
    }
  };
  // A log line printed between redraws must not be overwritten: forget the drawn height.
  const offFault = device.on('fault', () => (drawn = 0));
  const offAlarm = device.on('alarm', () => (drawn = 0));
  const timer = setInterval(draw, tty ? 250 : 1000);
  draw();
  return {
    stop() {
      clearInterval(timer);
      offFault();
      offAlarm();
      draw();
    },
    interrupted() {
      drawn = 0;
    },
  };
}

/** Resolves on Ctrl-C, SIGTERM, after `durationS` seconds, or when `abort` resolves. */
function waitForStop(durationS: number | undefined, abort?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      clearTimeout(timer);
      resolve();
    };
    const timer = durationS === undefined ? undefined : setTimeout(finish, durationS * 1000);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    void abort?.then(finish);
  });
}

/** The live table's footer: the transport's state and its outbox counters. */
export function transportFooter(transport: Transport): string {
  const status = transport.status();
  return `MQTT ${status.state}${status.protocol === 4 ? ' (3.1.1)' : ''} · pending ${status.pendingRecords} · dropped ${status.droppedRecords}`;
}

interface OpcuaFlags {
  port: number;
  profile: 'dev' | 'production';
  host: string | undefined;
  pki: string | undefined;
  users: string;
  x509Users: boolean;
}

/** Checks the OPC UA flags together; undefined with --no-opcua. */
function opcuaOptions(values: {
  'opcua-port'?: string | undefined;
  'no-opcua'?: boolean | undefined;
  profile?: string | undefined;
  'opcua-host'?: string | undefined;
  pki?: string | undefined;
  users?: string | undefined;
  'x509-users'?: boolean | undefined;
}): OpcuaFlags | undefined {
  const profile = values.profile ?? 'dev';
  if (profile !== 'dev' && profile !== 'production') throw new UsageError(`--profile: unknown profile "${profile}"; available: dev, production`);
  if (values['no-opcua']) {
    const given = (['opcua-port', 'opcua-host', 'pki', 'users', 'profile'] as const).find((flag) => values[flag] !== undefined) ?? (values['x509-users'] ? 'x509-users' : undefined);
    if (given !== undefined) throw new UsageError(`--${given} and --no-opcua exclude each other`);
    return undefined;
  }
  const port = values['opcua-port'] === undefined ? OPCUA_PORT : parseNumberOption('--opcua-port', values['opcua-port'], { integer: true, min: 0, max: 65_535 });
  return { port, profile, host: values['opcua-host'], pki: values.pki, users: values.users ?? join('.sensorkit', 'opcua-users.json'), x509Users: values['x509-users'] ?? false };
}

/** The IANA port of opc.tcp. */
const OPCUA_PORT = 4840;

interface OpcuaSide {
  endpointUrl: string;
  profile: string;
  warnings: string[];
  stop(): Promise<void>;
}

/** Starts the OPC UA server (node-opcua is loaded only now, so runs with --no-opcua never pay for it). */
async function startOpcua(device: Device, flags: OpcuaFlags): Promise<OpcuaSide> {
  const { OpcuaServer, UsersFile, routeNodeOpcuaLogs } = await import('../transport/opcua/index.js');
  // Standard output is for the table or --json lines; node-opcua's own messages go to stderr.
  routeNodeOpcuaLogs((line) => process.stderr.write(`sensorkit: ${line}\n`));
  const users = await UsersFile.load(resolve(flags.users));
  const server = new OpcuaServer(device, {
    profile: flags.profile,
    port: flags.port,
    users,
    x509Users: flags.x509Users,
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.pki === undefined ? {} : { pkiDir: flags.pki }),
  });
  try {
    await server.start();
  } catch (error) {
    if (error instanceof ValidationError && error.path === 'port') throw new ValidationError('--opcua-port', error.reason);
    throw error;
  }
  return { endpointUrl: server.endpointUrl, profile: server.profile, warnings: server.warnings(), stop: () => server.stop() };
}

interface MqttFlags {
  mqtt?: string | undefined;
  'no-mqtt'?: boolean | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** Checks the MQTT flags together and reads the TLS files; usage errors name the flag. */
function mqttOptions(values: MqttFlags): MqttTlsOptions | undefined {
  if (values['no-mqtt'] && values.mqtt !== undefined) throw new UsageError('--mqtt and --no-mqtt exclude each other');
  const files = { ca: values.ca, cert: values.cert, key: values.key };
  const given = Object.entries(files).filter(([, file]) => file !== undefined);
  if (given.length === 0) return undefined;
  if (!values.mqtt?.startsWith('mqtts://')) throw new UsageError(`--${given[0]![0]}: needs --mqtt mqtts://…`);
  if ((files.cert === undefined) !== (files.key === undefined)) throw new UsageError('--cert and --key go together');
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  return {
    ...(files.ca === undefined ? {} : { ca: read('ca', files.ca) }),
    ...(files.cert === undefined ? {} : { cert: read('cert', files.cert) }),
    ...(files.key === undefined ? {} : { key: read('key', files.key) }),
  };
}

/** The device's MQTT side: the broker (embedded unless a URL is given), the outbox and the transport. */
async function startMqtt(
  device: Device,
  clock: SystemClock,
  options: { url: string | undefined; tls: MqttTlsOptions | undefined; outbox: string | undefined; log: (line: string) => void },
): Promise<{ transport: Transport; broker: EmbeddedBroker | undefined; close(): Promise<void> }> {
  const deviceId = deviceIdFor(device.model, device.serialNumber);
  const broker = options.url === undefined ? await startEmbeddedBroker() : undefined;
  const outbox = await DurableOutbox.open({ dir: resolve(options.outbox ?? join('.sensorkit', 'outbox', deviceId)), clock });
  let transport: Transport;
  try {
    transport = createTransport(options.url ?? broker!.url, { deviceId, clock, outbox, encoder: new SenmlCborEncoder(), ...(options.tls ? { tls: options.tls } : {}) });
  } catch (error) {
    await outbox.close();
    await broker?.close();
    throw error;
  }
  transport.attach(device);
  // Report each kind of transport problem once, not at every reconnect attempt.
  const reported = new Set<string>();
  transport.on('error', (error) => {
    if (reported.has(error.message)) return;
    reported.add(error.message);
    options.log(`! mqtt: ${error.message}`);
  });
  return {
    transport,
    broker,
    async close() {
      await transport.stop({ flushMs: 2000 });
      await outbox.close();
      await broker?.close();
    },
  };
}
