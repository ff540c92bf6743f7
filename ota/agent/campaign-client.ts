/**
 * The device's side of the campaign API (server/campaign-api.ts): ask for an offer, and report how
 * the update went, so the server's campaign status and failure ratio come from the devices
 * themselves. Errors are `UpdateError` `download-failed` (the server could not be reached) and
 * `ManifestError` `limit` (an offer larger than any envelope may be, read no further). A server that
 * asks devices for a client certificate gets the device's identity (`tls: { cert, key, ca }`).
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { UpdateError } from '../errors.js';
import { MAX_ENVELOPE_BYTES } from '../manifest/suit-envelope.js';
import { requestCapped, type CappedRequest, type CappedResponse, type ClientTls } from './http-request.js';
import type { OtaStatus, UpdateAgent, UpdateOffer } from './update-agent.js';

/** A campaign offer: the envelope and the campaign it belongs to. */
export interface CampaignOffer {
  readonly campaignId: number;
  readonly offer: UpdateOffer;
}

/**
 * A client of one update server for one device.
 *
 * @example
 * ```ts
 * const campaigns = new CampaignClient({ serverUrl: 'http://127.0.0.1:8080/', deviceId: 'en-1-SN1', group: 'line-3' })
 * const next = await campaigns.poll()
 * if (next) await campaigns.run(agent, next)
 * ```
 */
export class CampaignClient {
  readonly #serverUrl: string;
  readonly #deviceId: string;
  readonly #group: string;
  readonly #timeoutMs: number;
  readonly #tls: ClientTls | undefined;

  /**
   * `timeoutMs`: how long one request (headers and body) may take, default 30,000. `tls`: a private
   * CA (`ca`) and the device's certificate and key (`cert`, `key`, PEM) for mutual TLS.
   */
  constructor(options: { serverUrl: string; deviceId: string; group: string; timeoutMs?: number; tls?: ClientTls }) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new ArgumentError(`Expected \`timeoutMs\` to be a number above 0, got ${String(timeoutMs)}`);
    this.#timeoutMs = timeoutMs;
    this.#serverUrl = options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`;
    this.#deviceId = options.deviceId;
    this.#group = options.group;
    this.#tls = options.tls;
  }

  /** The offer for this device, or undefined when there is none. */
  async poll(): Promise<CampaignOffer | undefined> {
    const url = new URL('api/offer', this.#serverUrl);
    url.searchParams.set('device', this.#deviceId);
    url.searchParams.set('group', this.#group);
    const response = await this.#request(url, { maxBytes: MAX_ENVELOPE_BYTES });
    if (response.status === 204) return undefined;
    if (response.status !== 200) throw new UpdateError('download-failed', `${url.href}: HTTP ${response.status}`);
    const campaignId = Number(response.headers['x-campaign']);
    if (!Number.isSafeInteger(campaignId) || campaignId < 1) throw new UpdateError('download-failed', `${url.href}: no campaign id in the offer`);
    return { campaignId, offer: { envelope: response.body, baseUrl: this.#serverUrl } };
  }

  /** Reports a state to the campaign. */
  async report(campaignId: number, state: OtaStatus['state'], reason?: string): Promise<void> {
    const url = new URL('api/report', this.#serverUrl);
    const body = JSON.stringify({ campaign: campaignId, device: this.#deviceId, state, ...(reason === undefined ? {} : { reason }) });
    // The answer is a short acknowledgement; anything long is refused unread.
    const response = await this.#request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, maxBytes: 65_536 });
    if (response.status !== 200) throw new UpdateError('download-failed', `${url.href}: HTTP ${response.status}`);
  }

  /**
   * Installs an offer with `agent` and reports the outcome: `confirmed`, `rolled-back`, `current` or
   * `failed` with the reason. Resolves with the final state.
   */
  async run(agent: UpdateAgent, next: CampaignOffer): Promise<OtaStatus['state']> {
    let last: OtaStatus | undefined;
    const off = agent.on('status', (status) => {
      if (status.state === 'confirmed' || status.state === 'rolled-back' || status.state === 'current' || status.state === 'failed') last = status;
    });
    try {
      await agent.update(next.offer);
    } catch {
      // The 'failed' status carries the reason.
    } finally {
      off();
    }
    const state = last?.state ?? 'failed';
    await this.report(next.campaignId, state, last?.reason);
    return state;
  }

  #request(url: URL, request: Omit<CappedRequest, 'timeoutMs' | 'tls'>): Promise<CappedResponse> {
    return requestCapped(url, { ...request, timeoutMs: this.#timeoutMs, ...(this.#tls === undefined ? {} : { tls: this.#tls }) });
  }
}
