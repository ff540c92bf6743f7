/**
 * Every rule of the hardening catalogue has a configuration that fails it and one that passes it:
 * the table below is checked against the catalogue, so a rule without fixtures fails this test.
 * Files are a table in memory (content and mode); certificates are made by OpenSSL; audit logs are
 * written by AuditLog and verified by the real verifier.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { AuditLog, verifyAuditLog } from '../../security/audit-log.js';
import { CHECKS } from '../../security/hardening/checks.js';
import {
  HARDENING_RULES, auditConfiguration, blockingFindings, formatFinding, type AuditedConfig, type AuditFileSystem, type AuditLogCheck, type Finding, type HardeningProfile,
} from '../../security/hardening/index.js';

const NOW = Date.now();
const DAY = 86_400_000;

interface FileSpec {
  readonly content: string | Uint8Array;
  readonly mode?: number;
  /** The size stat reports, when it is not the content's (a file too large to hold in the table). */
  readonly size?: number;
}

/** A file system held in a table: path → content and mode (default 0600). */
function memoryFs(files: Readonly<Record<string, FileSpec>>): AuditFileSystem & { readdir(path: string): Promise<string[]> } {
  return {
    readFile: async (path) => {
      const file = files[path];
      if (file === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    },
    stat: async (path) => {
      const file = files[path];
      if (file === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return { mode: file.mode ?? 0o600, isFile: true, size: file.size ?? Buffer.byteLength(file.content) };
    },
    readdir: async (path) => {
      const prefix = `${path}/`;
      const names = Object.keys(files).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]!);
      if (names.length === 0) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return [...new Set(names)];
    },
  };
}

interface Fixture {
  readonly config: AuditedConfig;
  readonly profile?: HardeningProfile;
  readonly env?: Record<string, string>;
  readonly execArgv?: string[];
  readonly files?: Record<string, FileSpec>;
  readonly uid?: number;
  readonly now?: number;
}

let work: string;
const pem: Record<string, string> = {};
let weakUsers: string;
let strongUsers: string;
let cheapStrongUsers: string;
let auditLogText: string;
let auditHeadText: string;
let operators: string;

/** Verifies an audit log held in the memory table with the real verifier, through temporary files. */
function verifierFor(files: Readonly<Record<string, FileSpec>>): (file: string, key?: Uint8Array) => Promise<AuditLogCheck> {
  return async (file, key) => {
    const copy = join(work, `verify-${randomBytes(4).toString('hex')}.log`);
    await writeFile(copy, files[file]!.content);
    if (files[`${file}.head`]) await writeFile(`${copy}.head`, files[`${file}.head`]!.content);
    const result = await verifyAuditLog(copy, key === undefined ? {} : { key });
    return result.ok ? { ok: true } : { ok: false, reason: `record ${result.line}: ${result.reason}` };
  };
}

function run(fixture: Fixture): Promise<Finding[]> {
  const files = fixture.files ?? {};
  return auditConfiguration(fixture.config, {
    profile: fixture.profile ?? 'production',
    env: fixture.env ?? {},
    execArgv: fixture.execArgv ?? [],
    fs: memoryFs(files),
    uid: fixture.uid ?? 1000,
    now: fixture.now ?? NOW,
    verifyAuditLog: verifierFor(files),
  });
}

