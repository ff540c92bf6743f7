/**
 * X.509 v3 certificates (RFC 5280 §4.1) and PKCS#10 certification requests (RFC 2986 §4), written
 * with the DER writer and signed with Node's crypto: ECDSA P-256 with SHA-256 (RFC 5758 §3.2),
 * Ed25519 (RFC 8410 §6), or RSA (3072 bits when made here) with sha256WithRSAEncryption (RFC 4055
 * §5, PKCS#1 v1.5). A device certificate carries: basicConstraints cA false (critical), keyUsage
 * (critical), extKeyUsage clientAuth and serverAuth, the subject key identifier (RFC 5280 §4.2.1.2
 * method 1), and subjectAltName URIs and DNS names.
 *
 * keyUsage is digitalSignature for an EC or Ed25519 key. An RSA key is the one an OPC UA
 * application instance certificate needs (its security policies Basic256Sha256,
 * Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss are RSA only): keyUsage digitalSignature,
 * nonRepudiation, keyEncipherment and dataEncipherment, and keyCertSign when self-signed, as
 * IEC 62541-6 §6.2.2 asks of an application instance certificate.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';
import { bitString, boolean, contextTag, ia5String, integer, namedBits, nullValue, octetString, oid, printableString, sequence, set, time, utf8String } from './der.js';

/** The key types of a device identity: `rsa` is for the OPC UA application certificate. */
export type IdentityKeyType = 'p256' | 'ed25519' | 'rsa';

/** The size of an RSA identity key made here, bits (NIST SP 800-57 Part 1: 128-bit security). */
export const RSA_IDENTITY_BITS = 3072;
/** The smallest RSA key an identity accepts (a CA-issued one included), bits. */
export const RSA_MIN_BITS = 2048;

/** The subject of a device certificate (RFC 5280 §4.1.2.6). */
export interface IdentitySubject {
  /** CN: the device id, e.g. `acme-env-node-EMU-1`. */
  readonly commonName: string;
  /** O: the manufacturer. */
  readonly organization?: string;
  /** serialNumber (X.520): the device's serial number, PrintableString characters. */
  readonly serialNumber?: string;
}

/** Names in subjectAltName. */
export interface AltNames {
  /** URIs, e.g. `urn:sensorkit:device:<id>`. */
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
}

const OID = {
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  organization: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ed25519: '1.3.101.112',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

/**
 * The key type of a private or public key; throws `ArgumentError` for any other.
 *
 * @example
 * ```ts
 * keyTypeOf(generateKeyPairSync('ed25519').privateKey) // 'ed25519'
 * ```
 */
export function keyTypeOf(key: KeyObject): IdentityKeyType {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'p256';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= RSA_MIN_BITS) return 'rsa';
  const detail = key.asymmetricKeyDetails?.namedCurve ?? (key.asymmetricKeyDetails?.modulusLength === undefined ? '' : `${key.asymmetricKeyDetails.modulusLength} bits`);
  throw new ArgumentError(`Expected a P-256, Ed25519 or RSA (${RSA_MIN_BITS} bits or more) key, got ${key.asymmetricKeyType ?? key.type}${detail ? ` ${detail}` : ''}`);
}

function signatureAlgorithm(type: IdentityKeyType): Uint8Array {
  // ECDSA and Ed25519 without parameters (RFC 5758 §3.2, RFC 8410 §3); RSA with NULL (RFC 4055 §5).
  if (type === 'rsa') return sequence(oid(OID.sha256WithRsaEncryption), nullValue());
  return sequence(oid(type === 'p256' ? OID.ecdsaWithSha256 : OID.ed25519));
}

/**
 * Signs `data` with a device key: ECDSA P-256 with SHA-256 (DER signature), Ed25519, or RSA with
 * SHA-256 (RSASSA-PKCS1-v1_5, RFC 8017 §8.2).
 *
 * @example
 * ```ts
 * const signature = signData(privateKey, Buffer.from('record'))
 * ```
 */
export function signData(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return sign(keyTypeOf(privateKey) === 'ed25519' ? null : 'sha256', data, privateKey);
}

function name(subject: IdentitySubject): Uint8Array {
  const rdn = (type: string, value: Uint8Array): Uint8Array => set(sequence(oid(type), value));
  return sequence(
    ...(subject.organization === undefined ? [] : [rdn(OID.organization, utf8String(subject.organization))]),
    rdn(OID.commonName, utf8String(subject.commonName)),
    ...(subject.serialNumber === undefined ? [] : [rdn(OID.serialNumber, printableString(subject.serialNumber))]),
  );
}

/**
 * The subject key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 (1)).
 *
 * @example
 * ```ts
 * Buffer.from(subjectKeyIdentifier(publicKey)).toString('hex') // 20 bytes
 * ```
 */
export function subjectKeyIdentifier(publicKey: KeyObject): Uint8Array {
  keyTypeOf(publicKey);
  return createHash('sha1').update(subjectPublicKeyBits(publicKey.export({ type: 'spki', format: 'der' }))).digest();
}

