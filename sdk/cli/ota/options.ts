/** Option helpers shared by the `sensorkit ota` subcommands. */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { StorageError } from '../../core/errors.js';
import { FileTooLargeError, nodeFileSystem, readFileBounded } from '../../../ota/agent/file-system.js';
import { ManifestError } from '../../../ota/errors.js';
import { UsageError } from '../usage.js';
import { isUuid, NAMESPACE_DNS, uuidV5 } from '../../../ota/manifest/uuid.js';

/** Default vendor name when `--vendor-id` is not given; its UUID v5 is printed by `sign`. */
export const DEFAULT_VENDOR = 'sensorkit.example';
/** Default class name when `--class-id` is not given. */
export const DEFAULT_CLASS = 'default';

/**
 * The vendor id: a UUID as given, or the UUID v5 of a domain name (RFC 9124 §4.2.1).
 *
 * @example
 * ```ts
 * vendorIdOption('acme.example') // uuidV5(NAMESPACE_DNS, 'acme.example')
 * ```
 */
export function vendorIdOption(text: string | undefined): string {
  const value = text ?? DEFAULT_VENDOR;
  if (value.trim() === '') throw new UsageError('--vendor-id: expected a UUID or a domain name');
  return isUuid(value) ? value.toLowerCase() : uuidV5(NAMESPACE_DNS, value);
}

/**
 * The class id: a UUID as given, or the UUID v5 of a model name in the vendor's namespace.
 *
 * @example
 * ```ts
 * classIdOption('EN-1', vendorId) // uuidV5(vendorId, 'EN-1')
 * ```
 */
export function classIdOption(text: string | undefined, vendorId: string): string {
  const value = text ?? DEFAULT_CLASS;
  if (value.trim() === '') throw new UsageError('--class-id: expected a UUID or a model name');
  return isUuid(value) ? value.toLowerCase() : uuidV5(vendorId, value);
}

/**
 * Requires an option, with a usage error naming it.
 *
 * @example
 * ```ts
 * required(values.out, '--out') // throws UsageError '--out is required' when missing
 * ```
 */
export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`${name} is required`);
  return value;
}

/** Largest file read whole when no cap is given. */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a file for a command, as a StorageError naming the file when it cannot: only a regular file
 * (a FIFO or `/dev/zero` is refused with one line), at most `maxBytes` (default 64 MiB).
 *
 * @example
 * ```ts
 * const envelope = await readInput('fw.suit', { maxBytes: MAX_ENVELOPE_BYTES })
 * ```
 */
export async function readInput(file: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  try {
    // Bounded: an envelope argument that is huge must not exhaust memory.
    return Buffer.from(await readFileBounded(nodeFileSystem, file, maxBytes, { followLinks: true }));
  } catch (error) {
    if (error instanceof FileTooLargeError) throw new ManifestError('limit', `${file}: larger than ${maxBytes} bytes`, { cause: error });
    throw inputError(file, error);
  }
}

function inputError(file: string, error: unknown): Error {
  if (error instanceof StorageError || error instanceof ManifestError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new StorageError(file, `cannot read: ${code ?? (error as Error).message}`, { cause: error });
}

/**
 * Size and SHA-256 of a regular file, read as a stream: memory stays flat whatever its size. With
 * `maxBytes`, reading stops at `maxBytes + 1` bytes and fails (`ManifestError` `payload-mismatch`):
 * a payload larger than its manifest signs is refused without reading the rest.
 *
 * @example
 * ```ts
 * const { size, digest } = await hashInput('fw.bin', { maxBytes: manifest.imageSize })
 * ```
 */
export async function hashInput(file: string, options: { maxBytes?: number } = {}): Promise<{ size: number; digest: Buffer }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw inputError(file, error);
  }
  try {
    if (!(await handle.stat()).isFile()) throw new StorageError(file, 'not a regular file');
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (options.maxBytes !== undefined && size > options.maxBytes) {
        throw new ManifestError('payload-mismatch', `${file}: larger than the ${options.maxBytes} bytes the manifest signs`);
      }
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { size, digest: hash.digest() };
  } catch (error) {
    throw inputError(file, error);
  } finally {
    await handle.close();
  }
}
