/**
 * The hardening audit at start under the production profile (IEC 62443-4-2 CR 7.6): the
 * configuration as the runtime checked it, audited by security/hardening; critical findings
 * refuse the start, each named with its rule and requirement.
 */
import { StateError } from '../core/errors.js';
import { auditConfiguration, blockingFindings, formatFinding, type AuditedConfig } from '../../security/hardening/index.js';
import { identityFiles } from '../../security/identity/index.js';
import { passwordProblem } from '../transport/opcua/users.js';
import { runtimeProfile, type RuntimeConfig } from './config.js';
import type { SecuritySide } from './security-side.js';

/**
 * The runtime configuration in the audit's terms: the identity folder as its key and certificate
 * files, the audit log as its file, the profile made explicit.
 *
 * @example
 * ```ts
 * auditedConfigOf({ profile: 'production', security: { identity: { dir: '/etc/sensorkit/id' } } }, security)
 * ```
 */
export function auditedConfigOf(config: Omit<RuntimeConfig, 'device'>, security: Pick<SecuritySide, 'identity' | 'auditLog'>): AuditedConfig {
  const { security: settings, mqtt, ...rest } = config;
  const identity = security.identity;
  const files = identity ? identityFiles(identity.dir) : undefined;
  const auditLog = settings?.auditLog;
  const { identity: tlsIdentity, ...tls } = (mqtt && mqtt.tls) || {};
  return {
    ...rest,
    profile: runtimeProfile(config),
    ...(mqtt === undefined ? {} : { mqtt: mqtt === false ? false : { ...mqtt, tls: { ...tls, ...(tlsIdentity && files ? { cert: files.certificateFile, key: identity!.keyFile } : {}) } } }),
    security: {
      ...(files ? { identity: { key: identity!.keyFile, cert: files.certificateFile } } : {}),
      ...(settings?.operators === undefined ? {} : { operators: settings.operators }),
      ...(settings?.signedCommands === undefined ? {} : { signedCommands: settings.signedCommands }),
      ...(auditLog === false ? { auditLog: false } : security.auditLog ? { auditLog: { file: security.auditLog.file, ...(auditLog?.keyFile ? { keyFile: auditLog.keyFile } : {}) } } : {}),
      ...(settings?.timeSource === undefined ? {} : { timeSource: settings.timeSource }),
    },
  } as AuditedConfig;
}

/**
 * Audits the configuration under the production profile; throws `StateError` naming each critical
 * finding, after recording the refusal in the audit log.
 *
 * @example
 * ```ts
 * await hardeningAudit(runtime.config, security) // StateError: refusing to start under the production profile: SK-MQTT-001 [critical] CR 3.1 (SL1): …
 * ```
 */
export async function hardeningAudit(config: Omit<RuntimeConfig, 'device'>, security: SecuritySide): Promise<void> {
  const findings = await auditConfiguration(auditedConfigOf(config, security), { profile: 'production', passwordProblem });
  const blocking = blockingFindings(findings);
  if (blocking.length === 0) return;
  security.record({ category: 'system', event: 'runtime.hardening-refused', result: 'denied', source: 'runtime', detail: { findings: blocking.map((f) => f.ruleId) } });
  throw new StateError(`refusing to start under the production profile: ${blocking.map(formatFinding).join('; ')}`);
}
