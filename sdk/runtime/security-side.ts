/**
 * The runtime's security side: the device identity, the audit log, the operator trust store and
 * the provisioning check, opened together from `security` and `profile`.
 *
 * Provisioning (IEC 62443-4-2 CR 1.5, ETSI EN 303 645 provision 5.1-1, KISA: no default
 * credentials): under the production profile a device with no identity, an identity that is not
 * its own (a copied or shared one), an expired certificate, an MQTT password that is empty or
 * known-weak, or signed commands required without an operator trust store does not enter
 * operation: the runtime stays `provisioning` and its status names each problem.
 *
 * With `opcua.identity` the identity is also the OPC UA application instance certificate: it is
 * then loaded under either profile, and under production an identity that cannot be one (not
 * RSA, its subjectAltName without the application URI `urn:sensorkit:<device id>`) is a
 * provisioning problem too.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { StorageError, ValidationError } from '../core/errors.js';
import { AuditLog, type AuditAlert, type AuditStorage } from '../../security/audit-log.js';
import type { AuditEvent, AuditSink } from '../../security/audit/event.js';
import { DEFAULT_IDENTITY_DIR, identityFiles, KeyFileModeError, loadIdentity, opcuaApplicationUri, opcuaCertificateProblem, provisioningSecret, type DeviceIdentity } from '../../security/identity/index.js';
import { CommandAuthorizer, OperatorTrustStore } from '../../security/operators/index.js';
import { weakPasswordProblem } from '../transport/opcua/weak-passwords.js';
import { defaultAuditLogFile, runtimeProfile, type RuntimeConfig } from './config.js';

/** An opened security side. */
export interface SecuritySide extends AuditSink {
  readonly profile: 'dev' | 'production';
  /** The device identity, when configured or required. */
  readonly identity: DeviceIdentity | undefined;
  /** The audit log, when on. */
  readonly auditLog: AuditLog | undefined;
  /** The authorizer of signed requests, when an operator trust store is configured. */
  readonly authorizer: CommandAuthorizer | undefined;
  /** The operator trust store, re-read every minute so that a revocation holds without a restart. */
  readonly operators: OperatorTrustStore | undefined;
  /** Whether unsigned commands and setting writes are refused. */
  readonly signedCommandsRequired: boolean;
  /** Why the device may not enter operation (production only); empty when provisioned. */
  readonly problems: readonly string[];
  /** Records an event in the audit log, if on; never throws, never waits. */
  record(event: AuditEvent): void;
  /** Writes what the audit log holds in memory, if it can. */
  close(): Promise<void>;
}

/** How often the operator trust store is re-read, ms. */
const OPERATORS_RELOAD_MS = 60_000;

/** What the provisioning check needs to know of the device and its MQTT side. */
export interface ProvisioningFacts {
  readonly deviceId: string;
  readonly serialNumber: string;
  /** The MQTT user and password (`undefined`: none), when MQTT is on with a broker URL. */
  readonly mqtt?: { readonly username: string | undefined; readonly password: string | undefined } | undefined;
}

/**
 * Opens the security side of a configuration. A key file others can read (`KeyFileModeError`) or
 * an identity that does not load is an error when the identity is configured; under the
 * production profile a missing identity is a provisioning problem instead.
 *
 * @example
 * ```ts
 * const security = await openSecuritySide(config, clock, { deviceId, serialNumber, mqtt: undefined }, warn)
 * if (security.problems.length > 0) console.error(security.problems.join('\n'))
 * ```
 */
