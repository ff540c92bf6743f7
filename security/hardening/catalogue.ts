/**
 * The rule catalogue of the hardening audit: each rule with its severity, the IEC 62443-4-2
 * component requirements (and the security level that asks for them), the ETSI EN 303 645
 * provisions, the NIST IR 8259A capability and the KISA guidance area it stands for, what it
 * checks and how to fix it. The checks themselves are in checks.ts, keyed by the same ids.
 */
import type { HardeningRule, IecRequirement } from './types.js';

/** IEC 62443-4-2 requirements the catalogue cites, with the lowest SL-C that asks for each. */
const CR = {
  humanAuth: { id: 'CR 1.1', name: 'Human user identification and authentication', sl: 1 },
  deviceAuth: { id: 'CR 1.2', name: 'Software process and device identification and authentication', sl: 2 },
  authenticators: { id: 'CR 1.5', name: 'Authenticator management', sl: 1 },
  passwordStrength: { id: 'CR 1.7', name: 'Strength of password-based authentication', sl: 1 },
  pki: { id: 'CR 1.8', name: 'Public key infrastructure certificates', sl: 2 },
  publicKeyStrength: { id: 'CR 1.9', name: 'Strength of public key-based authentication', sl: 2 },
  authorization: { id: 'CR 2.1', name: 'Authorization enforcement', sl: 1 },
  roles: { id: 'CR 2.1 RE2', name: 'Permission mapping to roles', sl: 2 },
  auditableEvents: { id: 'CR 2.8', name: 'Auditable events', sl: 1 },
  timeSync: { id: 'CR 2.11 RE1', name: 'Time synchronization', sl: 2 },
  nonRepudiation: { id: 'CR 2.12', name: 'Non-repudiation', sl: 3 },
  debugInterfaces: { id: 'EDR 2.13', name: 'Use of physical diagnostic and test interfaces', sl: 2 },
  integrity: { id: 'CR 3.1', name: 'Communication integrity', sl: 1 },
  softwareIntegrity: { id: 'CR 3.4', name: 'Software and information integrity', sl: 2 },
  auditProtection: { id: 'CR 3.9', name: 'Protection of audit information', sl: 2 },
  updates: { id: 'EDR 3.10', name: 'Support for updates', sl: 1 },
  updateAuthenticity: { id: 'EDR 3.10 RE1', name: 'Update authenticity and integrity', sl: 2 },
  confidentiality: { id: 'CR 4.1', name: 'Information confidentiality', sl: 1 },
  cryptography: { id: 'CR 4.3', name: 'Use of cryptography', sl: 1 },
  segmentation: { id: 'CR 5.1', name: 'Network segmentation', sl: 1 },
  auditAccess: { id: 'CR 6.1', name: 'Audit log accessibility', sl: 1 },
  dos: { id: 'CR 7.1', name: 'Denial of service protection', sl: 1 },
  leastFunctionality: { id: 'CR 7.7', name: 'Least functionality', sl: 1 },
} as const satisfies Record<string, IecRequirement>;

const KISA = {
  auth: 'Identification and authentication',
  access: 'Access control',
  crypto: 'Data protection and cryptography',
  network: 'Network security',
  update: 'Software update and integrity',
  logging: 'Security logging and monitoring',
  platform: 'Platform and interface security',
} as const;

const BOTH = ['dev', 'production'] as const;
const PRODUCTION = ['production'] as const;

