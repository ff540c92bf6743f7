/**
 * What a device checks after a manifest's signature: that it is meant for this device (vendor-id and
 * class-id conditions, RFC 9124 §4.2.1) and that it is newer than what it runs (the monotonic
 * sequence number, RFC 9124 §4.3.1 "Anti-rollback"). The signature alone does not stop a replay of an
 * older, validly signed manifest; the sequence number does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ManifestError } from '../errors.js';
import type { SuitManifest } from './suit-manifest.js';

/** Who the device is, as manifests name it. */
export interface DeviceIdentity {
  readonly vendorId: string;
  readonly classId: string;
}

/**
 * Throws `ManifestError` `wrong-device` unless the manifest's vendor-id and class-id are this device's.
 *
 * @example
 * ```ts
 * checkDevice(manifest, { vendorId, classId })
 * ```
 */
export function checkDevice(manifest: SuitManifest, device: DeviceIdentity): void {
  if (manifest.vendorId.toLowerCase() !== device.vendorId.toLowerCase()) throw new ManifestError('wrong-device', `vendor-id ${manifest.vendorId} is not this device's (${device.vendorId})`);
  if (manifest.classId.toLowerCase() !== device.classId.toLowerCase()) throw new ManifestError('wrong-device', `class-id ${manifest.classId} is not this device's (${device.classId})`);
}

/** What the device last accepted. */
export interface AcceptedState {
  /** The anti-rollback counter: highest sequence number accepted. */
  readonly sequence: number;
  /** Image digest (hex) of the manifest at that sequence, when known. */
  readonly imageDigest?: string;
}

/**
 * Whether a manifest may be installed over `accepted`: a higher sequence is an update; the same
 * sequence with the same image is "already installed" (returns false); the same sequence with
 * another image is `sequence-conflict`; a lower one is `downgrade`.
 *
 * @example
 * ```ts
 * if (!checkSequence(manifest, { sequence: 6, imageDigest })) return 'already installed'
 * ```
 */
export function checkSequence(manifest: SuitManifest, accepted: AcceptedState): boolean {
  if (manifest.sequence > accepted.sequence) return true;
  if (manifest.sequence < accepted.sequence) throw new ManifestError('downgrade', `sequence ${manifest.sequence} is below the accepted ${accepted.sequence}`);
  const digest = Buffer.from(manifest.imageDigest).toString('hex');
  if (accepted.imageDigest !== undefined && accepted.imageDigest !== digest) {
    throw new ManifestError('sequence-conflict', `sequence ${manifest.sequence} was accepted for another image`);
  }
  return false;
}

/**
 * Throws `ManifestError` `payload-mismatch` unless `payload` is the manifest's image.
 *
 * @example
 * ```ts
 * checkPayload(manifest, await readFile('firmware.bin'))
 * ```
 */
export function checkPayload(manifest: SuitManifest, payload: Uint8Array): void {
  if (payload.length !== manifest.imageSize) throw new ManifestError('payload-mismatch', `the payload is ${payload.length} bytes, the manifest says ${manifest.imageSize}`);
  const digest = createHash('sha256').update(payload).digest();
  if (!timingSafeEqual(digest, manifest.imageDigest)) throw new ManifestError('payload-mismatch', 'the payload does not match the signed image digest');
}

/**
 * Whether two component ids are the same, segment by segment. Joining them with `/` would make
 * `['sensorkit/trust-anchors']` equal `['sensorkit', 'trust-anchors']`: a firmware manifest could
 * pass for a key update.
 *
 * @example
 * ```ts
 * sameComponent(manifest.componentId, ['firmware']) // true or false
 * ```
 */
export function sameComponent(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}
