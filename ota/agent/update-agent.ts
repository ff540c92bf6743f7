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
import type { AuditLog } from '../../security/audit-log.js';
import { ManifestError, UpdateError } from '../errors.js';
import { applyKeyUpdate } from '../keys/key-update.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { checkDevice, checkSequence, type DeviceIdentity } from '../manifest/policy.js';
import { verifyEnvelope, type VerifiedManifest } from '../manifest/suit-envelope.js';
import { AntiRollbackCounter } from './anti-rollback.js';
import { BootStateStore, type BootState } from './boot-state.js';
import { nodeFileSystem, type OtaFileSystem } from './file-system.js';
import { runHealthProbes, type HealthProbe } from './health-probes.js';
import { downloadChunked, type ChunkSource } from './chunked-download.js';
import { downloadImage } from './http-download.js';
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
  readonly requestOptions?: { readonly ca?: string | Buffer };
}

/** An update offer: the envelope and where its payload is. */
export interface UpdateOffer {
  readonly envelope: Uint8Array;
  /** The payload URL; default: the manifest's URI resolved against `baseUrl`. */
  readonly url?: string;
  readonly baseUrl?: string;
  /** Fetch the payload (named by the manifest's URI) in chunks from this source instead of HTTP. */
  readonly chunks?: ChunkSource;
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
    if (!(timeout > 0 && Number.isFinite(timeout))) throw new TypeError(`Expected \`healthTimeoutMs\` to be a number above 0, got ${String(timeout)}`);
    const agent = new UpdateAgent(options);
    await agent.slots.init();
    await agent.#fs.mkdir(agent.#stateDir, { recursive: true });
    agent.#trust = await loadTrustAnchors(agent.#fs, agent.#stateDir, options.trust);
    return agent;
  }

  /** Installs the factory image (no download, no trial): the first verified image. */
  async provision(envelope: Uint8Array, image: Uint8Array): Promise<void> {
    if ((await this.slots.current()) !== undefined) throw new UpdateError('busy', 'this device is already provisioned; offer an update instead');
    const verified = this.#verify(envelope);
    const name = ImageSlots.nameFor(verified.manifest);
    await this.slots.prepareStaging(name);
    const handle = await this.#fs.open(this.slots.stagingPart(name), 'w');
    try {
      await handle.writeFile(image);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.slots.commitStaged(name, envelope);
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
      this.#report({ state: 'verifying' });
      const verified = this.#verify(offer.envelope);
      const { manifest } = verified;
      sequence = manifest.sequence;
      const state = await this.#boot.read();
      if (state.phase === 'trial') throw new UpdateError('busy', 'an image is on trial; boot() first');
      if (state.rejected.some((r) => r.sequence === manifest.sequence && r.imageDigest === hex(manifest.imageDigest))) {
        throw new UpdateError('health-check-failed', `image ${manifest.sequence} failed its health check before`);
      }
      const accepted = await this.counter.read();
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
      await this.#checkSpace(name, manifest.imageSize);
      let lastTenth = -1;
      let halfway = false;
      const onProgress = (received: number, total: number): void => {
        const tenth = Math.floor((received / Math.max(total, 1)) * 10);
        if (tenth !== lastTenth) {
          lastTenth = tenth;
          this.#report({ state: 'downloading', sequence: manifest.sequence, received, total });
        }
        if (!halfway && received * 2 >= total) {
          halfway = true;
          void this.#o.onStep?.('download-half');
        }
      };
      const target = { part: this.slots.stagingPart(name), size: manifest.imageSize, digest: manifest.imageDigest, onProgress };
      if (offer.chunks !== undefined) {
        if (manifest.uri === undefined) throw new UpdateError('download-failed', 'the manifest names no payload to fetch in chunks');
        await downloadChunked(this.#fs, { ...target, source: offer.chunks, file: manifest.uri });
      } else {
        const url = offer.url ?? (manifest.uri !== undefined && offer.baseUrl !== undefined ? new URL(manifest.uri, offer.baseUrl).href : manifest.uri);
        if (url === undefined) throw new UpdateError('download-failed', 'the offer has no payload URL');
        await downloadImage(this.#fs, { ...target, url, ...(this.#o.requestOptions ? { requestOptions: this.#o.requestOptions } : {}) });
      }
      await this.#step('downloaded');
      await this.slots.commitStaged(name, offer.envelope);
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
    const state = await this.#boot.read();
    let trial: BootResult['trial'];
    if (state.phase === 'trial') {
      const current = await this.slots.current();
      if (current !== state.trial) {
        // The switch never happened (or a revert completed it back): nothing is on trial.
        await this.#boot.write({ phase: 'stable', rejected: state.rejected });
        await this.#audit('ota.trial-abandoned', { sequence: state.sequence });
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
    // An image that failed its probes is not taken again; one interrupted by a restart (a power cut
    // is not the image's fault) may be offered again, and a campaign's failure ratio stops a loop.
    const rejected = why === 'health-check-failed' ? [...state.rejected, { sequence: state.sequence, imageDigest: state.imageDigest }] : state.rejected;
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
      await this.counter.raise(verified.manifest.sequence, hex(verified.manifest.imageDigest), verified.manifestDigest);
      return { image: name, sequence: verified.manifest.sequence, version: verified.manifest.version };
    }
    throw new UpdateError('staging-corrupt', 'no image verifies: neither current nor previous');
  }

  async #describeCurrent(): Promise<BootResult> {
    return this.#startVerified();
  }

  async #verifyStored(name: string): Promise<VerifiedManifest | undefined> {
    try {
      const envelope = await this.#fs.readFile(this.slots.manifestPath(name));
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
    const component = this.#o.componentId ?? ['firmware'];
    if (verified.manifest.componentId.join('/') !== component.join('/')) {
      throw new ManifestError('wrong-device', `component ${verified.manifest.componentId.join('/')} is not ${component.join('/')}`);
    }
    return verified;
  }

  /** Re-hashes a staged or stored image against its manifest. */
  async #checkImage(name: string, verified: VerifiedManifest): Promise<void> {
    const actual = await this.slots.hashImage(name);
    if (actual === undefined || actual.size !== verified.manifest.imageSize || !actual.digest.equals(verified.manifest.imageDigest)) {
      await this.slots.remove(name);
      throw new UpdateError('staging-corrupt', `image ${name} does not match its signed digest`);
    }
  }

  async #checkSpace(name: string, size: number): Promise<void> {
    let have = 0;
    try {
      have = (await this.#fs.stat(this.slots.stagingPart(name))).size;
    } catch {
      have = 0;
    }
    const free = await this.slots.freeBytes();
    const needed = size - Math.min(have, size) + (this.#o.freeSpaceMarginBytes ?? 65_536);
    if (free < needed) throw new UpdateError('no-space', `${needed} bytes needed, ${free} free on ${this.#o.root}`);
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
