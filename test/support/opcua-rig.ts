/**
 * A device served over OPC UA for the opcua-* tests: a model with two analog channels, settings,
 * a command with typed arguments and a limit alarm, on the emulated board and the system clock
 * (the OPC UA server runs in real time), plus node-opcua clients with their own PKI in a temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  type ClientSession,
  type UserIdentityInfo,
} from 'node-opcua';
import { EmulatedBoard, settable, type SettableSignal } from '../../boards/emulated/index.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { Device } from '../../sdk/device/index.js';
import { defineDevice } from '../../sdk/model/index.js';
import { OpcuaServer, UsersFile, hashPassword, type OpcuaServerOptions } from '../../sdk/transport/opcua/index.js';

/** The test device's model. */
export const RIG_MODEL = defineDevice({
  id: 'opcua-rig',
  description: 'OPC UA test rig: a voltage and a supply channel',
  board: 'arduino-uno',
  identity: {
    manufacturer: 'ACME Sensors',
    manufacturerUri: 'https://acme.example/sensors',
    model: 'RIG-2 test rig',
    productCode: 'RIG-2-A',
    hardwareRevision: '2.1',
    softwareRevision: '0.9.3',
    deviceRevision: '7',
    serialNumber: { source: 'board' },
  },
  channels: [
    { id: 'voltage', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.005, accuracy: { mpe: 0.05 }, sampleRate: 10, driver: { part: 'analog-voltage', pin: 'A0' } },
    { id: 'supply', quantity: 'voltage', unit: 'mV', range: { min: 0, max: 5000 }, resolution: 5, accuracy: { mpe: 50 }, sampleRate: 2, driver: { part: 'analog-voltage', pin: 'A1' } },
  ],
  properties: [
    { id: 'setpoint', type: 'number', unit: 'V', range: { min: 0, max: 5 }, default: 2.5, description: 'Switching point' },
    { id: 'label', type: 'string', default: 'line 1' },
    { id: 'mode', type: 'string', enum: ['auto', 'manual'], default: 'auto' },
    { id: 'locked', type: 'boolean', default: true, writable: false },
  ],
  commands: [
    {
      id: 'scale',
      description: 'Returns factor × 2 + offset',
      arguments: [
        { name: 'factor', type: 'number', range: { min: 0, max: 10 } },
        { name: 'offset', type: 'integer', range: { min: -100, max: 100 }, required: false },
      ],
      result: { type: 'number' },
    },
  ],
  alarms: [{ id: 'high-voltage', channel: 'voltage', kind: 'high', limit: 4, hysteresis: 0.5, severity: 700, message: 'Voltage above 4 V' }],
});

export const RIG_SERIAL = 'RIG-0042';
export const RIG_DEVICE_ID = 'opcua-rig-RIG-0042';
export const RIG_NAMESPACE = 'urn:sensorkit:opcua-rig';
export const RIG_USER = { name: 'operator', password: 'correct horse battery staple' };

/** A running rig. */
export interface OpcuaRig {
  readonly device: Device;
  readonly board: EmulatedBoard;
  readonly server: OpcuaServer;
  readonly voltage: SettableSignal;
  readonly pkiDir: string;
  close(): Promise<void>;
}

/** A temporary folder removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A users file with {@link RIG_USER} in `dir`. */
export async function rigUsers(dir: string): Promise<UsersFile> {
  const users = await UsersFile.load(join(dir, 'users.json'));
  await users.set(await hashPassword(RIG_USER.name, RIG_USER.password));
  return users;
}

/** Starts the rig's device and its OPC UA server on a free port of 127.0.0.1. */
export async function startRig(options: OpcuaServerOptions & { pkiDir: string }): Promise<OpcuaRig> {
  const clock = new SystemClock();
  const board = new EmulatedBoard({ definition: RIG_MODEL.board, clock, seed: 3 });
  const voltage = settable(1.5);
  board.attachAnalog('A0', voltage);
  board.attachAnalog('A1', settable(3.3));
  const device = new Device(RIG_MODEL, { board, serialNumber: RIG_SERIAL });
  device.handleCommand('scale', (args) => (args.factor as number) * 2 + ((args.offset as number | undefined) ?? 0));
  const server = new OpcuaServer(device, { host: '127.0.0.1', port: 0, ...options });
  await server.start();
  await device.start();
  return {
    device,
    board,
    server,
    voltage,
    pkiDir: options.pkiDir,
    async close() {
      await device.stop();
      await server.stop();
      await board.close();
    },
  };
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  readonly securityMode?: MessageSecurityMode;
  readonly securityPolicy?: SecurityPolicy;
  readonly user?: UserIdentityInfo;
  /** The client's PKI folder (its own certificate is created there on first use). */
  readonly clientPki?: string;
}

/** A connected client and session; `close()` ends both. */
export interface Connection {
  readonly client: OPCUAClient;
  readonly session: ClientSession;
  close(): Promise<void>;
}

/** A client certificate manager that trusts the server it talks to (the test's own server). */
export function clientCertificates(folder: string): OPCUACertificateManager {
  return new OPCUACertificateManager({ rootFolder: folder, automaticallyAcceptUnknownCertificate: true });
}

/** Creates a client (no retries: a refused connection fails at once). */
export function makeClient(options: ConnectOptions): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'sensorkit-test-client',
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    securityMode: options.securityMode ?? MessageSecurityMode.None,
    securityPolicy: options.securityPolicy ?? SecurityPolicy.None,
    ...(options.clientPki ? { clientCertificateManager: clientCertificates(options.clientPki) } : {}),
  });
}

/** Connects and opens a session. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Connection> {
  const client = makeClient(options);
  await client.connect(url);
  try {
    const session = await client.createSession(options.user);
    return {
      client,
      session,
      async close() {
        await session.close().catch(() => undefined);
        await client.disconnect();
      },
    };
  } catch (error) {
    await client.disconnect();
    throw error;
  }
}

/** The index of the rig's namespace in the server's namespace array. */
export async function rigNamespace(session: ClientSession): Promise<number> {
  const index = (await session.readNamespaceArray()).indexOf(RIG_NAMESPACE);
  if (index < 0) throw new Error(`namespace ${RIG_NAMESPACE} not on the server`);
  return index;
}

/** The node id of a rig node (`voltage`, `setpoint`, `scale()` …) in namespace `ns`. */
export function rigNode(ns: number, name?: string): string {
  return `ns=${ns};s=${RIG_DEVICE_ID}${name === undefined ? '' : `.${name}`}`;
}
