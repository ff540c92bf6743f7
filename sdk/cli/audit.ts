/**
 * `sensorkit audit`: the hardening audit of how a device would run (IEC 62443-4-2 CR 7.6), from its
 * configuration file (or the defaults of `sensorkit run`) and the environment, as a table, JSON or
 * SARIF 2.1.0; with `--evidence`, a Markdown evidence document and the package's CycloneDX SBOM.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ValidationError } from '../core/errors.js';
import { CONFIG_SCHEMA, checkConfig } from '../runtime/config.js';
import { findConfigFile } from '../runtime/config-file.js';
import { passwordProblem } from '../transport/opcua/users.js';
import {
  HARDENING_RULES, SEVERITIES, auditConfiguration, evidenceMarkdown, findingsAtOrAbove, ruleById, rulesFor, toSarif,
  type AuditedConfig, type Finding, type HardeningProfile, type SbomResult, type Severity,
} from '../../security/hardening/index.js';
import { UsageError } from './usage.js';

export const AUDIT_HELP = `Usage: sensorkit audit [DEVICE] [options]

Audits how a device would run: its configuration (or the defaults of 'sensorkit run'), the files it
names (key modes, certificates, users, operator trust list, audit log) and the environment (node
flags, NODE_TLS_REJECT_UNAUTHORIZED, DEBUG), against ${HARDENING_RULES.length} rules, each mapped to IEC 62443-4-2
(CR/EDR and security level), ETSI EN 303 645, NIST IR 8259A and the KISA guidance.

  DEVICE               the device file or folder (default: the configuration's device)

Options:
  --config FILE        the configuration (default: ./sensorkit.config.{json,ts,js,mjs} if there is one,
                       else the defaults of 'sensorkit run')
  --profile NAME       dev or production (default: the configuration's profile, else opcua.profile,
                       else dev); development settings are findings only under production
  --format NAME        table (default), json or sarif (SARIF 2.1.0, the whole catalogue as rules)
  --fail-on LEVEL      exit 1 when a finding is at LEVEL or worse: critical, high (default), medium,
                       low, info, or none
  --evidence FILE      also write a Markdown evidence document (controls, requirements, tests,
                       findings) and the package's SBOM (CycloneDX, npm sbom) beside it as
                       FILE.cdx.json
  -h, --help           show this help

Exit status: 0 when no finding reaches --fail-on, 1 when one does, 2 for a wrong command line.
`;

const OPTIONS = {
  config: { type: 'string' },
  profile: { type: 'string' },
  format: { type: 'string', default: 'table' },
  'fail-on': { type: 'string', default: 'high' },
  evidence: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Settings the audit reads that the runtime's configuration does not hold: the update agent and server. */
const AUDIT_ONLY_KEYS = ['ota', 'updateServer'] as const;
const AUDIT_ONLY_PATHS: Readonly<Record<string, readonly string[]>> = { ota: ['trustAnchors'], updateServer: ['adminTokens', 'tls.cert', 'tls.key', 'tls.clientCa'] };

/**
 * Runs `sensorkit audit …`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await auditCommand(['--profile', 'production', '--format', 'sarif'])
 * ```
 */
