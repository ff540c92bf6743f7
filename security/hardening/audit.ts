/**
 * The hardening audit: every rule of the catalogue that applies to the profile, checked against a
 * configuration and the environment it would run in (IEC 62443-4-2 CR 7.6 network and security
 * configuration settings, RE1 machine-readable reporting).
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { HARDENING_RULES, ruleById } from './catalogue.js';
import { CHECKS } from './checks.js';
import { AuditContext } from './context.js';
import { SEVERITIES, type AuditedConfig, type AuditOptions, type Finding, type HardeningRule, type Severity } from './types.js';

/**
 * Audits a configuration: the findings of every rule that applies to the profile, worst first, in
 * catalogue order within a severity. Reads the files the configuration names (modes, certificates,
 * users, trust list, audit log) through `options.fs`; changes nothing.
 *
 * @example
 * ```ts
 * const findings = await auditConfiguration({ mqtt: { url: 'mqtt://broker.plant' } }, { profile: 'production' })
 * findings.filter((f) => f.severity === 'critical').map(formatFinding)
 * ```
 */
export async function auditConfiguration(config: AuditedConfig, options: AuditOptions = {}): Promise<Finding[]> {
  if (options.profile !== undefined && options.profile !== 'dev' && options.profile !== 'production') {
    throw new ArgumentError(`Expected \`profile\` to be dev or production, got ${JSON.stringify(options.profile)}`);
  }
  const context = new AuditContext(config, options);
  const findings: Finding[] = [];
  for (const rule of rulesFor(context.profile)) {
    const check = CHECKS[rule.id];
    if (check === undefined) continue;
    for (const problem of await check(context)) {
      findings.push({ ruleId: rule.id, severity: rule.severity, title: rule.title, message: problem.message, ...(problem.setting === undefined ? {} : { setting: problem.setting }), ...(problem.file === undefined ? {} : { file: problem.file }) });
    }
  }
  return findings.sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}

/**
 * The rules that apply under a profile.
 *
 * @example
 * ```ts
 * rulesFor('dev').some((rule) => rule.id === 'SK-MQTT-004') // false: the embedded broker is for development
 * ```
 */
export function rulesFor(profile: 'dev' | 'production'): HardeningRule[] {
  return HARDENING_RULES.filter((rule) => rule.profiles.includes(profile));
}

/**
 * 0 for critical up to 4 for info.
 *
 * @example
 * ```ts
 * severityRank('high') < severityRank('low') // true
 * ```
 */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * The findings at `level` or worse.
 *
 * @example
 * ```ts
 * findingsAtOrAbove(findings, 'high').length > 0 // the audit fails
 * ```
 */
export function findingsAtOrAbove(findings: readonly Finding[], level: Severity): Finding[] {
  return findings.filter((finding) => severityRank(finding.severity) <= severityRank(level));
}

/**
 * The findings that stop a production device from starting: the critical ones.
 *
 * @example
 * ```ts
 * const blocking = blockingFindings(await auditConfiguration(config, { profile: 'production' }))
 * if (blocking.length > 0) throw new StateError(`refusing to start: ${blocking.map((f) => f.ruleId).join(', ')}`)
 * ```
 */
export function blockingFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => finding.severity === 'critical');
}

/**
 * One line: id, severity, the main IEC 62443-4-2 requirement with its security level, the message.
 *
 * @example
 * ```ts
 * formatFinding(finding) // 'SK-MQTT-001 [critical] CR 3.1 (SL1): mqtt.url mqtt://broker:1883 is plain MQTT: …'
 * ```
 */
export function formatFinding(finding: Finding): string {
  const requirement = ruleById(finding.ruleId)?.iec62443[0];
  return `${finding.ruleId} [${finding.severity}]${requirement ? ` ${requirement.id} (SL${requirement.sl})` : ''}: ${finding.message}`;
}
