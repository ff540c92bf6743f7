/**
 * What the audit needs to know of a certificate: its public key's type and size (node's
 * X509Certificate), its validity period, and the algorithm it is signed with, which
 * X509Certificate does not expose: it is read from the DER (RFC 5280 §4.1.1.2, the
 * `signatureAlgorithm` after `tbsCertificate`).
 */
import { X509Certificate } from 'node:crypto';

/** One certificate of a file. */
export interface CertificateFacts {
  readonly subject: string;
  /** `rsa`, `ec`, `ed25519`, … */
  readonly keyType: string;
  /** RSA modulus length or EC curve size, bits. */
  readonly keyBits: number | undefined;
  /** The signature algorithm's object identifier, dotted. */
  readonly signatureOid: string | undefined;
  /** Its name, when known: `sha256WithRSAEncryption`, `ecdsa-with-SHA1`, … */
  readonly signatureName: string;
  readonly validFrom: number;
  readonly validTo: number;
}

/** Signature algorithms by OID: the weak ones and the usual good ones (RFC 3279, 4055, 5758, 8410). */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/** The signature algorithms built on SHA-1 or MD5. */
export const WEAK_SIGNATURE_OIDS: ReadonlySet<string> = new Set(['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1', '1.2.840.10040.4.3', '1.3.14.3.2.29']);

const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, 'P-256': 256, secp384r1: 384, 'P-384': 384, secp521r1: 521, 'P-521': 521, secp256k1: 256, secp224r1: 224, secp192r1: 192, prime192v1: 192 };

/**
 * The certificates of a PEM file (every `CERTIFICATE` block, e.g. a CA bundle) or of a DER file.
 * Throws when there is none or one does not parse.
 *
 * @example
 * ```ts
 * const [cert] = readCertificates(readFileSync('device.pem'))
 * cert.keyBits // 2048
 * ```
 */
export function readCertificates(bytes: Uint8Array): CertificateFacts[] {
  const text = Buffer.from(bytes).toString('latin1');
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);
  const ders = blocks.length > 0 ? blocks.map((pem) => new X509Certificate(pem).raw) : [new X509Certificate(Buffer.from(bytes)).raw];
  return ders.map(certificateFacts);
}

function certificateFacts(der: Buffer): CertificateFacts {
  const cert = new X509Certificate(der);
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails;
  const keyBits = details?.modulusLength ?? (details?.namedCurve === undefined ? undefined : CURVE_BITS[details.namedCurve]);
  const signatureOid = signatureAlgorithmOid(der);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits: keyBits ?? (key.asymmetricKeyType === 'ed25519' ? 256 : undefined),
    signatureOid,
    signatureName: signatureOid === undefined ? 'unknown' : (SIGNATURE_ALGORITHMS[signatureOid] ?? signatureOid),
    validFrom: Date.parse(cert.validFrom),
    validTo: Date.parse(cert.validTo),
  };
}

/** One DER element: where its content starts and ends; undefined when its length runs past the input. */
function element(der: Uint8Array, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  return end > der.length ? undefined : { tag, start, end };
}

/**
 * The dotted OID of a certificate's `signatureAlgorithm`, or undefined when the DER is not as
 * RFC 5280 §4.1 lays it out.
 *
 * @example
 * ```ts
 * signatureAlgorithmOid(new X509Certificate(pem).raw) // '1.2.840.113549.1.1.11'
 * ```
 */
export function signatureAlgorithmOid(der: Uint8Array): string | undefined {
  const certificate = element(der, 0);
  const tbs = certificate && element(der, certificate.start);
  const algorithm = tbs && element(der, tbs.end);
  const oid = algorithm && element(der, algorithm.start);
  if (!certificate || !tbs || !algorithm || !oid || certificate.tag !== 0x30 || tbs.tag !== 0x30 || algorithm.tag !== 0x30 || oid.tag !== 0x06) return undefined;
  return decodeOid(der.subarray(oid.start, oid.end));
}

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}
