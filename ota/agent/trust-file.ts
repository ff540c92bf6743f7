/**
 * The device's trust-anchor list on disk, `state/trust.json`, replaced atomically after a verified
 * key update (see keys/key-update.ts). A stored list newer than the provisioned one supersedes it,
 * so a rotation survives restarts and a revoked key stays revoked.
 */
import { join } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import { TrustAnchors, type TrustAnchorsJson } from '../keys/trust-anchors.js';
import { readJson, writeFileAtomic, type OtaFileSystem } from './file-system.js';

/**
 * Loads the stored list if it is newer than `provisioned`, else returns `provisioned`.
 *
 * @example
 * ```ts
 * const trust = await loadTrustAnchors(fs, 'state', TrustAnchors.of([factoryKeyPem]))
 * ```
 */
export async function loadTrustAnchors(fs: OtaFileSystem, stateDir: string, provisioned: TrustAnchors): Promise<TrustAnchors> {
  const file = join(stateDir, 'trust.json');
  let stored: TrustAnchors | undefined;
  try {
    const json = await readJson<TrustAnchorsJson>(fs, file);
    stored = json === undefined ? undefined : TrustAnchors.fromJson(json);
  } catch (error) {
    // A damaged list must not silently fall back to the factory keys (which may be revoked).
    throw new StorageError(file, `unreadable trust-anchor list: ${(error as Error).message}`, { cause: error });
  }
  return stored !== undefined && stored.sequence >= provisioned.sequence ? stored : provisioned;
}

/**
 * Stores a list atomically.
 *
 * @example
 * ```ts
 * await saveTrustAnchors(fs, 'state', rotated)
 * ```
 */
export async function saveTrustAnchors(fs: OtaFileSystem, stateDir: string, trust: TrustAnchors): Promise<void> {
  await writeFileAtomic(fs, join(stateDir, 'trust.json'), `${JSON.stringify(trust.toJson(), null, 2)}\n`);
}
