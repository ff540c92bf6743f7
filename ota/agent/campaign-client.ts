/**
 * The device's side of an update server's device API: ask for an offer, and report how the update
 * went, so the rollout's counters and its halting come from the devices themselves.
 *
 * Protocol:
 * - `GET /api/offer?device=ID` with `If-None-Match: "<etag>"` of the last answer → 304 (nothing
 *   changed: the last answer stands), 204 (nothing offered), or 200 JSON `{ campaign, envelope
 *   (base64), sequence, payloads: { <manifest URI>: <absolute URL> }, pollAfterS, downloadAfterS }`.
 *   Every answer carries an `ETag` and `x-poll-after: <seconds>`: when to ask again (the server's
 *   jitter, so a fleet does not poll in step).
 * - `POST /api/report` `{ campaign, device, state, reason?, failure? }` → 200.
 * - Payload links that expire (presigned) are renewed by the server before they do: a tag
 *   `"<offer>~<expiry>"` names the offer and when its links expire, and a poll near that expiry is
 *   answered 200 with new links under a tag with the same `<offer>` part. The client takes that as
 *   the same offer with new links (`unchanged`, the new URLs in force), not a new offer to install.
 *
 * `downloadAfterS` is the device's download slot: {@link CampaignClient.run} waits that long before
 * it fetches, so a wave released at once does not start every download in the same second.
 * The payload URLs may point anywhere (a CDN, presigned object storage): the signed digest in the
 * envelope is what the device trusts, not the transport.
 *
 * Errors are `UpdateError` `download-failed` (the server could not be reached, answered an unknown
 * status or a malformed offer) and `ManifestError` `limit` (an answer longer than any offer may be,
 * read no further). A server that asks devices for a client certificate gets the device's identity
 * (`tls: { cert, key, ca }`).
 */
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { ManifestError, UpdateError } from '../errors.js';
import { MAX_ENVELOPE_BYTES } from '../manifest/suit-envelope.js';
import { requestCapped, type CappedRequest, type CappedResponse, type ClientTls } from './http-request.js';
import type { OtaStatus, UpdateAgent, UpdateOffer } from './update-agent.js';
import type { FailureType, ReportedState } from '../device-protocol.js';

/** Why an update failed, as the server counts it (abort criteria and retries are per type). */
export type CampaignFailure = FailureType;

export type { ReportedState };

/** A campaign offer: the envelope, where its payloads are, and when to start the download. */
export interface CampaignOffer {
  readonly campaignId: number;
  /** The manifest's sequence number, as the server announces it (the envelope's is what counts). */
  readonly sequence: number;
  /** What the update agent installs: the envelope and the payload URL map. */
  readonly offer: UpdateOffer;
  /** The absolute URL of each payload, by the URI its manifest names. */
  readonly payloads: Readonly<Record<string, string>>;
  /** Seconds to wait before the download starts (the device's download slot). */
  readonly downloadAfterS: number;
}

/** An outcome report the server has not acknowledged. */
export interface UnsentOutcome {
  readonly campaignId: number;
  readonly state: ReportedState;
  readonly detail: { readonly reason?: string; readonly failure?: CampaignFailure };
}

/** One poll's outcome. */
export interface CampaignPoll {
  /**
   * `offer`: a new or changed offer (200); `none`: nothing offered (204); `unchanged`: 304, or a 200
   * that only renews the payload links of the offer in force.
   */
  readonly status: 'offer' | 'none' | 'unchanged';
  /** The offer in force: the new one, or on `unchanged` the last one (with renewed links, if any; undefined after a 204). */
  readonly offer: CampaignOffer | undefined;
  /** When to poll again, seconds (the server's `x-poll-after`, within the client's bounds). */
  readonly pollAfterS: number;
}

/** Options of {@link CampaignClient}. */
export interface CampaignClientOptions {
  /** The update server's device listener, e.g. `https://ota.plant.example:8443/`. */
  readonly serverUrl: string;
  readonly deviceId: string;
  /** Ignored: the operator assigns groups on the server. Accepted so that earlier callers compile. */
  readonly group?: string;
  /** How long one request (headers and body) may take, ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** A private CA (`ca`) and the device's certificate and key (`cert`, `key`, PEM) for mutual TLS. */
  readonly tls?: ClientTls;
  /** Waits for the download slot. Default a SystemClock. */
  readonly clock?: Clock;
  /**
   * Bounds of the poll interval, seconds, whatever the server says (a server cannot make a device
   * poll in a loop or never again). Default `{ min: 1, max: 86_400 }`; `fallback` (default 300) when
   * the server names none.
   */
  readonly pollBoundsS?: { readonly min?: number; readonly max?: number; readonly fallback?: number };
}