/**
 * The content of the SPKI's subjectPublicKey BIT STRING (after its unused-bits octet): the
 * SEQUENCE's second element, after the AlgorithmIdentifier (RFC 5280 §4.1.2.7).
 */
function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const header = (at: number): { content: number; end: number } => {
    const first = spki[at + 1]!;
    if (first < 0x80) return { content: at + 2, end: at + 2 + first };
    let length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + spki[at + 2 + i]!;
    return { content: at + 2 + (first & 0x7f), end: at + 2 + (first & 0x7f) + length };
  };
  const outer = header(0);
  const algorithm = header(outer.content);
  const key = header(algorithm.end);
  if (spki[algorithm.end] !== 0x03) throw new ArgumentError('Expected a BIT STRING after the SPKI algorithm identifier');
  return spki.subarray(key.content + 1, key.end);
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function altNames(names: AltNames): Uint8Array | undefined {
  const general = [...(names.dnsNames ?? []).map((dns) => contextTag(2, ia5String(dns), 'implicit')), ...(names.uris ?? []).map((uri) => contextTag(6, ia5String(uri), 'implicit'))];
  return general.length === 0 ? undefined : sequence(...general);
}

/** keyUsage bits (RFC 5280 §4.2.1.3): digitalSignature 0, nonRepudiation 1, keyEncipherment 2, dataEncipherment 3, keyCertSign 5. */
function keyUsageBits(type: IdentityKeyType, selfSigned: boolean): number[] {
  if (type !== 'rsa') return [0];
  return selfSigned ? [0, 1, 2, 3, 5] : [0, 1, 2, 3];
}

function deviceExtensions(publicKey: KeyObject, names: AltNames, authorityKeyId: Uint8Array | undefined): Uint8Array[] {
  const san = altNames(names);
  return [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, namedBits(keyUsageBits(keyTypeOf(publicKey), authorityKeyId !== undefined))),
    extension(OID.extKeyUsage, false, sequence(oid(OID.clientAuth), oid(OID.serverAuth))),
    extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyIdentifier(publicKey))),
    ...(authorityKeyId ? [extension(OID.authorityKeyIdentifier, false, sequence(contextTag(0, octetString(authorityKeyId), 'implicit')))] : []),
    ...(san ? [extension(OID.subjectAltName, false, san)] : []),
  ];
}

/** What {@link selfSignedCertificate} needs. */
export interface SelfSignedOptions {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly subject: IdentitySubject;
  readonly altNames?: AltNames;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Serial number bytes; default 16 random bytes (RFC 5280 §4.1.2.2: positive, at most 20 octets). */
  readonly serial?: Uint8Array;
}

/**
 * A self-signed X.509 v3 device certificate, DER.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
 * const der = selfSignedCertificate({ privateKey, publicKey, subject: { commonName: 'dev-1' }, notBefore: new Date(), notAfter: new Date(Date.now() + 365 * 86_400_000) })
 * new X509Certificate(der).verify(publicKey) // true
 * ```
 */
export function selfSignedCertificate(options: SelfSignedOptions): Uint8Array {
  const type = keyTypeOf(options.privateKey);
  if (options.notAfter <= options.notBefore) throw new ArgumentError('Expected `notAfter` to be after `notBefore`');
  const serial = Buffer.from(options.serial ?? randomBytes(16));
  serial[0]! &= 0x7f; // positive
  if (serial.every((b) => b === 0)) serial[serial.length - 1] = 1;
  const subject = name(options.subject);
  const tbs = sequence(
    contextTag(0, integer(2n), 'explicit'),
    integer(serial),
    signatureAlgorithm(type),
    subject,
    sequence(time(options.notBefore), time(options.notAfter)),
    subject,
    options.publicKey.export({ type: 'spki', format: 'der' }),
    contextTag(3, sequence(...deviceExtensions(options.publicKey, options.altNames ?? {}, subjectKeyIdentifier(options.publicKey))), 'explicit'),
  );
  return sequence(tbs, signatureAlgorithm(type), bitString(signData(options.privateKey, tbs)));
}

/**
 * A PKCS#10 certification request, DER, asking for the device extensions (extensionRequest,
 * RFC 2985 §5.4.2) so that a factory CA can copy them.
 *
 * @example
 * ```ts
 * const der = certificationRequest({ privateKey, publicKey, subject: { commonName: 'dev-1', organization: 'Acme' } })
 * writeFileSync('device.csr', pem('CERTIFICATE REQUEST', der))
 * ```
 */
export function certificationRequest(options: { privateKey: KeyObject; publicKey: KeyObject; subject: IdentitySubject; altNames?: AltNames }): Uint8Array {
  const type = keyTypeOf(options.privateKey);
  const attributes = contextTag(0, set(sequence(oid(OID.extensionRequest), set(sequence(...deviceExtensions(options.publicKey, options.altNames ?? {}, undefined))))), 'implicit');
  const info = sequence(integer(0n), name(options.subject), options.publicKey.export({ type: 'spki', format: 'der' }), attributes);
  return sequence(info, signatureAlgorithm(type), bitString(signData(options.privateKey, info)));
}
