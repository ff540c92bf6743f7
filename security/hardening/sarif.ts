/**
 * The audit as a SARIF 2.1.0 log (OASIS Static Analysis Results Interchange Format): one run whose
 * tool lists the whole catalogue as rules, and one result per finding, so code-scanning dashboards
 * show a finding with its rule's requirements, and a clean audit still names what was checked.
 */
import { HARDENING_RULES } from './catalogue.js';
import type { Finding, HardeningProfile, HardeningRule, Severity } from './types.js';

/** SARIF's result levels for our severities. */
const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };

/** The `security-severity` scores code scanning sorts by (CVSS-like bands). */
const SCORE: Readonly<Record<Severity, string>> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** Options of {@link toSarif}. */
export interface SarifOptions {
  /** The tool's version (sensorkit's). */
  readonly version: string;
  readonly profile: HardeningProfile;
  /** The configuration file audited, for findings without a file of their own. */
  readonly configFile?: string;
}

function ruleName(rule: HardeningRule): string {
  return rule.title.replace(/[^A-Za-z0-9 ]/g, ' ').split(/\s+/).filter(Boolean).map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

function requirementTags(rule: HardeningRule): string[] {
  return ['security', ...rule.iec62443.map((r) => `IEC 62443-4-2 ${r.id}`), ...rule.etsi.map((p) => `ETSI EN 303 645 ${p}`), `NIST IR 8259A ${rule.nist}`];
}

function sarifRule(rule: HardeningRule): Record<string, unknown> {
  const requirements = rule.iec62443.map((r) => `${r.id} ${r.name} (SL${r.sl})`).join('; ');
  return {
    id: rule.id,
    name: ruleName(rule),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.checks },
    help: {
      text: `${rule.fix}\nIEC 62443-4-2: ${requirements}. ETSI EN 303 645: ${rule.etsi.join(', ')}. NIST IR 8259A: ${rule.nist}. KISA: ${rule.kisa}.`,
      markdown: `**Fix:** ${rule.fix}\n\n| Standard | Requirement |\n|---|---|\n| IEC 62443-4-2 | ${requirements} |\n| ETSI EN 303 645 | ${rule.etsi.join(', ')} |\n| NIST IR 8259A | ${rule.nist} |\n| KISA | ${rule.kisa} |`,
    },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: {
      tags: requirementTags(rule),
      'security-severity': SCORE[rule.severity],
      severity: rule.severity,
      iec62443: rule.iec62443.map((r) => ({ ...r })),
      etsi: [...rule.etsi],
      nist: rule.nist,
      kisa: rule.kisa,
      profiles: [...rule.profiles],
    },
  };
}

function location(finding: Finding, configFile: string | undefined): Record<string, unknown>[] {
  const uri = finding.file ?? configFile;
  const logical = finding.setting === undefined ? {} : { logicalLocations: [{ fullyQualifiedName: finding.setting, kind: 'member' }] };
  if (uri === undefined) return finding.setting === undefined ? [] : [logical];
  return [{ physicalLocation: { artifactLocation: { uri: toUri(uri) } }, ...logical }];
}

/** A path as a SARIF artifact URI: absolute paths as file:// URIs, relative ones with forward slashes. */
function toUri(path: string): string {
  if (path.startsWith('/')) return new URL(`file://${path.split('/').map(encodeURIComponent).join('/')}`).href;
  return path.split(/[\\/]/).map(encodeURIComponent).join('/');
}

/**
 * The SARIF 2.1.0 log of an audit.
 *
 * @example
 * ```ts
 * writeFileSync('audit.sarif', JSON.stringify(toSarif(findings, { version: '0.1.0', profile: 'production' }), null, 2))
 * ```
 */
export function toSarif(findings: readonly Finding[], options: SarifOptions): Record<string, unknown> {
  const index = new Map(HARDENING_RULES.map((rule, i) => [rule.id, i]));
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'sensorkit audit',
            version: options.version,
            rules: HARDENING_RULES.map(sarifRule),
          },
        },
        properties: { profile: options.profile },
        results: findings.map((finding) => ({
          ruleId: finding.ruleId,
          ruleIndex: index.get(finding.ruleId) ?? -1,
          level: LEVEL[finding.severity],
          message: { text: finding.message },
          locations: location(finding, options.configFile),
        })),
      },
    ],
  };
}