/** Every rule, in the order reports list them. */
export const HARDENING_RULES: readonly HardeningRule[] = [
  {
    id: 'SK-AUTH-001', title: 'MQTT broker password empty, default or weak', severity: 'critical',
    iec62443: [CR.passwordStrength, CR.authenticators], etsi: ['5.1-1', '5.1-2'], nist: 'Logical Access to Interfaces', kisa: KISA.auth,
    checks: 'The broker password (mqtt.passwordFile, $SENSORKIT_MQTT_PASSWORD or the URL) against emptiness, length, well-known defaults and common patterns.',
    fix: 'Give the device its own broker password of 12+ random characters in mqtt.passwordFile (mode 0600), or use mutual TLS.',
    profiles: BOTH,
  },
  {
    id: 'SK-AUTH-002', title: 'MQTT password written in the broker URL', severity: 'medium',
    iec62443: [CR.authenticators], etsi: ['5.4-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'Whether mqtt.url holds user:password@ (shown by ps, kept in shell history and configuration backups).',
    fix: 'Remove the password from the URL; put it in mqtt.passwordFile (mode 0600).',
    profiles: BOTH,
  },
  {
    id: 'SK-AUTH-003', title: 'OPC UA user with a default password or the user name as password', severity: 'critical',
    iec62443: [CR.passwordStrength, CR.humanAuth], etsi: ['5.1-1', '5.1-2'], nist: 'Logical Access to Interfaces', kisa: KISA.auth,
    checks: "Each user's scrypt hash in the OPC UA users file against the well-known default passwords and the user's own name.",
    fix: "Set a new password: sensorkit opcua user add NAME (the command refuses weak ones).",
    profiles: BOTH,
  },
  {
    id: 'SK-AUTH-004', title: 'OPC UA users file damaged or with weak hash parameters', severity: 'high',
    iec62443: [CR.authenticators, CR.passwordStrength], etsi: ['5.1-3', '5.4-1'], nist: 'Data Protection', kisa: KISA.auth,
    checks: 'The users file parses, and every hash is scrypt with N of at least 2^14, r 8, a salt of 16 bytes or more.',
    fix: 'Recreate the users (sensorkit opcua user add NAME): the command writes N = 2^14, r = 8, p = 1.',
    profiles: BOTH,
  },
  {
    id: 'SK-AUTH-005', title: 'OPC UA production profile with no user who can log in', severity: 'high',
    iec62443: [CR.humanAuth], etsi: ['5.5-4'], nist: 'Logical Access to Interfaces', kisa: KISA.auth,
    checks: 'Under the production profile, the users file holds a user, or X.509 user certificates are accepted (else the server refuses to start).',
    fix: 'Add a user (sensorkit opcua user add NAME) or set opcua.x509Users with certificates in <pki>/users.',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-AUTH-006', title: 'No device identity (key and certificate)', severity: 'high',
    iec62443: [CR.deviceAuth, CR.pki], etsi: ['5.4-2', '5.5-1'], nist: 'Device Identification', kisa: KISA.auth,
    checks: 'The identity (security.identity files or folder, default .sensorkit/identity) has a private key and a certificate that can be read.',
    fix: 'Create one: sensorkit identity init (folder .sensorkit/identity, or set security.identity.dir).',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-MQTT-001', title: 'MQTT without TLS', severity: 'critical',
    iec62443: [CR.integrity, CR.confidentiality], etsi: ['5.5-1', '5.5-6'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'mqtt.url uses mqtts:// (under dev, plain mqtt:// only to a loopback broker).',
    fix: 'Use mqtts://broker:8883 with mqtt.tls.ca.',
    profiles: BOTH,
  },
  {
    id: 'SK-MQTT-002', title: 'TLS certificate checks turned off', severity: 'critical',
    iec62443: [CR.pki, CR.integrity], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment, or mqtt.tls.rejectUnauthorized false.',
    fix: "Remove NODE_TLS_REJECT_UNAUTHORIZED and rejectUnauthorized: false; give the broker's CA in mqtt.tls.ca.",
    profiles: BOTH,
  },
  {
    id: 'SK-MQTT-003', title: 'No mutual TLS at the broker', severity: 'medium',
    iec62443: [CR.deviceAuth], etsi: ['5.5-1'], nist: 'Device Identification', kisa: KISA.auth,
    checks: 'With mqtts://, a client certificate and key (mqtt.tls.cert and key) authenticate the device.',
    fix: "Set mqtt.tls.cert and mqtt.tls.key to the device identity's certificate and key.",
    profiles: PRODUCTION,
  },
  {
    id: 'SK-MQTT-004', title: 'Embedded development broker in production', severity: 'high',
    iec62443: [CR.leastFunctionality, CR.deviceAuth], etsi: ['5.6-1', '5.6-5'], nist: 'Device Configuration', kisa: KISA.network,
    checks: 'MQTT is on and names no broker: sensorkit run then starts its embedded, unauthenticated development broker.',
    fix: 'Set mqtt.url to the plant broker (mqtts://), or mqtt: false.',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-MQTT-005', title: "Broker certificate checked against every public CA", severity: 'low',
    iec62443: [CR.pki], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'With mqtts://, mqtt.tls.ca names the CA the broker certificate must chain to.',
    fix: "Set mqtt.tls.ca to the plant CA's certificate.",
    profiles: PRODUCTION,
  },
  {
    id: 'SK-TLS-001', title: 'TLS below 1.2 permitted', severity: 'high',
    iec62443: [CR.cryptography], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: '--tls-min-v1.0 or --tls-min-v1.1 in NODE_OPTIONS or the node flags, or mqtt.tls.minVersion below TLSv1.2.',
    fix: 'Remove the flag; Node 20 defaults to TLS 1.2 at least.',
    profiles: BOTH,
  },
  {
    id: 'SK-TLS-002', title: 'Legacy cryptography or insecure parsing switched on', severity: 'high',
    iec62443: [CR.cryptography], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: '--openssl-legacy-provider, --security-revert or --insecure-http-parser in NODE_OPTIONS or the node flags.',
    fix: 'Remove the flag; replace whatever needed the legacy algorithm.',
    profiles: BOTH,
  },
  {
    id: 'SK-OPCUA-001', title: 'OPC UA SecurityPolicy None offered', severity: 'critical',
    iec62443: [CR.integrity, CR.confidentiality], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'The dev OPC UA profile (or opcua.securityPolicies naming None) under production.',
    fix: 'Set opcua.profile to production (SignAndEncrypt with Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss).',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-OPCUA-002', title: 'Deprecated OPC UA SecurityPolicy Basic128Rsa15 or Basic256', severity: 'high',
    iec62443: [CR.cryptography], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'opcua.securityPolicies names Basic128Rsa15 or Basic256 (SHA-1, RSA PKCS#1 v1.5; deprecated by IEC 62541-7).',
    fix: 'Drop them: offer Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss only.',
    profiles: BOTH,
  },
  {
    id: 'SK-OPCUA-003', title: 'OPC UA anonymous login accepted', severity: 'high',
    iec62443: [CR.humanAuth, CR.authorization], etsi: ['5.5-4', '5.5-5'], nist: 'Logical Access to Interfaces', kisa: KISA.access,
    checks: 'The dev OPC UA profile (or opcua.allowAnonymous) under production.',
    fix: 'Set opcua.profile to production and add users.',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-OPCUA-004', title: 'Unencrypted, anonymous OPC UA reachable from the network', severity: 'critical',
    iec62443: [CR.humanAuth, CR.segmentation], etsi: ['5.6-1', '5.5-4'], nist: 'Logical Access to Interfaces', kisa: KISA.network,
    checks: 'The dev profile listening on a non-loopback address (opcua.allowRemoteDev).',
    fix: 'Remove opcua.allowRemoteDev and listen on 127.0.0.1, or use the production profile.',
    profiles: BOTH,
  },
  {
    id: 'SK-NET-001', title: 'Listening on all interfaces without TLS', severity: 'high',
    iec62443: [CR.segmentation, CR.confidentiality], etsi: ['5.6-1', '5.5-1'], nist: 'Logical Access to Interfaces', kisa: KISA.network,
    checks: 'A server bound to 0.0.0.0 or :: that speaks plain text: OPC UA offering SecurityPolicy None, the update server without a certificate.',
    fix: 'Bind the plant network address only, and turn on encryption (OPC UA production profile; ota serve --tls-cert/--tls-key).',
    profiles: BOTH,
  },
  {
    id: 'SK-NET-002', title: 'OPC UA listens on every interface', severity: 'low',
    iec62443: [CR.leastFunctionality, CR.segmentation], etsi: ['5.6-1'], nist: 'Logical Access to Interfaces', kisa: KISA.network,
    checks: 'Under production, opcua.host is unset (every interface) or a wildcard address.',
    fix: 'Set opcua.host to the address of the plant network interface.',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-CERT-001', title: 'Weak public key: RSA below 2048 bits or EC below 256 bits', severity: 'high',
    iec62443: [CR.publicKeyStrength, CR.cryptography], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'The public key of every configured certificate (identity, MQTT client and CA, OPC UA application), read with X509Certificate.',
    fix: 'Issue a new certificate with RSA 3072 or P-256 (sensorkit identity init).',
    profiles: BOTH,
  },
  {
    id: 'SK-CERT-002', title: 'Certificate signed with SHA-1 or MD5', severity: 'high',
    iec62443: [CR.publicKeyStrength, CR.cryptography], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'The signatureAlgorithm of every configured certificate (X.509, RFC 5280 §4.1.1.2).',
    fix: 'Reissue it signed with SHA-256 or better.',
    profiles: BOTH,
  },
  {
    id: 'SK-CERT-003', title: 'Certificate expired or not yet valid', severity: 'high',
    iec62443: [CR.pki], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: "Every configured certificate's validity period against the current time.",
    fix: 'Renew the certificate (sensorkit identity csr, signed by the plant CA).',
    profiles: BOTH,
  },
  {
    id: 'SK-CERT-004', title: 'Certificate expires within 30 days', severity: 'medium',
    iec62443: [CR.pki], etsi: ['5.5-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: "Every configured certificate's notAfter against the current time plus 30 days.",
    fix: 'Renew the certificate before it expires.',
    profiles: BOTH,
  },
  {
    id: 'SK-CERT-005', title: 'Configured certificate missing or unreadable', severity: 'medium',
    iec62443: [CR.pki], etsi: ['5.5-1'], nist: 'Device Configuration', kisa: KISA.crypto,
    checks: 'Every configured certificate file exists and holds a PEM or DER X.509 certificate.',
    fix: 'Point the setting at the certificate, or create it.',
    profiles: BOTH,
  },
  {
    id: 'SK-KEY-001', title: 'Private key readable or writable by other users', severity: 'high',
    iec62443: [CR.authenticators, CR.confidentiality], etsi: ['5.4-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'The mode of every configured private key file (identity, MQTT client, OPC UA application): no group or other bits.',
    fix: 'chmod 600 FILE (owned by the user the device runs as).',
    profiles: BOTH,
  },
  {
    id: 'SK-KEY-002', title: 'Secret file readable or writable by other users', severity: 'high',
    iec62443: [CR.authenticators], etsi: ['5.4-1'], nist: 'Data Protection', kisa: KISA.crypto,
    checks: 'The mode of the broker password file, the OPC UA users file and the update server admin tokens file.',
    fix: 'chmod 600 FILE.',
    profiles: BOTH,
  },
  {
    id: 'SK-CMD-001', title: 'Unsigned commands accepted', severity: 'critical',
    iec62443: [CR.authorization, CR.integrity, CR.nonRepudiation], etsi: ['5.5-5'], nist: 'Logical Access to Interfaces', kisa: KISA.access,
    checks: 'With MQTT on, security.signedCommands (default: required under production) requires every cmd/<command> and property/<id>/set to be signed by a trusted operator.',
    fix: "Set security.signedCommands to 'required' and security.operators to the trust store.",
    profiles: PRODUCTION,
  },
  {
    id: 'SK-CMD-002', title: 'No operator trust list', severity: 'high',
    iec62443: [CR.roles, CR.deviceAuth], etsi: ['5.5-5'], nist: 'Logical Access to Interfaces', kisa: KISA.access,
    checks: 'security.operators names a trust store that holds at least one operator key that is not revoked.',
    fix: 'sensorkit operator keygen NAME, then sensorkit operator trust FILE.pub --role operator; set security.operators.',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-CMD-003', title: 'Operator trust list writable by other users', severity: 'high',
    iec62443: [CR.authorization, CR.softwareIntegrity], etsi: ['5.4-1'], nist: 'Logical Access to Interfaces', kisa: KISA.access,
    checks: 'The mode of the operator trust store: no group or other write bit (whoever writes it grants roles).',
    fix: 'chmod 600 FILE (or 644 owned by root).',
    profiles: BOTH,
  },
  {
    id: 'SK-OTA-001', title: 'Unsigned firmware updates accepted', severity: 'critical',
    iec62443: [CR.updateAuthenticity, CR.softwareIntegrity], etsi: ['5.3-9', '5.3-10'], nist: 'Software Update', kisa: KISA.update,
    checks: 'ota.allowUnsigned, or an update agent with no trust anchors (ota.trustAnchors).',
    fix: 'Remove allowUnsigned; set ota.trustAnchors to the vendor signing keys (sensorkit ota keygen).',
    profiles: BOTH,
  },
  {
    id: 'SK-OTA-002', title: 'Firmware downgrade permitted', severity: 'high',
    iec62443: [CR.updates, CR.softwareIntegrity], etsi: ['5.3-7'], nist: 'Software Update', kisa: KISA.update,
    checks: 'ota.allowDowngrade (the anti-rollback sequence number of RFC 9124 §4.2.1 not enforced).',
    fix: 'Remove allowDowngrade: the agent then refuses a manifest below the accepted sequence number.',
    profiles: BOTH,
  },
  {
    id: 'SK-OTA-003', title: 'Update server campaign API without administrator authentication', severity: 'high',
    iec62443: [CR.authorization, CR.humanAuth], etsi: ['5.5-5'], nist: 'Logical Access to Interfaces', kisa: KISA.access,
    checks: 'updateServer.adminTokens names a tokens file (sensorkit ota serve --admin-tokens FILE).',
    fix: 'sensorkit ota token create NAME --role admin --tokens FILE, then serve with --admin-tokens FILE.',
    profiles: BOTH,
  },
  {
    id: 'SK-OTA-004', title: 'Update server does not authenticate devices', severity: 'medium',
    iec62443: [CR.deviceAuth], etsi: ['5.5-4'], nist: 'Device Identification', kisa: KISA.auth,
    checks: 'updateServer.tls.clientCa is set: device endpoints then require a client certificate (mutual TLS).',
    fix: 'Serve with --tls-cert, --tls-key and --client-ca (the CA of the device identities).',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-DBG-001', title: 'Node inspector (debug port) on', severity: 'critical',
    iec62443: [CR.debugInterfaces, CR.leastFunctionality], etsi: ['5.6-4', '5.6-1'], nist: 'Logical Access to Interfaces', kisa: KISA.platform,
    checks: '--inspect, --inspect-brk or --inspect-port in NODE_OPTIONS or the node flags (anyone reaching the port runs code).',
    fix: 'Remove the flag from NODE_OPTIONS and the service unit.',
    profiles: BOTH,
  },
  {
    id: 'SK-DBG-002', title: 'Debug logging on', severity: 'low',
    iec62443: [CR.leastFunctionality], etsi: ['5.6-2'], nist: 'Device Configuration', kisa: KISA.platform,
    checks: 'DEBUG or NODE_DEBUG set in the environment (library internals, topics and peers in the logs).',
    fix: 'Unset DEBUG and NODE_DEBUG in production.',
    profiles: PRODUCTION,
  },
  {
    id: 'SK-LOG-001', title: 'No audit log', severity: 'high',
    iec62443: [CR.auditableEvents, CR.auditAccess], etsi: ['5.10-1'], nist: 'Cybersecurity State Awareness', kisa: KISA.logging,
    checks: 'security.auditLog is not turned off (the runtime keeps .sensorkit/audit/<device id>.log under production by default).',
    fix: "Set security.auditLog to a file on persistent storage, e.g. '/var/lib/sensorkit/audit.log'.",
    profiles: PRODUCTION,
  },
  {
    id: 'SK-LOG-002', title: 'Audit log does not verify', severity: 'high',
    iec62443: [CR.auditProtection, CR.auditableEvents], etsi: ['5.10-1'], nist: 'Cybersecurity State Awareness', kisa: KISA.logging,
    checks: "The configured audit log's hash chain and head (sensorkit audit-log verify FILE).",
    fix: 'Find out why it was edited (the first bad record is named); archive it and start a new log.',
    profiles: BOTH,
  },
  {
    id: 'SK-LOG-003', title: 'Audit log writable by other users', severity: 'medium',
    iec62443: [CR.auditProtection], etsi: ['5.4-1'], nist: 'Cybersecurity State Awareness', kisa: KISA.logging,
    checks: 'The mode of the audit log file: no group or other write bit.',
    fix: 'chmod 600 FILE.',
    profiles: BOTH,
  },
  {
    id: 'SK-TIME-001', title: 'No time source', severity: 'medium',
    iec62443: [CR.timeSync], etsi: ['5.10-1'], nist: 'Cybersecurity State Awareness', kisa: KISA.logging,
    checks: 'security.timeSource is declared, or the host shows a synchronised clock (systemd-timesyncd, chrony, ntpd).',
    fix: "Run NTP (chrony) or PTP on the host and set security.timeSource ('ntp', 'ptp', 'gnss').",
    profiles: PRODUCTION,
  },
  {
    id: 'SK-SYS-001', title: 'Runs as root', severity: 'medium',
    iec62443: [CR.authorization, CR.leastFunctionality], etsi: ['5.6-7'], nist: 'Device Configuration', kisa: KISA.platform,
    checks: 'The user id the device runs as is 0.',
    fix: 'Run the service as its own user (systemd User=sensorkit), with access to its devices by group.',
    profiles: PRODUCTION,
  },
];

/**
 * A rule by id; throws nothing, returns undefined for an unknown id.
 *
 * @example
 * ```ts
 * ruleById('SK-MQTT-001')?.iec62443[0]?.id // 'CR 3.1'
 * ```
 */
export function ruleById(id: string): HardeningRule | undefined {
  return HARDENING_RULES.find((rule) => rule.id === id);
}
