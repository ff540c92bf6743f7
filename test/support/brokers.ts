/**
 * Real MQTT brokers for tests: Mosquitto (Debian's, when installed; required in CI) on a free
 * loopback port with a temporary configuration, or aedes in this process with the same interface.
 * Each can be stopped and restarted on the same port (a broker outage), and stops what it starts.
 * Also: test certificates made with `openssl` at test time, and a TCP proxy whose connections a test
 * can cut (a dead link, without the client knowing).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { findPeer } from './peers.js';
import { standInForAnotherMachine } from './stand-in.js';
import { freePort, tryConnect, waitFor } from './net.js';

export type BrokerKind = 'mosquitto' | 'aedes';

/** TLS material in PEM. */
export interface TestCertificates {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate from another CA, which the broker must refuse. */
  readonly strangerCert: string;
  readonly strangerKey: string;
}

/** Options of {@link startBroker}. */
export interface BrokerOptions {
  /** Serve TLS with these certificates; `requireClientCert` makes it mutual TLS. */
  readonly tls?: { readonly certificates: TestCertificates; readonly requireClientCert?: boolean };
  /**
   * Keep sessions and queued messages across `restart()` (Mosquitto: `persistence true` in a temp
   * folder, saved at SIGTERM; aedes keeps them in memory anyway). Default false.
   */
  readonly persistence?: boolean;
  /**
   * No limit on the messages queued for a slow client (Mosquitto drops QoS 1 messages beyond
   * `max_queued_messages`, 1000 by default; aedes has no such limit). Default false.
   */
  readonly unlimitedQueues?: boolean;
  /**
   * Run Mosquitto as a stand-in for another machine (`standInForAnotherMachine`: nice 19, and on
   * the last CPU when there are two or more): a test that measures the device's timing on a
   * shared host lets the broker yield the CPU to the device. Default false. aedes runs in the
   * test's process and ignores it.
   */
  readonly standIn?: boolean;
}

/** A broker a test started. */
export interface TestBroker {
  /** What actually runs: `mosquitto` falls back to `aedes` when Mosquitto is not installed (and not required). */
  readonly kind: BrokerKind;
  readonly url: string;
  readonly port: number;
  /** MQTT protocol levels it accepts: Mosquitto 4 and 5, aedes 1.x only 4 (3.1.1). */
  readonly protocols: readonly (4 | 5)[];
  /** Stops the broker; clients lose their connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops it for good and removes its temp files. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a broker of `kind` on a free 127.0.0.1 port.
 *
 * @example
 * ```ts
 * const broker = await startBroker('mosquitto')
 * afterAll(() => broker.close())
 * ```
 */
export async function startBroker(kind: BrokerKind, options: BrokerOptions = {}): Promise<TestBroker> {
  const mosquitto = kind === 'mosquitto' ? findPeer('mosquitto') : undefined;
  return mosquitto === undefined ? startAedes(options) : startMosquitto(mosquitto, options);
}

async function startMosquitto(executable: string, options: BrokerOptions): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-mosquitto-'));
  // Started as root, Mosquitto drops to its own user: it must be able to read (and, with
  // persistence, write) this folder. The key is throw-away test material.
  chmodSync(dir, options.persistence ? 0o777 : 0o755);
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true'];
  if (options.tls) {
    const { certificates, requireClientCert } = options.tls;
    writeFileSync(join(dir, 'ca.pem'), certificates.ca);
    writeFileSync(join(dir, 'server.pem'), certificates.serverCert);
    writeFileSync(join(dir, 'server.key'), certificates.serverKey, { mode: 0o644 });
    lines.push(`cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'server.pem')}`, `keyfile ${join(dir, 'server.key')}`, `require_certificate ${requireClientCert ? 'true' : 'false'}`);
  }
  if (options.persistence) lines.push('persistence true', `persistence_location ${dir}/`);
  else lines.push('persistence false');
  if (options.persistence || options.unlimitedQueues) lines.push('max_queued_messages 0', 'max_inflight_messages 100');
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let log = '';
  const launch = async (): Promise<void> => {
    const proc = spawn(executable, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    if (options.standIn && proc.pid !== undefined) standInForAnotherMachine(proc.pid);
    proc.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const socket = await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with code ${proc.exitCode}: ${log}`);
      return tryConnect(port);
    }, 10_000, `mosquitto on port ${port}`);
    socket.destroy();
  };
  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await launch();
  } catch (error) {
    await halt();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    kind: 'mosquitto',
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    protocols: [4, 5],
    stop: halt,
    restart: async () => {
      await halt();
      await launch();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(options: BrokerOptions): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const handle = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const listen = async (): Promise<void> => {
    const tls = options.tls;
    const next: Server = tls
      ? createTlsServer(
          { ca: tls.certificates.ca, cert: tls.certificates.serverCert, key: tls.certificates.serverKey, requestCert: tls.requireClientCert === true, rejectUnauthorized: tls.requireClientCert === true },
          handle,
        )
      : createTcpServer(handle);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    server = next;
  };
  const halt = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  let closed = false;
  return {
    kind: 'aedes',
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    protocols: [4],
    stop: halt,
    restart: async () => {
      await halt();
      await listen();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await halt();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** Whether `openssl` is on the PATH. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes a CA, a server certificate for `localhost` / 127.0.0.1 and a client certificate with
 * `openssl` (P-256 keys, valid one day), plus a client certificate from an unrelated CA.
 */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-certs-'));
  try {
    const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const key = (name: string): void => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    const ca = (name: string): void => {
      key(name);
      run('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    };
    const leaf = (name: string, issuer: string, extensions: string): void => {
      key(name);
      run('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
    };
    ca('sensorkit-test-ca');
    ca('stranger-ca');
    leaf('localhost', 'sensorkit-test-ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
    leaf('sensorkit-device', 'sensorkit-test-ca', 'extendedKeyUsage=clientAuth');
    leaf('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth');
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
    return {
      ca: read('sensorkit-test-ca.pem'),
      serverCert: read('localhost.pem'),
      serverKey: read('localhost.key'),
      clientCert: read('sensorkit-device.pem'),
      clientKey: read('sensorkit-device.key'),
      strangerCert: read('stranger.pem'),
      strangerKey: read('stranger.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TCP relay to a broker whose links a test can cut, as a dead network would. */
export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Destroys every relayed connection (both sides), without an MQTT DISCONNECT. */
  cut(): void;
  close(): Promise<void>;
}

/** Relays 127.0.0.1:<free port> to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      pairs.add(socket);
      socket.once('close', () => pairs.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    cut: () => {
      for (const socket of pairs) socket.destroy();
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of pairs) socket.destroy();
      await closed;
    },
  };
}
