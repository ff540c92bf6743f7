/** Option helpers shared by the `sensorkit ota` subcommands. */
import { readFile } from 'node:fs/promises';
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

/**
 * Reads a file for a command, as a StorageError naming the file when it cannot.
 *
 * @example
 * ```ts
 * const payload = await readInput('fw.bin')
 * const envelope = await readInput('fw.suit', { maxBytes: MAX_ENVELOPE_BYTES })
 * ```
 */
export async function readInput(file: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
  try {
    if (options.maxBytes === undefined) return await readFile(file);
    // Bounded: an envelope argument that is huge, a FIFO or /dev/zero must not exhaust memory.
    return Buffer.from(await readFileBounded(nodeFileSystem, file, options.maxBytes));
  } catch (error) {
    if (error instanceof FileTooLargeError) throw new ManifestError('limit', `${file}: larger than ${options.maxBytes} bytes, so not an envelope`, { cause: error });
    const code = (error as NodeJS.ErrnoException).code;
    throw new StorageError(file, `cannot read: ${code ?? (error as Error).message}`, { cause: error });
  }
}
