/**
 * One simulated device: a small state machine speaking the update agent's protocol through the real
 * {@link CampaignClient} (poll with the last ETag, wait for `x-poll-after`, wait for the download
 * slot, report), without A/B folders:
 *
 *   idle ──offer──▶ waiting (download slot) ──▶ downloading ──▶ staged ──▶ trial ──▶ confirmed
 *                                                   │               │          └──▶ rolled-back
 *                                                   └───────────────┴──▶ failed (with its type)
 *
 * The envelope's signature is verified against the trust anchors, the sequence against what the
 * device runs (anti-rollback: an older one is refused, the same one is `current`), and every
 * payload is fetched by its offer URL with a Range request and checked against the signed size and
 * digest. Its fate decides the rest: `healthy` devices confirm; `fail` devices fail (the failure
 * type the simulation names) and `rollback` devices roll back after their trial, for every image
 * they have not run before (an image a device ran is known-good: a rollback campaign to it
 * succeeds); `silent` devices report `downloading` for their first offer and are never heard again.
 */
import type { Clock } from '../../sdk/core/clock.js';
import type { CampaignClient, CampaignFailure, CampaignOffer, ReportedState } from '../agent/campaign-client.js';
import { failureOf } from '../agent/campaign-client.js';
import { payloadUrl } from '../agent/fetch-payload.js';
import { ManifestError, UpdateError } from '../errors.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { readEnvelopeUnverified, verifyEnvelope } from '../manifest/suit-envelope.js';
import { componentsOf, type SuitManifest } from '../manifest/suit-manifest.js';
import type { PayloadCheck } from './payload-check.js';

/** Where a simulated device is. */
export type SimulatedState = 'idle' | 'waiting' | 'downloading' | 'staged' | 'trial' | 'confirmed' | 'current' | 'failed' | 'rolled-back' | 'silent';

/** What a simulated device does with an image it has not run before. */
export type DeviceFate = 'healthy' | 'fail' | 'rollback' | 'silent';

/** What a device runs: the anti-rollback sequence and the image (digests of its components, hex). */
export interface RunningImage {
  readonly sequence: number;
  readonly image: string;
}

/** What one device shares with the rest of its simulation. */
export interface DeviceContext {
  readonly clock: Clock;
  readonly trust: TrustAnchors | undefined;
  /** The failure type of `fail` devices. */
  readonly failure: CampaignFailure;
  /** Seconds a device stays in its trial before it confirms or rolls back. */
  readonly trialS: number;
  /** Runs an HTTP exchange within the simulation's concurrency bound. */
  limit<T>(run: () => Promise<T>): Promise<T>;
  /** Fetches and checks a payload; resolves with the bytes received. */
  fetch(check: Pick<PayloadCheck, 'url' | 'size' | 'digest'>): Promise<number>;
  /** Resolves after `ms`, or at once when the simulation stops. */
  sleep(ms: number): Promise<void>;
  stopped(): boolean;
  /** Counters of the simulation. */
  onPoll(status: 'offer' | 'none' | 'unchanged' | 'error', latencyMs: number): void;
  onReport(state: ReportedState, ok: boolean): void;
  onDownload(bytes: number, ok: boolean): void;
}

/**
 * A simulated device.
 *
 * @example
 * ```ts
 * const device = new SimulatedDevice(new CampaignClient({ serverUrl, deviceId: 'sim-0' }), 'healthy', context, { sequence: 1, image: knownGood })
 * await device.run() // until context.stopped() or the device falls silent
 * ```
 */
export class SimulatedDevice {
  readonly #client: CampaignClient;
  readonly #fate: DeviceFate;
  readonly #context: DeviceContext;
  readonly #known = new Set<string>();
  #running: RunningImage | undefined;
  #state: SimulatedState = 'idle';
  /** Whether the last poll after an outcome found nothing more to do. */
  #quiet = false;

  constructor(client: CampaignClient, fate: DeviceFate, context: DeviceContext, running?: RunningImage) {
    this.#client = client;
    this.#fate = fate;
    this.#context = context;
    this.#running = running;
    if (running !== undefined) this.#known.add(running.image);
  }

  get id(): string {
    return this.#client.deviceId;
  }

  get fate(): DeviceFate {
    return this.#fate;
  }

  get state(): SimulatedState {
    return this.#state;
  }

  /** The sequence the device runs (undefined before its first image). */
  get sequence(): number | undefined {
    return this.#running?.sequence;
  }

  /** Silent, or past an acknowledged outcome with nothing more offered. */
  get settled(): boolean {
    return this.#state === 'silent' || (this.#quiet && this.#client.unsentOutcome === undefined && isOutcome(this.#state));
  }

