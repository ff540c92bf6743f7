/**
 * The evidence document of `sensorkit audit --evidence FILE`: for a certification file (IEC
 * 62443-4-2 / ISASecure CSA, ETSI EN 303 645, KISA), each security control sensorkit builds in,
 * the requirements it meets and the tests that prove it with its bad input; the audit's findings;
 * every rule checked; and the package's software bill of materials (CycloneDX, from `npm sbom`).
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HARDENING_RULES } from './catalogue.js';
import type { Finding, HardeningProfile } from './types.js';

/** A control built into sensorkit. */
export interface SecurityControl {
  readonly control: string;
  /** IEC 62443-4-2 requirements, with SL. */
  readonly iec62443: readonly string[];
  readonly etsi: readonly string[];
  readonly nist: string;
  /** Test files (a `*` matches any characters in the file name) that exercise it with bad input. */
  readonly tests: readonly string[];
}

/** The controls and their tests. */
export const SECURITY_CONTROLS: readonly SecurityControl[] = [
  {
    control: 'OPC UA user login against scrypt hashes; empty, default and common passwords refused',
    iec62443: ['CR 1.1 (SL1)', 'CR 1.5 (SL1)', 'CR 1.7 (SL1)'], etsi: ['5.1-1', '5.1-3', '5.1-4'], nist: 'Logical Access to Interfaces',
    tests: ['test/unit/opcua-users.test.ts', 'test/integration/opcua-security.test.ts'],
  },
  {
    control: 'Back-off and lockout after failed logins; same answer and timing for an unknown user',
    iec62443: ['CR 1.11 (SL1)', 'CR 1.10 (SL1)'], etsi: ['5.1-5'], nist: 'Logical Access to Interfaces',
    tests: ['test/unit/opcua-login-throttle.test.ts', 'test/integration/opcua-login-throttle.test.ts'],
  },
  {
    control: 'OPC UA production profile: SignAndEncrypt only, no anonymous session; dev profile loopback only',
    iec62443: ['CR 3.1 (SL1)', 'CR 4.1 (SL1)', 'CR 4.3 (SL1)', 'CR 5.1 (SL1)'], etsi: ['5.5-1', '5.5-4', '5.6-1'], nist: 'Data Protection',
    tests: ['test/integration/opcua-security.test.ts', 'test/integration/opcua-x509.test.ts', 'test/unit/opcua-dev-host.test.ts'],
  },
  {
    control: 'Roles on OPC UA method calls and writes',
    iec62443: ['CR 2.1 (SL1)', 'CR 2.1 RE2 (SL2)'], etsi: ['5.5-5'], nist: 'Logical Access to Interfaces',
    tests: ['test/integration/opcua-roles*.test.ts'],
  },
  {
    control: 'MQTT over TLS and mutual TLS; broker password never printed',
    iec62443: ['CR 3.1 (SL1)', 'CR 1.2 (SL2)', 'CR 1.5 (SL1)'], etsi: ['5.5-1', '5.4-1'], nist: 'Data Protection',
    tests: ['test/unit/mqtt-credentials.test.ts', 'test/integration/mqtt-credentials.test.ts'],
  },
  {
    control: 'Signed MQTT commands and setting writes (COSE_Sign1 by a trusted operator key, role, nonce and time window)',
    iec62443: ['CR 2.1 (SL1)', 'CR 2.1 RE2 (SL2)', 'CR 2.12 (SL3)', 'CR 3.1 RE1 (SL2)'], etsi: ['5.5-5'], nist: 'Logical Access to Interfaces',
    tests: ['test/unit/signed-command*.test.ts', 'test/unit/operator*.test.ts', 'test/integration/signed-commands*.test.ts', 'test/integration/cmd-cli*.test.ts'],
  },
  {
    control: 'Bounded command and setting input (size, nesting, rate)',
    iec62443: ['CR 3.5 (SL1)', 'CR 7.1 (SL1)'], etsi: ['5.13-1'], nist: 'Logical Access to Interfaces',
    tests: ['test/unit/mqtt-command-payload.test.ts', 'test/integration/mqtt-oversize.test.ts', 'test/integration/mqtt-setting-flood.test.ts'],
  },
  {
    control: 'Hash-chained audit log: logins, commands, settings, updates, certificates, integrity and clock events; rotation keeps the chain',
    iec62443: ['CR 2.8 (SL1)', 'CR 2.9 (SL1)', 'CR 2.10 (SL1)', 'CR 2.11 (SL1)', 'CR 3.9 (SL2)', 'CR 6.1 (SL1)'], etsi: ['5.10-1'], nist: 'Cybersecurity State Awareness',
    tests: ['test/unit/audit-log*.test.ts', 'test/integration/audit-log*.test.ts'],
  },
  {
    control: 'Device identity: P-256 or Ed25519 key owner-only or encrypted, X.509 certificate, CSR for a factory CA',
    iec62443: ['CR 1.2 (SL2)', 'CR 1.5 (SL1)', 'CR 1.8 (SL2)', 'CR 1.9 (SL2)'], etsi: ['5.4-1', '5.4-2'], nist: 'Device Identification',
    tests: ['test/unit/security-identity*.test.ts', 'test/integration/identity-cli*.test.ts', 'test/integration/runtime-security*.test.ts'],
  },
  {
    control: 'Signed firmware updates (SUIT, COSE_Sign1) with anti-rollback; verified before parsing',
    iec62443: ['EDR 3.10 (SL1)', 'EDR 3.10 RE1 (SL2)', 'CR 3.4 (SL2)'], etsi: ['5.3-7', '5.3-9', '5.3-10'], nist: 'Software Update',
    tests: ['test/unit/ota-manifest.test.ts', 'test/unit/ota-manifest-attacks.test.ts', 'test/integration/ota-agent.test.ts'],
  },
  {
    control: 'Update server: administrators by role token, devices by mutual TLS; no unauthenticated campaign change',
    iec62443: ['CR 1.1 (SL1)', 'CR 1.2 (SL2)', 'CR 2.1 (SL1)', 'CR 2.8 (SL1)'], etsi: ['5.5-4', '5.5-5'], nist: 'Logical Access to Interfaces',
    tests: ['test/integration/ota-server-auth*.test.ts'],
  },
  {
    control: 'Update server: request size and rate limits; only signed files served',
    iec62443: ['CR 7.1 (SL1)', 'CR 7.1 RE1 (SL2)', 'CR 3.5 (SL1)', 'CR 4.1 (SL1)'], etsi: ['5.6-1'], nist: 'Logical Access to Interfaces',
    tests: ['test/integration/ota-server-auth*.test.ts', 'test/integration/ota-server-hardening.test.ts', 'test/integration/ota-serve-signed.test.ts'],
  },
  {
    control: 'Hardening audit of the configuration, machine-readable (SARIF), refusing a production start on critical findings',
    iec62443: ['CR 7.6 (SL1)', 'CR 7.6 RE1 (SL3)', 'CR 3.3 (SL1)'], etsi: ['5.6-1'], nist: 'Device Configuration',
    tests: ['test/unit/hardening*.test.ts', 'test/integration/audit-cli*.test.ts', 'test/integration/runtime-security*.test.ts'],
  },
];