export async function auditCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  if (values.help) return void process.stdout.write(AUDIT_HELP), 0;
  if (positionals.length > 1) throw new UsageError(`audit takes one DEVICE, got ${positionals.length}: ${positionals.join(' ')}`);
  if (values.profile !== undefined && values.profile !== 'dev' && values.profile !== 'production') throw new UsageError(`--profile: expected dev or production, got "${values.profile}"`);
  const format = values.format;
  if (format !== 'table' && format !== 'json' && format !== 'sarif') throw new UsageError(`--format: expected table, json or sarif, got "${format}"`);
  const failOn = values['fail-on'];
  if (failOn !== 'none' && !(SEVERITIES as readonly string[]).includes(failOn)) throw new UsageError(`--fail-on: expected ${SEVERITIES.join(', ')} or none, got "${failOn}"`);
  const device = positionals[0];
  if (device !== undefined && !existsSync(device)) throw new UsageError(`DEVICE ${device}: no such file or folder`);

  const configFile = values.config ?? findConfigFile('.');
  const config = configFile === undefined ? {} : await loadAuditedConfig(configFile);
  const audited: AuditedConfig = device === undefined ? config : { ...config, device: resolve(device) };
  const profile: HardeningProfile = (values.profile as HardeningProfile | undefined) ?? audited.profile ?? (audited.opcua ? audited.opcua.profile : undefined) ?? 'dev';
  // The device's node flags come from NODE_OPTIONS (read from the environment); this process's own are not the device's.
  const findings = await auditConfiguration(audited, { profile, passwordProblem, execArgv: [] });
  const version = packageInfo().version;

  if (format === 'json') process.stdout.write(`${JSON.stringify(jsonReport(findings, profile, configFile), null, 2)}\n`);
  else if (format === 'sarif') process.stdout.write(`${JSON.stringify(toSarif(findings, { version, profile, ...(configFile === undefined ? {} : { configFile }) }), null, 2)}\n`);
  else process.stdout.write(tableReport(findings, profile, configFile, failOn));

  if (values.evidence !== undefined) await writeEvidence(values.evidence, { findings, profile, configFile, version });
  return failOn !== 'none' && findingsAtOrAbove(findings, failOn as Severity).length > 0 ? 1 : 0;
}

/**
 * A configuration file as the audit reads it: checked as `sensorkit run` checks it, plus the
 * settings only the audit reads (`ota`, `updateServer`), their paths resolved against the file's folder.
 */
async function loadAuditedConfig(file: string): Promise<AuditedConfig> {
  const absolute = resolve(file);
  if (!existsSync(absolute)) throw new UsageError(`--config ${file}: no such file`);
  let raw: unknown;
  try {
    raw = extname(absolute) === '.json' ? JSON.parse(readFileSync(absolute, 'utf8')) : ((await import(pathToFileURL(absolute).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new UsageError(`${file}: cannot load: ${error instanceof ValidationError ? error.message : (error as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${file}: expected a configuration object`);
  const folder = dirname(absolute);
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(folder, path));
  const runtime: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const extra: Record<string, unknown> = {};
  for (const key of AUDIT_ONLY_KEYS) {
    if (key in CONFIG_SCHEMA.fields || runtime[key] === undefined) continue;
    extra[key] = resolvePaths(runtime[key], AUDIT_ONLY_PATHS[key] ?? [], at);
    delete runtime[key];
  }
  try {
    return { ...(checkConfig(runtime, at) as AuditedConfig), ...extra };
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

function resolvePaths(value: unknown, paths: readonly string[], at: (path: string) => string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const path of paths) {
    const parts = path.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const part of parts.slice(0, -1)) node = typeof node?.[part] === 'object' && node[part] !== null ? (node[part] as Record<string, unknown>) : undefined;
    const last = parts.at(-1)!;
    if (node && typeof node[last] === 'string') node[last] = at(node[last]);
  }
  return copy;
}

function requirementText(finding: Finding): string {
  return ruleById(finding.ruleId)?.iec62443.map((r) => `${r.id} (SL${r.sl})`).join(', ') ?? '';
}

function summary(findings: readonly Finding[]): string {
  const counts = SEVERITIES.map((severity) => [severity, findings.filter((f) => f.severity === severity).length] as const).filter(([, n]) => n > 0);
  return counts.length === 0 ? 'no findings' : counts.map(([severity, n]) => `${n} ${severity}`).join(', ');
}

function tableReport(findings: readonly Finding[], profile: HardeningProfile, configFile: string | undefined, failOn: string): string {
  const applied = rulesFor(profile).length;
  const failedRules = new Set(findings.map((f) => f.ruleId)).size;
  const lines = [`sensorkit audit: profile ${profile}, ${configFile === undefined ? "the defaults of 'sensorkit run' (no configuration file)" : `configuration ${configFile}`}: ${applied} rules apply, ${failedRules} fail`];
  if (findings.length > 0) {
    const rows = findings.map((f) => [f.ruleId, f.severity, requirementText(f), ruleById(f.ruleId)?.etsi.join(', ') ?? '', f.message]);
    const header = ['RULE', 'SEVERITY', 'IEC 62443-4-2', 'ETSI EN 303 645', 'FINDING'];
    const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: readonly string[]): string => cells.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('  ');
    lines.push('', line(header), ...rows.map(line));
    lines.push('', 'How to fix:', ...[...new Set(findings.map((f) => f.ruleId))].map((id) => `  ${id}: ${ruleById(id)?.fix ?? ''}`));
  }
  const failing = failOn === 'none' ? [] : findingsAtOrAbove(findings, failOn as Severity);
  lines.push('', `${summary(findings)}: ${failing.length > 0 ? `fails (${failing.length} at --fail-on ${failOn} or worse)` : `passes (--fail-on ${failOn})`}`);
  return `${lines.join('\n')}\n`;
}

function jsonReport(findings: readonly Finding[], profile: HardeningProfile, configFile: string | undefined): Record<string, unknown> {
  return {
    profile,
    config: configFile ?? null,
    rules: rulesFor(profile).length,
    summary: Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])),
    findings: findings.map((finding) => {
      const rule = ruleById(finding.ruleId);
      return { ...finding, iec62443: rule?.iec62443 ?? [], etsi: rule?.etsi ?? [], nist: rule?.nist, kisa: rule?.kisa, fix: rule?.fix };
    }),
  };
}

