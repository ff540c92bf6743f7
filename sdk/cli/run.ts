/**
 * `sensorkit run [DEVICE]`: runs a device on a board and shows its readings. The flags and the
 * configuration file become one runtime configuration (flags win); the runtime library does the
 * rest, and this verb shows the table or the JSON lines.
 */
import { execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { StateError, ValidationError } from '../core/errors.js';
import type { Sample } from '../core/sample.js';
import type { Device } from '../device/device.js';
import { registeredBoards } from '../io/board-registry.js';
import { readPublicKey } from '../../ota/keys/keys.js';
import { ConfigFileError, findConfigFile, loadConfigFile, type LoadedConfig } from '../runtime/config-file.js';
import { redactCredentials } from '../transport/mqtt/credentials.js';
import { checkConfig, type MqttConfig, type OpcuaConfig, type RuntimeConfig } from '../runtime/config.js';
import { Runtime } from '../runtime/runtime.js';
import type { Transport } from '../transport/registry.js';
import { decimalsFor, renderTable } from './live-table.js';
import { UsageError, parseNumberOption } from './usage.js';

export const RUN_HELP = `Usage: sensorkit run [DEVICE] [options]

Runs a device and shows the latest value, unit and quality of each channel.

  DEVICE               a device file (.ts or .js) or a folder with device.ts/device.js
                       (default: the configuration's device, else examples/env-node)

Options:
  --config FILE        settings from this file (sensorkit.config.json, .ts or .js); flags override
                       them (default: ./sensorkit.config.{json,ts,js,mjs} if there is one)
  --board NAME         board to run on (default: emulated):
${registeredBoards()
  .map((kind) => `                         ${kind.usage}`)
  .join('\n')}
  --seed N             seed of the emulated board's random signals (default: 1)
  --duration SECONDS   stop after this many seconds (default: run until Ctrl-C)
  --json               print one JSON object per reported reading:
                       {"channel","value","unit","quality","time"}, and "calibration" (the
                       record's id) on a calibrated channel; events go to stderr
  --serial TEXT        serial number, when the model takes it from the board or environment
                       (default: $SENSORKIT_SERIAL, else EMU-<seed>)
  --mqtt URL           publish to this broker: mqtt://host[:port] or mqtts://host[:port]
                       (default: an embedded broker on 127.0.0.1, its port in the first line)
  --mqtt-user NAME     user name at the broker (default: the one in the URL, if any)
  --mqtt-password-file FILE
                       the password at the broker is this file's content (default:
                       $SENSORKIT_MQTT_PASSWORD, else the password in the URL, which other
                       users can read in \`ps\`)
  --no-mqtt            do not publish over MQTT
  --ca FILE            with mqtts://: CA certificate(s) the broker's certificate must chain to
  --cert FILE          with mqtts://: client certificate, for mutual TLS (with --key)
  --key FILE           with mqtts://: private key of --cert
  --outbox DIR         durable outbox of telemetry (default: .sensorkit/outbox/<device id>)
  --opcua-port N       serve OPC UA on this TCP port; 0 picks a free one (default: 4840)
  --no-opcua           do not serve OPC UA
  --profile NAME       dev, or production: OPC UA SignAndEncrypt only with user login (dev adds
                       SecurityPolicy None and anonymous login on 127.0.0.1); a provisioned
                       device (identity, no default or weak credentials, operator trust store)
                       or it stays in provisioning; signed commands; an audit log; the
                       hardening audit at start, refusing critical findings (default: dev)
  --opcua-host ADDR    address to listen on (default: 127.0.0.1 for dev, all for production)
  --allow-remote-dev   let the dev profile (anonymous, unencrypted) listen on a non-loopback
                       --opcua-host such as 0.0.0.0; refused without it
  --pki DIR            OPC UA certificates: own, trusted and rejected (default: .sensorkit/pki)
  --users FILE         OPC UA users, scrypt hashes (default: .sensorkit/opcua-users.json;
                       add users with \`sensorkit opcua user add NAME\`)
  --x509-users         accept X.509 user certificates trusted in <pki>/users
  --identity DIR       the device identity (sensorkit identity init; default: .sensorkit/identity,
                       required under --profile production)
  --mqtt-identity      with mqtts://: the identity's certificate and key for mutual TLS
  --operators FILE     operator trust store: who may sign commands (sensorkit operator trust)
  --audit-log FILE     the tamper-evident audit log (default: .sensorkit/audit/<device id>.log under
                       production, none under dev)
  --no-audit-log       no audit log
  --calibration FILE|DIR
                       a signed calibration record (sensorkit hil calibrate), or a folder of them;
                       repeatable. Each is checked against --calibration-key and this unit's serial
                       number before the device starts; its id travels with the channel's samples
  --calibration-key FILE
                       the public key (SPKI PEM) trusted to sign calibrations
  --realtime [PRIORITY]
                       on Linux, every thread of the process at SCHED_FIFO PRIORITY (1–99,
                       default 10) once the device runs (chrt -a); threads started later
                       inherit it. Needs CAP_SYS_NICE (root, or setcap cap_sys_nice+ep on node);
                       without it one warning line and the normal policy
  --no-realtime        the normal scheduling policy, whatever the configuration says
  -h, --help           show this help
`;

const OPTIONS = {
  config: { type: 'string' },
  board: { type: 'string' },
  seed: { type: 'string' },
  duration: { type: 'string' },
  json: { type: 'boolean', default: false },
  serial: { type: 'string' },
  mqtt: { type: 'string' },
  'mqtt-user': { type: 'string' },
  'mqtt-password-file': { type: 'string' },
  'no-mqtt': { type: 'boolean', default: false },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  outbox: { type: 'string' },
  'opcua-port': { type: 'string' },
  'no-opcua': { type: 'boolean', default: false },
  profile: { type: 'string' },
  'opcua-host': { type: 'string' },
  'allow-remote-dev': { type: 'boolean', default: false },
  pki: { type: 'string' },
  users: { type: 'string' },
  'x509-users': { type: 'boolean', default: false },
  identity: { type: 'string' },
  'mqtt-identity': { type: 'boolean', default: false },
  operators: { type: 'string' },
  'audit-log': { type: 'string' },
  'no-audit-log': { type: 'boolean', default: false },
  calibration: { type: 'string', multiple: true },
  'calibration-key': { type: 'string' },
  realtime: { type: 'string' },
  'no-realtime': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type RunFlags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The setting each flag sets, so that an error about a setting names the flag that set it. */
const FLAG_OF_SETTING: Readonly<Record<string, keyof RunFlags>> = {
  board: 'board',
  seed: 'seed',
  serialNumber: 'serial',
  'mqtt.url': 'mqtt',
  'mqtt.username': 'mqtt-user',
  'mqtt.passwordFile': 'mqtt-password-file',
  'mqtt.tls.ca': 'ca',
  'mqtt.tls.cert': 'cert',
  'mqtt.tls.key': 'key',
  'outbox.dir': 'outbox',
  'opcua.port': 'opcua-port',
  'opcua.host': 'opcua-host',
  'opcua.profile': 'profile',
  'opcua.pki': 'pki',
  'opcua.users': 'users',
  'opcua.x509Users': 'x509-users',
  'opcua.allowRemoteDev': 'allow-remote-dev',
  profile: 'profile',
  'security.identity.dir': 'identity',
  'mqtt.tls.identity': 'mqtt-identity',
  'security.operators': 'operators',
  'security.auditLog.file': 'audit-log',
  'calibration.records': 'calibration',
  'calibration.key': 'calibration-key',
  realtime: 'realtime',
};

/** SCHED_FIFO priority of a bare `--realtime`: above every normal thread, below the kernel's threaded interrupts (50). */
export const DEFAULT_REALTIME_PRIORITY = 10;

/** Runs the `run` verb; resolves with the exit code. */
export async function runCommand(argv: readonly string[], defaultDevice: string): Promise<number> {
  const { values, positionals } = parseArgs({ args: withRealtimeValue(argv), allowPositionals: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`run takes one DEVICE, got ${positionals.length}: ${positionals.join(' ')}`);
  const durationS = values.duration === undefined ? undefined : parseNumberOption('--duration', values.duration, { min: 0.001 });
  const flags = configFromFlags(values);
  const configFile = values.config ?? findConfigFile('.');
  const loaded = configFile === undefined ? undefined : await loadConfigFile(configFile);
  const settings = mergeConfig(loaded?.config ?? {}, flags);
  const translate = (error: unknown, usage = false): unknown => inTermsOfFlags(error, values, loaded, usage);
  try {
    // Checked before anything opens, so that a bad flag is a usage error naming it.
    checkConfig(settings);
  } catch (error) {
    throw translate(error, true);
  }

  if (values.mqtt !== undefined && redactCredentials(values.mqtt) !== values.mqtt) {
    process.stderr.write('sensorkit: warning: the password in --mqtt is visible to other users of this machine (ps, /proc); use --mqtt-password-file or $SENSORKIT_MQTT_PASSWORD\n');
  }
  const out = process.stdout;
  const log = (line: string): void => void (values.json ? process.stderr : out).write(`${line}\n`);
  let table: ReturnType<typeof startTable> | undefined;
  const hooks = {
    warn: (message: string) => {
      process.stderr.write(`sensorkit: warning: ${message}\n`);
      table?.interrupted();
    },
    // Standard output is for the table or --json lines; node-opcua's own messages go to stderr.
    log: (line: string) => void process.stderr.write(`sensorkit: ${line}\n`),
  };
  const device = positionals[0] ?? settings.device ?? defaultDevice;
  // A calibration record that is not trusted, changed or for another unit: one line, exit 2.
  let refused: unknown;
  const refuse = (error: unknown): never => {
    refused = error;
    throw error;
  };
  const calibration = settings.calibration;
  let key: KeyObject | undefined;
  try {
    key = calibration === undefined ? undefined : await readCalibrationKey(calibration.key);
  } catch (error) {
    process.stderr.write(`sensorkit: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  // Loaded only when used: a run without calibration records does not load the HIL modules.
  const { calibrationsFromRecords } = calibration === undefined ? { calibrationsFromRecords: undefined } : await import('../../hil/calibration/index.js');
  let runtime: Runtime;
  try {
    runtime = await Runtime.open(
      {
        ...settings,
        device,
        ...(calibration === undefined || key === undefined || calibrationsFromRecords === undefined ? {} : { calibrations: async (serialNumber: string) => calibrationsFromRecords(calibration.records, { key, serialNumber, emulatedBoard: (settings.board ?? 'emulated') === 'emulated' }).catch(refuse) }),
      },
      hooks,
    );
  } catch (error) {
    if (error === undefined || error !== refused) throw translate(error);
    process.stderr.write(`sensorkit: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (loaded) log(`sensorkit: config ${loaded.file}`);
  log(startLine(runtime));
  watchDevice(runtime.device, log, values.json);
  if (runtime.transport) reportTransportErrors(runtime.transport, log);
  // node-opcua needs seconds to load its nodesets: the device samples and publishes meanwhile, and
  // the OPC UA endpoint is announced when it serves.
  const startedAt = performance.now();
  runtime.on('ready', () => {
    const opcua = runtime.status().opcua;
    if (opcua.state !== 'serving') return;
    log(`sensorkit: OPC UA ${opcua.endpointUrl} (${opcua.profile}), ready after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    table?.interrupted();
  });
  await runtime.start().catch((error: unknown) => {
    throw translate(error);
  });
  // After the start, so that the threads the runtime started (libuv's pool, V8's) are raised too.
  if (settings.realtime !== undefined && !values['no-realtime']) {
    const raised = raiseToRealtime(settings.realtime);
    if (raised.ok) log(`sensorkit: SCHED_FIFO ${settings.realtime} for all ${raised.threads} threads`);
    else hooks.warn(`--realtime: ${raised.reason}; running at the normal scheduling policy`);
  }
  if (runtime.state === 'provisioning') {
    // The problems were told by the warn hook, one a line: nothing samples, publishes or serves.
    await runtime.stop();
    throw new StateError(`not provisioned for the production profile (${runtime.securityStatus().provisioning.length} problem${runtime.securityStatus().provisioning.length === 1 ? '' : 's'} above); the device does not enter operation`);
  }
  if (!values.json) table = startTable(runtime.device, out, runtime.transport);

  // `ready` rejects when OPC UA cannot start (the runtime then stops itself): stop waiting too.
  const opcuaFailed = runtime.ready.then(() => new Promise<never>(() => undefined), () => undefined);
  const outputGone = outputClosed(out);
  await waitForStop(durationS, Promise.race([opcuaFailed, outputGone.closed]));
  table?.stop();
  // Ctrl-C: flush what can be flushed within 2 s; the rest stays in the outbox for the next run.
  await runtime.stop();
  const opcua = runtime.status().opcua;
  if (opcua.state === 'failed') throw translate(opcua.error);
  if (!values.json && !outputGone.isClosed()) out.write('stopped\n');
  return 0;
}

/**
 * Standard output's reader went away (`sensorkit run --json | head -5`): writes fail with EPIPE.
 * The run then stops in order, as after Ctrl-C, instead of dying on an unhandled 'error' event.
 */
function outputClosed(out: NodeJS.WriteStream): { closed: Promise<void>; isClosed(): boolean } {
  let closed = false;
  return {
    closed: new Promise((resolve) => {
      out.on('error', () => {
        closed = true;
        resolve();
      });
    }),
    isClosed: () => closed,
  };
}

/** The first line: the device, the board, and where it publishes and serves. */
function startLine(runtime: Runtime): string {
  const { model, serialNumber } = runtime.device;
  const opcua = runtime.config.opcua;
  return (
    `sensorkit: ${model.id} (${model.identity.manufacturer} ${model.identity.model}, serial ${serialNumber}) on ${runtime.boardDescription}` +
    (runtime.transport === undefined ? '; MQTT off' : runtime.broker ? `; MQTT ${runtime.broker.url} (embedded broker, port ${runtime.broker.port})` : `; MQTT ${runtime.transport.url}`) +
    (opcua === false ? '; OPC UA off' : `; OPC UA starting on port ${opcua?.port === 0 ? '(any free)' : (opcua?.port ?? 4840)} (${opcua?.profile ?? 'dev'})`)
  );
}

/** Faults and alarms as lines; with --json, one JSON object per report on standard output. */
function watchDevice(device: Device, log: (line: string) => void, json: boolean): void {
  device.on('fault', (event) =>
    log(event.state === 'raised' ? `! ${event.channel}: ${event.quality.level} (${event.quality.reason ?? ''}) ${event.quality.detail ?? ''}`.trimEnd() : `✓ ${event.channel}: fault cleared`),
  );
  device.on('alarm', (event) => log(`${event.state === 'active' ? '▲ alarm' : '▽ cleared'} ${event.alarm} on ${event.channel}: ${event.message} (value ${event.value}, limit ${event.limit})`));
  if (json) {
    const decimals = new Map(device.model.channels.map((channel) => [channel.id, decimalsFor(channel.resolution)]));
    device.on('report', (sample) => process.stdout.write(`${JSON.stringify(toJsonReading(sample, decimals.get(sample.channel) ?? 6))}\n`));
  }
}

/** Reports each kind of transport problem once, not at every reconnect attempt. */
function reportTransportErrors(transport: Transport, log: (line: string) => void): void {
  const reported = new Set<string>();
  transport.on('error', (error) => {
    if (reported.has(error.message)) return;
    reported.add(error.message);
    log(`! mqtt: ${redactCredentials(error.message)}`);
  });
}

/**
 * The settings the flags give (only those given). Each flag's own form is checked here, as a usage
 * error naming it; the settings together are checked with the file's.
 */
function configFromFlags(values: RunFlags): RuntimeConfig {
  if (values['no-mqtt']) {
    const given = (['mqtt', 'mqtt-user', 'mqtt-password-file'] as const).find((flag) => values[flag] !== undefined);
    if (given !== undefined) throw new UsageError(`--${given} and --no-mqtt exclude each other`);
  }
  const profile = values.profile;
  if (profile !== undefined && profile !== 'dev' && profile !== 'production') throw new UsageError(`--profile: unknown profile "${profile}"; available: dev, production`);
  if (values['no-opcua']) {
    const given = (['opcua-port', 'opcua-host', 'pki', 'users'] as const).find((flag) => values[flag] !== undefined) ?? (['x509-users', 'allow-remote-dev'] as const).find((flag) => values[flag]);
    if (given !== undefined) throw new UsageError(`--${given} and --no-opcua exclude each other`);
  }
  const path = (file: string | undefined): string | undefined => (file === undefined ? undefined : resolve(file));
  if (values['audit-log'] !== undefined && values['no-audit-log']) throw new UsageError('--audit-log and --no-audit-log exclude each other');
  const tls = defined({ ca: path(values.ca), cert: path(values.cert), key: path(values.key), identity: values['mqtt-identity'] ? true : undefined });
  const mqtt: MqttConfig | false | undefined = values['no-mqtt'] ? false : defined({ url: values.mqtt, username: values['mqtt-user'], passwordFile: path(values['mqtt-password-file']), tls });
  const opcua: OpcuaConfig | false | undefined = values['no-opcua']
    ? false
    : defined({
        port: values['opcua-port'] === undefined ? undefined : parseNumberOption('--opcua-port', values['opcua-port'], { integer: true, min: 0, max: 65_535 }),
        host: values['opcua-host'],
        profile: profile as OpcuaConfig['profile'],
        pki: path(values.pki),
        users: path(values.users),
        x509Users: values['x509-users'] ? true : undefined,
        allowRemoteDev: values['allow-remote-dev'] ? true : undefined,
      });
  return defined({
    board: values.board,
    seed: values.seed === undefined ? undefined : parseNumberOption('--seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 }),
    serialNumber: values.serial,
    mqtt,
    outbox: defined({ dir: path(values.outbox) }),
    opcua,
    profile: profile as RuntimeConfig['profile'],
    realtime: values.realtime === undefined ? undefined : parseNumberOption('--realtime', values.realtime, { integer: true, min: 1, max: 99 }),
    calibration: defined({ records: values.calibration?.map((file) => resolve(file)), key: path(values['calibration-key']) }) as RuntimeConfig['calibration'],
    security: defined({
      identity: defined({ dir: path(values.identity) }),
      operators: path(values.operators),
      auditLog: values['no-audit-log'] ? (false as const) : defined({ file: path(values['audit-log']) }),
    }),
  }) ?? {};
}

/**
 * The file's settings with the flags' over them: a flag replaces one setting, `--no-mqtt` and
 * `--no-opcua` turn a section off, and an MQTT or OPC UA flag turns on a section the file turned off.
 */
export function mergeConfig(file: RuntimeConfig, flags: RuntimeConfig): RuntimeConfig {
  const section = <T extends object>(base: T | false | undefined, over: T | false | undefined): T | false | undefined =>
    over === undefined ? base : over === false ? false : { ...(base || {}), ...over };
  const mqtt = section<MqttConfig>(file.mqtt, flags.mqtt);
  const tls = flags.mqtt && file.mqtt ? { ...file.mqtt.tls, ...flags.mqtt.tls } : undefined;
  return defined({
    ...file,
    ...flags,
    mqtt: mqtt && tls && Object.keys(tls).length > 0 ? { ...mqtt, tls } : mqtt,
    outbox: file.outbox || flags.outbox ? { ...file.outbox, ...flags.outbox } : undefined,
    opcua: section<OpcuaConfig>(file.opcua, flags.opcua),
    security: mergeSecurity(file.security, flags.security),
    calibration: file.calibration || flags.calibration ? ({ ...file.calibration, ...flags.calibration } as RuntimeConfig['calibration']) : undefined,
  }) ?? {};
}

/** The public key trusted to sign calibrations, as a one-line `ValidationError` naming the file. */
async function readCalibrationKey(file: string): Promise<KeyObject> {
  return readPublicKey(file).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ValidationError(file, code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' ? `cannot read the calibration key: ${code}` : `not a P-256 or Ed25519 public key in SPKI PEM: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  });
}

/** The file's security settings with the flags' over them (the audit log's file replaced, its other settings kept). */
function mergeSecurity(file: RuntimeConfig['security'], flags: RuntimeConfig['security']): RuntimeConfig['security'] {
  if (flags === undefined) return file;
  const auditLog = flags.auditLog === undefined ? file?.auditLog : flags.auditLog === false ? false : { ...(file?.auditLog || {}), ...flags.auditLog };
  return defined({ ...file, ...flags, identity: file?.identity || flags.identity ? { ...file?.identity, ...flags.identity } : undefined, auditLog });
}

/**
 * A `ValidationError` about a setting, told in terms of what set it: the flag when one was given
 * (or no file set the setting: `--opcua-port: 4840 is already in use`), else the file
 * (`sensorkit.config.json: opcua.port: …`). With `usage`, a flag's error is a usage error (exit 2).
 * Other errors are returned as they are.
 */
function inTermsOfFlags(error: unknown, values: RunFlags, loaded: LoadedConfig | undefined, usage: boolean): unknown {
  if (!(error instanceof ValidationError) || error instanceof ConfigFileError) return error;
  const setting = Object.keys(FLAG_OF_SETTING).find((key) => error.path === key || error.path.startsWith(`${key} `));
  if (setting === undefined) return error;
  const flag = FLAG_OF_SETTING[setting]!;
  const flagGiven = values[flag] !== undefined && values[flag] !== false;
  if (flagGiven || loaded === undefined || !settingIn(loaded.config, setting)) {
    const path = `--${flag}${error.path.slice(setting.length)}`;
    return usage ? new UsageError(`${path}: ${error.reason}`) : new ValidationError(path, error.reason, { cause: error });
  }
  return new ConfigFileError(loaded.file, error.path, error.reason, { cause: error });
}

function settingIn(config: RuntimeConfig, setting: string): boolean {
  let node: unknown = config;
  for (const key of setting.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node !== undefined;
}

/** The object without its undefined fields, or undefined when none is left. */
function defined<T extends object>(object: T): Defined<T> | undefined {
  const entries = Object.entries(object).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as Defined<T>);
}

/** `T` with its undefined-valued fields optional instead (for `exactOptionalPropertyTypes`). */
type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** The `--json` line of one reading; the value is rounded to the decimals its resolution warrants. */
export function toJsonReading(sample: Sample, decimals: number): Record<string, unknown> {
  return {
    channel: sample.channel,
    value: sample.value === null ? null : Number(sample.value.toFixed(decimals)),
    unit: sample.unit,
    quality: sample.quality.level,
    ...(sample.quality.reason ? { reason: sample.quality.reason } : {}),
    ...(sample.calibrationId === undefined ? {} : { calibration: sample.calibrationId }),
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
  return `MQTT ${status.state}${status.mqtt?.protocol === 4 ? ' (3.1.1)' : ''} · pending ${status.pendingRecords} · dropped ${status.droppedRecords}`;
}


/**
 * The arguments with a bare `--realtime` given its priority: the one that follows when it is a
 * whole number (`--realtime 20`), else the default (`--realtime` before DEVICE or another flag).
 */
function withRealtimeValue(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg !== '--realtime') out.push(arg);
    else if (/^\d+$/.test(argv[i + 1] ?? '')) out.push(`--realtime=${argv[++i]!}`);
    else out.push(`--realtime=${DEFAULT_REALTIME_PRIORITY}`);
  }
  return out;
}

/** What {@link raiseToRealtime} did: every thread raised, or why not (one line). */
export type RealtimeOutcome = { readonly ok: true; readonly threads: number } | { readonly ok: false; readonly reason: string };

/**
 * Puts every thread of process `pid` under SCHED_FIFO `priority` with `chrt -a -f -p` (Linux only).
 * Threads the raised ones start later inherit the policy. A refusal is an outcome, not an error:
 * without CAP_SYS_NICE the process keeps the normal policy.
 *
 * @example
 * ```ts
 * const raised = raiseToRealtime(10)
 * if (!raised.ok) console.warn(raised.reason) // 'SCHED_FIFO 10 not permitted: needs CAP_SYS_NICE …'
 * ```
 */
export function raiseToRealtime(priority: number, pid: number = process.pid): RealtimeOutcome {
  if (process.platform !== 'linux') return { ok: false, reason: `SCHED_FIFO for every thread is set with chrt -a on Linux, not on ${process.platform}` };
  try {
    execFileSync('chrt', ['-a', '-f', '-p', String(priority), String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: Buffer };
    if (code === 'ENOENT') return { ok: false, reason: 'chrt (util-linux) is not installed' };
    const said = stderr?.toString().trim().split('\n')[0] ?? '';
    return {
      ok: false,
      reason: /not permitted|EPERM/i.test(said)
        ? `SCHED_FIFO ${priority} not permitted: needs CAP_SYS_NICE (root, or setcap cap_sys_nice+ep on node) or an RLIMIT_RTPRIO of ${priority}`
        : `chrt failed: ${said || (error as Error).message.split('\n')[0]}`,
    };
  }
  return { ok: true, threads: readdirSync(`/proc/${pid}/task`).length };
}
