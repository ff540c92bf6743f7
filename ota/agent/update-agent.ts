/**
 * The device side of an update, after MCUboot's test/confirm/revert and RAUC's A/B slots:
 * offer → verify the envelope (signature, device, sequence) → check free space → download with
 * resume, streaming digest and a size cap → stage into a new image directory → re-verify the staged
 * bytes → switch `current` atomically → boot into a trial → confirm when every health probe passes
 * within the timeout, else revert by itself. Progress goes to an injected publish function
 * (`sensorkit/v1/<deviceId>/ota/status|progress`), a typed event and the audit log.
 *
 * Every persistent step is crash-safe (see file-system.ts); `boot()` brings any interrupted state
 * back to a verified image. The anti-rollback counter is raised only on confirm and never lowered.
 */
import { join } from 'node:path';
import type { Clock } from '../../sdk/core/clock.js';
import { TypedEmitter } from '../../sdk/core/events.js';
import { ArgumentError, StorageError } from '../../sdk/core/errors.js';
import type { AuditLog } from '../../security/audit-log.js';
import { ManifestError, UpdateError } from '../errors.js';
import { applyKeyUpdate } from '../keys/key-update.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { checkDevice, checkSequence, type DeviceIdentity } from '../manifest/policy.js';
import { componentIdBytesOf, type SuitComponentImage, type SuitManifest } from '../manifest/suit-manifest.js';
import { MAX_ENVELOPE_BYTES, verifyEnvelope, type VerifiedManifest } from '../manifest/suit-envelope.js';
import { AntiRollbackCounter } from './anti-rollback.js';
import { BootStateStore, type BootState } from './boot-state.js';
import { findForeignLink, nodeFileSystem, OPEN_FLAGS, readFileBounded, type OtaFileSystem } from './file-system.js';
import { runHealthProbes, type HealthProbe } from './health-probes.js';
import { fetchPayload, type PayloadSource } from './fetch-payload.js';
import type { DownloadJob } from './http-download.js';
import { loadTrustAnchors, saveTrustAnchors } from './trust-file.js';
import { ImageSlots } from './image-slots.js';


/** A progress or status report. */
export interface OtaStatus {
  readonly state: 'verifying' | 'downloading' | 'staged' | 'trial' | 'confirmed' | 'rolled-back' | 'failed' | 'current';
  readonly sequence?: number;
  readonly version?: string;
  readonly received?: number;
  readonly total?: number;
  readonly reason?: string;
}

/** Options of {@link UpdateAgent}. */
export interface UpdateAgentOptions {
  /** The device's state directory (images, staging, state, audit log). */
  readonly root: string;
  readonly clock: Clock;
  readonly trust: TrustAnchors;
  readonly device: DeviceIdentity & { readonly deviceId: string };
  /** The component this agent updates. Default `['firmware']`. */
  readonly componentId?: readonly string[];
  /**
   * Every component this agent updates, when a manifest may carry several (e.g. the application
   * and the firmware of an attached microcontroller); segments are text (UTF-8) or bytes. A manifest
   * naming any other component is refused. Default `[componentId]`.
   */
  readonly components?: readonly (readonly (string | Uint8Array)[])[];
  /** Default: node:fs/promises. */
  readonly fs?: OtaFileSystem;
  /** Publishes a report (JSON text) on a topic; errors are ignored (reports are best effort). */
  readonly publish?: (topic: string, payload: string) => Promise<void> | void;
  readonly audit?: AuditLog;
  /** Probes run in the trial; all must pass. Default: none (a trial always confirms). */
  readonly healthProbes?: readonly HealthProbe[];
  /** How long the probes may take, ms. Default 30,000. */
  readonly healthTimeoutMs?: number;
  /** Space kept free beyond the image, bytes. Default 65,536. */
  readonly freeSpaceMarginBytes?: number;
  /** Called after each persistent step (tests put kill points here). */
  readonly onStep?: (step: string) => void | Promise<void>;
  /** "Restart" into the new image; default: `boot()` in this process. */
  readonly restart?: () => Promise<BootResult>;
  /** TLS options of the downloads: `ca` for a private CA, `cert` and `key` for mutual TLS. */
  readonly requestOptions?: { readonly ca?: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer };
  /** Download limits: socket idle timeout (default 30,000 ms) and slowest speed tolerated (default 1 KiB a minute). */
  readonly downloadLimits?: Pick<DownloadJob, 'idleTimeoutMs' | 'minSpeed'>;
}

