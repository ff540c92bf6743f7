/**
 * The device's side of the campaign API (server/campaign-api.ts): ask for an offer, and report how
 * the update went, so the server's campaign status and failure ratio come from the devices
 * themselves. Errors are `UpdateError` `download-failed` (the server could not be reached).
 */
import { UpdateError } from '../errors.js';
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

  constructor(options: { serverUrl: string; deviceId: string; group: string }) {
    this.#serverUrl = options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`;
    this.#deviceId = options.deviceId;
    this.#group = options.group;
  }

  /** The offer for this device, or undefined when there is none. */
  async poll(): Promise<CampaignOffer | undefined> {
    const url = new URL('api/offer', this.#serverUrl);
    url.searchParams.set('device', this.#deviceId);
    url.searchParams.set('group', this.#group);
    const response = await this.#fetch(url, {});
    if (response.status === 204) return undefined;
    if (response.status !== 200) throw new UpdateError('download-failed', `${url.href}: HTTP ${response.status}`);
    const campaignId = Number(response.headers.get('x-campaign'));
    return { campaignId, offer: { envelope: new Uint8Array(await response.arrayBuffer()), baseUrl: this.#serverUrl } };
  }

  /** Reports a state to the campaign. */
  async report(campaignId: number, state: OtaStatus['state'], reason?: string): Promise<void> {
    const url = new URL('api/report', this.#serverUrl);
    const body = JSON.stringify({ campaign: campaignId, device: this.#deviceId, state, ...(reason === undefined ? {} : { reason }) });
    const response = await this.#fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
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

  async #fetch(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      throw new UpdateError('download-failed', `${url.href}: ${(error as Error).message}`, { cause: error });
    }
  }
}