export async function openSecuritySide(config: Omit<RuntimeConfig, 'device'>, clock: Clock, facts: ProvisioningFacts, warn: (message: string) => void, storage?: AuditStorage): Promise<SecuritySide> {
  const profile = runtimeProfile(config);
  const production = profile === 'production';
  const settings = config.security ?? {};
  const problems: string[] = [];

  let identity: DeviceIdentity | undefined;
  const opcuaIdentity = opcuaUsesIdentity(config);
  const wantsIdentity = settings.identity !== undefined || production || (config.mqtt && config.mqtt.tls?.identity === true) || opcuaIdentity;
  if (wantsIdentity) {
    const dir = resolve(settings.identity?.dir ?? DEFAULT_IDENTITY_DIR);
    try {
      identity = await loadIdentity(dir, { secret: provisioningSecret() });
    } catch (error) {
      const missing = error instanceof StorageError && !(error instanceof KeyFileModeError) && /no device identity here/.test(error.message);
      if (!(production && missing)) throw new ValidationError('security.identity.dir', (error as Error).message, { cause: error });
      problems.push(`no device identity in ${dir} (sensorkit identity init --dir ${dir} --cn ${facts.deviceId}, or a CA-issued one)`);
    }
  }
  if (production && identity) problems.push(...identityProblems(identity, facts, clock.now()));
  if (production && identity && opcuaIdentity) {
    const problem = opcuaCertificateProblem(identity, opcuaApplicationUri(facts.deviceId), clock.now());
    if (problem !== undefined) problems.push(`opcua.identity: ${problem}`);
  }

  if (production && facts.mqtt) {
    const { username, password } = facts.mqtt;
    if (password === undefined && !(config.mqtt && (config.mqtt.tls?.identity === true || config.mqtt.tls?.cert !== undefined))) {
      problems.push('mqtt: no credentials at the broker (neither a password nor a client certificate: mqtt.passwordFile or mqtt.tls.identity)');
    } else if (password === '') {
      problems.push('mqtt: the broker password is empty: give a unique one in mqtt.passwordFile');
    } else if (password !== undefined) {
      const weak = weakPasswordProblem(username ?? '', password);
      if (weak !== undefined) problems.push(`mqtt: the broker password ${weak} (a default or shared password): give a unique one in mqtt.passwordFile`);
    }
  }

  const signedCommandsRequired = settings.signedCommands ?? production;
  let authorizer: CommandAuthorizer | undefined;
  let operators: OperatorTrustStore | undefined;
  let reloading: { cancel(): void } | undefined;
  if (settings.operators !== undefined) {
    try {
      operators = await OperatorTrustStore.load(settings.operators);
    } catch (error) {
      throw new ValidationError('security.operators', (error as Error).message, { cause: error });
    }
    authorizer = new CommandAuthorizer({ operators, clock });
    const store = operators;
    const reload = (): void => {
      reloading = clock.schedule(clock.now() + OPERATORS_RELOAD_MS, reload);
      store.reload().catch((error: unknown) => warn(`operator trust store kept as it was: ${(error as Error).message}`));
    };
    reloading = clock.schedule(clock.now() + OPERATORS_RELOAD_MS, reload);
  } else if (signedCommandsRequired && config.mqtt !== false) {
    if (production) problems.push('no operator trust store (security.operators): signed commands cannot be verified (sensorkit operator trust)');
    else throw new ValidationError('security.signedCommands', 'needs security.operators, the operator trust store');
  }

  const auditLog = await openAuditLog(config, production, clock, facts.deviceId, warn, storage);
  const sink = (event: AuditEvent): void => {
    if (auditLog === undefined) return;
    try {
      void auditLog.record(event);
    } catch (error) {
      warn(`audit event refused: ${(error as Error).message}`);
    }
  };
  return {
    profile,
    identity,
    auditLog,
    authorizer,
    operators,
    signedCommandsRequired,
    problems,
    record: sink,
    async close() {
      reloading?.cancel();
      await auditLog?.flush();
    },
  };
}

/**
 * Whether the OPC UA server takes the device identity as its application certificate
 * (`opcua.identity: true`).
 *
 * @example
 * ```ts
 * opcuaUsesIdentity({ opcua: { profile: 'production', identity: true } }) // true
 * ```
 */
export function opcuaUsesIdentity(config: Pick<RuntimeConfig, 'opcua'>): boolean {
  const opcua = config.opcua as (NonNullable<RuntimeConfig['opcua']> & { readonly identity?: boolean }) | false | undefined;
  return opcua !== undefined && opcua !== false && opcua.identity === true;
}

/** Problems of an identity under the production profile: not this device's, no certificate, expired. */
function identityProblems(identity: DeviceIdentity, facts: ProvisioningFacts, now: number): string[] {
  const certificate = identity.certificate;
  if (certificate === undefined) return [`identity ${identity.dir}: no certificate (${identityFiles(identity.dir).certificateFile})`];
  const problems: string[] = [];
  const fields = new Map(certificate.subject.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const));
  const cn = fields.get('CN');
  const serial = fields.get('serialNumber');
  if (cn !== facts.deviceId && serial !== facts.serialNumber) {
    problems.push(`identity ${identity.dir}: its certificate names CN=${cn ?? '?'}${serial ? `, serialNumber=${serial}` : ''}, not this device (${facts.deviceId}, serial ${facts.serialNumber}): a copied or shared identity`);
  }
  if (Date.parse(certificate.validTo) < now) problems.push(`identity ${identity.dir}: its certificate expired on ${new Date(certificate.validTo).toISOString()}`);
  if (Date.parse(certificate.validFrom) > now) problems.push(`identity ${identity.dir}: its certificate is not valid before ${new Date(certificate.validFrom).toISOString()} (is the clock set?)`);
  return problems;
}

async function openAuditLog(config: Omit<RuntimeConfig, 'device'>, production: boolean, clock: Clock, deviceId: string, warn: (message: string) => void, storage: AuditStorage | undefined): Promise<AuditLog | undefined> {
  const setting = config.security?.auditLog;
  if (setting === false || (setting === undefined && !production)) return undefined;
  const file = resolve(setting?.file ?? defaultAuditLogFile(deviceId));
  let key: Uint8Array | undefined;
  if (setting?.keyFile !== undefined) {
    try {
      key = await readFile(setting.keyFile);
    } catch (error) {
      throw new ValidationError('security.auditLog.keyFile', `cannot read ${setting.keyFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    if (key.length < 16) throw new ValidationError('security.auditLog.keyFile', `${setting.keyFile} holds ${key.length} bytes; the key needs at least 16`);
  }
  let log: AuditLog;
  try {
    log = await AuditLog.open(file, { clock, maxBytes: setting?.maxBytes ?? 1024 * 1024, keep: setting?.keep ?? 8, ...(key ? { key } : {}), ...(storage ? { storage } : {}) });
  } catch (error) {
    throw new ValidationError('security.auditLog.file', (error as Error).message, { cause: error });
  }
  log.on('alert', (alert: AuditAlert) => warn(`audit log: ${alert.message}`));
  return log;
}
