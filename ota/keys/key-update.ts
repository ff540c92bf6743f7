/**
 * Key rotation by a signed manifest: a new trust-anchor list is introduced by an envelope signed with
 * a key the device already trusts (RFC 9124 §4.3.1; TUF's root rotation). The payload is JSON
 * `{ "add": [SPKI PEM…], "revoke": [key id…] }` for the component `sensorkit/trust-anchors`, so it is
 * covered by the same digest, size and sequence checks as a firmware image.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { ManifestError } from '../errors.js';
import { checkDevice, checkPayload, sameComponent, type DeviceIdentity } from '../manifest/policy.js';
import { signEnvelope, verifyEnvelope } from '../manifest/suit-envelope.js';
import { TrustAnchors } from './trust-anchors.js';

/**
 * The component id of a key update.
 *
 * @example
 * ```ts
 * KEY_UPDATE_COMPONENT // ['sensorkit', 'trust-anchors']
 * ```
 */
export const KEY_UPDATE_COMPONENT: readonly string[] = Object.freeze(['sensorkit', 'trust-anchors']);

/** A change of the trust-anchor list. */
export interface KeyChange {
  /** Public keys to trust (SPKI PEM). */
  readonly add?: readonly string[];
  /** Key ids to revoke. */
  readonly revoke?: readonly string[];
}

/**
 * Signs a key update with a currently trusted key: returns the envelope and its payload.
 *
 * @example
 * ```ts
 * const update = signKeyUpdate({ add: [newPublicPem], revoke: [oldKeyId] }, { sequence: 2, device }, currentPrivateKey)
 * trust = applyKeyUpdate(trust, update.envelope, update.payload, device)
 * ```
 */
export function signKeyUpdate(change: KeyChange, target: { sequence: number; device: DeviceIdentity }, privateKey: KeyObject): { envelope: Uint8Array; payload: Uint8Array } {
  const payload = new TextEncoder().encode(JSON.stringify({ add: change.add ?? [], revoke: change.revoke ?? [] }));
  const envelope = signEnvelope(
    {
      sequence: target.sequence,
      componentId: KEY_UPDATE_COMPONENT,
      vendorId: target.device.vendorId,
      classId: target.device.classId,
      imageDigest: createHash('sha256').update(payload).digest(),
      imageSize: payload.length,
      description: 'trust-anchor update',
    },
    privateKey,
  );
  return { envelope, payload };
}

/**
 * Verifies a key update against `trust` and returns the new list. Throws `ManifestError`: any
 * envelope failure, `bad-structure` for another component or a malformed payload, `replayed` for a
 * sequence at or below the list's own, `payload-mismatch`.
 *
 * @example
 * ```ts
 * const next = applyKeyUpdate(trust, envelope, payload, device)
 * ```
 */
export function applyKeyUpdate(trust: TrustAnchors, envelope: Uint8Array, payload: Uint8Array, device: DeviceIdentity): TrustAnchors {
  const { manifest } = verifyEnvelope(envelope, trust);
  checkDevice(manifest, device);
  if (!sameComponent(manifest.componentId, KEY_UPDATE_COMPONENT)) throw new ManifestError('bad-structure', `component ${manifest.componentId.join('/')} is not a key update`);
  if (manifest.sequence <= trust.sequence) throw new ManifestError('replayed', `key update ${manifest.sequence} is not above the list's ${trust.sequence}`);
  checkPayload(manifest, payload);
  let change: { add?: unknown; revoke?: unknown };
  try {
    change = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as typeof change;
  } catch (error) {
    throw new ManifestError('bad-structure', 'the key update payload is not JSON', { cause: error });
  }
  const add = change.add ?? [];
  const revoke = change.revoke ?? [];
  if (!Array.isArray(add) || !Array.isArray(revoke) || !add.every((k) => typeof k === 'string') || !revoke.every((k) => typeof k === 'string')) {
    throw new ManifestError('bad-structure', 'the key update payload is not { add: [PEM], revoke: [key id] }');
  }
  try {
    return trust.withChanges({ add: add as string[], revoke: revoke as string[], sequence: manifest.sequence });
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    throw new ManifestError('bad-structure', `the key update payload is invalid: ${(error as Error).message}`, { cause: error });
  }
}
