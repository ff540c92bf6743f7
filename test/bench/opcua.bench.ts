/**
 * OPC UA server: notifications per second delivered to one client, CPU and RSS of the server
 * process, and start time — `OpcuaServer` serving a device (emulated board, system clock,
 * dev profile) beside a minimal hand-written node-opcua server with the same variables
 * (AnalogItemType, EURange, EngineeringUnits, updated with setValueFromSource at the same rate),
 * in the same run. Prints a table; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/opcua.bench.ts [--seconds=10] [--repeats=2] [--warmup=3]
 *
 * Scenarios: 100 channels at 10 Hz (one monitored item each), and 1,000 channels at 10 Hz (1,000
 * monitored items). Each server runs in its own child process (spawned fresh for every
 * measurement, runs interleaved raw / sensorkit), so its CPU time and RSS are its own; the client
 * runs here. Monitored items are exception-based (sampling interval 0) with the
 * StatusValueTimestamp trigger, so every sample is one notification on both servers; the
 * subscription publishes every 100 ms.
 * - start: from spawning the server process to its answer "listening" (Node start, node-opcua,
 *   nodesets, certificate check, address space, listen); the PKI exists already (a first, unmeasured
 *   start of each server creates it);
 * - notifications/s: counted at the client over `--seconds` after `--warmup` seconds;
 * - CPU: user + system time of the server process over the same window, % of one core;
 * - RSS: of the server process at the end of the window.
 * Targets (issue 4): ≥ 0.95× the hand-written notification rate, RSS ≤ 1.1×, start ≤ 1.2×.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  DeadbandType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  nodesets,
} from 'node-opcua';
import { EmulatedBoard, gaussianNoise, sine } from '../../boards/emulated/index.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { Device } from '../../sdk/device/index.js';
import { defineDevice, type ChannelSpec } from '../../sdk/model/index.js';
import { OpcuaServer, routeNodeOpcuaLogs } from '../../sdk/transport/opcua/index.js';
import { option } from './options.js';

type Kind = 'raw' | 'sensorkit';
type FromServer = { kind: 'ready'; nodeIds: string[]; url: string } | { kind: 'marked' } | { kind: 'stats'; cpuMs: number; rss: number };
type ToServer = { kind: 'mark' } | { kind: 'stats' };

const RATE_HZ = 10;
const PINS = ['A0', 'A1', 'A2', 'A3', 'A4', 'A5'];
const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- server processes

async function serve(): Promise<void> {
  routeNodeOpcuaLogs(() => undefined);
  const arg = (name: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))!.slice(name.length + 3);
  const kind = arg('kind') as Kind;
  const channels = Number(arg('channels'));
  const pki = arg('pki');
  const { nodeIds, url, stop } = kind === 'raw' ? await serveRaw(channels, pki) : await serveSensorkit(channels, pki);
  let mark = process.cpuUsage();
  process.on('message', (message: ToServer) => {
    if (message.kind === 'mark') {
      mark = process.cpuUsage();
      process.send!({ kind: 'marked' } satisfies FromServer);
    } else {
      const used = process.cpuUsage(mark);
      process.send!({ kind: 'stats', cpuMs: (used.user + used.system) / 1000, rss: process.memoryUsage().rss } satisfies FromServer);
    }
  });
  process.on('disconnect', () => void stop().then(() => process.exit(0)));
  process.send!({ kind: 'ready', nodeIds, url } satisfies FromServer);
}

/** The minimal hand-written server: the same variables, updated from a timer. */
async function serveRaw(channels: number, pki: string): Promise<{ nodeIds: string[]; url: string; stop: () => Promise<void> }> {
  const server = new OPCUAServer({
    port: 0,
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    nodeset_filename: [nodesets.standard],
    securityPolicies: [SecurityPolicy.None],
    securityModes: [MessageSecurityMode.None],
    allowAnonymous: true,
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: false }),
    userCertificateManager: new OPCUACertificateManager({ rootFolder: join(pki, 'users'), automaticallyAcceptUnknownCertificate: false }),
    certificateFile: join(pki, 'own', 'certs', 'raw.pem'),
    privateKeyFile: join(pki, 'own', 'private', 'private_key.pem'),
  });
  await server.initialize();
  const namespace = server.engine.addressSpace!.getOwnNamespace();
  const device = namespace.addObject({ organizedBy: server.engine.addressSpace!.rootFolder.objects, browseName: 'bench' });
  const variables = Array.from({ length: channels }, (_, i) =>
    namespace.addAnalogDataItem({
      componentOf: device,
      browseName: `c${i}`,
      nodeId: `s=c${i}`,
      dataType: 'Double',
      engineeringUnitsRange: { low: 0, high: 5 },
      instrumentRange: { low: 0, high: 5 },
      engineeringUnits: { namespaceUri: 'http://www.opcfoundation.org/UA/units/un/cefact', unitId: 5655636, displayName: { text: 'V' }, description: { text: 'volt' } },
      valuePrecision: 3,
      value: { dataType: DataType.Double, value: 0 },
    }),
  );
  await server.start();
  let k = 0;
  const timer = setInterval(() => {
    const now = new Date();
    k++;
    for (let i = 0; i < variables.length; i++) variables[i]!.setValueFromSource({ dataType: DataType.Double, value: 2.5 + Math.sin(k / 10 + i) }, StatusCodes.Good, now);
  }, 1000 / RATE_HZ);
  return {
    nodeIds: variables.map((v) => v.nodeId.toString()),
    url: server.getEndpointUrl(),
    stop: async () => {
      clearInterval(timer);
      await server.shutdown(0);
    },
  };
}

