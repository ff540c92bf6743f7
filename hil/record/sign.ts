/**
 * Signed records. A signed `record.json` is the record with one more member, `signature`, holding
 * a COSE_Sign1 (RFC 9052 §4.2) whose detached payload is the RFC 8785 canonical JSON of the record
 * without `signature`: ES256 for a P-256 key, EdDSA for an Ed25519 key (RFC 9053 §2.1, §2.2), `alg`
 * in the protected header. The member also names the key (`keyId`, SHA-256 of its SPKI DER) and
 * carries the public key itself, so that a record can be checked for changes without a key at hand;
 * only a check against a key the verifier trusts (`--key`) says who signed it.
 *
 * ```json
 * "signature": { "alg": "ES256", "cose": "0oRDoQEmoQRI…", "keyId": "sha-256:9f…", "publicKey": "MFkwEwYH…" }
 * ```
 *
 * The file is written as {@link prettyCanonicalJson} of the signed record (`format` first, `signature`
 * last), and a verifier insists on
 * that exact text: a duplicate member, a number spelled another way (`1.0` for `1`) or any other
 * edit is refused even where JSON.parse would read the same value.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';
import { algorithmOfKey, keyIdOf, type SignatureAlgorithm } from '../../ota/keys/keys.js';
import { parseSign1, signDetached, verifyDetached } from '../../ota/manifest/cose.js';
import { canonicalJson, prettyCanonicalJson } from './canonical-json.js';
import { RECORD_FORMAT, type RunRecord } from './record.js';
import { recordShapeProblem } from './record-shape.js';

/** COSE algorithm names (RFC 9053 §2.1, §2.2). */
export type RecordSignatureAlgorithm = 'ES256' | 'EdDSA';

/** The `signature` member of a signed record. */
export interface RecordSignature {
  /** `ES256` (ECDSA P-256 with SHA-256) or `EdDSA` (Ed25519); the COSE protected header says the same. */
  readonly alg: RecordSignatureAlgorithm;
  /** COSE_Sign1_Tagged with a nil (detached) payload, base64 (RFC 4648 §4). */
  readonly cose: string;
  /** `sha-256:<hex>` of the signer's public key, SPKI DER. */
  readonly keyId: string;
  /** The signer's public key, SPKI DER in base64: a check for changes needs no key file. */
  readonly publicKey: string;
}

/** A record with its signature. */
export type SignedRecord = RunRecord & { readonly signature: RecordSignature };

const ALG_NAME: Readonly<Record<SignatureAlgorithm, RecordSignatureAlgorithm>> = { p256: 'ES256', ed25519: 'EdDSA' };

/**
 * The key id a signed record names: `sha-256:<hex>` of the SPKI DER of a public (or private) key.
 *
 * @example
 * ```ts
 * recordKeyId(await readPublicKey('keys/public.pem')) // 'sha-256:9f86d0…'
 * ```
 */
export function recordKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return `sha-256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

/**
 * The bytes a record's signature covers: the UTF-8 canonical JSON of the record without `signature`.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(signedBytes(record)).startsWith('{"clock":') // true
 * ```
 */
