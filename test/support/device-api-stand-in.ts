/**
 * A stand-in for an update server's device listener, for the device-side tests: one campaign (or
 * none) offered to every device until the device reports an outcome, with the protocol's ETag /
 * If-None-Match / 304, `x-poll-after`, `downloadAfterS`, a payload URL map to `/files/<path>`
 * (byte ranges), and every request recorded. `failAttempts` re-offers a device its campaign after a
 * `failed` report, as a server's retries would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInCampaign {
  readonly id: number;
  readonly envelope: Uint8Array;
  readonly sequence: number;
  /** Payload bytes by the URI the manifest names. */
  readonly payloads: Readonly<Record<string, Uint8Array>>;
  /** Where each URI is served (default `files/<uri>`); lets a test map a URI to an unrelated path. */
  readonly paths?: Readonly<Record<string, string>>;
}

export interface StandInReport {
  readonly campaign: number;
  readonly device: string;
  readonly state: string;
  readonly reason?: string;
  readonly failure?: string;
}

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly device?: string;
  readonly ifNoneMatch?: string;
  readonly range?: string;
  readonly status: number;
  readonly at: number;
}

export interface DeviceApiStandIn {
  readonly url: string;
  readonly reports: StandInReport[];
  readonly requests: StandInRequest[];
  /** Offers `campaign` to every device from now on (undefined: nothing). */
  offer(campaign: StandInCampaign | undefined): void;
  /** The most requests the listener held open at once. */
  mostInFlight(): number;
  /** Devices' outcomes by id (the last outcome reported). */
  outcomes(): Map<string, string>;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** `x-poll-after`, seconds. Default 0.1. */
  readonly pollAfterS?: number;
  /** `downloadAfterS` of every offer. Default 0. */
  readonly downloadAfterS?: number;
  /** Answer every offer with this body instead (a malformed-offer test). */
  readonly rawOffer?: string;
  /** Re-offer after a failed report this many times per device. Default 0. */
  readonly retries?: number;
  /** Answer every request this late, ms (a loaded server). Default 0. */
  readonly delayMs?: number;
  /** Refuse the first N reports with 503 (a server under load), recording nothing. Default 0. */
  readonly refuseReports?: number;
}

const OUTCOMES = new Set(['confirmed', 'current', 'failed', 'rolled-back']);

export async function startDeviceApiStandIn(options: StandInOptions = {}): Promise<DeviceApiStandIn> {
  let campaign: StandInCampaign | undefined;
  const version = new Map<string, number>();
  const done = new Map<string, string>();
  const retriesLeft = new Map<string, number>();
  const reports: StandInReport[] = [];
  const requests: StandInRequest[] = [];
  let base = '';
  let refused = 0;
  const record = (request: IncomingMessage, path: string, status: number, device?: string): void =>
    void requests.push({
      method: request.method ?? '',
      path,
      ...(device === undefined ? {} : { device }),
      ...(typeof request.headers['if-none-match'] === 'string' ? { ifNoneMatch: request.headers['if-none-match'] } : {}),
      ...(typeof request.headers.range === 'string' ? { range: request.headers.range } : {}),
      status,
      at: Date.now(),
    });

  const handle = (request: IncomingMessage, response: ServerResponse, body: string): void => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (request.method === 'GET' && url.pathname === '/api/offer') {
      const device = url.searchParams.get('device') ?? '';
      const offered = campaign !== undefined && !done.has(`${campaign.id}/${device}`);
      const etag = offered ? `"c${campaign!.id}-v${version.get(device) ?? 0}"` : '"none"';
      const headers = { etag, 'x-poll-after': String(options.pollAfterS ?? 0.1) };
      if (request.headers['if-none-match'] === etag) return void (record(request, url.pathname, 304, device), response.writeHead(304, headers).end());
      if (!offered) return void (record(request, url.pathname, 204, device), response.writeHead(204, headers).end());
      if (options.rawOffer !== undefined) return void (record(request, url.pathname, 200, device), response.writeHead(200, headers).end(options.rawOffer));
      const payloads = Object.fromEntries(Object.keys(campaign!.payloads).map((uri) => [uri, `${base}${campaign!.paths?.[uri] ?? `files/${uri}`}`]));
      record(request, url.pathname, 200, device);
      response.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(
        JSON.stringify({ campaign: campaign!.id, envelope: Buffer.from(campaign!.envelope).toString('base64'), sequence: campaign!.sequence, payloads, pollAfterS: options.pollAfterS ?? 0.1, downloadAfterS: options.downloadAfterS ?? 0 }),
      );
      return;
    }
    if (request.method === 'POST' && url.pathname === '/api/report') {
      const report = JSON.parse(body) as StandInReport;
      if (refused < (options.refuseReports ?? 0)) {
        refused++;
        record(request, url.pathname, 503, report.device);
        return void response.writeHead(503, { 'retry-after': '1' }).end('{"error":"busy"}');
      }
      if (campaign === undefined || report.campaign !== campaign.id) return void (record(request, url.pathname, 400, report.device), response.writeHead(400).end('{"error":"device was not offered campaign"}'));
      reports.push(report);
      record(request, url.pathname, 200, report.device);
      if (OUTCOMES.has(report.state)) {
        const left = retriesLeft.get(report.device) ?? options.retries ?? 0;
        if (report.state === 'failed' && left > 0) {
          retriesLeft.set(report.device, left - 1);
          version.set(report.device, (version.get(report.device) ?? 0) + 1);
        } else done.set(`${campaign.id}/${report.device}`, report.state);
      }
      return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
    if (request.method === 'GET' && campaign !== undefined) {
      const path = url.pathname.slice(1);
      const uri = Object.keys(campaign.payloads).find((u) => (campaign!.paths?.[u] ?? `files/${u}`).split('?')[0] === path);
      if (uri !== undefined) {
        const bytes = Buffer.from(campaign.payloads[uri]!);
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
        if (range !== null) {
          const start = Number(range[1]);
          const end = range[2] === '' ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
          record(request, url.pathname, 206);
          response.writeHead(206, { etag: '"p1"', 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': String(end - start + 1) }).end(bytes.subarray(start, end + 1));
        } else {
          record(request, url.pathname, 200);
          response.writeHead(200, { etag: '"p1"', 'content-length': String(bytes.length) }).end(bytes);
        }
        return;
      }
    }
    record(request, url.pathname, 404);
    response.writeHead(404).end();
  };

  let inFlight = 0;
  let most = 0;
  const server: Server = createServer((request, response) => {
    most = Math.max(most, ++inFlight);
    response.once('close', () => inFlight--);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (options.delayMs) setTimeout(() => handle(request, response, body), options.delayMs);
      else handle(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    reports,
    requests,
    offer: (next) => {
      campaign = next;
      for (const device of version.keys()) version.set(device, (version.get(device) ?? 0) + 1);
    },
    mostInFlight: () => most,
    outcomes: () => {
      const result = new Map<string, string>();
      for (const [key, state] of done) result.set(key.slice(key.indexOf('/') + 1), state);
      return result;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
