/**
 * Fetches the payload a verified manifest names into its staging part, over HTTP(S) (resumable, see
 * http-download.ts) or in chunks from a {@link ChunkSource} (see chunked-download.ts), and turns the
 * byte counts into coarse progress: one report per tenth, and a hook at the halfway mark (where the
 * crash tests cut the power).
 */
import type { Clock } from '../../sdk/core/clock.js';
import { UpdateError } from '../errors.js';
import type { SuitComponentImage } from '../manifest/suit-manifest.js';
import { downloadChunked, type ChunkSource } from './chunked-download.js';
import type { OtaFileSystem } from './file-system.js';
import { downloadImage, type DownloadJob } from './http-download.js';

/** Where an offer's payload comes from. */
export interface PayloadSource {
  /**
   * The URL of each payload, by the URI its manifest names (an update server's offer: presigned
   * object-storage URLs or the server's own). Looked up first, for every component.
   */
  readonly urls?: Readonly<Record<string, string>>;
  /** The payload URL; default: the manifest's URI resolved against `baseUrl`. */
  readonly url?: string;
  readonly baseUrl?: string;
  /** Fetch the payload (named by the manifest's URI) in chunks from this source instead of HTTP. */
  readonly chunks?: ChunkSource;
}

/** What {@link fetchPayload} needs. */
export interface PayloadFetch {
  /** The image to fetch: a manifest (its first image) or one of its components. */
  readonly manifest: Pick<SuitComponentImage, 'uri' | 'imageSize' | 'imageDigest'>;
  readonly source: PayloadSource;
  /** The staging part file. */
  readonly part: string;
  readonly clock: Clock;
  readonly limits?: Pick<DownloadJob, 'idleTimeoutMs' | 'minSpeed'>;
  readonly requestOptions?: DownloadJob['requestOptions'];
  /** Called at most once per tenth of the image. */
  readonly onProgress: (received: number, total: number) => void;
  /** Called once when half the image is on disk. */
  readonly onHalfway: () => void;
}

/**
 * Downloads the payload of `job.manifest` into `job.part`; the errors are those of the transfer.
 *
 * @example
 * ```ts
 * await fetchPayload(nodeFileSystem, { manifest, source: { baseUrl }, part, clock, onProgress: print, onHalfway: () => {} })
 * ```
 */
export async function fetchPayload(fs: OtaFileSystem, job: PayloadFetch): Promise<void> {
  const { manifest, source } = job;
  let lastTenth = -1;
  let halfway = false;
  const onProgress = (received: number, total: number): void => {
    const tenth = Math.floor((received / Math.max(total, 1)) * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      job.onProgress(received, total);
    }
    if (!halfway && received * 2 >= total) {
      halfway = true;
      job.onHalfway();
    }
  };
  const target = { part: job.part, size: manifest.imageSize, digest: manifest.imageDigest, onProgress };
  if (source.chunks !== undefined) {
    if (manifest.uri === undefined) throw new UpdateError('download-failed', 'the manifest names no payload to fetch in chunks');
    await downloadChunked(fs, { ...target, source: source.chunks, file: manifest.uri });
    return;
  }
  const url = payloadUrl(manifest.uri, source);
  await downloadImage(fs, { ...target, url, clock: job.clock, ...job.limits, ...(job.requestOptions ? { requestOptions: job.requestOptions } : {}) });
}

/**
 * The URL a payload is fetched from: the offer's URL for the manifest's URI, else `url`, else the
 * URI resolved against `baseUrl`, else the URI itself. Throws `UpdateError` `download-failed` when
 * there is none, or when an offer with a URL map names none for this URI (a server that lists some
 * payloads and not others is not guessed around).
 *
 * @example
 * ```ts
 * payloadUrl('fw/app.bin', { urls: { 'fw/app.bin': 'https://cdn.example/fw/app.bin?X-Amz-Signature=…' } })
 * ```
 */
export function payloadUrl(uri: string | undefined, source: PayloadSource): string {
  if (source.urls !== undefined) {
    const mapped = uri === undefined ? undefined : Object.hasOwn(source.urls, uri) ? source.urls[uri] : undefined;
    if (mapped !== undefined) return mapped;
    if (source.url === undefined && source.baseUrl === undefined) throw new UpdateError('download-failed', `the offer names no URL for payload ${JSON.stringify(uri ?? '')}`);
  }
  const url = source.url ?? (uri !== undefined && source.baseUrl !== undefined ? new URL(uri, source.baseUrl).href : uri);
  if (url === undefined) throw new UpdateError('download-failed', 'the offer has no payload URL');
  return url;
}
