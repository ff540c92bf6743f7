/**
 * The audit's SARIF 2.1.0 log validates against the OASIS schema (kept in hardening-fixtures with
 * its source and revision) and carries the whole catalogue as rules; the evidence document names
 * each control's requirements and tests, and the SBOM; certificates' signature algorithms are read
 * from their DER.
 */
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  HARDENING_RULES, SECURITY_CONTROLS, WEAK_SIGNATURE_OIDS, basicPasswordProblem, evidenceMarkdown, findingsAtOrAbove, matchTests, readCertificates, signatureAlgorithmOid, toSarif, type Finding,
} from '../../security/hardening/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMA_FILE = fileURLToPath(new URL('./hardening-fixtures/sarif-schema-2.1.0.json', import.meta.url));

/** The OASIS schema is draft-04; read as draft-07 (`id` → `$id`), which changes nothing it uses. */
function sarifValidator(): ReturnType<Ajv['compile']> {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  const { id, $schema: _draft, ...rest } = schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile({ ...rest, $id: String(id), $schema: 'http://json-schema.org/draft-07/schema#' });
}

const FINDINGS: Finding[] = [
  { ruleId: 'SK-MQTT-001', severity: 'critical', title: 'MQTT without TLS', message: 'mqtt.url mqtt://broker:1883 is plain MQTT', setting: 'mqtt.url' },
  { ruleId: 'SK-KEY-001', severity: 'high', title: 'Private key readable or writable by other users', message: 'mqtt.tls.key /etc/sensor/device key.pem has mode 0644', setting: 'mqtt.tls.key', file: '/etc/sensor/device key.pem' },
  { ruleId: 'SK-TIME-001', severity: 'medium', title: 'No time source', message: 'no time source' },
];

describe('SARIF 2.1.0', () => {
  const validate = sarifValidator();

  it('validates against the OASIS schema, with and without results', () => {
    for (const findings of [FINDINGS, []]) {
      const log = toSarif(findings, { version: '0.1.0', profile: 'production', configFile: 'deploy/sensorkit.config.json' });
      expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    }
  });

  it('lists the whole catalogue as rules and points each result at its rule, level and place', () => {
    const log = toSarif(FINDINGS, { version: '0.1.0', profile: 'production', configFile: 'deploy/sensorkit.config.json' }) as {
      version: string;
      runs: { tool: { driver: { rules: { id: string; properties: { tags: string[]; 'security-severity': string } }[] } }; results: { ruleId: string; ruleIndex: number; level: string; locations: unknown[] }[] }[];
    };
    expect(log.version).toBe('2.1.0');
    const [run] = log.runs;
    expect(run!.tool.driver.rules.map((r) => r.id)).toEqual(HARDENING_RULES.map((r) => r.id));
    expect(run!.tool.driver.rules[0]!.properties.tags).toContain('IEC 62443-4-2 CR 1.7');
    expect(run!.results.map((r) => [r.ruleId, r.level, run!.tool.driver.rules[r.ruleIndex]!.id])).toEqual([
      ['SK-MQTT-001', 'error', 'SK-MQTT-001'],
      ['SK-KEY-001', 'error', 'SK-KEY-001'],
      ['SK-TIME-001', 'warning', 'SK-TIME-001'],
    ]);
    expect(run!.results[1]!.locations).toEqual([{ physicalLocation: { artifactLocation: { uri: 'file:///etc/sensor/device%20key.pem' } }, logicalLocations: [{ fullyQualifiedName: 'mqtt.tls.key', kind: 'member' }] }]);
    expect(run!.results[0]!.locations).toEqual([{ physicalLocation: { artifactLocation: { uri: 'deploy/sensorkit.config.json' } }, logicalLocations: [{ fullyQualifiedName: 'mqtt.url', kind: 'member' }] }]);
  });

  it('a result the schema refuses is caught (the validator is not vacuous)', () => {
    const log = toSarif(FINDINGS, { version: '0.1.0', profile: 'production' }) as { runs: { results: { level: string }[] }[] };
    log.runs[0]!.results[0]!.level = 'fatal';
    expect(validate(log)).toBe(false);
  });
});

