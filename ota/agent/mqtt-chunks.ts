/**
 * Image chunks over MQTT, both ends. The device publishes a request on
 * `sensorkit/v1/<deviceId>/ota/chunk/get` (JSON `{ id, file, offset, length }`); the server answers
 * on `sensorkit/v1/<deviceId>/ota/chunk/data` with a 4-byte request id (big-endian) followed by the
 * bytes. Requests time out on the injected clock; a late or unknown answer is ignored.
 */
import { open, realpath } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import type { Clock } from '../../sdk/core/clock.js';
import { UpdateError } from '../errors.js';
import type { ChunkSource } from './chunked-download.js';

/** The subset of an MQTT.js client both ends use. */
export interface ChunkMqttClient {
  publishAsync(topic: string, message: string | Buffer, options?: { qos?: 0 | 1 | 2 }): Promise<unknown>;
  subscribeAsync(topic: string, options?: { qos?: 0 | 1 | 2 }): Promise<unknown>;
  unsubscribeAsync(topic: string): Promise<unknown>;
  on(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
  removeListener(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
}

/** Largest chunk a server sends, bytes (below common broker message limits). */
export const MAX_CHUNK_BYTES = 256 * 1024;

/**
 * The device end: a {@link ChunkSource} over an MQTT client. Call `close()` when done.
 *
 * @example
 * ```ts
 * const source = await mqttChunkSource(client, { deviceId: 'en-1-SN1', clock, timeoutMs: 5000 })
 * await agent.update({ envelope, chunks: source })
 * await source.close()
 * ```
 */
export async function mqttChunkSource(client: ChunkMqttClient, options: { deviceId: string; clock: Clock; timeoutMs?: number }): Promise<ChunkSource & { close(): Promise<void> }> {
  const base = `sensorkit/v1/${options.deviceId}/ota/chunk`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pending = new Map<number, { resolve(bytes: Uint8Array): void }>();
  let nextId = 1;
  const listener = (topic: string, payload: Buffer): void => {
    if (topic !== `${base}/data` || payload.length < 4) return;
    const waiter = pending.get(payload.readUInt32BE(0));
    waiter?.resolve(payload.subarray(4));
  };
  client.on('message', listener);
  await client.subscribeAsync(`${base}/data`, { qos: 1 });
  return {
    read(file, offset, length) {
      const id = nextId++ >>> 0;
      return new Promise<Uint8Array>((resolve, reject) => {
        const timer = options.clock.schedule(options.clock.now() + timeoutMs, () => {
          pending.delete(id);
          reject(new UpdateError('download-failed', `no answer for ${file}@${offset} within ${timeoutMs} ms`));
        });
        pending.set(id, {
          resolve: (bytes) => {
            timer.cancel();
            pending.delete(id);
            resolve(bytes);
          },
        });
        client.publishAsync(`${base}/get`, JSON.stringify({ id, file, offset, length }), { qos: 1 }).catch((error: unknown) => {
          timer.cancel();
          pending.delete(id);
          reject(new UpdateError('download-failed', `request not sent: ${(error as Error).message}`, { cause: error }));
        });
      });
    },
    async close() {
      client.removeListener('message', listener);
      await client.unsubscribeAsync(`${base}/data`);
    },
  };
}

/**
 * The server end: answers chunk requests of every device from files in `dir` (paths confined to it).
 * Returns a function that stops serving.
 *
 * @example
 * ```ts
 * const stop = await serveChunksOverMqtt(client, 'dist/ota')
 * ```
 */
export async function serveChunksOverMqtt(client: ChunkMqttClient, dir: string): Promise<() => Promise<void>> {
  const root = normalize(dir);
  const filter = 'sensorkit/v1/+/ota/chunk/get';
  const listener = (topic: string, payload: Buffer): void => {
    const match = /^sensorkit\/v1\/([^/]+)\/ota\/chunk\/get$/.exec(topic);
    if (match === null) return;
    void answer(match[1]!, payload).catch(() => undefined); // a bad request gets no answer; the device times out
  };
  const answer = async (deviceId: string, payload: Buffer): Promise<void> => {
    const request = JSON.parse(payload.toString('utf8')) as { id?: unknown; file?: unknown; offset?: unknown; length?: unknown };
    const { id, file, offset, length } = request;
    if (typeof id !== 'number' || typeof file !== 'string' || typeof offset !== 'number' || typeof length !== 'number') return;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 1) return;
    if (file.includes('\0')) return;
    const path = normalize(join(root, file));
    const inside = (p: string, r: string): boolean => p.startsWith(r.endsWith(sep) ? r : r + sep);
    if (!inside(path, root)) return;
    // Confined by the resolved path too: a symlink in the directory must not lead out of it.
    if (!inside(await realpath(path), await realpath(root))) return;
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(4 + Math.min(length, MAX_CHUNK_BYTES));
      buffer.writeUInt32BE(id >>> 0, 0);
      const { bytesRead } = await handle.read(buffer, 4, buffer.length - 4, offset);
      await client.publishAsync(`sensorkit/v1/${deviceId}/ota/chunk/data`, buffer.subarray(0, 4 + bytesRead), { qos: 1 });
    } finally {
      await handle.close();
    }
  };
  client.on('message', listener);
  await client.subscribeAsync(filter, { qos: 1 });
  return async () => {
    client.removeListener('message', listener);
    await client.unsubscribeAsync(filter);
  };
}