/** sensorkit: a device with `channels` analog channels on the emulated board, served by OpcuaServer. */
async function serveSensorkit(channels: number, pki: string): Promise<{ nodeIds: string[]; url: string; stop: () => Promise<void> }> {
  const specs: ChannelSpec[] = Array.from({ length: channels }, (_, i) => ({
    id: `c${i}`,
    quantity: 'voltage',
    unit: 'V',
    range: { min: 0, max: 5 },
    resolution: 0.005,
    accuracy: { mpe: 0.05 },
    sampleRate: RATE_HZ,
    driver: { part: 'analog-voltage', pin: PINS[i % PINS.length]! },
  }));
  const model = defineDevice({
    id: 'bench-node',
    board: 'arduino-uno',
    identity: { manufacturer: 'bench', model: 'B-1', productCode: 'B-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: 'B-0001' },
    channels: specs,
  });
  const clock = new SystemClock();
  const board = new EmulatedBoard({ definition: model.board, clock, seed: 1, adcNoiseVolts: 0.002 });
  const random = new SeededRandom(1);
  for (const [i, pin] of PINS.entries()) board.attachAnalog(pin, gaussianNoise(sine({ offset: 2.5, amplitude: 1, periodMs: 7_000 + i * 1000 }), { sigma: 0.01, random: random.fork(pin) }));
  const device = new Device(model, { board });
  const server = new OpcuaServer(device, { profile: 'dev', host: '127.0.0.1', port: 0, pkiDir: pki });
  await server.start();
  await device.start();
  const ns = server.informationModel!.namespace.index;
  return {
    nodeIds: specs.map((spec) => `ns=${ns};s=${server.deviceId}.${spec.id}`),
    url: server.endpointUrl,
    stop: async () => {
      await device.stop();
      await server.stop();
      await board.close();
    },
  };
}

// ---------------------------------------------------------------- the client side

interface Measurement {
  readonly startMs: number;
  readonly notificationsPerSecond: number;
  readonly cpuPercent: number;
  readonly rssMb: number;
}

function spawnServer(kind: Kind, channels: number, pki: string): { child: ChildProcess; ready: Promise<Extract<FromServer, { kind: 'ready' }>> } {
  const child = fork(SELF, ['--role=server', `--kind=${kind}`, `--channels=${channels}`, `--pki=${pki}`], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = new Promise<Extract<FromServer, { kind: 'ready' }>>((resolve, reject) => {
    child.once('message', (message: FromServer) => (message.kind === 'ready' ? resolve(message) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with code ${code}`)));
  });
  return { child, ready };
}

function request(child: ChildProcess, message: ToServer): Promise<FromServer> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(kind: Kind, channels: number, pki: string, seconds: number, warmup: number): Promise<Measurement> {
  const started = performance.now();
  const { child, ready } = spawnServer(kind, channels, pki);
  const { nodeIds, url } = await ready;
  const startMs = performance.now() - started;
  const client = OPCUAClient.create({
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: join(pki, 'client'), automaticallyAcceptUnknownCertificate: true }),
  });
  try {
    await client.connect(url);
    const session = await client.createSession();
    const subscription = await session.createSubscription2({ requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true });
    const filter = new DataChangeFilter({ trigger: DataChangeTrigger.StatusValueTimestamp, deadbandType: DeadbandType.None });
    const group = ClientMonitoredItemGroup.create(
      subscription,
      nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: 0, queueSize: 10, discardOldest: true, filter },
      TimestampsToReturn.Both,
    );
    let count = 0;
    group.on('changed', () => void count++);
    await new Promise<void>((resolve) => group.once('initialized', () => resolve()));
    await sleep(warmup * 1000);
    await request(child, { kind: 'mark' });
    count = 0;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const received = count;
    const elapsed = (performance.now() - t0) / 1000;
    const stats = (await request(child, { kind: 'stats' })) as Extract<FromServer, { kind: 'stats' }>;
    await subscription.terminate();
    await session.close();
    return { startMs, notificationsPerSecond: received / elapsed, cpuPercent: (stats.cpuMs / 1000 / elapsed) * 100, rssMb: stats.rss / 1e6 };
  } finally {
    await client.disconnect();
    child.disconnect();
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  routeNodeOpcuaLogs(() => undefined);
  const seconds = option('seconds', 10);
  const repeats = option('repeats', 2);
  const warmup = option('warmup', 3);
  const pki = mkdtempSync(join(tmpdir(), 'sensorkit-opcua-bench-'));
  try {
    // First starts create the certificates: not measured.
    for (const kind of ['raw', 'sensorkit'] as const) {
      const { child, ready } = spawnServer(kind, 1, pki);
      await ready;
      child.disconnect();
      await new Promise((resolve) => child.once('exit', resolve));
    }
    console.log(`OPC UA notifications to one client, ${RATE_HZ} Hz per channel, ${seconds} s windows after ${warmup} s, median of ${repeats} (Node ${process.version})`);
    console.log('channels  server      notif/s  (expected)  CPU %  RSS MB  start ms');
    for (const channels of [100, 1000]) {
      const results: Record<Kind, Measurement[]> = { raw: [], sensorkit: [] };
      for (let r = 0; r < repeats; r++) {
        for (const kind of ['raw', 'sensorkit'] as const) results[kind].push(await measure(kind, channels, pki, seconds, warmup));
      }
      const summary = (kind: Kind) => {
        const runs = results[kind];
        return {
          rate: median(runs.map((m) => m.notificationsPerSecond)),
          cpu: median(runs.map((m) => m.cpuPercent)),
          rss: median(runs.map((m) => m.rssMb)),
          start: median(runs.map((m) => m.startMs)),
        };
      };
      const raw = summary('raw');
      const ours = summary('sensorkit');
      for (const [kind, s] of [['raw', raw], ['sensorkit', ours]] as const) {
        console.log(`${String(channels).padStart(8)}  ${kind.padEnd(10)} ${s.rate.toFixed(0).padStart(8)}  ${String(channels * RATE_HZ).padStart(10)}  ${s.cpu.toFixed(1).padStart(5)}  ${s.rss.toFixed(0).padStart(6)}  ${s.start.toFixed(0).padStart(8)}`);
      }
      console.log(
        `${' '.repeat(8)}  ratio       ${(ours.rate / raw.rate).toFixed(3)}× rate (target ≥ 0.95)  ${(ours.cpu / raw.cpu).toFixed(2)}× CPU  ${(ours.rss / raw.rss).toFixed(2)}× RSS (≤ 1.1)  ${(ours.start / raw.start).toFixed(2)}× start (≤ 1.2)`,
      );
    }
  } finally {
    rmSync(pki, { recursive: true, force: true });
  }
}

// Last, so that every declaration above is initialised.
if (process.argv.includes('--role=server')) await serve();
else await main();
