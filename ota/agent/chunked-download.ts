/**
 * The alternative to HTTP: an image fetched in chunks over any request/response channel, e.g.
 * MQTT (mqtt-chunks.ts) where a device has no HTTP route to the server. Same guarantees as the HTTP
 * download: resume from what the part file holds, streaming SHA-256, nothing stored beyond the
 * signed size, the part deleted when the bytes turn out wrong.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';
import { ManifestError, UpdateError } from '../errors.js';
import { OPEN_FLAGS, type OtaFileSystem } from './file-system.js';
import type { DownloadResult } from './http-download.js';

/** Fetches byte ranges of a named file. */
export interface ChunkSource {
  /** Bytes `[offset, offset + length)` of `file` (fewer only at its end); rejects on timeout or error. */
  read(file: string, offset: number, length: number): Promise<Uint8Array>;
}

/** What to fetch and where. */
export interface ChunkedDownloadJob {
  readonly source: ChunkSource;
  /** The file's name at the source (the manifest's URI). */
  readonly file: string;
  readonly part: string;
  readonly size: number;
  readonly digest: Uint8Array;
  /** Bytes per request. Default 65,536. */
  readonly chunkBytes?: number;
  readonly onProgress?: (received: number, total: number) => void;
}

/**
 * Downloads `job.file` chunk by chunk into `job.part`, resuming from what is there.
 *
 * @example
 * ```ts
 * await downloadChunked(nodeFileSystem, { source: mqttChunkSource(client, { deviceId, clock }), file: 'fw.bin', part, size, digest })
 * ```
 */
export async function downloadChunked(fs: OtaFileSystem, job: ChunkedDownloadJob): Promise<DownloadResult> {
  const chunkBytes = job.chunkBytes ?? 65_536;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new ArgumentError(`Expected \`chunkBytes\` to be an integer from 1, got ${chunkBytes}`);
  let offset = 0;
  try {
    offset = Math.min((await fs.lstat(job.part)).size, job.size);
  } catch {
    offset = 0;
  }
  const resumedFrom = offset;
  const hash = createHash('sha256');
  // Never through a link (O_NOFOLLOW); a fresh part is a new file (O_EXCL) after whatever had its name is gone.
  if (offset === 0) await fs.rm(job.part, { force: true });
  const handle = await fs.open(job.part, offset === 0 ? OPEN_FLAGS.createReadWrite : OPEN_FLAGS.update, 0o644);
  try {
    if (offset > 0) {
      await handle.truncate(offset);
      const buffer = Buffer.allocUnsafe(Math.min(1 << 20, offset));
      for (let position = 0; position < offset; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, offset - position), position);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        position += bytesRead;
      }
    }
    while (offset < job.size) {
      const wanted = Math.min(chunkBytes, job.size - offset);
      const chunk = await job.source.read(job.file, offset, wanted);
      if (chunk.length > wanted) throw new ManifestError('payload-mismatch', `a chunk of ${chunk.length} bytes where at most ${wanted} fit the signed size`);
      if (chunk.length === 0) throw new UpdateError('download-failed', `${job.file} ended after ${offset} of ${job.size} bytes`);
      let written = 0;
      while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written, offset + written)).bytesWritten;
      hash.update(chunk);
      offset += chunk.length;
      job.onProgress?.(offset, job.size);
    }
    await handle.sync();
    if (!timingSafeEqual(hash.digest(), job.digest)) throw new ManifestError('payload-mismatch', 'the downloaded image does not match the signed digest');
    return { resumedFrom, restarts: 0, transferred: offset - resumedFrom };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof ManifestError || code === 'ENOSPC' || code === 'EDQUOT') {
      await handle.close().catch(() => undefined);
      await fs.rm(job.part, { force: true });
    }
    throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