function usersFile(name: string, password: string, N: number): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return JSON.stringify({ version: 1, users: [{ name, scrypt: { N, r: 8, p: 1, salt: salt.toString('base64'), hash: hash.toString('base64') } }] });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sensorkit-hardening-'));
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
  const cert = (name: string, key: string[], days: number, digest = '-sha256'): void =>
    openssl('req', '-x509', '-newkey', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', String(days), digest, '-subj', `/CN=${name}`);
  cert('good', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 400);
  cert('short', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 10);
  cert('rsa1024', ['rsa:1024'], 400);
  cert('sha1', ['rsa:2048'], 400, '-sha1');
  for (const name of ['good', 'short', 'rsa1024', 'sha1']) pem[name] = await readFile(join(work, `${name}.pem`), 'utf8');
  pem.goodKey = await readFile(join(work, 'good.key'), 'utf8');
  weakUsers = usersFile('operator', 'admin', 1024);
  cheapStrongUsers = usersFile('operator', randomBytes(12).toString('base64url'), 1024);
  strongUsers = usersFile('operator', randomBytes(12).toString('base64url'), 16_384);
  const log = await AuditLog.open(join(work, 'audit.log'), { clock: new VirtualClock() });
  for (const actor of ['alice', 'bob', 'carol']) await log.record({ category: 'login', event: 'opcua.session', result: 'success', actor });
  auditLogText = await readFile(join(work, 'audit.log'), 'utf8');
  auditHeadText = await readFile(join(work, 'audit.log.head'), 'utf8');
  operators = JSON.stringify({ version: 1, operators: [{ keyId: '3f9a0c1d2e3f4a5b', name: 'alice', role: 'engineer', publicKey: '-----BEGIN PUBLIC KEY-----', added: '2026-01-01T00:00:00.000Z' }] });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const BROKER = 'mqtts://broker.plant:8883';
const identity = (): Record<string, FileSpec> => ({ '/id/key.pem': { content: pem.goodKey!, mode: 0o600 }, '/id/cert.pem': { content: pem.good! } });
const withCa = (name: string): Fixture => ({ config: { mqtt: { url: BROKER, tls: { ca: '/etc/ca.pem' } }, opcua: false }, files: { '/etc/ca.pem': { content: pem[name]! } } });

/** For each rule: a configuration that fails it and one that passes it. */
const FIXTURES: Record<string, { fail: () => Fixture; pass: () => Fixture }> = {
  'SK-AUTH-001': {
    fail: () => ({ config: { mqtt: { url: BROKER, username: 'dev', passwordFile: '/s/pw' }, opcua: false }, files: { '/s/pw': { content: 'admin\n' } } }),
    pass: () => ({ config: { mqtt: { url: BROKER, username: 'dev', passwordFile: '/s/pw' }, opcua: false }, files: { '/s/pw': { content: 'Kq8#vT2m!xR4pL9w\n' } } }),
  },
  'SK-AUTH-002': {
    fail: () => ({ config: { mqtt: { url: 'mqtts://dev:Kq8vT2mxR4pL9w@broker.plant:8883' }, opcua: false } }),
    pass: () => ({ config: { mqtt: { url: 'mqtts://dev@broker.plant:8883' }, opcua: false } }),
  },
  'SK-AUTH-003': {
    fail: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', users: '/etc/u.json' } }, files: { '/etc/u.json': { content: weakUsers } } }),
    pass: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', users: '/etc/u.json' } }, files: { '/etc/u.json': { content: cheapStrongUsers } } }),
  },
  'SK-AUTH-004': {
    fail: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', users: '/etc/u.json' } }, files: { '/etc/u.json': { content: cheapStrongUsers } } }),
    pass: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', users: '/etc/u.json' } }, files: { '/etc/u.json': { content: strongUsers } } }),
  },
  'SK-AUTH-005': {
    fail: () => ({ config: { mqtt: false, opcua: { profile: 'production', users: '/etc/none.json' } } }),
    pass: () => ({ config: { mqtt: false, opcua: { profile: 'production', users: '/etc/none.json', x509Users: true } } }),
  },
  'SK-AUTH-006': {
    fail: () => ({ config: { mqtt: false, opcua: false } }),
    pass: () => ({ config: { mqtt: false, opcua: false, security: { identity: { dir: '/id' } } }, files: identity() }),
  },
  'SK-MQTT-001': {
    fail: () => ({ config: { mqtt: { url: 'mqtt://broker.plant:1883' }, opcua: false } }),
    pass: () => ({ config: { mqtt: { url: BROKER }, opcua: false } }),
  },
  'SK-MQTT-002': {
    fail: () => ({ config: { mqtt: { url: BROKER }, opcua: false }, env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } }),
    pass: () => ({ config: { mqtt: { url: BROKER }, opcua: false }, env: { NODE_TLS_REJECT_UNAUTHORIZED: '1' } }),
  },
  'SK-MQTT-003': {
    fail: () => ({ config: { mqtt: { url: BROKER }, opcua: false } }),
    pass: () => ({ config: { mqtt: { url: BROKER, tls: { identity: true } }, opcua: false, security: { identity: { dir: '/id' } } }, files: identity() }),
  },
  'SK-MQTT-004': {
    fail: () => ({ config: { opcua: false } }),
    pass: () => ({ config: { mqtt: false, opcua: false } }),
  },
  'SK-MQTT-005': {
    fail: () => ({ config: { mqtt: { url: BROKER }, opcua: false } }),
    pass: () => withCa('good'),
  },
  'SK-TLS-001': {
    fail: () => ({ config: { mqtt: false, opcua: false }, env: { NODE_OPTIONS: '--max-old-space-size=256 --tls-min-v1.0' } }),
    pass: () => ({ config: { mqtt: false, opcua: false }, env: { NODE_OPTIONS: '--max-old-space-size=256' } }),
  },
  'SK-TLS-002': {
    fail: () => ({ config: { mqtt: false, opcua: false }, execArgv: ['--openssl-legacy-provider'] }),
    pass: () => ({ config: { mqtt: false, opcua: false }, execArgv: ['--enable-source-maps'] }),
  },
  'SK-OPCUA-001': {
    fail: () => ({ config: { mqtt: false, opcua: { profile: 'dev' } } }),
    pass: () => ({ config: { mqtt: false, opcua: { profile: 'production' } } }),
  },
  'SK-OPCUA-002': {
    fail: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', securityPolicies: ['Basic256Sha256', 'http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15'] } } }),
    pass: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', securityPolicies: ['Basic256Sha256', 'Aes256_Sha256_RsaPss'] } } }),
  },
  'SK-OPCUA-003': {
    fail: () => ({ config: { mqtt: false, opcua: { profile: 'production', allowAnonymous: true } } }),
    pass: () => ({ config: { mqtt: false, opcua: { profile: 'production' } } }),
  },
  'SK-OPCUA-004': {
    fail: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'dev', host: '0.0.0.0', allowRemoteDev: true } } }),
    pass: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'dev', host: '127.0.0.1' } } }),
  },
  'SK-NET-001': {
    fail: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'dev', host: '::', allowRemoteDev: true } } }),
    pass: () => ({ profile: 'dev', config: { mqtt: false, opcua: { profile: 'production', host: '::' } } }),
  },
  'SK-NET-002': {
    fail: () => ({ config: { mqtt: false, opcua: { profile: 'production' } } }),
    pass: () => ({ config: { mqtt: false, opcua: { profile: 'production', host: '192.0.2.10' } } }),
  },
  'SK-CERT-001': { fail: () => withCa('rsa1024'), pass: () => withCa('good') },
  'SK-CERT-002': { fail: () => withCa('sha1'), pass: () => withCa('good') },
  'SK-CERT-003': { fail: () => ({ ...withCa('good'), now: NOW + 500 * DAY }), pass: () => withCa('good') },
  'SK-CERT-004': { fail: () => withCa('short'), pass: () => withCa('good') },
  'SK-CERT-005': {
    fail: () => ({ config: { mqtt: { url: BROKER, tls: { ca: '/etc/ca.pem' } }, opcua: false }, files: { '/etc/ca.pem': { content: 'not a certificate' } } }),
    pass: () => withCa('good'),
  },
  'SK-KEY-001': {
    fail: () => ({ config: { mqtt: { url: BROKER, tls: { cert: '/etc/c.pem', key: '/etc/c.key' } }, opcua: false }, files: { '/etc/c.pem': { content: pem.good! }, '/etc/c.key': { content: pem.goodKey!, mode: 0o640 } } }),
    pass: () => ({ config: { mqtt: { url: BROKER, tls: { cert: '/etc/c.pem', key: '/etc/c.key' } }, opcua: false }, files: { '/etc/c.pem': { content: pem.good! }, '/etc/c.key': { content: pem.goodKey!, mode: 0o600 } } }),
  },
  'SK-KEY-002': {
    fail: () => ({ config: { mqtt: { url: BROKER, username: 'dev', passwordFile: '/s/pw' }, opcua: false }, files: { '/s/pw': { content: 'Kq8#vT2m!xR4pL9w', mode: 0o644 } } }),
    pass: () => ({ config: { mqtt: { url: BROKER, username: 'dev', passwordFile: '/s/pw' }, opcua: false }, files: { '/s/pw': { content: 'Kq8#vT2m!xR4pL9w', mode: 0o400 } } }),
  },
  'SK-CMD-001': {
    fail: () => ({ config: { mqtt: { url: BROKER }, opcua: false, security: { signedCommands: false } } }),
    pass: () => ({ config: { mqtt: { url: BROKER }, opcua: false } }),
  },
  'SK-CMD-002': {
    fail: () => ({ config: { mqtt: false, opcua: false, security: { operators: '/etc/operators.json' } }, files: { '/etc/operators.json': { content: JSON.stringify({ version: 1, operators: [{ ...JSON.parse(operators).operators[0], revoked: '2026-02-01T00:00:00.000Z' }] }) } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, security: { operators: '/etc/operators.json' } }, files: { '/etc/operators.json': { content: operators } } }),
  },
  'SK-CMD-003': {
    fail: () => ({ config: { mqtt: false, opcua: false, security: { operators: '/etc/operators.json' } }, files: { '/etc/operators.json': { content: operators, mode: 0o662 } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, security: { operators: '/etc/operators.json' } }, files: { '/etc/operators.json': { content: operators, mode: 0o644 } } }),
  },
  'SK-OTA-001': {
    fail: () => ({ config: { mqtt: false, opcua: false, ota: { trustAnchors: '/etc/ota.pem', allowUnsigned: true } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, ota: { trustAnchors: '/etc/ota.pem' } } }),
  },
  'SK-OTA-002': {
    fail: () => ({ config: { mqtt: false, opcua: false, ota: { trustAnchors: '/etc/ota.pem', allowDowngrade: true } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, ota: { trustAnchors: '/etc/ota.pem', allowDowngrade: false } } }),
  },
  'SK-OTA-003': {
    fail: () => ({ profile: 'dev', config: { mqtt: false, opcua: false, updateServer: { host: '127.0.0.1' } } }),
    pass: () => ({ profile: 'dev', config: { mqtt: false, opcua: false, updateServer: { host: '127.0.0.1', adminTokens: '/etc/tokens.json' } } }),
  },
  'SK-OTA-004': {
    fail: () => ({ config: { mqtt: false, opcua: false, updateServer: { host: '192.0.2.1', tls: { cert: '/etc/s.pem', key: '/etc/s.key' } } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, updateServer: { host: '192.0.2.1', tls: { cert: '/etc/s.pem', key: '/etc/s.key', clientCa: '/etc/ca.pem' } } } }),
  },
  'SK-DBG-001': {
    fail: () => ({ config: { mqtt: false, opcua: false }, env: { NODE_OPTIONS: '--inspect=0.0.0.0:9229' } }),
    pass: () => ({ config: { mqtt: false, opcua: false }, env: { NODE_OPTIONS: '--enable-source-maps' } }),
  },
  'SK-DBG-002': {
    fail: () => ({ config: { mqtt: false, opcua: false }, env: { DEBUG: 'mqttjs*' } }),
    pass: () => ({ config: { mqtt: false, opcua: false }, env: { DEBUG: '' } }),
  },
  'SK-LOG-001': {
    fail: () => ({ config: { mqtt: false, opcua: false, security: { auditLog: false } } }),
    pass: () => ({ config: { mqtt: false, opcua: false } }),
  },
  'SK-LOG-002': {
    fail: () => ({ config: { mqtt: false, opcua: false, security: { auditLog: '/var/log/audit.log' } }, files: { '/var/log/audit.log': { content: auditLogText.replace('"bob"', '"mallory"') }, '/var/log/audit.log.head': { content: auditHeadText } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, security: { auditLog: '/var/log/audit.log' } }, files: { '/var/log/audit.log': { content: auditLogText }, '/var/log/audit.log.head': { content: auditHeadText } } }),
  },
  'SK-LOG-003': {
    fail: () => ({ config: { mqtt: false, opcua: false, security: { auditLog: { file: '/var/log/audit.log' } } }, files: { '/var/log/audit.log': { content: auditLogText, mode: 0o666 }, '/var/log/audit.log.head': { content: auditHeadText } } }),
    pass: () => ({ config: { mqtt: false, opcua: false, security: { auditLog: { file: '/var/log/audit.log' } } }, files: { '/var/log/audit.log': { content: auditLogText, mode: 0o640 }, '/var/log/audit.log.head': { content: auditHeadText } } }),
  },
  'SK-TIME-001': {
    fail: () => ({ config: { mqtt: false, opcua: false } }),
    pass: () => ({ config: { mqtt: false, opcua: false, security: { timeSource: 'ntp' } } }),
  },
  'SK-SYS-001': {
    fail: () => ({ config: { mqtt: false, opcua: false }, uid: 0 }),
    pass: () => ({ config: { mqtt: false, opcua: false }, uid: 1000 }),
  },
};

