/**
 * An HTTP server for download fault tests: serves one body with an ETag and honours Range and
 * If-Range like a correct server, unless told to misbehave: cut the connection after N bytes, ignore
 * Range (200 instead of 206), answer 206 for a changed resource, or send data without end.
 * Records each request's Range and If-Range headers.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultPlan {
  body: Buffer;
  etag: string;
  /** Cut the next response's connection after this many body bytes (then cleared). */
  cutAfterBytes?: number;
  /** Ignore Range: always 200 with the whole body. */
  ignoreRange?: boolean;
  /** Ignore If-Range: a 206 even when the ETag differs. */
  ignoreIfRange?: boolean;
  /** Send bytes forever (no Content-Length). */
  endless?: boolean;
  /** Announce this Content-Length instead of the true one (then send the body as usual). */
  declaredLength?: number;
  /** Send one byte every `dripMs` (slow loris), with the true Content-Length. */
  dripMs?: number;
  /** Send this many bytes, then keep the connection open and silent. */
  stallAfterBytes?: number;
}

export interface FaultServer {
  readonly url: string;
  readonly plan: FaultPlan;
  readonly requests: { range: string | undefined; ifRange: string | undefined; status: number }[];
  close(): Promise<void>;
}

export async function startFaultServer(plan: FaultPlan): Promise<FaultServer> {
  const requests: FaultServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const range = request.headers.range;
    const ifRange = request.headers['if-range'] as string | undefined;
    const entry = { range, ifRange, status: 0 };
    requests.push(entry);
    if (plan.endless) {
      entry.status = 200;
      response.writeHead(200, { etag: plan.etag });
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      response.on('close', () => undefined);
      pump();
      return;
    }
    const body = plan.body;
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    const rangeOk = match !== null && !plan.ignoreRange && (ifRange === undefined || ifRange === plan.etag || plan.ignoreIfRange === true);
    const start = rangeOk ? Number(match![1]) : 0;
    const slice = body.subarray(start);
    entry.status = rangeOk ? 206 : 200;
    response.writeHead(entry.status, {
      etag: plan.etag,
      'content-length': plan.declaredLength ?? slice.length,
      ...(rangeOk ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (plan.dripMs !== undefined || plan.stallAfterBytes !== undefined) {
      misbehave(plan, slice, response);
      return;
    }
    const cut = plan.cutAfterBytes;
    if (cut !== undefined) {
      delete plan.cutAfterBytes;
      response.write(slice.subarray(0, cut), () => response.destroy());
      return;
    }
    response.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/firmware.bin`,
    plan,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The slow variants: a drip, a stall. */
function misbehave(plan: FaultPlan, slice: Buffer, response: ServerResponse): void {
  if (plan.stallAfterBytes !== undefined) {
    response.write(slice.subarray(0, plan.stallAfterBytes));
    return; // never ends: the client's idle timeout must.
  }
  let sent = 0;
  const drip = (): void => {
    if (response.destroyed || sent >= slice.length) return;
    response.write(slice.subarray(sent, sent + 1));
    sent++;
    setTimeout(drip, plan.dripMs);
  };
  drip();
}
