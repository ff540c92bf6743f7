/**
 * The device identity as the OPC UA application instance certificate (IEC 62541-6 §6.2.2): one
 * identity for MQTT mutual TLS, signed records, the update server and OPC UA. The OPC UA security
 * policies node-opcua negotiates (Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss;
 * it has no ECC policy) are RSA only, so the identity must be RSA (`sensorkit identity init
 * --key-type rsa`), and its certificate's subjectAltName must carry the server's application URI.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { ValidationError } from '../../sdk/core/errors.js';
import { identityFiles, type DeviceIdentity } from './identity.js';

/** What an OPC UA server needs of an identity: the certificate (file and parsed) and the key, in memory. */
export interface OpcuaApplicationCertificate {
  /** `cert.pem`: the certificate, then any chain the CA gave. */
  readonly certificateFile: string;
  readonly certificate: X509Certificate;
  /** The private key as loaded (an encrypted key stays decrypted in memory only). */
  readonly privateKey: KeyObject;
  /** The key file the identity was read from (for messages; the server never reads it). */
  readonly keyFile: string;
}

/**
 * The application URI of a sensorkit OPC UA server for a device id: `urn:sensorkit:<device id>`.
 *
 * @example
 * ```ts
 * opcuaApplicationUri('acme-env-node-0042') // 'urn:sensorkit:acme-env-node-0042'
 * ```
 */
export function opcuaApplicationUri(deviceId: string): string {
  return `urn:sensorkit:${deviceId}`;
}

/**
 * The URIs in a certificate's subjectAltName.
 *
 * @example
 * ```ts
 * subjectAltNameUris(identity.certificate!) // ['urn:sensorkit:acme-env-node-0042']
 * ```
 */
export function subjectAltNameUris(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

/**
 * Why an identity cannot be the OPC UA application certificate for `applicationUri` at `now`, or
 * undefined when it can: not RSA, no certificate, the application URI not in its subjectAltName,
 * or not valid now.
 *
 * @example
 * ```ts
 * opcuaCertificateProblem(identity, 'urn:sensorkit:acme-env-node-0042', Date.now()) // undefined
 * ```
 */
export function opcuaCertificateProblem(identity: DeviceIdentity, applicationUri: string, now: number): string | undefined {
  if (identity.keyType !== 'rsa') return `identity ${identity.dir}: a ${identity.keyType} key; the OPC UA security policies need RSA (sensorkit identity init --key-type rsa)`;
  const certificate = identity.certificate;
  if (certificate === undefined) return `identity ${identity.dir}: no certificate (${identityFiles(identity.dir).certificateFile})`;
  const uris = subjectAltNameUris(certificate);
  if (!uris.includes(applicationUri)) {
    return `identity ${identity.dir}: its certificate's subjectAltName has ${uris.length === 0 ? 'no URI' : `URI ${uris.join(', ')}`}, not the server's application URI ${applicationUri} (IEC 62541-6 §6.2.2; sensorkit identity init --uri ${applicationUri})`;
  }
  if (Date.parse(certificate.validTo) < now) return `identity ${identity.dir}: its certificate expired on ${new Date(certificate.validTo).toISOString()}`;
  if (Date.parse(certificate.validFrom) > now) return `identity ${identity.dir}: its certificate is not valid before ${new Date(certificate.validFrom).toISOString()}`;
  return undefined;
}

/**
 * The identity as the OPC UA application certificate for `applicationUri`; throws
 * `ValidationError` (path `identity`) naming what does not fit (see {@link opcuaCertificateProblem}).
 *
 * @example
 * ```ts
 * const own = opcuaApplicationCertificate(identity, opcuaApplicationUri(deviceId))
 * new OpcuaServer(device, { profile: 'production', users, identity })
 * ```
 */
export function opcuaApplicationCertificate(identity: DeviceIdentity, applicationUri: string, now: number = Date.now()): OpcuaApplicationCertificate {
  const problem = opcuaCertificateProblem(identity, applicationUri, now);
  if (problem !== undefined) throw new ValidationError('identity', problem);
  return { certificateFile: identityFiles(identity.dir).certificateFile, certificate: identity.certificate!, privateKey: identity.privateKey, keyFile: identity.keyFile };
}
