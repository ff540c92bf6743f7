/**
 * X.509 v3 certificates (RFC 5280 §4.1) and PKCS#10 certification requests (RFC 2986 §4), written
 * with the DER writer and signed with Node's crypto: ECDSA P-256 with SHA-256 (RFC 5758 §3.2) or
 * Ed25519 (RFC 8410 §6). A device certificate carries: basicConstraints cA false (critical),
 * keyUsage digitalSignature (critical), extKeyUsage clientAuth and serverAuth, the subject key
 * identifier (RFC 5280 §4.2.1.2 method 1), and subjectAltName URIs and DNS names.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';
import { bitString, boolean, contextTag, ia5String, integer, namedBits, octetString, oid, printableString, sequence, set, time, utf8String } from './der.js';

/** The key types of a device identity. */
export type IdentityKeyType = 'p256' | 'ed25519';

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
  throw new ArgumentError(`Expected a P-256 or Ed25519 key, got ${key.asymmetricKeyType ?? key.type}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`);
}

function signatureAlgorithm(type: IdentityKeyType): Uint8Array {
  // Both without parameters (RFC 5758 §3.2, RFC 8410 §3).
  return sequence(oid(type === 'p256' ? OID.ecdsaWithSha256 : OID.ed25519));
}

/**
 * Signs `data` with a device key: ECDSA P-256 with SHA-256 (DER signature) or Ed25519.
 *
 * @example
 * ```ts
 * const signature = signData(privateKey, Buffer.from('record'))
 * ```
 */
export function signData(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return sign(keyTypeOf(privateKey) === 'p256' ? 'sha256' : null, data, privateKey);
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
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // The BIT STRING's content is the SPKI's tail: the key bytes after its algorithm identifier.
  const raw = keyTypeOf(publicKey) === 'ed25519' ? spki.subarray(spki.length - 32) : spki.subarray(spki.length - 65);
  return createHash('sha1').update(raw).digest();
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function altNames(names: AltNames): Uint8Array | undefined {
  const general = [...(names.dnsNames ?? []).map((dns) => contextTag(2, ia5String(dns), 'implicit')), ...(names.uris ?? []).map((uri) => contextTag(6, ia5String(uri), 'implicit'))];
  return general.length === 0 ? undefined : sequence(...general);
}

function deviceExtensions(publicKey: KeyObject, names: AltNames, authorityKeyId: Uint8Array | undefined): Uint8Array[] {
  const san = altNames(names);
  return [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, namedBits([0])),
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
