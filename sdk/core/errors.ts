/**
 * Typed errors. Every error sensorkit throws on purpose is a `SensorkitError` with a stable `code`,
 * so callers branch on the code, never on the message.
 *
 * Three channels: configuration errors throw at construction; data-path faults become
 * a sample's quality; a channel's fault is reported once until it clears.
 */

/** Stable error codes. Add new ones at the end; never change a published code. */
export type ErrorCode =
  | 'ERR_VALIDATION'
  | 'ERR_UNIT'
  | 'ERR_NOT_SUPPORTED'
  | 'ERR_I2C_NAK'
  | 'ERR_BUS_TIMEOUT'
  | 'ERR_PIN'
  | 'ERR_DEVICE_FILE'
  | 'ERR_STATE'
  | 'ERR_SENSOR'
  | 'ERR_STORAGE'
  | 'ERR_DECODE'
  /** An update was refused: bad signature, replay, downgrade, wrong device (see `ManifestError.reason`). */
  | 'ERR_OTA'
  /** A function or constructor was called with an argument it cannot take (a programming error). */
  | 'ERR_ARGUMENT'
  /** A feature needs an optional package that is not installed (see `MissingPackageError`). */
  | 'ERR_MISSING_PACKAGE'
  /** An operation did not complete within its time limit (see `TimeoutError`). */
  | 'ERR_TIMEOUT';

/**
 * Base class of every error sensorkit throws on purpose.
 *
 * @example
 * ```ts
 * try { defineDevice(spec) } catch (e) {
 *   if (e instanceof SensorkitError && e.code === 'ERR_VALIDATION') console.error(e.message)
 * }
 * ```
 */
export class SensorkitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A declaration or configuration is invalid. `path` names the bad field, e.g. `channels[2].unit`.
 *
 * @example
 * ```ts
 * throw new ValidationError('channels[0].range', 'min (10) must be below max (0)')
 * ```
 */
export class ValidationError extends SensorkitError {
  readonly path: string;
  /** The reason without the path. */
  readonly reason: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_VALIDATION', path ? `${path}: ${reason}` : reason, options);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * A function or constructor was called with an argument it cannot take: the wrong type, a number
 * out of range, an option that does not exist. A programming error, where `ValidationError` is for
 * declarations and configuration that a user writes. The message names the argument.
 *
 * @example
 * ```ts
 * throw new ArgumentError('Expected `capacity` to be an integer from 1 and up, got 0')
 * ```
 */
export class ArgumentError extends SensorkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ARGUMENT', message, options);
  }
}

/**
 * A feature needs a package that sensorkit does not install by default (the embedded MQTT broker
 * needs `aedes`, the update server's database `@electric-sql/pglite` or `pg`, TypeScript device files `ts-node`). The
 * message names the package and how to add it.
 *
 * @example
 * ```ts
 * // "the embedded MQTT broker needs the package aedes: npm install aedes (or give --mqtt URL)"
 * if (e instanceof MissingPackageError) console.error(e.message)
 * ```
 */
export class MissingPackageError extends SensorkitError {
  /** The npm package that is missing. */
  readonly packageName: string;

  constructor(packageName: string, feature: string, hint?: string, options?: { cause?: unknown }) {
    super('ERR_MISSING_PACKAGE', `${feature} needs the package ${packageName}: npm install ${packageName}${hint ? ` (${hint})` : ''}`, options);
    this.packageName = packageName;
  }
}

/** A unit is unknown, or two units cannot be converted into each other. */
export class UnitError extends SensorkitError {
  constructor(message: string) {
    super('ERR_UNIT', message);
  }
}

/** An operation the driver, bus or board does not implement (Zephyr's -ENOTSUP). */
export class NotSupportedError extends SensorkitError {
  constructor(message: string) {
    super('ERR_NOT_SUPPORTED', message);
  }
}

/** A bus transfer failed: the peripheral did not acknowledge, or the bus did not answer in time. */
export class BusError extends SensorkitError {
  constructor(code: 'ERR_I2C_NAK' | 'ERR_BUS_TIMEOUT', message: string) {
    super(code, message);
  }
}

