/**
 * The campaign API over HTTP, mounted on the update server:
 * - `GET /api/offer?device=ID` → 200 with the envelope (`application/suit-envelope+cbor`,
 *   header `x-campaign`), or 204 when nothing is offered. A `group` parameter (sent by older
 *   agents) is checked for form and otherwise ignored: the operator assigns groups;
 * - `POST /api/report` with JSON `{ campaign, device, state, reason? }` → the campaign's status;
 *   400 for a device that was not offered that campaign;
 * - `GET /api/campaigns` and `GET /api/campaigns/ID` → status JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError } from '../../sdk/core/errors.js';
import type { CampaignStore, DeviceUpdateState } from './campaign-store.js';

/** Largest report body, bytes: a report is a few dozen. */
const MAX_REPORT_BYTES = 4096;
/** Longest failure reason kept. */
const MAX_REASON_LENGTH = 512;

/** A device id or group: 1–128 of letters, digits and `._:-` (no control characters, no paths). */
function identifier(value: string | null, name: string): string {
  if (value === null || !/^[A-Za-z0-9._:-]{1,128}$/.test(value)) throw new ValidationError(name, 'expected 1–128 letters, digits or ._:-');
  return value;
}

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
        const device = identifier(url.searchParams.get('device'), 'device');
        if (url.searchParams.has('group')) identifier(url.searchParams.get('group'), 'group');
        const offer = store.offerFor(device);
        if (offer === undefined) response.writeHead(204).end();
        else response.writeHead(200, { 'content-type': 'application/suit-envelope+cbor', 'x-campaign': String(offer.campaignId) }).end(Buffer.from(offer.envelope));
        return true;
      }
      if (request.method === 'POST' && url.pathname === '/api/report') {
        if (body.length > MAX_REPORT_BYTES) {
          json(413, { error: `a report is at most ${MAX_REPORT_BYTES} bytes` });
          return true;
        }
        const report = JSON.parse(body.toString('utf8')) as { campaign?: unknown; device?: unknown; state?: unknown; reason?: unknown } | null;
        if (typeof report !== 'object' || report === null || Array.isArray(report) || !Number.isSafeInteger(report.campaign) || (report.campaign as number) < 1 || typeof report.state !== 'string') {
          throw new ValidationError('body', 'expected { campaign: integer from 1, device: string, state: string, reason?: string }');
        }
        const device = identifier(typeof report.device === 'string' ? report.device : null, 'device');
        if (report.reason !== undefined && (typeof report.reason !== 'string' || report.reason.length > MAX_REASON_LENGTH)) {
          throw new ValidationError('reason', `expected text of at most ${MAX_REASON_LENGTH} characters`);
        }
        json(200, store.report(report.campaign as number, device, report.state as DeviceUpdateState, report.reason));
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
