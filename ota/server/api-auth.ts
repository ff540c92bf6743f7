/**
 * Who is calling the campaign API (IEC 62443-4-2 CR 1.1, CR 1.2, CR 2.1): an administrator by a
 * bearer token with a role (admin-tokens.ts), a device by the client certificate it presented over
 * mutual TLS. Every refusal is a JSON error (401 without valid credentials, 403 without the right)
 * and an audit record; nothing is read of a refused request's body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuditEvent, AuditSink } from '../../security/audit/event.js';
import { roleAtLeast, type AdminIdentity, type AdminRole, type AdminTokens } from './admin-tokens.js';

/** A device as its client certificate names it. */
export interface DeviceCertificateIdentity {
  /** The certificate's subject CN and its subjectAltName DNS names and URIs: the device ids it may speak for. */
  readonly names: readonly string[];
  /** SHA-256 fingerprint of the certificate. */
  readonly fingerprint: string;
}

/**
 * The verified client certificate of a request over mutual TLS, or undefined: no TLS, no
 * certificate, or one that does not chain to the server's client CA.
 *
 * @example
 * ```ts
 * deviceIdentityOf(request)?.names // ['en-1-SN1']
 * ```
 */
export function deviceIdentityOf(request: IncomingMessage): DeviceCertificateIdentity | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return undefined;
  const certificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return undefined;
  const cn = certificate.subject?.CN;
  const names = [...(Array.isArray(cn) ? cn : cn === undefined ? [] : [cn])];
  for (const entry of (certificate.subjectaltname ?? '').split(/,\s*/)) {
    const match = /^(DNS|URI):(.+)$/.exec(entry);
    if (match) names.push(match[2]!);
  }
  return { names, fingerprint: certificate.fingerprint256 ?? '' };
}

/**
 * The client's address, as the rate limits and the audit records name it.
 *
 * @example
 * ```ts
 * clientAddress(request) // '127.0.0.1'
 * ```
 */
export function clientAddress(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}

/**
 * Writes a JSON error: `{ "error": "…" }`.
 *
 * @example
 * ```ts
 * jsonError(response, 429, 'too many requests', { 'retry-after': '2' })
 * ```
 */
export function jsonError(response: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(`${JSON.stringify({ error })}\n`);
}

/**
 * Records an event; a sink that throws or rejects never fails the request.
 *
 * @example
 * ```ts
 * recordAudit(auditLog, { category: 'ota', event: 'ota.campaign.halted', result: 'success', actor: 'olga' })
 * ```
 */
export function recordAudit(audit: AuditSink | undefined, event: AuditEvent): void {
  if (audit === undefined) return;
  try {
    const result = audit.record(event);
    if (result instanceof Promise) result.catch(() => undefined);
  } catch {
    // The audit sink reports its own failures (alerts); the API answers regardless.
  }
}

/**
 * Checks the bearer token of an administrator request: resolves with the identity, or answers
 * 401/403 itself (with an audit record) and resolves undefined.
 *
 * @example
 * ```ts
 * const admin = await authenticateAdmin(request, response, { tokens, needed: 'operator', audit })
 * if (admin === undefined) return true // answered
 * ```
 */
export async function authenticateAdmin(
  request: IncomingMessage,
  response: ServerResponse,
  options: { tokens: AdminTokens; needed: AdminRole; audit?: AuditSink | undefined },
): Promise<AdminIdentity | undefined> {
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  const source = `ota-server ${clientAddress(request)}`;
  const header = request.headers.authorization ?? '';
  const match = /^Bearer ([\x21-\x7e]{1,200})$/.exec(header);
  const challenge = { 'www-authenticate': 'Bearer realm="sensorkit-ota"' };
  if (match === null) {
    recordAudit(options.audit, { category: 'login', event: 'ota.api.login', result: 'denied', source, actor: 'anonymous', detail: { method: request.method ?? '', path, reason: header === '' ? 'no token' : 'malformed authorization' } });
    jsonError(response, 401, 'an administrator token is required (Authorization: Bearer TOKEN)', challenge);
    return undefined;
  }
  const identity = await options.tokens.verify(match[1]!);
  if (identity === undefined) {
    recordAudit(options.audit, { category: 'login', event: 'ota.api.login', result: 'denied', source, actor: 'unknown-token', detail: { method: request.method ?? '', path, reason: 'invalid token' } });
    jsonError(response, 401, 'invalid administrator token', { 'www-authenticate': 'Bearer realm="sensorkit-ota", error="invalid_token"' });
    return undefined;
  }
  if (!roleAtLeast(identity.role, options.needed)) {
    recordAudit(options.audit, { category: 'ota', event: 'ota.api.forbidden', result: 'denied', source, actor: identity.name, detail: { method: request.method ?? '', path, role: identity.role, needed: options.needed } });
    jsonError(response, 403, `role ${identity.role} may not do this; it needs ${options.needed}`);
    return undefined;
  }
  return identity;
}
