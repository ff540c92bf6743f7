/**
 * An MQTT broker inside the process (aedes, MQTT 3.1.1), for `sensorkit run` without `--mqtt` and
 * for tests. It binds to loopback unless told otherwise. aedes is an optional peer dependency: a device
 * that publishes to a real broker (`--mqtt URL`) does not install it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { importOptional } from '../../core/optional-package.js';

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts aedes on `host:port` (port 0: a free one chosen by the kernel). Throws
 * `MissingPackageError` when aedes is not installed.
 *
 * @example
 * ```ts
 * const broker = await startEmbeddedBroker()
 * console.log(broker.url) // mqtt://127.0.0.1:41883
 * await broker.close()
 * ```
 */
export async function startEmbeddedBroker(options: { host?: string; port?: number } = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const { Aedes } = await importOptional<typeof import('aedes')>('aedes', 'the embedded MQTT broker', 'or give --mqtt URL, or --no-mqtt');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        await new Promise<void>((resolve) => broker.close(() => resolve()));
      })();
      return closing;
    },
  };
}
