/**
 * `sensorkit audit` end to end: the defaults of `sensorkit run` under the production profile fail
 * with their IEC 62443-4-2 numbers; a production configuration that fixes them passes with no high
 * finding (and fails again with a world-readable key); JSON and SARIF 2.1.0 (validated against the
 * OASIS schema); the evidence document with the CycloneDX SBOM, and a clear line without npm.
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { hashPassword } from '../../sdk/transport/opcua/users.js';
import { AuditLog } from '../../security/audit-log.js';
import { OperatorTrustStore } from '../../security/operators/trust-store.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
const FIXTURES = fileURLToPath(new URL('./audit-cli-fixtures/', import.meta.url));
/** The environment of a plain service: none of the test runner's node flags or debug settings. */
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['NODE_OPTIONS', 'DEBUG', 'NODE_DEBUG', 'NODE_TLS_REJECT_UNAUTHORIZED', 'SENSORKIT_MQTT_PASSWORD'].includes(name)));

let work: string;
let production: string;

function audit(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'audit', ...args], { cwd: options.cwd ?? work, env: options.env ?? ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sensorkit-audit-cli-'));
  production = join(work, 'production');
  await mkdir(join(production, 'identity'), { recursive: true });
  await copyFile(join(FIXTURES, 'production', 'sensorkit.config.json'), join(production, 'sensorkit.config.json'));
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: production, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '400', '-subj', '/CN=plant-ca');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'identity/key.pem', '-out', 'identity/cert.pem', '-days', '400', '-subj', '/CN=acme-env-node-0042');
  await chmod(join(production, 'identity', 'key.pem'), 0o600);
  await chmod(join(production, 'ca.key'), 0o600);
  const user = await hashPassword('maintenance', 'correct horse battery staple 42');
  await writeFile(join(production, 'opcua-users.json'), `${JSON.stringify({ version: 1, users: [user] })}\n`, { mode: 0o600 });
  const operators = new OperatorTrustStore([], join(production, 'operators.json'));
  const { publicKey } = generateKeyPairSync('ed25519');
  await operators.trust(publicKey.export({ type: 'spki', format: 'pem' }).toString(), { role: 'engineer', name: 'alice' });
  await chmod(join(production, 'operators.json'), 0o600);
  const log = await AuditLog.open(join(production, 'audit.log'), { clock: new VirtualClock() });
  await log.record({ category: 'system', event: 'runtime.start', result: 'success', source: 'runtime' });
  await chmod(join(production, 'audit.log'), 0o600);
}, 60_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sensorkit audit', () => {
  it('reports the development defaults of the default example under production with their 62443 numbers, and exits 1', async () => {
    const result = await audit([join(ROOT, 'examples', 'env-node'), '--profile', 'production']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^sensorkit audit: profile production, the defaults of 'sensorkit run' \(no configuration file\): \d+ rules apply, \d+ fail\n/);
    expect(result.stdout).toMatch(/^SK-MQTT-004 +high +CR 7\.7 \(SL1\), CR 1\.2 \(SL2\) +5\.6-1, 5\.6-5 +MQTT names no broker: the embedded development broker/m);
    expect(result.stdout).toMatch(/^SK-AUTH-006 +high +CR 1\.2 \(SL2\), CR 1\.8 \(SL2\) .*no device identity/m);
    expect(result.stdout).toMatch(/^SK-AUTH-005 +high +CR 1\.1 \(SL1\)/m);
    expect(result.stdout).toMatch(/^SK-CMD-002 +high +CR 2\.1 RE2 \(SL2\)/m);
    expect(result.stdout).toMatch(/^ {2}SK-MQTT-004: Set mqtt\.url to the plant broker/m);
    expect(result.stdout).toMatch(/\n\d+ high(, \d+ medium)?(, \d+ low)?: fails \(\d+ at --fail-on high or worse\)\n$/);
    // The same defaults are fine for development.
    const dev = await audit([join(ROOT, 'examples', 'env-node')]);
    expect(dev.code).toBe(0);
    expect(dev.stdout).toMatch(/profile dev, .*: \d+ rules apply, 0 fail\n\nno findings: passes \(--fail-on high\)\n$/);
  }, 60_000);

  it('reports a development configuration under production: plain MQTT, a default password, SecurityPolicy None, unsigned commands, no audit log', async () => {
    const result = await audit(['--config', join(FIXTURES, 'development', 'sensorkit.config.json'), '--profile', 'production', '--format', 'json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { profile: string; summary: Record<string, number>; findings: { ruleId: string; severity: string; iec62443: { id: string; sl: number }[] }[] };
    expect(report.profile).toBe('production');
    const critical = report.findings.filter((f) => f.severity === 'critical').map((f) => f.ruleId);
    expect(critical).toEqual(expect.arrayContaining(['SK-MQTT-001', 'SK-AUTH-001', 'SK-OPCUA-001', 'SK-CMD-001']));
    expect(report.findings.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['SK-AUTH-002', 'SK-OPCUA-003', 'SK-LOG-001']));
    expect(report.findings.find((f) => f.ruleId === 'SK-OPCUA-001')!.iec62443[0]).toMatchObject({ id: 'CR 3.1', sl: 1 });
    expect(report.summary.critical).toBe(critical.length);
    expect(result.stdout).not.toContain('admin:admin');
  }, 60_000);

  it('passes a production configuration that fixes them, with no high finding; a world-readable key fails it again', async () => {
    const result = await audit(['--fail-on', 'high'], { cwd: production });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^sensorkit audit: profile production, configuration sensorkit\.config\.json: \d+ rules apply/);
    expect(result.stdout).not.toMatch(/ (critical|high) /);
    await chmod(join(production, 'identity', 'key.pem'), 0o644);
    try {
      const readable = await audit(['--format', 'json'], { cwd: production });
      expect(readable.code).toBe(1);
      const findings = (JSON.parse(readable.stdout) as { findings: { ruleId: string; message: string }[] }).findings;
      expect(findings.filter((f) => f.ruleId === 'SK-KEY-001').map((f) => f.message)).toEqual([expect.stringMatching(/identity\/key\.pem has mode 0644 \(group or others may read it\)$/)]);
    } finally {
      await chmod(join(production, 'identity', 'key.pem'), 0o600);
    }
  }, 60_000);

  it('writes SARIF 2.1.0 that validates against the OASIS schema, with the whole catalogue as rules', async () => {
    const result = await audit(['--config', join(FIXTURES, 'development', 'sensorkit.config.json'), '--profile', 'production', '--format', 'sarif', '--fail-on', 'none']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(readFileSync(join(ROOT, 'test/unit/hardening-fixtures/sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;
    const { id, $schema: _draft, ...rest } = schema;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile({ ...rest, $id: String(id), $schema: 'http://json-schema.org/draft-07/schema#' });
    const log = JSON.parse(result.stdout) as { runs: { tool: { driver: { rules: unknown[] } }; results: { ruleId: string; locations: { physicalLocation?: { artifactLocation: { uri: string } } }[] }[] }[] };
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(log.runs[0]!.tool.driver.rules.length).toBeGreaterThanOrEqual(25);
    expect(log.runs[0]!.results.find((r) => r.ruleId === 'SK-MQTT-001')!.locations[0]!.physicalLocation!.artifactLocation.uri).toMatch(/development\/sensorkit\.config\.json$/);
  }, 60_000);

  it('writes the evidence document and the CycloneDX SBOM beside it', async () => {
    const file = join(work, 'evidence.md');
    const result = await audit(['--evidence', file], { cwd: production });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`sensorkit: evidence written to ${file} and ${join(work, 'evidence.cdx.json')}`);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^# sensorkit \d+\.\d+\.\d+: security evidence\n/);
    expect(text).toContain('| Update server: administrators by role token, devices by mutual TLS; no unauthenticated campaign change | CR 1.1 (SL1), CR 1.2 (SL2), CR 2.1 (SL1), CR 2.8 (SL1) |');
    expect(text).toContain('`test/integration/ota-server-auth.test.ts`');
    expect(text).toMatch(/CycloneDX 1\.\d+ from `npm sbom --sbom-format cyclonedx --omit dev`: `.*evidence\.cdx\.json \(SHA-256 [0-9a-f]{64}\)` \(\d+ components\)/);
    const bom = JSON.parse(await readFile(join(work, 'evidence.cdx.json'), 'utf8')) as { bomFormat: string; components: { name: string }[] };
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.components.map((c) => c.name)).toContain('mqtt');
    expect(bom.components.map((c) => c.name)).not.toContain('vitest');
  }, 120_000);

  it('says so in one line when npm is missing, and still writes the evidence', async () => {
    const file = join(work, 'no-npm.md');
    const result = await audit(['--evidence', file], { cwd: production, env: { ...ENV, PATH: join(work, 'empty-path') } });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('sensorkit: warning: no SBOM in the evidence: npm was not found on PATH\n');
    expect(await readFile(file, 'utf8')).toContain('No SBOM: npm was not found on PATH.');
  }, 60_000);

  it('reads the update server and the node flags a service would run with', async () => {
    const file = join(work, 'update-server.json');
    await writeFile(file, JSON.stringify({ mqtt: false, opcua: false, updateServer: { host: '0.0.0.0', tls: { clientCa: 'device-ca.pem' } } }));
    const result = await audit(['--config', file, '--format', 'json'], { env: { ...ENV, NODE_OPTIONS: '--inspect=0.0.0.0:9229' } });
    expect(result.code).toBe(1);
    const findings = (JSON.parse(result.stdout) as { findings: { ruleId: string; severity: string; file?: string }[] }).findings;
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([
      ['SK-DBG-001', 'critical'],
      ['SK-NET-001', 'high'],
      ['SK-OTA-003', 'high'],
      ['SK-CERT-005', 'medium'],
    ]);
    // A relative path resolves against the configuration file's folder.
    expect(findings.at(-1)!.file).toBe(join(work, 'device-ca.pem'));
  }, 60_000);

  it('exits by --fail-on, and 2 with one line for a wrong command line', async () => {
    const defaults = join(ROOT, 'examples', 'env-node');
    expect((await audit([defaults, '--profile', 'production', '--fail-on', 'critical'])).code).toBe(0);
    expect((await audit([defaults, '--profile', 'production', '--fail-on', 'none'])).code).toBe(0);
    expect((await audit([defaults, '--profile', 'production', '--fail-on', 'low'])).code).toBe(1);
    for (const args of [['--profile', 'staging'], ['--format', 'xml'], ['--fail-on', 'severe'], ['no-such-device.ts'], ['--config', 'missing.json']]) {
      const result = await audit(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(/^sensorkit: /);
      expect(result.stderr).not.toMatch(/\n {4}at /);
    }
  }, 120_000);
});