describe('the rule catalogue', () => {
  it('has at least 25 rules, each with a unique id, a check, and every standard mapped', () => {
    expect(HARDENING_RULES.length).toBeGreaterThanOrEqual(25);
    expect(new Set(HARDENING_RULES.map((rule) => rule.id)).size).toBe(HARDENING_RULES.length);
    for (const rule of HARDENING_RULES) {
      expect(rule.id).toMatch(/^SK-[A-Z]+-\d{3}$/);
      expect(CHECKS[rule.id], rule.id).toBeTypeOf('function');
      expect(rule.iec62443.length, rule.id).toBeGreaterThan(0);
      for (const requirement of rule.iec62443) {
        expect(requirement.id, rule.id).toMatch(/^(CR|EDR) \d\.\d{1,2}( RE\d)?$/);
        expect([1, 2, 3, 4]).toContain(requirement.sl);
        expect(requirement.name.length).toBeGreaterThan(5);
      }
      expect(rule.etsi.length, rule.id).toBeGreaterThan(0);
      for (const provision of rule.etsi) expect(provision, rule.id).toMatch(/^5\.\d{1,2}-\d{1,2}$/);
      expect(rule.nist.length).toBeGreaterThan(0);
      expect(rule.kisa.length).toBeGreaterThan(0);
      expect(rule.checks.length, rule.id).toBeGreaterThan(20);
      expect(rule.fix.length, rule.id).toBeGreaterThan(10);
      expect(rule.profiles.length).toBeGreaterThan(0);
    }
    expect(Object.keys(CHECKS).sort()).toEqual(HARDENING_RULES.map((rule) => rule.id).sort());
  });

  it('has fixtures for every rule and none for a rule that does not exist', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(HARDENING_RULES.map((rule) => rule.id).sort());
  });
});