/**
 * The test files matching a pattern (`*` in the file name), relative to `root`, sorted; none when
 * the folder does not exist.
 *
 * @example
 * ```ts
 * matchTests('/work/sensorkit', 'test/unit/audit-log*.test.ts') // ['test/unit/audit-log-trail.test.ts', 'test/unit/audit-log.test.ts']
 * ```
 */
export function matchTests(root: string, pattern: string): string[] {
  const folder = dirname(pattern);
  const name = new RegExp(`^${basename(pattern).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  try {
    return readdirSync(join(root, folder)).filter((file) => name.test(file)).sort().map((file) => `${folder}/${file}`);
  } catch {
    return [];
  }
}

/** The bill of materials, or why there is none. */
export type SbomResult = { readonly ok: true; readonly file: string; readonly bom: { readonly components?: readonly { name?: string; version?: string; scope?: string; licenses?: unknown }[]; readonly specVersion?: string } } | { readonly ok: false; readonly reason: string };

/** Options of {@link evidenceMarkdown}. */
export interface EvidenceOptions {
  readonly root: string;
  readonly version: string;
  readonly profile: HardeningProfile;
  readonly configFile?: string;
  readonly findings: readonly Finding[];
  readonly sbom: SbomResult;
  /** ISO time of writing. */
  readonly generatedAt: string;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function licenseOf(component: { licenses?: unknown }): string {
  const licenses = Array.isArray(component.licenses) ? (component.licenses as { license?: { id?: string; name?: string }; expression?: string }[]) : [];
  return licenses.map((l) => l.expression ?? l.license?.id ?? l.license?.name ?? '').filter(Boolean).join(' OR ') || '—';
}

/**
 * The evidence document, Markdown.
 *
 * @example
 * ```ts
 * writeFileSync('evidence.md', evidenceMarkdown({ root: '.', version: '0.1.0', profile: 'production', findings, sbom, generatedAt: new Date().toISOString() }))
 * ```
 */
export function evidenceMarkdown(options: EvidenceOptions): string {
  const lines: string[] = [];
  lines.push(`# sensorkit ${options.version}: security evidence`, '');
  lines.push(`Generated ${options.generatedAt} by \`sensorkit audit --evidence\`, profile \`${options.profile}\`${options.configFile ? `, configuration \`${options.configFile}\`` : ', default configuration'}.`, '');
  lines.push('## Controls, the requirements they meet, and the tests that prove them', '');
  lines.push('| Control | IEC 62443-4-2 | ETSI EN 303 645 | NIST IR 8259A | Tests |', '|---|---|---|---|---|');
  for (const control of SECURITY_CONTROLS) {
    const tests = control.tests.flatMap((pattern) => {
      const found = matchTests(options.root, pattern);
      return found.length > 0 ? found.map((file) => `\`${file}\``) : [`\`${pattern}\` (not found)`];
    });
    lines.push(`| ${cell(control.control)} | ${control.iec62443.join(', ')} | ${control.etsi.join(', ')} | ${control.nist} | ${tests.join('<br>')} |`);
  }
  lines.push('', '## Audit findings', '');
  if (options.findings.length === 0) lines.push('None: every rule that applies to the profile passes.');
  else {
    lines.push('| Rule | Severity | IEC 62443-4-2 | Finding |', '|---|---|---|---|');
    for (const finding of options.findings) {
      const rule = HARDENING_RULES.find((r) => r.id === finding.ruleId);
      lines.push(`| ${finding.ruleId} | ${finding.severity} | ${rule?.iec62443.map((r) => `${r.id} (SL${r.sl})`).join(', ') ?? ''} | ${cell(finding.message)} |`);
    }
  }
  lines.push('', `## Rules checked (${HARDENING_RULES.length})`, '', 'Each rule has a configuration that fails it and one that passes it in `test/unit/hardening-rules.test.ts`.', '');
  lines.push('| Rule | Severity | IEC 62443-4-2 | ETSI EN 303 645 | NIST IR 8259A | KISA | Profiles | Result |', '|---|---|---|---|---|---|---|---|');
  const failed = new Set(options.findings.map((f) => f.ruleId));
  for (const rule of HARDENING_RULES) {
    const result = !rule.profiles.includes(options.profile) ? 'not applicable' : failed.has(rule.id) ? 'FAIL' : 'pass';
    lines.push(`| ${rule.id} ${cell(rule.title)} | ${rule.severity} | ${rule.iec62443.map((r) => `${r.id} (SL${r.sl})`).join(', ')} | ${rule.etsi.join(', ')} | ${rule.nist} | ${rule.kisa} | ${rule.profiles.join(', ')} | ${result} |`);
  }
  lines.push('', '## Software bill of materials', '');
  if (!options.sbom.ok) lines.push(`No SBOM: ${options.sbom.reason}.`);
  else {
    const components = options.sbom.bom.components ?? [];
    lines.push(`CycloneDX ${options.sbom.bom.specVersion ?? ''} from \`npm sbom --sbom-format cyclonedx --omit dev\`: \`${options.sbom.file}\` (${components.length} components).`, '');
    lines.push('| Component | Version | Scope | License |', '|---|---|---|---|');
    for (const component of components) lines.push(`| ${cell(component.name ?? '')} | ${cell(component.version ?? '')} | ${component.scope ?? ''} | ${cell(licenseOf(component))} |`);
  }
  return `${lines.join('\n')}\n`;
}