  /** Polls and installs until the simulation stops or the device falls silent. */
  async run(): Promise<void> {
    const context = this.#context;
    while (!context.stopped() && this.#state !== 'silent') {
      let started = Number.NaN;
      try {
        const unsent = this.#client.unsentOutcome;
        // check() sends a lost outcome again when the server still offers its campaign (a 304).
        const poll = await context.limit(() => ((started = context.clock.now()), this.#client.check()));
        context.onPoll(poll.status, context.clock.now() - started);
        if (unsent !== undefined && poll.status === 'unchanged' && poll.offer?.campaignId === unsent.campaignId) {
          context.onReport(unsent.state, this.#client.unsentOutcome === undefined);
        }
        if (poll.status === 'offer' && poll.offer !== undefined) {
          this.#quiet = false;
          await this.#install(poll.offer);
          // Ask again at once: the outcome may have changed what the server offers.
          continue;
        } else if (poll.offer === undefined) {
          this.#quiet = true;
        }
      } catch {
        context.onPoll('error', Number.isNaN(started) ? 0 : context.clock.now() - started);
      }
      await context.sleep(this.#client.pollAfterS * 1000);
    }
  }

  async #install(next: CampaignOffer): Promise<void> {
    const context = this.#context;
    let manifest: SuitManifest;
    try {
      manifest = context.trust === undefined ? readEnvelopeUnverified(next.offer.envelope).manifest : verifyEnvelope(next.offer.envelope, context.trust).manifest;
    } catch (error) {
      return this.#fail(next, error);
    }
    const components = componentsOf(manifest);
    const image = components.map((c) => Buffer.from(c.imageDigest).toString('hex')).join('+');
    const running = this.#running;
    if (running !== undefined && manifest.sequence <= running.sequence) {
      if (manifest.sequence === running.sequence && image === running.image) return this.#outcome(next, 'current');
      const reason = manifest.sequence < running.sequence ? 'downgrade' : 'sequence-conflict';
      return this.#fail(next, new ManifestError(reason, `sequence ${manifest.sequence} over the running ${running.sequence}`));
    }
    if (this.#fate === 'silent') {
      // Reports that it starts, then power or network is gone for good.
      this.#state = 'downloading';
      await this.#report(next, 'downloading');
      this.#state = 'silent';
      return;
    }
    const known = this.#known.has(image);
    this.#state = 'waiting';
    if (next.downloadAfterS > 0) await context.sleep(next.downloadAfterS * 1000);
    if (context.stopped()) return;
    this.#state = 'downloading';
    await this.#report(next, 'downloading');
    for (const component of components) {
      try {
        const bytes = await context.limit(() => context.fetch({ url: payloadUrl(component.uri, next.offer), size: component.imageSize, digest: component.imageDigest }));
        context.onDownload(bytes, true);
      } catch (error) {
        context.onDownload(0, false);
        return this.#fail(next, error);
      }
    }
    if (!known && this.#fate === 'fail') return this.#fail(next, undefined, this.#context.failure);
    this.#state = 'staged';
    await this.#report(next, 'staged');
    this.#state = 'trial';
    await this.#report(next, 'trial');
    if (context.trialS > 0) await context.sleep(context.trialS * 1000);
    if (context.stopped()) return;
    if (!known && this.#fate === 'rollback') return this.#outcome(next, 'rolled-back', 'health-check-failed');
    this.#running = { sequence: manifest.sequence, image };
    this.#known.add(image);
    return this.#outcome(next, 'confirmed');
  }

  async #fail(next: CampaignOffer, error: unknown, failure?: CampaignFailure): Promise<void> {
    const reason = error instanceof ManifestError || error instanceof UpdateError ? error.reason : failure === undefined ? 'other' : `simulated-${failure}`;
    this.#state = 'failed';
    await this.#report(next, 'failed', { reason, failure: failure ?? failureOf(reason) });
  }

  async #outcome(next: CampaignOffer, state: 'confirmed' | 'current' | 'rolled-back', reason?: string): Promise<void> {
    this.#state = state;
    await this.#report(next, state, reason === undefined ? undefined : { reason });
  }

  /** Reports once; an outcome that does not get through is sent again by the client's next poll. */
  async #report(next: CampaignOffer, state: ReportedState, detail?: { reason?: string; failure?: CampaignFailure }): Promise<void> {
    const context = this.#context;
    try {
      await context.limit(() => this.#client.report(next.campaignId, state, detail));
      context.onReport(state, true);
    } catch {
      context.onReport(state, false);
    }
  }
}

function isOutcome(state: SimulatedState): boolean {
  return state === 'confirmed' || state === 'current' || state === 'failed' || state === 'rolled-back';
}
