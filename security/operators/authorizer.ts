/**
 * Decides whether a request over MQTT may act on the device: a COSE_Sign1 by a trusted, unrevoked
 * operator key whose role suffices for the command or setting (as the model says), for this device
 * and this action, inside its time window, not seen before (IEC 62443-4-2 CR 1.1/1.2 identification
 * and authentication, CR 2.1 authorisation enforcement, CR 3.1 communication integrity; ETSI EN 303
 * 645 provision 5.5-5: security-relevant changes only after authentication). Every refusal has a
 * typed reason; nothing is decided from the message text.
 */
import type { Clock } from '../../sdk/core/clock.js';
import { cut } from '../../sdk/core/check.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { coseAlgorithmOfId, coseVerify, sign1Structure } from '../cose/sign1.js';
import { NonceCache } from './nonce-cache.js';
import { roleAllows, type OperatorRole } from './roles.js';
import type { RequestAction, RequestClaims, RequestScalar } from './signed-request.js';
import type { OperatorDirectory } from './trust-store.js';

/** Why a request was refused. A closed set. */
export type RefusalReason =
  /** Not a COSE_Sign1, where one is required. */
  | 'unsigned'
  /** No key id, or a key id that is not in the trust store. */
  | 'unknown-key'
  /** The key was revoked. */
  | 'revoked'
  /** The key's role is below what the command or setting needs. */
  | 'wrong-role'
  /** The nonce was seen before (or is older than what the bounded cache still remembers). */
  | 'replayed'
  /** Past its expiry, beyond the allowed clock skew. */
  | 'expired'
  /** Issued in the future, beyond the allowed clock skew. */
  | 'not-yet-valid'
  /** The signature does not verify, or the algorithm is not the key's. */
  | 'bad-signature'
  /** Signed for another device. */
  | 'wrong-device'
  /** Not a well-formed signed request, or signed for another action than the topic names. */
  | 'malformed';

/** Every refusal reason, for exhaustive tests and documentation. */
export const REFUSAL_REASONS: readonly RefusalReason[] = ['unsigned', 'unknown-key', 'revoked', 'wrong-role', 'replayed', 'expired', 'not-yet-valid', 'bad-signature', 'wrong-device', 'malformed'];

/** A COSE_Sign1 as the transport parsed it with its strict reader, before anything is checked. */
export interface SignedEnvelope {
  /** The `alg` of the protected header, as read. */
  readonly algorithmId: unknown;
  /** The `kid` (hex), when present. */
  readonly keyId: string | undefined;
  readonly protectedBytes: Uint8Array;
  /** The payload bytes exactly as received: the signature covers these. */
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  /** The payload's claims (see `claimsOf`). */
  readonly claims: RequestClaims;
}

/** A request as the transport hands it over. */
export type PresentedRequest =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'malformed'; readonly message: string }
  | { readonly kind: 'signed'; readonly envelope: SignedEnvelope };

/** What the request arrived for: the device, the action the topic names and the role it needs. */
export interface AuthorizationTarget {
  readonly deviceId: string;
  readonly action: RequestAction;
  readonly id: string;
  readonly requiredRole: OperatorRole;
}

/** The operator a granted request came from. */
export interface AuthorizedOperator {
  readonly keyId: string;
  readonly name: string;
  readonly role: OperatorRole;
}

/** The decision. */
export type Authorization =
  | { readonly ok: true; readonly operator: AuthorizedOperator; readonly args: Readonly<Record<string, RequestScalar>> }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string; readonly keyId?: string; readonly operator?: AuthorizedOperator };

/** Options of {@link CommandAuthorizer}. */
export interface CommandAuthorizerOptions {
  /** The trusted operators (an `OperatorTrustStore`). */
  readonly operators: OperatorDirectory;
  /** Wall-clock time of the window checks. */
  readonly clock: Clock;
  /** Clock skew allowed on either side of the window, s. Default 30. */
  readonly skewSeconds?: number;
  /** Longest `exp − iat` accepted, s: a request is not a standing order. Default 300. */
  readonly maxLifetimeSeconds?: number;
  /** Nonces remembered per key. Default 1024. */
  readonly noncesPerKey?: number;
}

/**
 * @example
 * ```ts
 * const authorizer = new CommandAuthorizer({ operators: await OperatorTrustStore.load(file), clock })
 * const decision = authorizer.authorize(presented, { deviceId, action: 'cmd', id: 'reset', requiredRole: 'operator' })
 * if (!decision.ok) console.warn(decision.reason)
 * ```
 */
