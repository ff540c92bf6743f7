/**
 * Typed errors of the OTA service. Each carries a `reason` from a closed set, so devices, the
 * campaign server and tests branch on the reason, never on the message.
 */
import { SensorkitError } from '../sdk/core/errors.js';

/**
 * Why an envelope or manifest was refused. A closed set.
 *
 * @example
 * ```ts
 * const isReplay = (reason: ManifestReason) => reason === 'replayed' || reason === 'downgrade'
 * ```
 */
export type ManifestReason =
  /** The CBOR is not well-formed or not deterministic (RFC 8949 §4.2.1, §5.3.1). */
  | 'malformed-cbor'
  /** Bytes, strings, items or nesting above the decoder's limits. */
  | 'limit'
  /** Well-formed CBOR, but not the SUIT/COSE structure this profile accepts. */
  | 'bad-structure'
  /** No authentication wrapper, or one without a COSE_Sign1. */
  | 'unsigned'
  /** `alg` missing from the protected header, present in the unprotected one, or not supported. */
  | 'bad-algorithm'
  /** The signature key is not a trust anchor. */
  | 'unknown-key'
  /** The signature key is on the revocation list. */
  | 'revoked-key'
  /** The signature does not verify. */
  | 'bad-signature'
  /** The manifest bytes do not match the signed SUIT digest. */
  | 'digest-mismatch'
  /** A sequence number at or below one already accepted (replay). */
  | 'replayed'
  /** The same sequence number as the installed manifest, but another image. */
  | 'sequence-conflict'
  /** A lower sequence number than the installed one. */
  | 'downgrade'
  /** The vendor-id or class-id condition does not match this device (RFC 9124 §4.2.1). */
  | 'wrong-device'
  /** The payload does not match the signed digest or size. */
  | 'payload-mismatch'
  /**
   * A well-formed, authenticated manifest holding a command (or command sequence) this processor
   * does not execute; the message names it (`unsupported command: suit-directive-copy`). A processor
   * must not skip a command it cannot perform (SUIT manifest draft §8.4.10).
   */
  | 'unsupported-command'
  /** An envelope of sensorkit's earlier layout (install at key 17, digest over the unwrapped manifest): re-sign it. */
  | 'old-layout';

/**
 * An envelope, manifest or payload was refused; `reason` says why.
 *
 * @example
 * ```ts
 * try { verifyEnvelope(bytes, trust) } catch (e) {
 *   if (e instanceof ManifestError && e.reason === 'bad-signature') console.warn(e.message)
 * }
 * ```
 */
export class ManifestError extends SensorkitError {
  readonly reason: ManifestReason;

  constructor(reason: ManifestReason, message: string, options?: { cause?: unknown }) {
    super('ERR_OTA', `${reason}: ${message}`, options);
    this.reason = reason;
  }
}

/**
 * Why an update step failed on the device. A closed set.
 *
 * @example
 * ```ts
 * const retry = (reason: UpdateReason) => reason === 'download-failed'
 * ```
 */
export type UpdateReason =
  /** Not enough free space for the image (checked before the download). */
  | 'no-space'
  /** The transfer failed (HTTP status, connection lost, short body). */
  | 'download-failed'
  /** Storage failed while staging, switching or writing state (ENOSPC, EIO…). */
  | 'storage'
  /** The staged bytes no longer match the signed digest. */
  | 'staging-corrupt'
  /** The health probes did not pass within the timeout; the previous image runs again. */
  | 'health-check-failed'
  /** An update was asked for while another is in progress, or nothing is on trial. */
  | 'busy'
  /**
   * The anti-rollback counter or the boot state on disk is damaged (truncated, edited, unreadable).
   * The device keeps running its verified image and refuses updates: it never resets the counter.
   */
  | 'state-damaged'
  /** The root holds a symlink the agent did not make (images/, staging/, state/, audit.log): nothing is written. */
  | 'unsafe-root';

/**
 * An update step failed on the device; `reason` says why.
 *
 * @example
 * ```ts
 * try { await agent.update(offer) } catch (e) {
 *   if (e instanceof UpdateError && e.reason === 'no-space') console.warn('free some space')
 * }
 * ```
 */
export class UpdateError extends SensorkitError {
  readonly reason: UpdateReason;

  constructor(reason: UpdateReason, message: string, options?: { cause?: unknown }) {
    super(reason === 'storage' || reason === 'no-space' || reason === 'state-damaged' || reason === 'unsafe-root' ? 'ERR_STORAGE' : 'ERR_OTA', `${reason}: ${message}`, options);
    this.reason = reason;
  }
}