/** A pin does not exist on the board or does not support the requested mode. */
export class PinError extends SensorkitError {
  constructor(message: string) {
    super('ERR_PIN', message);
  }
}

/** A part answered, but with data that cannot be right (wrong chip id, impossible reading). */
export class SensorError extends SensorkitError {
  constructor(message: string) {
    super('ERR_SENSOR', message);
  }
}

/** A method was called in a state that does not allow it (e.g. `sample()` after `close()`). */
export class StateError extends SensorkitError {
  constructor(message: string) {
    super('ERR_STATE', message);
  }
}

/**
 * An operation did not complete within its time limit, e.g. a promise driven by a `VirtualClock`
 * that had not settled after the virtual time allowed.
 *
 * @example
 * ```ts
 * await clock.runUntilSettled(driver.sample(), 1000) // TimeoutError: the promise did not settle within 1000 ms …
 * ```
 */
export class TimeoutError extends SensorkitError {
  constructor(message: string) {
    super('ERR_TIMEOUT', message);
  }
}

/** A device file is missing, does not load, or does not export a device model. */
export class DeviceFileError extends SensorkitError {
  readonly file: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_DEVICE_FILE', `${file}: ${reason}`, options);
    this.file = file;
  }
}

/**
 * A storage operation failed (disk full, permission denied, I/O error), or a file is not what it
 * should be (not written by sensorkit, damaged header). `path` names the file or directory.
 *
 * @example
 * ```ts
 * try { await outbox.append(payload) } catch (e) {
 *   if (e instanceof StorageError) console.error(`outbox: ${e.message}`) // "/var/lib/…/000000000001.seg: write failed: ENOSPC: …"
 * }
 * ```
 */
export class StorageError extends SensorkitError {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_STORAGE', `${path}: ${reason}`, options);
    this.path = path;
  }
}

/**
 * Why a payload was rejected by a strict decoder (see {@link DecodeError}). A closed set.
 *
 * @example
 * ```ts
 * const retryable = (reason: DecodeReason) => reason === 'truncated'
 * ```
 */
export type DecodeReason =
  /** The input ends inside a data item. */
  | 'truncated'
  /** Bytes follow the one top-level data item. */
  | 'trailing-bytes'
  /** Not well-formed (RFC 8949 §5.3.1): reserved additional information, a stray break, bad UTF-8, syntax. */
  | 'not-well-formed'
  /** An indefinite-length string, array or map (refused: RFC 8949 §4.2.1 deterministic encoding). */
  | 'indefinite-length'
  /** An integer, length or count not in its shortest form (RFC 8949 §4.2.1). */
  | 'non-minimal'
  /** A map has the same key twice (RFC 8949 §5.6). */
  | 'duplicate-key'
  /** Map keys not in the bytewise order of their encodings, where a format requires it (RFC 8949 §4.2.1). */
  | 'unsorted-keys'
  /** Bytes, records, string length or nesting depth above a configured limit. */
  | 'limit'
  /** Well-formed, but a field or item has a type the format does not allow. */
  | 'wrong-type'
  /** An integer label that RFC 8428 §6 does not define. */
  | 'unknown-label'
  /** A label ending in `_` that must be understood (RFC 8428 §4.4), or a `bver` with a version or feature not understood (RFC 9100 §2.2). */
  | 'must-understand';

/**
 * A received payload is malformed or not allowed. `reason` says why, from a closed set; the message
 * names the byte offset or the record index.
 *
 * @example
 * ```ts
 * try { decoder.decode(payload) } catch (e) {
 *   if (e instanceof DecodeError && e.reason === 'truncated') console.warn(e.message) // "truncated: … at byte 17"
 * }
 * ```
 */
export class DecodeError extends SensorkitError {
  readonly reason: DecodeReason;

  constructor(reason: DecodeReason, message: string, options?: { cause?: unknown }) {
    super('ERR_DECODE', `${reason}: ${message}`, options);
    this.reason = reason;
  }
}