describe('evidence document', () => {
  it('names each control with its requirements and the test files that exist, the findings, every rule and the SBOM', () => {
    const text = evidenceMarkdown({
      root: ROOT, version: '0.1.0', profile: 'production', findings: FINDINGS, generatedAt: '2026-12-05T00:00:00.000Z',
      sbom: { ok: true, file: 'evidence.cdx.json', bom: { specVersion: '1.5', components: [{ name: 'mqtt', version: '5.10.0', scope: 'required', licenses: [{ license: { id: 'MIT' } }] }] } },
    });
    expect(text).toContain('# sensorkit 0.1.0: security evidence');
    for (const control of SECURITY_CONTROLS) expect(text).toContain(control.control);
    expect(text).toContain('`test/unit/hardening-rules.test.ts`');
    expect(text).toContain('`test/integration/ota-server-auth.test.ts`');
    expect(text).toMatch(/\| SK-MQTT-001 \| critical \| CR 3\.1 \(SL1\), CR 4\.1 \(SL1\) \| mqtt\.url mqtt:\/\/broker:1883 is plain MQTT \|/);
    expect(text).toMatch(/\| SK-MQTT-001 MQTT without TLS \| critical \|.*\| FAIL \|/);
    expect(text).toMatch(/\| SK-AUTH-001 .*\| pass \|/);
    expect(text).toContain('| mqtt | 5.10.0 | required | MIT |');
    const none = evidenceMarkdown({ root: ROOT, version: '0.1.0', profile: 'dev', findings: [], generatedAt: 'x', sbom: { ok: false, reason: 'npm was not found on PATH' } });
    expect(none).toContain('No SBOM: npm was not found on PATH.');
    expect(none).toMatch(/\| SK-MQTT-004 .*\| not applicable \|/);
  });

  it('matches test files by pattern, and reports a pattern with none', () => {
    expect(matchTests(ROOT, 'test/unit/hardening-*.test.ts')).toEqual(expect.arrayContaining(['test/unit/hardening-rules.test.ts', 'test/unit/hardening-sarif.test.ts']));
    expect(matchTests(ROOT, 'test/unit/no-such-*.test.ts')).toEqual([]);
    const text = evidenceMarkdown({ root: join(ROOT, 'no-such-folder'), version: '0', profile: 'dev', findings: [], generatedAt: 'x', sbom: { ok: false, reason: 'r' } });
    expect(text).toContain('`test/unit/hardening*.test.ts` (not found)');
  });
});

describe('helpers', () => {
  it('reads the signature algorithm and key size of certificates made by OpenSSL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensorkit-sarif-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'sha1.pem', '-days', '1', '-sha1', '-subj', '/CN=old'], { cwd: dir, stdio: 'pipe' });
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', 'k2.pem', '-out', 'ec.pem', '-days', '1', '-sha384', '-subj', '/CN=new'], { cwd: dir, stdio: 'pipe' });
      const sha1 = await readFile(join(dir, 'sha1.pem'));
      const ec = await readFile(join(dir, 'ec.pem'));
      expect(signatureAlgorithmOid(new X509Certificate(sha1).raw)).toBe('1.2.840.113549.1.1.5');
      expect(WEAK_SIGNATURE_OIDS.has('1.2.840.113549.1.1.5')).toBe(true);
      const [old] = readCertificates(sha1);
      expect(old).toMatchObject({ keyType: 'rsa', keyBits: 2048, signatureName: 'sha1WithRSAEncryption', subject: 'CN=old' });
      // A bundle: every certificate; DER as well as PEM.
      const bundle = readCertificates(Buffer.concat([sha1, ec]));
      expect(bundle.map((c) => [c.keyType, c.keyBits, c.signatureName])).toEqual([['rsa', 2048, 'sha1WithRSAEncryption'], ['ec', 384, 'ecdsa-with-SHA384']]);
      expect(readCertificates(new X509Certificate(ec).raw)[0]!.signatureOid).toBe('1.2.840.10045.4.3.3');
      expect(signatureAlgorithmOid(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
      expect(() => readCertificates(Buffer.from('nothing'))).toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('judges passwords and levels', () => {
    expect(basicPasswordProblem('dev', '')).toBe('is empty');
    expect(basicPasswordProblem('dev', 'Admin')).toBe('is a well-known default password');
    expect(basicPasswordProblem('device-7', 'device-7')).toBe('is the user name');
    expect(basicPasswordProblem('dev', 'x7#kQ')).toBe('is shorter than 8 characters');
    expect(basicPasswordProblem('dev', 'Kq8#vT2m!xR4pL9w')).toBeUndefined();
    expect(findingsAtOrAbove(FINDINGS, 'high').map((f) => f.ruleId)).toEqual(['SK-MQTT-001', 'SK-KEY-001']);
    expect(findingsAtOrAbove(FINDINGS, 'critical')).toHaveLength(1);
    expect(findingsAtOrAbove(FINDINGS, 'info')).toHaveLength(3);
  });
});

describe('security/hardening/README.md', () => {
  it('lists every rule of the catalogue with its severity', () => {
    const readme = readFileSync(join(ROOT, 'security/hardening/README.md'), 'utf8');
    for (const rule of HARDENING_RULES) expect(readme, rule.id).toContain(`| ${rule.id} ${rule.title} | ${rule.severity} |`);
  });
});