export function signedBytes(record: RunRecord | SignedRecord): Uint8Array {
  const { signature: _ignored, ...unsigned } = record as SignedRecord;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/**
 * Signs a record: returns it with a `signature` member (a record that was signed before is signed
 * again, its old signature dropped). Throws `ArgumentError` for a key that is neither P-256 nor
 * Ed25519 or a record JSON cannot carry exactly (NaN, Infinity).
 *
 * @example
 * ```ts
 * const signed = signRecord(record, await readPrivateKey('keys/private.pem'))
 * await writeFile('record.json', recordText(signed))
 * ```
 */
export function signRecord(record: RunRecord, privateKey: KeyObject): SignedRecord {
  if (privateKey.type !== 'private') throw new ArgumentError(`Expected a private key to sign a record, got a ${privateKey.type} key`);
  let algorithm: SignatureAlgorithm;
  try {
    algorithm = algorithmOfKey(privateKey);
  } catch (error) {
    throw new ArgumentError(`Expected a P-256 or Ed25519 key to sign a record: ${(error as Error).message}`, { cause: error });
  }
  const { signature: _old, ...unsigned } = record as SignedRecord;
  const cose = signDetached(signedBytes(unsigned), privateKey);
  const publicKey = createPublicKey(privateKey);
  return {
    ...unsigned,
    signature: {
      alg: ALG_NAME[algorithm],
      cose: Buffer.from(cose).toString('base64'),
      keyId: recordKeyId(publicKey),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    },
  };
}

/**
 * The text of `record.json`: the record pretty-printed in canonical member order, `format` first
 * and `signature` last, with a final newline. {@link verifyRecord} accepts exactly this text for a signed record.
 *
 * @example
 * ```ts
 * await writeFile('out/record.json', recordText(signRecord(record, key)))
 * ```
 */
export function recordText(record: RunRecord | SignedRecord): string {
  return `${prettyCanonicalJson(record, { first: ['format'], last: ['signature'] })}\n`;
}

/** Why a record was refused. */
export type RecordRefusal =
  /** Not UTF-8 JSON. */
  | 'malformed'
  /** JSON, but not a run record of a format this version reads, or not shaped like one (`missing plan`). */
  | 'not-a-record'
  /** No `signature` member. */
  | 'not-signed'
  /** The `signature` member is not a COSE_Sign1 this profile accepts, or contradicts itself. */
  | 'bad-signature'
  /** Signed by a key other than the ones given. */
  | 'wrong-key'
  /** The signature does not cover this content: a byte of the results changed. */
  | 'changed'
  /** The content is signed, but the text is not the one that was written (edited around it, or a byte order mark before it). */
  | 'not-canonical';

/** What {@link verifyRecord} found. */
export type RecordVerification =
  | {
      readonly ok: true;
      readonly record: SignedRecord;
      readonly algorithm: RecordSignatureAlgorithm;
      readonly keyId: string;
      /** True when the signer is one of the keys given; false when only the embedded key was checked. */
      readonly trusted: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: RecordRefusal;
      /** One line, e.g. `the signature does not match the content: a byte of the results changed`. */
      readonly message: string;
      /** The record as read, when the text was a record at all. */
      readonly record?: RunRecord;
    };

function refused(reason: RecordRefusal, message: string, record?: RunRecord): RecordVerification {
  return record === undefined ? { ok: false, reason, message } : { ok: false, reason, message, record };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Verifies the text of a `record.json`. With `publicKeys`, the record must be signed by one of them;
 * without, the signature is checked against the public key the record carries (changes are found,
 * but not who signed: `trusted` is false). Never throws for a bad record: the result says why, in
 * one line.
 *
 * @example
 * ```ts
 * const result = verifyRecord(await readFile('out/record.json'), [await readPublicKey('keys/public.pem')])
 * if (!result.ok) console.error(`${result.reason}: ${result.message}`) // 'changed: the signature does not match …'
 * ```
 */
export function verifyRecord(text: string | Uint8Array, publicKeys?: KeyObject | readonly KeyObject[]): RecordVerification {
  let source: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, so that it is refused below like any other
    // byte that was not written.
    source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(text);
  } catch {
    return refused('malformed', 'not UTF-8 text');
  }
  if (source.startsWith('\uFEFF')) return refused('not-canonical', 'the file starts with a byte order mark (U+FEFF): not the exact text that was written');
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    return refused('malformed', `not JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isObject(value) || value.format !== RECORD_FORMAT) {
    const format = isObject(value) && typeof value.format === 'string' ? `format "${value.format}"` : 'no format member';
    return refused('not-a-record', `not a run record (${format}; expected "${RECORD_FORMAT}")`);
  }
  const shape = recordShapeProblem(value);
  if (shape !== undefined) return refused('not-a-record', `not a run record: ${shape}`);
  const record = value as unknown as RunRecord;
  const signature = value.signature;
  if (signature === undefined) return refused('not-signed', 'not signed (no signature member)', record);
  if (!isObject(signature) || typeof signature.cose !== 'string' || typeof signature.keyId !== 'string' || typeof signature.publicKey !== 'string' || typeof signature.alg !== 'string') {
    return refused('bad-signature', 'the signature member lacks alg, cose, keyId or publicKey strings', record);
  }
  if (!BASE64.test(signature.cose) || !BASE64.test(signature.publicKey)) return refused('bad-signature', 'signature.cose and signature.publicKey must be base64', record);

  let embedded: KeyObject;
  try {
    embedded = createPublicKey({ key: Buffer.from(signature.publicKey, 'base64'), format: 'der', type: 'spki' });
    algorithmOfKey(embedded);
  } catch (error) {
    return refused('bad-signature', `signature.publicKey is not a P-256 or Ed25519 SPKI key: ${(error as Error).message.split('\n')[0]}`, record);
  }
  if (recordKeyId(embedded) !== signature.keyId) return refused('bad-signature', `signature.keyId ${signature.keyId} is not the id of signature.publicKey`, record);
  let parsed;
  try {
    parsed = parseSign1(Buffer.from(signature.cose, 'base64'));
  } catch (error) {
    return refused('bad-signature', `signature.cose: ${(error as Error).message}`, record);
  }
  if (ALG_NAME[parsed.algorithm] !== signature.alg) return refused('bad-signature', `signature.alg ${signature.alg} contradicts the COSE protected header (${ALG_NAME[parsed.algorithm]})`, record);
  if (parsed.keyId !== undefined && parsed.keyId !== keyIdOf(embedded)) return refused('bad-signature', 'the COSE kid is not the id of signature.publicKey', record);

  let key = embedded;
  let trusted = false;
  if (publicKeys !== undefined) {
    const keys = Array.isArray(publicKeys) ? (publicKeys as readonly KeyObject[]) : [publicKeys as KeyObject];
    const match = keys.find((candidate) => recordKeyId(candidate) === signature.keyId);
    if (match === undefined) {
      const given = keys.map((candidate) => shortId(recordKeyId(candidate))).join(', ') || 'none';
      return refused('wrong-key', `signed by key ${shortId(signature.keyId)}, not by the key given (${given})`, record);
    }
    key = match;
    trusted = true;
  }
  let payload: Uint8Array;
  try {
    payload = signedBytes(record);
  } catch (error) {
    return refused('malformed', (error as Error).message, record);
  }
  if (!verifyDetached(parsed, payload, key)) {
    return refused('changed', 'the signature does not match the content: a byte of the results changed since it was signed', record);
  }
  const expected = recordText(record);
  if (source !== expected && source !== expected.slice(0, -1)) {
    return refused('not-canonical', 'the signed content is intact but the file is not the text that was written (edited spacing, a number spelled otherwise, or a duplicate member)', record);
  }
  return { ok: true, record: record as SignedRecord, algorithm: signature.alg as RecordSignatureAlgorithm, keyId: signature.keyId, trusted };
}

/**
 * The first 16 hex digits of a key id: enough to tell keys apart in a message.
 *
 * @example
 * ```ts
 * shortId('sha-256:9f86d081884c7d659a2feaa0c55ad015…') // 'sha-256:9f86d081884c7d65'
 * ```
 */
export function shortId(keyId: string): string {
  return keyId.slice(0, 'sha-256:'.length + 16);
}