/** Largest offer body: the envelope in base64 plus the payload URLs (presigned URLs are long). */
export const MAX_OFFER_BYTES = Math.ceil(MAX_ENVELOPE_BYTES / 3) * 4 + 65_536;
/** Longest download slot a server may ask for, seconds. */
const MAX_DOWNLOAD_DELAY_S = 86_400;

/**
 * A client of one update server for one device.
 *
 * @example
 * ```ts
 * const campaigns = new CampaignClient({ serverUrl: 'http://127.0.0.1:8081/', deviceId: 'en-1-SN1' })
 * const poll = await campaigns.check()
 * if (poll.status === 'offer') await campaigns.run(agent, poll.offer!)
 * // ask again in poll.pollAfterS seconds
 * ```
 */
export class CampaignClient {
  readonly #serverUrl: string;
  readonly #deviceId: string;
  readonly #timeoutMs: number;
  readonly #tls: ClientTls | undefined;
  readonly #clock: Clock;
  readonly #bounds: { min: number; max: number; fallback: number };
  #etag: string | undefined;
  #offer: CampaignOffer | undefined;
  #pollAfterS: number;
  #unsent: UnsentOutcome | undefined;

  constructor(options: CampaignClientOptions) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new ArgumentError(`Expected \`timeoutMs\` to be a number above 0, got ${String(timeoutMs)}`);
    const min = options.pollBoundsS?.min ?? 1;
    const max = options.pollBoundsS?.max ?? 86_400;
    const fallback = options.pollBoundsS?.fallback ?? 300;
    if (!(Number.isFinite(min) && min >= 0 && Number.isFinite(max) && max >= min && fallback >= min && fallback <= max)) {
      throw new ArgumentError(`Expected \`pollBoundsS\` to be { 0 ≤ min ≤ fallback ≤ max }, got ${JSON.stringify(options.pollBoundsS)}`);
    }
    this.#timeoutMs = timeoutMs;
    this.#serverUrl = options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`;
    this.#deviceId = options.deviceId;
    this.#tls = options.tls;
    this.#clock = options.clock ?? new SystemClock({ precisionWindowMs: 0 });
    this.#bounds = { min, max, fallback };
    this.#pollAfterS = fallback;
  }

  /** The device id this client polls and reports for. */
  get deviceId(): string {
    return this.#deviceId;
  }

  /** When to poll again, seconds, from the last answer (the fallback before the first). */
  get pollAfterS(): number {
    return this.#pollAfterS;
  }

  /** An outcome report that did not get through, sent again by {@link check} while the server still offers its campaign. */
  get unsentOutcome(): UnsentOutcome | undefined {
    return this.#unsent;
  }

  /**
   * Asks for an offer, sending the last answer's ETag: a 304 keeps the last offer in force without
   * the envelope being sent again. An outcome whose report did not get through is sent again when
   * the answer is a 304 for its campaign (the server did not hear it: the device would time out);
   * any other answer drops it.
   */
  async check(): Promise<CampaignPoll> {
    const poll = await this.#check();
    const unsent = this.#unsent;
    if (unsent !== undefined) {
      if (poll.status === 'unchanged' && poll.offer?.campaignId === unsent.campaignId) await this.report(unsent.campaignId, unsent.state, unsent.detail).catch(() => undefined);
      else this.#unsent = undefined;
    }
    return poll;
  }

  async #check(): Promise<CampaignPoll> {
    const url = new URL('api/offer', this.#serverUrl);
    url.searchParams.set('device', this.#deviceId);
    const headers: Record<string, string> = this.#etag === undefined ? {} : { 'if-none-match': this.#etag };
    const response = await this.#request(url, { headers, maxBytes: MAX_OFFER_BYTES });
    this.#pollAfterS = this.#boundedPoll(response.headers['x-poll-after']);
    const etag = typeof response.headers.etag === 'string' ? response.headers.etag : undefined;
    if (response.status === 304) {
      if (this.#etag === undefined) throw new UpdateError('download-failed', `${url.href}: 304 to a request without If-None-Match`);
      return { status: 'unchanged', offer: this.#offer, pollAfterS: this.#pollAfterS };
    }
    if (response.status === 204) {
      this.#etag = etag;
      this.#offer = undefined;
      return { status: 'none', offer: undefined, pollAfterS: this.#pollAfterS };
    }
    if (response.status !== 200) throw new UpdateError('download-failed', `${url.href}: HTTP ${response.status}`);
    const offer = parseOffer(url, response.body);
    const held = this.#offer;
    // New links for the offer in force: the tag's offer part and the envelope are unchanged.
    const renewed = held !== undefined && sameOffer(this.#etag, etag) && held.campaignId === offer.campaignId && Buffer.from(held.offer.envelope).equals(offer.offer.envelope);
    this.#etag = etag;
    this.#offer = offer;
    return { status: renewed ? 'unchanged' : 'offer', offer, pollAfterS: this.#pollAfterS };
  }

  /** The offer in force for this device, or undefined when there is none ({@link check} without the status). */
  async poll(): Promise<CampaignOffer | undefined> {
    return (await this.check()).offer;
  }

  /**
   * Reports a state to the campaign. `detail` is the failure's reason (text), or the reason and its
   * type (`failure`); a `failed` report without a type is counted as `other` by the server.
   */
  async report(campaignId: number, state: ReportedState, detail?: string | { readonly reason?: string; readonly failure?: CampaignFailure }): Promise<void> {
    const url = new URL('api/report', this.#serverUrl);
    const { reason, failure } = typeof detail === 'string' ? { reason: detail, failure: undefined } : (detail ?? {});
    const body = JSON.stringify({ campaign: campaignId, device: this.#deviceId, state, ...(reason === undefined ? {} : { reason }), ...(failure === undefined ? {} : { failure }) });
    const outcome = state === 'confirmed' || state === 'current' || state === 'failed' || state === 'rolled-back';
    try {
      // The answer is a short acknowledgement; anything long is refused unread.
      const response = await this.#request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, maxBytes: 65_536 });
      if (response.status !== 200) throw new UpdateError('download-failed', `${url.href}: HTTP ${response.status}${errorText(response.body)}`);
    } catch (error) {
      if (outcome) this.#unsent = { campaignId, state, detail: { ...(reason === undefined ? {} : { reason }), ...(failure === undefined ? {} : { failure }) } };
      throw error;
    }
    if (outcome && this.#unsent?.campaignId === campaignId) this.#unsent = undefined;
  }

  /**
   * Waits for the offer's download slot, installs it with `agent`, and reports as it goes:
   * `downloading`, `staged`, `trial` (best effort), then the outcome: `confirmed`, `current`,
   * `rolled-back`, or `failed` with the failure's type. Resolves with the final state.
   */
  async run(agent: UpdateAgent, next: CampaignOffer): Promise<ReportedState> {
    if (next.downloadAfterS > 0) await sleep(this.#clock, next.downloadAfterS * 1000);
    let last: OtaStatus | undefined;
    let progress: Promise<void> = Promise.resolve();
    let reported: OtaStatus['state'] | undefined;
    const off = agent.on('status', (status) => {
      if (status.state === 'downloading' || status.state === 'staged' || status.state === 'trial') {
        if (reported === status.state) return;
        reported = status.state;
        const state = status.state;
        // In order, and never in the way of the update: a lost progress report costs nothing.
        progress = progress.then(() => this.report(next.campaignId, state).catch(() => undefined));
      } else if (status.state === 'confirmed' || status.state === 'rolled-back' || status.state === 'current' || status.state === 'failed') {
        last = status;
      }
    });
    let thrown: unknown;
    try {
      await agent.update(next.offer);
    } catch (error) {
      thrown = error;
    } finally {
      off();
    }
    await progress;
    const state: ReportedState = last?.state === 'confirmed' || last?.state === 'rolled-back' || last?.state === 'current' ? last.state : 'failed';
    if (state === 'failed') {
      const reason = last?.reason ?? (thrown instanceof UpdateError || thrown instanceof ManifestError ? thrown.reason : 'storage');
      await this.report(next.campaignId, 'failed', { reason, failure: failureOf(reason) });
    } else {
      await this.report(next.campaignId, state, last?.reason);
    }
    return state;
  }

  #boundedPoll(header: string | string[] | undefined): number {
    const value = typeof header === 'string' ? Number(header.trim()) : Number.NaN;
    if (!Number.isFinite(value) || (typeof header === 'string' && header.trim() === '')) return this.#bounds.fallback;
    return Math.min(this.#bounds.max, Math.max(this.#bounds.min, value));
  }

  #request(url: URL, request: Omit<CappedRequest, 'timeoutMs' | 'tls'>): Promise<CappedResponse> {
    return requestCapped(url, { ...request, timeoutMs: this.#timeoutMs, ...(this.#tls === undefined ? {} : { tls: this.#tls }) });
  }
}

/**
 * The failure type the server counts for an agent's refusal or error reason: `download` for a
 * transfer, `verify` for an envelope or payload refused (signature, digest, replay, wrong device),
 * `health` for a trial that failed its probes, `install` for storage and staging, `other` else.
 *
 * @example
 * ```ts
 * failureOf('payload-mismatch') // 'verify'
 * ```
 */
export function failureOf(reason: string): CampaignFailure {
  if (reason === 'download-failed') return 'download';
  if (reason === 'health-check-failed') return 'health';
  if (reason === 'storage' || reason === 'no-space' || reason === 'staging-corrupt' || reason === 'state-damaged' || reason === 'unsafe-root' || reason === 'busy') return 'install';
  if (MANIFEST_REASONS.has(reason)) return 'verify';
  return 'other';
}

const MANIFEST_REASONS = new Set([
  'malformed-cbor', 'limit', 'bad-structure', 'unsigned', 'bad-algorithm', 'unknown-key', 'revoked-key', 'bad-signature', 'digest-mismatch',
  'replayed', 'sequence-conflict', 'downgrade', 'wrong-device', 'payload-mismatch', 'unsupported-command', 'old-layout',
]);

/** Parses and checks a 200 offer; anything off is `download-failed` naming the field. */
function parseOffer(url: URL, body: Uint8Array): CampaignOffer {
  const bad = (what: string): UpdateError => new UpdateError('download-failed', `${url.href}: the offer's ${what}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw bad('body is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('body is not a JSON object');
  const o = json as Record<string, unknown>;
  const campaignId = o.campaign;
  if (typeof campaignId !== 'number' || !Number.isSafeInteger(campaignId) || campaignId < 1) throw bad('campaign is not a positive integer');
  const sequence = o.sequence;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) throw bad('sequence is not an integer ≥ 0');
  if (typeof o.envelope !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.envelope)) throw bad('envelope is not base64');
  const envelope = new Uint8Array(Buffer.from(o.envelope, 'base64'));
  if (envelope.length === 0) throw bad('envelope is empty');
  if (envelope.length > MAX_ENVELOPE_BYTES) throw new ManifestError('limit', `${url.href}: an envelope of ${envelope.length} bytes is above ${MAX_ENVELOPE_BYTES}`);
  const payloads: Record<string, string> = {};
  if (o.payloads !== undefined) {
    if (typeof o.payloads !== 'object' || o.payloads === null || Array.isArray(o.payloads)) throw bad('payloads is not an object');
    for (const [uri, target] of Object.entries(o.payloads)) {
      if (typeof target !== 'string' || !/^https?:\/\//i.test(target) || !URL.canParse(target)) throw bad(`payloads[${JSON.stringify(uri)}] is not an absolute http(s) URL`);
      payloads[uri] = target;
    }
  }
  const downloadAfterS = o.downloadAfterS === undefined ? 0 : o.downloadAfterS;
  if (typeof downloadAfterS !== 'number' || !Number.isFinite(downloadAfterS) || downloadAfterS < 0) throw bad('downloadAfterS is not a number ≥ 0');
  return {
    campaignId,
    sequence,
    offer: { envelope, urls: payloads },
    payloads,
    downloadAfterS: Math.min(downloadAfterS, MAX_DOWNLOAD_DELAY_S),
  };
}

/** Whether two tags of the form `"<offer>~<links' expiry>"` name the same offer (with other links). */
function sameOffer(held: string | undefined, next: string | undefined): boolean {
  const offerPart = (tag: string | undefined): string | undefined => (tag === undefined ? undefined : /^"([^"~]+)~\d+"$/.exec(tag)?.[1]);
  const a = offerPart(held);
  return a !== undefined && a === offerPart(next) && held !== next;
}

/** The first line of a JSON `{ error }` answer, for a refusal's message. */
function errorText(body: Uint8Array): string {
  try {
    const parsed = JSON.parse(Buffer.from(body.subarray(0, 1024)).toString('utf8')) as { error?: unknown };
    return typeof parsed.error === 'string' ? `: ${parsed.error.split('\n')[0]!.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.schedule(clock.now() + ms, resolve));
}
