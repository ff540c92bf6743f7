/**
 * The campaign API over HTTP, mounted on the update server:
 * - `GET /api/offer?device=ID&group=G` → 200 with the envelope (`application/suit-envelope+cbor`,
 *   header `x-campaign`), or 204 when nothing is offered;
 * - `POST /api/report` with JSON `{ campaign, device, state, reason? }` → the campaign's status;
 * - `GET /api/campaigns` and `GET /api/campaigns/ID` → status JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError } from '../../sdk/core/errors.js';
import type { CampaignStore, DeviceUpdateState } from './campaign-store.js';

/**
 * A request handler for {@link startUpdateServer}'s `api` option.
 *
 * @example
 * ```ts
 * await startUpdateServer({ dir, api: campaignApi(store) })
 * ```
 */
export function campaignApi(store: CampaignStore): (request: IncomingMessage, response: ServerResponse, body: Buffer) => boolean {
  return (request, response, body) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/api/')) return false;
    const json = (status: number, value: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(value)}\n`);
    try {
      if (request.method === 'GET' && url.pathname === '/api/offer') {
        const device = url.searchParams.get('device') ?? '';
        const group = url.searchParams.get('group') ?? '';
        if (device === '' || group === '') throw new ValidationError('query', 'device and group are required');
        const offer = store.offerFor(device, group);
        if (offer === undefined) response.writeHead(204).end();
        else response.writeHead(200, { 'content-type': 'application/suit-envelope+cbor', 'x-campaign': String(offer.campaignId) }).end(Buffer.from(offer.envelope));
        return true;
      }
      if (request.method === 'POST' && url.pathname === '/api/report') {
        const report = JSON.parse(body.toString('utf8')) as { campaign?: unknown; device?: unknown; state?: unknown; reason?: unknown };
        if (typeof report.campaign !== 'number' || typeof report.device !== 'string' || typeof report.state !== 'string') {
          throw new ValidationError('body', 'expected { campaign: number, device: string, state: string, reason?: string }');
        }
        json(200, store.report(report.campaign, report.device, report.state as DeviceUpdateState, typeof report.reason === 'string' ? report.reason : undefined));
        return true;
      }
      if (request.method === 'GET' && url.pathname === '/api/campaigns') {
        json(200, store.list());
        return true;
      }
      const match = /^\/api\/campaigns\/(\d+)$/.exec(url.pathname);
      if (request.method === 'GET' && match) {
        json(200, store.status(Number(match[1])));
        return true;
      }
      json(404, { error: 'no such API' });
    } catch (error) {
      json(400, { error: error instanceof ValidationError || error instanceof SyntaxError ? error.message : 'bad request' });
    }
    return true;
  };
}
