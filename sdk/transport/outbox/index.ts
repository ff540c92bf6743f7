/**
 * The durable outbox: telemetry is stored on disk before it is published and kept until the broker
 * acknowledges it. See outbox.ts for the durability, bound and memory policies and frame.ts for
 * the file formats.
 */
export { DurableOutbox, type OutboxStats } from './outbox.js';
export type { FsyncPolicy, OutboxOptions } from './options.js';
export type { OutboxEntry } from './segment.js';
export { crc32, crc32c, Crc32c } from './crc32.js';