describe.each(HARDENING_RULES.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
  it('fails on its failing fixture, with its severity', async () => {
    const fixture = FIXTURES[id];
    expect(fixture, `${id} has no fixtures`).toBeDefined();
    const findings = (await run(fixture!.fail())).filter((f) => f.ruleId === id);
    expect(findings.length, `${id} did not fail on its failing fixture`).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(finding.severity).toBe(rule.severity);
      expect(finding.title).toBe(rule.title);
      expect(finding.message.length).toBeGreaterThan(10);
    }
  });

  it('passes on its passing fixture', async () => {
    const fixture = FIXTURES[id];
    expect(fixture, `${id} has no fixtures`).toBeDefined();
    const findings = (await run(fixture!.pass())).filter((f) => f.ruleId === id);
    expect(findings.map((f) => f.message)).toEqual([]);
  });
});

describe('auditConfiguration', () => {
  it('finds the development settings of the defaults under production, with their 62443 requirements, and none under dev', async () => {
    const production = await run({ config: {} });
    const ids = production.map((f) => f.ruleId);
    expect(ids).toEqual(expect.arrayContaining(['SK-MQTT-004', 'SK-AUTH-005', 'SK-AUTH-006', 'SK-CMD-002', 'SK-TIME-001']));
    expect(production.map(formatFinding)).toContain('SK-MQTT-004 [high] CR 7.7 (SL1): MQTT names no broker: the embedded development broker (no TLS, no authentication) would run');
    expect(await run({ config: {}, profile: 'dev' })).toEqual([]);
    // An explicitly dev OPC UA under production: its None policy and anonymous login are findings, None critical.
    const dev = await run({ config: { opcua: { profile: 'dev' } } });
    expect(blockingFindings(dev).map((f) => f.ruleId)).toEqual(['SK-OPCUA-001']);
    expect(dev.map((f) => f.ruleId)).toContain('SK-OPCUA-003');
  });

  it('lists findings worst first', async () => {
    const findings = await run({ config: { opcua: { profile: 'dev' } }, uid: 0 });
    const ranks = findings.map((f) => ['critical', 'high', 'medium', 'low', 'info'].indexOf(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('takes a host whose clock is synchronised as a time source', async () => {
    const findings = await run({ config: { mqtt: false, opcua: false }, files: { '/run/systemd/timesync/synchronized': { content: '' } } });
    expect(findings.map((f) => f.ruleId)).not.toContain('SK-TIME-001');
  });

  it('reports the update server on every interface over plain HTTP', async () => {
    const findings = await run({ profile: 'dev', config: { mqtt: false, opcua: false, updateServer: { host: '0.0.0.0', adminTokens: '/t.json' } } });
    expect(findings.map((f) => f.ruleId)).toEqual(['SK-NET-001']);
  });

  it('verifies a keyed audit log with its key file, and names the broken record of an edited one', async () => {
    const key = randomBytes(32);
    const dir = await mkdtemp(join(work, 'keyed-'));
    const log = await AuditLog.open(join(dir, 'audit.log'), { clock: new VirtualClock(), key });
    for (const actor of ['alice', 'bob']) await log.record({ category: 'command', event: 'mqtt.command', result: 'success', actor });
    const files = { '/a.log': { content: await readFile(join(dir, 'audit.log')) }, '/a.log.head': { content: await readFile(join(dir, 'audit.log.head')) }, '/a.key': { content: key } };
    const config: AuditedConfig = { mqtt: false, opcua: false, security: { auditLog: { file: '/a.log', keyFile: '/a.key' } } };
    expect((await run({ config, files })).map((f) => f.ruleId)).not.toContain('SK-LOG-002');
    const wrongKey = await run({ config, files: { ...files, '/a.key': { content: randomBytes(32) } } });
    expect(wrongKey.find((f) => f.ruleId === 'SK-LOG-002')?.message).toMatch(/^the audit log \/a\.log does not verify: record 1: /);
    const edited = auditLogText.split('\n');
    edited.splice(1, 1);
    const deleted = await run({ config: { mqtt: false, opcua: false, security: { auditLog: '/l' } }, files: { '/l': { content: edited.join('\n') }, '/l.head': { content: auditHeadText } } });
    expect(deleted.find((f) => f.ruleId === 'SK-LOG-002')?.message).toMatch(/^the audit log \/l does not verify: record 2: /);
  });
});

describe('the default audit log folder', () => {
  it('checks every log in .sensorkit/audit under production when no file is named', async () => {
    const files = { '.sensorkit/audit/env-node-EMU-1.log': { content: auditLogText.replace('"carol"', '"eve"') }, '.sensorkit/audit/env-node-EMU-1.log.head': { content: auditHeadText }, '.sensorkit/audit/other.log': { content: auditLogText, mode: 0o664 }, '.sensorkit/audit/other.log.head': { content: auditHeadText } };
    const findings = await run({ config: { mqtt: false, opcua: false }, files });
    expect(findings.filter((f) => f.ruleId.startsWith('SK-LOG-')).map((f) => [f.ruleId, f.file])).toEqual([
      ['SK-LOG-002', '.sensorkit/audit/env-node-EMU-1.log'],
      ['SK-LOG-003', '.sensorkit/audit/other.log'],
    ]);
  });
});

describe('odd input', () => {
  it('audits a broker URL with a malformed escape in its user name without failing', async () => {
    const findings = await run({ config: { mqtt: { url: 'mqtts://%zz:admin@broker.plant:8883' }, opcua: false } });
    expect(findings.filter((f) => f.ruleId === 'SK-AUTH-001').map((f) => f.message)).toEqual(['the broker password (mqtt.url) is a well-known default password']);
  });
});

describe('files the audit does not read', () => {
  it('reads no file above 4 MiB, and says so', async () => {
    const findings = await run({ config: { mqtt: { url: BROKER, username: 'dev', passwordFile: '/s/pw' }, opcua: false }, files: { '/s/pw': { content: 'x', size: 5 * 1024 * 1024 } } });
    expect(findings.filter((f) => f.ruleId === 'SK-AUTH-001').map((f) => f.message)).toEqual(['the broker password (mqtt.passwordFile /s/pw): larger than 4194304 bytes']);
  });
});
