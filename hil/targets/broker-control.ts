/**
 * A broker the harness can take down and bring back on the same port: the broker outage of a
 * communications test. The harness's own is aedes in this process (MQTT 3.1.1), whose sessions and
 * queued QoS 1 messages live in the broker object and so survive a stop and a restart of its
 * listener. An external broker (Mosquitto) is controlled through the same interface by whoever
 * started it; it keeps sessions across a restart only with persistence on.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { importOptional } from '../../sdk/core/optional-package.js';
import { StateError } from '../../sdk/core/errors.js';

/** A broker that can be stopped and restarted on the same port. */
export interface BrokerControl {
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops listening and drops every client connection, as a crashed or rebooting broker does. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

/** A broker the harness started and stops. */
export interface OwnedBroker extends BrokerControl {
  readonly port: number;
  /** Stops it for good. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts aedes on a free port of 127.0.0.1 (or `port`). Throws `MissingPackageError` when aedes is
 * not installed.
 *
 * @example
 * ```ts
 * const broker = await startOwnedBroker()
 * await broker.stop()     // every client loses its connection
 * await broker.restart()  // same port; sessions and queued messages kept
 * await broker.close()
 * ```
 */
export async function startOwnedBroker(options: { port?: number } = {}): Promise<OwnedBroker> {
  const { Aedes } = await importOptional<typeof import('aedes')>('aedes', 'the HIL target\'s MQTT broker', 'or give an MQTT broker URL');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = options.port ?? 0;
  let closed = false;
  const listen = async (): Promise<void> => {
    const next = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    const address = next.address();
    port = typeof address === 'object' && address ? address.port : port;
    server = next;
  };
  const halt = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const done = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await done;
  };
  try {
    await listen();
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  return {
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stop: halt,
    async restart() {
      if (closed) throw new StateError('the broker is closed');
      await halt();
      await listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      await halt();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
