/**
 * A signed operator request: a COSE_Sign1 (RFC 9052 §4.2) whose payload is a CBOR map of claims
 * naming the device, the action (a command with its arguments, or a setting with its value), when
 * it was issued, when it expires and a random nonce. The signature covers them all, so a request
 * for one device, command or time cannot be moved to another (IEC 62443-4-2 CR 3.1 communication
 * integrity, CR 2.1 authorisation; replay protection by the time window and the nonce).
 *
 * CDDL (RFC 8610) of the payload, content type `application/cbor`:
 * ```cddl
 * signed-request = {
 *   "v": 1,
 *   "dev": tstr,                ; device id
 *   "act": "cmd" / "set",       ; run a command / change a setting
 *   "id": tstr,                 ; command or setting id
 *   "args": { * tstr => int / float / tstr / bool / null },  ; a setting: { "value": … }
 *   "iat": uint,                ; issued at, s since the Unix epoch
 *   "exp": uint,                ; expires, s since the Unix epoch
 *   "nonce": bstr .size (8..32),
 * }
 * ```
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { cut } from '../../sdk/core/check.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { encodeCoseCbor, type CoseCborValue } from '../cose/cbor-write.js';
import { signSign1 } from '../cose/sign1.js';

/** Content type of a signed request on MQTT 5 (RFC 9052 §9.1). */
export const SIGNED_REQUEST_CONTENT_TYPE = 'application/cose; cose-type="cose-sign1"';

/** What a request asks for. */
export type RequestAction = 'cmd' | 'set';

/** A scalar argument or setting value. */
export type RequestScalar = number | string | boolean | null;

/** The claims a signed request carries. */
export interface RequestClaims {
  readonly deviceId: string;
  readonly action: RequestAction;
  /** Command or setting id. */
  readonly id: string;
  /** Arguments of a command; `{ value }` of a setting. */
  readonly args: Readonly<Record<string, RequestScalar>>;
  /** Issued at, s since the Unix epoch. */
  readonly issuedAt: number;
  /** Expires at, s since the Unix epoch. */
  readonly expiresAt: number;
  /** Random, 8 to 32 bytes. */
  readonly nonce: Uint8Array;
}

/** Options of {@link signRequest}. */
export interface SignRequestOptions {
  readonly deviceId: string;
  readonly action: RequestAction;
  readonly id: string;
  readonly args?: Readonly<Record<string, RequestScalar>>;
  /** Issue time, ms since the Unix epoch. Default now. */
  readonly nowMs?: number;
  /** How long the request is valid, s. Default 60. */
  readonly lifetimeSeconds?: number;
  /** Default 16 random bytes. */
  readonly nonce?: Uint8Array;
}

/**
 * The claims of a request, encoded as its COSE payload.
 *
 * @example
 * ```ts
 * const payload = encodeClaims(claims)
 * ```
 */
export function encodeClaims(claims: RequestClaims): Uint8Array {
  const args = new Map<string, CoseCborValue>(Object.entries(claims.args));
  return encodeCoseCbor(
    new Map<string, CoseCborValue>([
      ['v', 1],
      ['dev', claims.deviceId],
      ['act', claims.action],
      ['id', claims.id],
      ['args', args],
      ['iat', claims.issuedAt],
      ['exp', claims.expiresAt],
      ['nonce', claims.nonce],
    ]),
  );
}

/**
 * Signs a request with an operator's private key; returns the COSE_Sign1_Tagged bytes to publish
 * on `…/cmd/<command>` or `…/property/<id>/set`.
 *
 * @example
 * ```ts
 * const bytes = signRequest({ deviceId: 'env-node-7', action: 'cmd', id: 'reset', args: {} }, privateKey)
 * ```
 */
export function signRequest(options: SignRequestOptions, privateKey: KeyObject): Uint8Array {
  const lifetime = options.lifetimeSeconds ?? 60;
  if (!(Number.isInteger(lifetime) && lifetime >= 1)) throw new ArgumentError(`Expected \`lifetimeSeconds\` to be an integer from 1 and up, got ${String(options.lifetimeSeconds)}`);
  const issuedAt = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const claims: RequestClaims = {
    deviceId: options.deviceId,
    action: options.action,
    id: options.id,
    args: options.args ?? {},
    issuedAt,
    expiresAt: issuedAt + lifetime,
    nonce: options.nonce ?? randomBytes(16),
  };
  return signSign1(encodeClaims(claims), privateKey, { contentType: 'application/cbor' });
}

const CLAIM_KEYS = new Set(['v', 'dev', 'act', 'id', 'args', 'iat', 'exp', 'nonce']);

/**
 * The claims of a decoded payload (a map, as a strict CBOR reader returns it), or why it is not
 * one: unknown or missing claims, wrong types, an argument that is not a scalar.
 *
 * @example
 * ```ts
 * const claims = claimsOf(decodeStrictCbor(payload, limits, profile))
 * if (typeof claims === 'string') refuse('malformed', claims)
 * ```
 */
export function claimsOf(value: unknown): RequestClaims | string {
  if (!(value instanceof Map)) return 'the payload is not a CBOR map of claims';
  for (const key of value.keys()) if (typeof key !== 'string' || !CLAIM_KEYS.has(key)) return `unknown claim ${JSON.stringify(typeof key === 'string' ? cut(key) : key)}`;
  const get = (key: string): unknown => value.get(key);
  if (get('v') !== 1) return 'claim "v" must be 1';
  const deviceId = get('dev');
  const action = get('act');
  const id = get('id');
  const args = get('args');
  const issuedAt = get('iat');
  const expiresAt = get('exp');
  const nonce = get('nonce');
  if (typeof deviceId !== 'string' || deviceId === '') return 'claim "dev" must be a device id';
  if (action !== 'cmd' && action !== 'set') return 'claim "act" must be "cmd" or "set"';
  if (typeof id !== 'string' || id === '') return 'claim "id" must be a command or setting id';
  if (!(args instanceof Map)) return 'claim "args" must be a map';
  const plain = Object.create(null) as Record<string, RequestScalar>;
  for (const [name, argument] of args) {
    if (typeof name !== 'string') return 'argument names must be text strings';
    if (!(typeof argument === 'number' || typeof argument === 'string' || typeof argument === 'boolean' || argument === null)) return `argument "${cut(name)}" must be a number, text string, boolean or null`;
    plain[name] = argument;
  }
  if (action === 'set' && !(Object.keys(plain).length === 1 && 'value' in plain)) return 'a setting request\'s "args" must be { "value": … }';
  if (!Number.isSafeInteger(issuedAt) || (issuedAt as number) < 0) return 'claim "iat" must be a time in seconds';
  if (!Number.isSafeInteger(expiresAt) || (expiresAt as number) < (issuedAt as number)) return 'claim "exp" must be a time in seconds, not before "iat"';
  if (!(nonce instanceof Uint8Array) || nonce.length < 8 || nonce.length > 32) return 'claim "nonce" must be 8 to 32 bytes';
  return { deviceId, action, id, args: plain, issuedAt: issuedAt as number, expiresAt: expiresAt as number, nonce };
}