/** sensorkit's package folder and version, found by walking up from this file (sources or dist). */
function packageInfo(): { root: string; version: string } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'sensorkit' && typeof manifest.version === 'string') return { root: dir, version: manifest.version };
    } catch {
      // No package.json here: keep walking up.
    }
    if (dirname(dir) === dir) return { root: process.cwd(), version: 'unknown' };
  }
}

/** Runs `npm sbom --sbom-format cyclonedx --omit dev` in the package folder. */
function runNpmSbom(root: string): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  return new Promise((done) => {
    execFile('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'], { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error === null) return done({ ok: true, text: stdout });
      const code = (error as NodeJS.ErrnoException).code;
      done({ ok: false, reason: code === 'ENOENT' ? 'npm was not found on PATH' : `npm sbom failed: ${(stderr.trim().split('\n').at(-1) ?? error.message).slice(0, 200)}` });
    });
  });
}

async function writeEvidence(file: string, audit: { findings: readonly Finding[]; profile: HardeningProfile; configFile: string | undefined; version: string }): Promise<void> {
  const { root } = packageInfo();
  const sbomFile = `${file.replace(/\.md$/i, '')}.cdx.json`;
  const sbomRun = await runNpmSbom(root);
  let sbom: SbomResult;
  if (sbomRun.ok) {
    try {
      const bom = JSON.parse(sbomRun.text) as Extract<SbomResult, { ok: true }>['bom'];
      await writeFile(sbomFile, sbomRun.text.endsWith('\n') ? sbomRun.text : `${sbomRun.text}\n`);
      sbom = { ok: true, file: `${sbomFile} (SHA-256 ${createHash('sha256').update(sbomRun.text).digest('hex')})`, bom };
    } catch (error) {
      sbom = { ok: false, reason: `npm sbom printed no CycloneDX JSON (${(error as Error).message.slice(0, 100)})` };
    }
  } else sbom = { ok: false, reason: sbomRun.reason };
  if (!sbom.ok) process.stderr.write(`sensorkit: warning: no SBOM in the evidence: ${sbom.reason}\n`);
  const text = evidenceMarkdown({ root, version: audit.version, profile: audit.profile, findings: audit.findings, sbom, generatedAt: new Date().toISOString(), ...(audit.configFile === undefined ? {} : { configFile: audit.configFile }) });
  await writeFile(file, text);
  process.stderr.write(`sensorkit: evidence written to ${file}${sbom.ok ? ` and ${sbomFile}` : ''}\n`);
}