/** An update offer: the envelope and where its payload is (URL, base URL or a chunk source). */
export interface UpdateOffer extends PayloadSource {
  readonly envelope: Uint8Array;
}

/** What `boot()` started. */
export interface BootResult {
  readonly image: string;
  readonly sequence: number;
  readonly version: string | undefined;
  /** What happened to an image on trial, when there was one. */
  readonly trial?: 'confirmed' | 'rolled-back';
}

/**
 * The update agent of one device.
 *
 * @example
 * ```ts
 * const agent = await UpdateAgent.open({ root: '/var/lib/device', clock, trust, device, publish, healthProbes: [() => sensorsOk()] })
 * await agent.boot()
 * agent.on('status', (s) => console.log(s.state))
 * await agent.update({ envelope, baseUrl: 'http://127.0.0.1:8080/' })
 * ```
 */
export class UpdateAgent extends TypedEmitter<{ status: [OtaStatus] }> {
  readonly #o: UpdateAgentOptions;
  readonly #fs: OtaFileSystem;
  readonly slots: ImageSlots;
  readonly counter: AntiRollbackCounter;
  readonly #boot: BootStateStore;
  readonly #stateDir: string;
  #trust: TrustAnchors;
  #busy = false;

  private constructor(options: UpdateAgentOptions) {
    super();
    this.#o = options;
    this.#fs = options.fs ?? nodeFileSystem;
    this.slots = new ImageSlots(this.#fs, options.root);
    this.counter = new AntiRollbackCounter(this.#fs, join(options.root, 'state'));
    this.#stateDir = join(options.root, 'state');
    this.#boot = new BootStateStore(this.#fs, this.#stateDir);
    this.#trust = options.trust;
  }

  /** The trust anchors in force (the provisioned list, or a newer one from a key update). */
  get trust(): TrustAnchors {
    return this.#trust;
  }

  /** Creates the agent and its directories. */
  static async open(options: UpdateAgentOptions): Promise<UpdateAgent> {
    const timeout = options.healthTimeoutMs ?? 30_000;
    if (!(timeout > 0 && Number.isFinite(timeout))) throw new ArgumentError(`Expected \`healthTimeoutMs\` to be a number above 0, got ${String(timeout)}`);
    const agent = new UpdateAgent(options);
    await agent.#checkRoot();
    await agent.slots.init();
    await agent.#fs.mkdir(agent.#stateDir, { recursive: true });
    agent.#trust = await loadTrustAnchors(agent.#fs, agent.#stateDir, options.trust);
    return agent;
  }

  /**
   * Installs the factory image (no download, no trial): the first verified image. With a manifest of
   * several components, `image` holds one image per component, in the manifest's order.
   */
  async provision(envelope: Uint8Array, image: Uint8Array | readonly Uint8Array[]): Promise<void> {
    await this.#checkRoot();
    if ((await this.slots.current()) !== undefined) throw new UpdateError('busy', 'this device is already provisioned; offer an update instead');
    const verified = this.#verify(envelope);
    // A device whose `current` link was deleted is not a factory-new one: the counter still binds.
    const accepted = await this.#readState(() => this.counter.read());
    if (verified.manifest.sequence < accepted.sequence) throw new ManifestError('downgrade', `sequence ${verified.manifest.sequence} is below the accepted ${accepted.sequence}`);
    const components = imagesOf(verified.manifest);
    const images = image instanceof Uint8Array ? [image] : image;
    if (images.length !== components.length) throw new ArgumentError(`Expected ${components.length} image${components.length === 1 ? '' : 's'} (one per component of the manifest), got ${images.length}`);
    const name = ImageSlots.nameFor(verified.manifest);
    await this.slots.prepareStaging(name);
    for (const [index, bytes] of images.entries()) {
      const part = this.slots.stagingPart(name, index);
      await this.#fs.rm(part, { force: true });
      const handle = await this.#fs.open(part, OPEN_FLAGS.create, 0o644);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await this.slots.commitStaged(name, envelope, components.length);
    await this.#checkImage(name, verified);
    await this.slots.point('current', name);
    await this.counter.raise(verified.manifest.sequence, hex(verified.manifest.imageDigest), verified.manifestDigest);
    await this.#audit('ota.provisioned', { sequence: verified.manifest.sequence, image: name });
  }

  /**
   * Installs an offer and restarts into it; resolves with what runs afterwards. Throws
   * `ManifestError` for a refused envelope or payload, `UpdateError` for a failed step (the current
   * image keeps running in every case).
   */
  async update(offer: UpdateOffer): Promise<BootResult> {
    if (this.#busy) throw new UpdateError('busy', 'an update is already in progress');
    this.#busy = true;
    let sequence: number | undefined;
    try {
      await this.#checkRoot();
      this.#report({ state: 'verifying' });
      const verified = this.#verify(offer.envelope);
      const { manifest } = verified;
      sequence = manifest.sequence;
      const components = imagesOf(manifest);
      const unfetched = components.find((c) => !c.fetch);
      if (unfetched !== undefined) throw new ManifestError('bad-structure', `component ${unfetched.componentId.join('/')} has an image that the manifest does not fetch; this agent installs what it fetches`);
      if (offer.url !== undefined && components.length > 1) throw new UpdateError('download-failed', `the offer names one payload URL, the manifest fetches ${components.length}: offer a base URL or a chunk source`);
      const state = await this.#readState(() => this.#boot.read());
      if (state.phase === 'trial') throw new UpdateError('busy', 'an image is on trial; boot() first');
      const rejected = state.rejected.find((r) => r.sequence === manifest.sequence && r.imageDigest === hex(manifest.imageDigest));
      if (rejected !== undefined) {
        throw new UpdateError('health-check-failed', `image ${manifest.sequence} was reverted before (${rejected.why ?? 'health-check-failed'}); only a newer sequence is taken`);
      }
      const accepted = await this.#readState(() => this.#accepted());
      if (manifest.sequence < accepted.sequence && accepted.seen.includes(verified.manifestDigest)) {
        throw new ManifestError('replayed', `manifest ${verified.manifestDigest.slice(0, 16)}… (sequence ${manifest.sequence}) was accepted before; the device is at ${accepted.sequence}`);
      }
      if (!checkSequence(manifest, accepted)) {
        this.#report({ state: 'current', sequence });
        return await this.#describeCurrent();
      }
      await this.#audit('ota.accepted', { sequence, keyId: verified.keyId, manifest: verified.manifestDigest, version: manifest.version });
      const name = ImageSlots.nameFor(manifest);
      await this.slots.prepareStaging(name);
      await this.slots.checkSpace(name, components.map((c) => c.imageSize), this.#o.freeSpaceMarginBytes ?? 65_536);
      // Every component into the same staging directory: one rename and one switch of `current`
      // install them all, so a component that fails its digest leaves every other one unused.
      const total = components.reduce((sum, c) => sum + c.imageSize, 0);
      let before = 0;
      for (const [index, component] of components.entries()) {
        const done = before;
        const last = index === components.length - 1;
        await fetchPayload(this.#fs, {
          manifest: component,
          source: offer,
          part: this.slots.stagingPart(name, index),
          clock: this.#o.clock,
          ...(this.#o.downloadLimits ? { limits: this.#o.downloadLimits } : {}),
          ...(this.#o.requestOptions ? { requestOptions: this.#o.requestOptions } : {}),
          onProgress: (received) => this.#report({ state: 'downloading', sequence: manifest.sequence, received: done + received, total }),
          onHalfway: () => void (last ? this.#o.onStep?.('download-half') : undefined),
        });
        before += component.imageSize;
        if (!last) await this.#step(`downloaded-${index}`);
      }
      await this.#step('downloaded');
      await this.slots.commitStaged(name, offer.envelope, components.length);
      await this.#step('staged');
      await this.#checkImage(name, verified);
      this.#report({ state: 'staged', sequence });
      await this.#audit('ota.staged', { sequence, image: name });
      const current = await this.slots.current();
      await this.#boot.write({ phase: 'trial', rejected: state.rejected, trial: name, fallback: current, sequence: manifest.sequence, imageDigest: hex(manifest.imageDigest), manifestDigest: verified.manifestDigest, booted: false });
      await this.#step('trial-armed');
      if (current !== undefined) {
        await this.slots.point('previous', current);
        await this.#step('previous-switched');
      }
      await this.slots.point('current', name);
      await this.#step('current-switched');
      await this.#audit('ota.switched', { sequence, image: name, fallback: current });
    } catch (error) {
      const reason = error instanceof ManifestError || error instanceof UpdateError ? error.reason : 'storage';
      this.#report({ state: 'failed', ...(sequence === undefined ? {} : { sequence }), reason });
      await this.#audit('ota.failed', { sequence, reason, message: (error as Error).message }).catch(() => undefined);
      throw error instanceof ManifestError || error instanceof UpdateError ? error : new UpdateError('storage', (error as Error).message, { cause: error });
    } finally {
      this.#busy = false;
    }
    return this.#o.restart ? this.#o.restart() : this.boot();
  }

  /**
   * Applies a key update (a new trust-anchor list signed by a currently trusted key) and stores it
   * atomically. Throws `ManifestError` when the update is refused; the old list stays in force.
   */
  async rotateKeys(envelope: Uint8Array, payload: Uint8Array): Promise<TrustAnchors> {
    await this.#checkRoot();
    const next = applyKeyUpdate(this.#trust, envelope, payload, this.#o.device);
    await saveTrustAnchors(this.#fs, this.#stateDir, next);
    this.#trust = next;
    await this.#audit('ota.keys-rotated', { sequence: next.sequence, keyIds: next.keyIds });
    return next;
  }

  /**
   * What a device runs at start: finishes or reverts an interrupted update, runs the health probes of
   * a first trial boot, then checks that the current image verifies (falling back to the previous
   * one if not). Resolves with the image that runs; throws `UpdateError` when no image verifies.
   */
  async boot(): Promise<BootResult> {
    await this.#checkRoot();
    let state: BootState;
    try {
      state = await this.#boot.read();
    } catch (error) {
      // A damaged boot state: start whatever verifies, touch nothing, and leave the file as it is,
      // so update() keeps refusing (state-damaged) until someone looks at it.
      await this.#audit('ota.boot-state-damaged', { message: (error as Error).message });
      return this.#startVerified();
    }
    let trial: BootResult['trial'];
    if (state.phase === 'trial') {
      const current = await this.slots.current();
      if (current !== state.trial) {
        // The switch never happened (not booted: nothing ran, the offer may come again), or a revert
        // switched back and was cut short before it wrote the state (booted: it stays refused, as
        // #rollback would have recorded).
        const rejected = state.booted ? [...state.rejected, { sequence: state.sequence, imageDigest: state.imageDigest, why: 'reverted' }] : state.rejected;
        await this.#boot.write({ phase: 'stable', rejected });
        if (state.booted) await this.slots.remove(state.trial);
        await this.#audit('ota.trial-abandoned', { sequence: state.sequence, rejected: state.booted });
      } else if (state.booted) {
        // It restarted during its trial without confirming: revert (MCUboot's revert-on-reboot).
        trial = await this.#rollback(state, 'restarted during the trial');
      } else {
        await this.#boot.write({ ...state, booted: true });
        await this.#step('trial-booted');
        this.#report({ state: 'trial', sequence: state.sequence });
        const healthy = await runHealthProbes(this.#o.healthProbes ?? [], this.#o.healthTimeoutMs ?? 30_000, this.#o.clock);
        trial = healthy ? await this.#confirm(state) : await this.#rollback(state, 'health-check-failed');
      }
    }
    return { ...(await this.#startVerified()), ...(trial ? { trial } : {}) };
  }

  async #confirm(state: Extract<BootState, { phase: 'trial' }>): Promise<'confirmed'> {
    // Stable first, counter second: a crash between them is repaired by #startVerified, which
    // raises the counter to the running image's sequence.
    await this.#boot.write({ phase: 'stable', rejected: state.rejected });
    await this.#step('confirmed');
    await this.counter.raise(state.sequence, state.imageDigest, state.manifestDigest);
    await this.#step('counter-raised');
    await this.slots.prune([state.trial, ...(state.fallback ? [state.fallback] : [])]);
    this.#report({ state: 'confirmed', sequence: state.sequence });
    await this.#audit('ota.confirmed', { sequence: state.sequence, image: state.trial });
    return 'confirmed';
  }

  async #rollback(state: Extract<BootState, { phase: 'trial' }>, why: string): Promise<'rolled-back'> {
    if (state.fallback !== undefined) {
      await this.slots.point('current', state.fallback);
      await this.#step('rolled-back-switched');
    }
    // A reverted image is not taken again, whatever reverted it: one that restarts during its trial
    // (a crash loop, a watchdog) would otherwise be re-offered and re-installed forever. Only a newer
    // sequence (or another image at this sequence) gets through (MCUboot: a reverted image stays out).
    const rejected = [...state.rejected, { sequence: state.sequence, imageDigest: state.imageDigest, why }];
    await this.#boot.write({ phase: 'stable', rejected });
    await this.#step('rolled-back');
    await this.slots.remove(state.trial);
    this.#report({ state: 'rolled-back', sequence: state.sequence, reason: why });
    await this.#audit('ota.rolled-back', { sequence: state.sequence, reason: why, image: state.fallback });
    return 'rolled-back';
  }

  /** Makes sure `current` names an image that verifies; falls back to `previous`. */
  async #startVerified(): Promise<BootResult> {
    for (const link of ['current', 'previous'] as const) {
      const name = await (link === 'current' ? this.slots.current() : this.slots.previous());
      if (name === undefined) continue;
      const verified = await this.#verifyStored(name);
      if (verified === undefined) {
        await this.#audit('ota.image-invalid', { image: name, link });
        continue;
      }
      if (link === 'previous') await this.slots.point('current', name);
      try {
        await this.counter.raise(verified.manifest.sequence, hex(verified.manifest.imageDigest), verified.manifestDigest);
      } catch (error) {
        // A damaged counter must not stop a verified image from running; update() refuses until
        // it is repaired, and the counter is never rewritten from scratch here.
        if (!(error instanceof StorageError)) throw error;
        await this.#audit('ota.counter-damaged', { message: error.message });
      }
      return { image: name, sequence: verified.manifest.sequence, version: verified.manifest.version };
    }
    throw new UpdateError('staging-corrupt', 'no image verifies: neither current nor previous');
  }

  /**
   * The anti-rollback state. No counter file on a device that has images means it was deleted:
   * rebuild it from the highest sequence among the images that verify (`current`, `previous`),
   * never from 0, and say so in the audit log.
   */
  async #accepted(): Promise<Awaited<ReturnType<AntiRollbackCounter['read']>>> {
    const accepted = await this.counter.read();
    if (accepted.stored) return accepted;
    let best: VerifiedManifest | undefined;
    for (const name of [await this.slots.current(), await this.slots.previous()]) {
      const verified = name === undefined ? undefined : await this.#verifyStored(name);
      if (verified !== undefined && (best === undefined || verified.manifest.sequence > best.manifest.sequence)) best = verified;
    }
    if (best === undefined) {
      if ((await this.slots.current()) !== undefined) throw new StorageError(this.counter.file, 'the anti-rollback counter is missing and no installed image verifies to rebuild it from');
      return accepted;
    }
    await this.counter.raise(best.manifest.sequence, hex(best.manifest.imageDigest), best.manifestDigest);
    await this.#audit('ota.counter-restored', { sequence: best.manifest.sequence });
    return this.counter.read();
  }

  /** Reads persistent state for update(); a damaged file refuses the update (`state-damaged`). */
  async #readState<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof StorageError) throw new UpdateError('state-damaged', error.message, { cause: error });
      throw error;
    }
  }

  async #describeCurrent(): Promise<BootResult> {
    return this.#startVerified();
  }

  async #verifyStored(name: string): Promise<VerifiedManifest | undefined> {
    try {
      const envelope = await readFileBounded(this.#fs, this.slots.manifestPath(name), MAX_ENVELOPE_BYTES);
      const verified = verifyEnvelope(envelope, this.#trust, { allowRevoked: true });
      await this.#checkImage(name, verified);
      return verified;
    } catch {
      return undefined;
    }
  }

  #verify(envelope: Uint8Array): VerifiedManifest {
    const verified = verifyEnvelope(envelope, this.#trust);
    checkDevice(verified.manifest, this.#o.device);
    const known = (this.#o.components ?? [this.#o.componentId ?? ['firmware']]).map((id) => id.map((s) => (typeof s === 'string' ? utf8.encode(s) : s)));
    for (const component of imagesOf(verified.manifest)) {
      const id = componentIdBytesOf(component);
      // Segment by segment: ['sensorkit/trust-anchors'] is not ['sensorkit', 'trust-anchors'].
      if (!known.some((k) => k.length === id.length && k.every((s, i) => Buffer.from(s).equals(Buffer.from(id[i]!))))) {
        throw new ManifestError('wrong-device', `component ${component.componentId.join('/')} is not one this device updates (${known.map((k) => k.map((s) => Buffer.from(s).toString()).join('/')).join(', ')})`);
      }
    }
    return verified;
  }

  /** Re-hashes every component of a staged or stored image against its manifest. */
  async #checkImage(name: string, verified: VerifiedManifest): Promise<void> {
    for (const [index, component] of imagesOf(verified.manifest).entries()) {
      const actual = await this.slots.hashImage(name, index);
      if (actual === undefined || actual.size !== component.imageSize || !actual.digest.equals(component.imageDigest)) {
        await this.slots.remove(name);
        throw new UpdateError('staging-corrupt', `image ${name} (component ${component.componentId.join('/')}) does not match its signed digest`);
      }
    }
  }

  /**
   * Refuses a root holding a symlink the agent did not make. The agent runs as root: a link planted
   * at `staging/…/image.bin`, `state/` or `audit.log` would otherwise have it write, truncate or
   * remove a file anywhere. Every open also refuses a link at the last component (O_NOFOLLOW); this
   * check covers the directories on the way there.
   */
  async #checkRoot(): Promise<void> {
    const link = await findForeignLink(this.#fs, this.#o.root);
    if (link !== undefined) {
      throw new UpdateError('unsafe-root', `${link.path} is a symlink (to ${JSON.stringify(link.target.slice(0, 200))}) that this agent did not make; remove it and check the device`);
    }
  }

  async #step(step: string): Promise<void> {
    await this.#o.onStep?.(step);
  }

  #report(status: OtaStatus): void {
    this.emit('status', status);
    const publish = this.#o.publish;
    if (publish === undefined) return;
    const topic = `sensorkit/v1/${this.#o.device.deviceId}/ota/${status.state === 'downloading' ? 'progress' : 'status'}`;
    try {
      void Promise.resolve(publish(topic, JSON.stringify({ ...status, time: new Date(this.#o.clock.now()).toISOString() }))).catch(() => undefined);
    } catch {
      // Reports are best effort; the audit log is the record.
    }
  }

  async #audit(event: string, data: Record<string, unknown>): Promise<void> {
    await this.#o.audit?.append(event, data);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

const utf8 = new TextEncoder();

/** The images a manifest installs, in its order (its one image when it names no list). */
function imagesOf(manifest: SuitManifest): readonly SuitComponentImage[] {
  return manifest.components ?? [manifest];
}