export class CommandAuthorizer {
  readonly #operators: OperatorDirectory;
  readonly #clock: Clock;
  readonly #skewMs: number;
  readonly #maxLifetime: number;
  readonly #nonces: NonceCache;

  constructor(options: CommandAuthorizerOptions) {
    this.#operators = options.operators;
    this.#clock = options.clock;
    const skew = options.skewSeconds ?? 30;
    const lifetime = options.maxLifetimeSeconds ?? 300;
    if (!(Number.isInteger(skew) && skew >= 0)) throw new ArgumentError(`Expected \`skewSeconds\` to be an integer from 0 and up, got ${String(options.skewSeconds)}`);
    if (!(Number.isInteger(lifetime) && lifetime >= 1)) throw new ArgumentError(`Expected \`maxLifetimeSeconds\` to be an integer from 1 and up, got ${String(options.maxLifetimeSeconds)}`);
    this.#skewMs = skew * 1000;
    this.#maxLifetime = lifetime;
    this.#nonces = new NonceCache({ perKey: options.noncesPerKey ?? 1024 });
  }

  /** Decides on one request; never throws. A granted request's nonce is remembered. */
  authorize(request: PresentedRequest, target: AuthorizationTarget): Authorization {
    if (request.kind === 'unsigned') return refuse('unsigned', 'a signed request (COSE_Sign1 by an operator key) is required');
    if (request.kind === 'malformed') return refuse('malformed', request.message);
    const { envelope } = request;
    const algorithm = coseAlgorithmOfId(envelope.algorithmId);
    if (algorithm === undefined) return refuse('bad-signature', `alg ${String(envelope.algorithmId)} is not EdDSA (−8) or ES256 (−7)`);
    if (envelope.keyId === undefined) return refuse('unknown-key', 'the request names no key id');
    const keyId = envelope.keyId;
    const operator = this.#operators.lookup(keyId);
    if (operator === undefined) return refuse('unknown-key', `key ${keyId} is not trusted`, { keyId });
    const who: AuthorizedOperator = { keyId, name: operator.name, role: operator.role };
    if (operator.revoked) return refuse('revoked', `key ${keyId} (${operator.name}) is revoked`, { keyId, operator: who });
    if (!coseVerify(algorithm, sign1Structure(envelope.protectedBytes, envelope.payload), operator.key, envelope.signature)) {
      return refuse('bad-signature', `the signature does not verify with key ${keyId}`, { keyId, operator: who });
    }
    const claims = envelope.claims;
    if (claims.deviceId !== target.deviceId) return refuse('wrong-device', `signed for device ${JSON.stringify(cut(claims.deviceId))}`, { keyId, operator: who });
    if (claims.action !== target.action || claims.id !== target.id) {
      return refuse('malformed', `signed for ${claims.action} ${JSON.stringify(cut(claims.id))}, received as ${target.action} ${JSON.stringify(cut(target.id))}`, { keyId, operator: who });
    }
    if (claims.expiresAt - claims.issuedAt > this.#maxLifetime) return refuse('malformed', `valid for ${claims.expiresAt - claims.issuedAt} s, above the limit of ${this.#maxLifetime} s`, { keyId, operator: who });
    const now = this.#clock.now();
    if (claims.issuedAt * 1000 > now + this.#skewMs) return refuse('not-yet-valid', `issued ${Math.round(claims.issuedAt - now / 1000)} s in the future`, { keyId, operator: who });
    if (claims.expiresAt * 1000 < now - this.#skewMs) return refuse('expired', `expired ${Math.round(now / 1000 - claims.expiresAt)} s ago`, { keyId, operator: who });
    if (!roleAllows(operator.role, target.requiredRole)) {
      return refuse('wrong-role', `${operator.name} is ${article(operator.role)}; ${target.action === 'cmd' ? 'command' : 'setting'} "${cut(target.id)}" needs ${article(target.requiredRole)}`, { keyId, operator: who });
    }
    const nonce = Buffer.from(claims.nonce).toString('hex');
    if (this.#nonces.check(keyId, nonce, claims.issuedAt, claims.expiresAt * 1000 + this.#skewMs, now) === 'replayed') {
      return refuse('replayed', `nonce ${nonce.slice(0, 16)} of key ${keyId} was seen before`, { keyId, operator: who });
    }
    return { ok: true, operator: who, args: claims.args };
  }
}

function refuse(reason: RefusalReason, message: string, about: { keyId?: string; operator?: AuthorizedOperator } = {}): Authorization {
  return { ok: false, reason, message, ...about };
}

function article(role: OperatorRole): string {
  return `${role === 'operator' || role === 'engineer' ? 'an' : 'a'} ${role}`;
}
