/**
 * The checks of the catalogue, one per rule id: each reads the {@link AuditContext} and returns the
 * problems it found (none: the rule passes). Pure over the context; the context does the reading.
 */
import { scrypt as scryptCallback } from 'node:crypto';
import { WEAK_SIGNATURE_OIDS } from './certificates.js';
import { isLoopback, isWildcard, type AuditContext } from './context.js';
import type { Problem } from './types.js';

type Check = (context: AuditContext) => Promise<Problem[]> | Problem[];

/** Passwords that ship as defaults somewhere and are tried first by anyone. */
export const DEFAULT_PASSWORDS: readonly string[] = ['admin', 'password', 'passw0rd', 'root', 'user', 'guest', 'operator', 'opcua', 'sensorkit', 'changeme', 'default', 'secret', '1234', '123456', '12345678', 'mqtt', 'public'];

const MIN_PASSWORD_LENGTH = 8;

/**
 * The built-in password check (the OPC UA server's fuller one is injected where the caller has it):
 * empty, a well-known default, the user name, or shorter than 8 characters.
 *
 * @example
 * ```ts
 * basicPasswordProblem('device-7', 'admin') // 'is a well-known default password'
 * ```
 */
export function basicPasswordProblem(user: string, password: string): string | undefined {
  if (password === '') return 'is empty';
  if (DEFAULT_PASSWORDS.includes(password.toLowerCase())) return 'is a well-known default password';
  if (user !== '' && password.toLowerCase() === user.toLowerCase()) return 'is the user name';
  if (password.length < MIN_PASSWORD_LENGTH) return `is shorter than ${MIN_PASSWORD_LENGTH} characters`;
  return undefined;
}

/** Group or other may read or write. */
const OPEN_TO_OTHERS = 0o077;
/** Group or other may write. */
const WRITABLE_BY_OTHERS = 0o022;
const THIRTY_DAYS_MS = 30 * 86_400_000;

function flagged(context: AuditContext, pattern: RegExp): string[] {
  return context.nodeFlags.filter((flag) => pattern.test(flag));
}

function modeText(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/** Percent-decoded userinfo; a malformed escape is taken as written. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function mqttPassword(context: AuditContext): Promise<{ user: string; password: string | undefined; source: string; unreadable?: string } | undefined> {
  const mqtt = context.mqtt;
  if (mqtt.kind !== 'broker') return undefined;
  const settings = context.config.mqtt === false ? undefined : context.config.mqtt;
  const user = settings?.username ?? decoded(mqtt.url.username);
  if (settings?.passwordFile !== undefined) {
    const file = await context.read(settings.passwordFile);
    const source = `mqtt.passwordFile ${settings.passwordFile}`;
    if (file.bytes === undefined) return { user, password: undefined, source, unreadable: file.error ?? 'cannot be read' };
    return { user, password: Buffer.from(file.bytes).toString('utf8').replace(/\r?\n$/, ''), source };
  }
  const fromEnv = context.env.SENSORKIT_MQTT_PASSWORD;
  if (fromEnv !== undefined) return { user, password: fromEnv, source: '$SENSORKIT_MQTT_PASSWORD' };
  if (mqtt.url.password !== '') return { user, password: decoded(mqtt.url.password), source: 'mqtt.url' };
  return { user, password: undefined, source: '' };
}

interface UserHash {
  readonly name: string;
  readonly scrypt: { readonly N: number; readonly r: number; readonly p: number; readonly salt: string; readonly hash: string };
}

/** The OPC UA users file: its users, or why it cannot be used. Missing is an empty list. */
async function opcuaUsers(context: AuditContext): Promise<{ users: UserHash[]; problem?: string; file: string } | undefined> {
  const opcua = context.opcua;
  if (opcua === undefined) return undefined;
  const file = await context.read(opcua.users);
  if (!file.exists) return { users: [], file: opcua.users };
  if (file.bytes === undefined) return { users: [], problem: file.error ?? 'cannot read', file: opcua.users };
  try {
    const parsed = JSON.parse(Buffer.from(file.bytes).toString('utf8')) as { version?: unknown; users?: unknown };
    if (parsed.version !== 1 || !Array.isArray(parsed.users)) return { users: [], problem: 'not a users file', file: opcua.users };
    const users = parsed.users.filter((u): u is UserHash => typeof (u as UserHash)?.name === 'string' && typeof (u as UserHash)?.scrypt?.hash === 'string');
    if (users.length !== parsed.users.length) return { users, problem: 'holds a user without a scrypt hash', file: opcua.users };
    return { users, file: opcua.users };
  } catch {
    return { users: [], problem: 'not valid JSON', file: opcua.users };
  }
}

function scrypt(password: string, user: UserHash): Promise<Buffer> {
  const { N, r, p, salt, hash } = user.scrypt;
  const length = Buffer.from(hash, 'base64').length;
  return new Promise((resolve, reject) => scryptCallback(password, Buffer.from(salt, 'base64'), length, { N, r, p, maxmem: 256 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Most users whose hashes are tried against the default passwords (each try is one scrypt). */
const MAX_PROBED_USERS = 20;

/**
 * Whether a user's password is a default or the user's name: every candidate hashed with the
 * user's salt and cost. The candidates run together on libuv's thread pool (4 at a time by
 * default, 16 MiB each at N = 2^14), about four times faster than one after another.
 */
async function defaultPasswordOf(user: UserHash): Promise<string | undefined> {
  // A cost above 2^17 × 8 × 1 (8× the default) is not tried: a crafted file must not stall the audit.
  const { N, r, p } = user.scrypt;
  if (![N, r, p].every((v) => Number.isInteger(v) && v >= 1) || N * r * p > 2 ** 17 * 8) return undefined;
  const expected = Buffer.from(user.scrypt.hash, 'base64');
  const names = new Set([user.name, user.name.toLowerCase()]);
  const candidates = [...new Set([...DEFAULT_PASSWORDS, ...names])];
  const matches = await Promise.all(candidates.map((candidate) => scrypt(candidate, user).then((key) => key.equals(expected), () => false)));
  const found = candidates[matches.indexOf(true)];
  if (found === undefined) return undefined;
  return names.has(found) ? 'the user name' : 'a well-known default';
}

async function certificateProblems(context: AuditContext, judge: (facts: NonNullable<Awaited<ReturnType<AuditContext['certificateFiles']>>[number]['certificates']>[number]) => string | undefined): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const file of await context.certificateFiles()) {
    for (const certificate of file.certificates ?? []) {
      const problem = judge(certificate);
      if (problem !== undefined) problems.push({ message: `${file.setting} ${file.file} (${certificate.subject}): ${problem}`, setting: file.setting, file: file.file });
    }
  }
  return problems;
}

/** The checks, by rule id. */
export const CHECKS: Readonly<Record<string, Check>> = {
  'SK-AUTH-001': async (context) => {
    const credentials = await mqttPassword(context);
    if (credentials === undefined) return [];
    if (credentials.unreadable !== undefined) return [{ message: `the broker password (${credentials.source}): ${credentials.unreadable}`, setting: 'mqtt.passwordFile' }];
    if (credentials.password === undefined) {
      if ((await context.mqttClientCertificate()) !== undefined) return [];
      return [{ message: `the broker ${context.mqtt.kind === 'broker' ? context.mqtt.url.host : ''} is reached with ${credentials.user === '' ? 'no credentials at all' : `user ${credentials.user} and no password`}`, setting: 'mqtt' }];
    }
    const problem = (context.options.passwordProblem ?? basicPasswordProblem)(credentials.user, credentials.password) ?? basicPasswordProblem(credentials.user, credentials.password);
    return problem === undefined ? [] : [{ message: `the broker password (${credentials.source}) ${problem}`, setting: credentials.source.startsWith('mqtt.') ? credentials.source.split(' ')[0]! : 'mqtt' }];
  },
  'SK-AUTH-002': (context) => {
    const mqtt = context.mqtt;
    return mqtt.kind === 'broker' && mqtt.url.password !== '' ? [{ message: 'mqtt.url holds a password (visible in ps, logs and backups)', setting: 'mqtt.url' }] : [];
  },
  'SK-AUTH-003': async (context) => {
    const users = await opcuaUsers(context);
    const problems: Problem[] = [];
    for (const user of users?.users.slice(0, MAX_PROBED_USERS) ?? []) {
      const weak = await defaultPasswordOf(user);
      if (weak !== undefined) problems.push({ message: `OPC UA user ${user.name} has ${weak} as password (${users!.file})`, setting: 'opcua.users', file: users!.file });
    }
    return problems;
  },
  'SK-AUTH-004': async (context) => {
    const users = await opcuaUsers(context);
    if (users === undefined) return [];
    if (users.problem !== undefined) return [{ message: `the OPC UA users file ${users.file} ${users.problem}`, setting: 'opcua.users', file: users.file }];
    return users.users
      .filter((u) => !(u.scrypt.N >= 2 ** 14 && u.scrypt.r >= 8 && u.scrypt.p >= 1 && Buffer.from(u.scrypt.salt, 'base64').length >= 16))
      .map((u) => ({ message: `OPC UA user ${u.name}: scrypt N=${u.scrypt.N} r=${u.scrypt.r} p=${u.scrypt.p} with a ${Buffer.from(u.scrypt.salt, 'base64').length}-byte salt is below N=2^14, r=8, 16 bytes`, setting: 'opcua.users', file: users.file }));
  },
  'SK-AUTH-005': async (context) => {
    const opcua = context.opcua;
    if (opcua === undefined || opcua.x509Users) return [];
    const users = await opcuaUsers(context);
    return (users?.users.length ?? 0) === 0 ? [{ message: `OPC UA has no user (${opcua.users} is missing or empty) and X.509 users are off: nobody can log in under production`, setting: 'opcua.users' }] : [];
  },
  'SK-AUTH-006': async (context) => {
    const identity = await context.identityFiles();
    if (identity === undefined) return [{ message: 'security.identity is turned off: the device has no key and certificate of its own', setting: 'security.identity' }];
    const problems: Problem[] = [];
    for (const [name, file] of [['key', identity.key], ['certificate', identity.cert]] as const) {
      const facts = await context.read(file);
      if (facts.bytes === undefined) problems.push({ message: `no device identity: the ${name} ${file} (${identity.source}) ${facts.exists ? (facts.error ?? 'cannot be read') : 'does not exist'} (sensorkit identity init)`, setting: 'security.identity', file });
    }
    return problems;
  },
  'SK-MQTT-001': (context) => {
    const mqtt = context.mqtt;
    if (mqtt.kind !== 'broker' || mqtt.url.protocol !== 'mqtt:') return [];
    if (context.profile === 'dev' && isLoopback(mqtt.url.hostname)) return [];
    return [{ message: `mqtt.url mqtt://${mqtt.url.host} is plain MQTT: credentials and telemetry travel unencrypted`, setting: 'mqtt.url' }];
  },
  'SK-MQTT-002': (context) => {
    const problems: Problem[] = [];
    if (context.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') problems.push({ message: 'NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks for every TLS connection' });
    const settings = context.config.mqtt === false ? undefined : context.config.mqtt;
    if (settings?.tls?.rejectUnauthorized === false) problems.push({ message: "mqtt.tls.rejectUnauthorized is false: any certificate is accepted as the broker's", setting: 'mqtt.tls.rejectUnauthorized' });
    return problems;
  },
  'SK-MQTT-003': async (context) => {
    const mqtt = context.mqtt;
    return mqtt.kind === 'broker' && mqtt.url.protocol === 'mqtts:' && (await context.mqttClientCertificate()) === undefined
      ? [{ message: 'mqtts:// without a client certificate (mqtt.tls.cert and key, or tls.identity): the broker cannot authenticate the device by certificate', setting: 'mqtt.tls' }]
      : [];
  },
  'SK-MQTT-004': (context) => (context.mqtt.kind === 'embedded' ? [{ message: 'MQTT names no broker: the embedded development broker (no TLS, no authentication) would run', setting: 'mqtt.url' }] : []),
  'SK-MQTT-005': (context) => {
    const mqtt = context.mqtt;
    const settings = context.config.mqtt === false ? undefined : context.config.mqtt;
    return mqtt.kind === 'broker' && mqtt.url.protocol === 'mqtts:' && settings?.tls?.ca === undefined ? [{ message: "mqtt.tls.ca is not set: any public CA can vouch for the broker", setting: 'mqtt.tls.ca' }] : [];
  },
  'SK-TLS-001': (context) => {
    const problems: Problem[] = flagged(context, /^--tls-min-v1\.[01]$/).map((flag) => ({ message: `${flag} lets TLS connections use a version below 1.2` }));
    const settings = context.config.mqtt === false ? undefined : context.config.mqtt;
    const min = settings?.tls?.minVersion;
    if (min !== undefined && /^TLSv1(\.[01])?$/.test(min)) problems.push({ message: `mqtt.tls.minVersion ${min} is below TLSv1.2`, setting: 'mqtt.tls.minVersion' });
    return problems;
  },
  'SK-TLS-002': (context) => flagged(context, /^--(openssl-legacy-provider|security-revert(=.*)?|insecure-http-parser)$/).map((flag) => ({ message: `${flag} is on` })),
  'SK-OPCUA-001': (context) => {
    const opcua = context.opcua;
    if (opcua === undefined) return [];
    if (opcua.profile === 'dev') return [{ message: 'opcua.profile dev offers SecurityPolicy None (no signing, no encryption)', setting: 'opcua.profile' }];
    return opcua.securityPolicies?.some((p) => /(^|#)None$/i.test(p)) ? [{ message: 'opcua.securityPolicies offers None', setting: 'opcua.securityPolicies' }] : [];
  },
  'SK-OPCUA-002': (context) =>
    (context.opcua?.securityPolicies ?? [])
      .filter((p) => /(^|#)(Basic128Rsa15|Basic256)$/.test(p))
      .map((p) => ({ message: `opcua.securityPolicies offers the deprecated ${p.replace(/^.*#/, '')}`, setting: 'opcua.securityPolicies' })),
  'SK-OPCUA-003': (context) => {
    const opcua = context.opcua;
    if (opcua === undefined) return [];
    if (opcua.allowAnonymous === true) return [{ message: 'opcua.allowAnonymous accepts anonymous sessions', setting: 'opcua.allowAnonymous' }];
    return opcua.profile === 'dev' && opcua.allowAnonymous !== false ? [{ message: 'opcua.profile dev accepts anonymous sessions', setting: 'opcua.profile' }] : [];
  },
  'SK-OPCUA-004': (context) => {
    const opcua = context.opcua;
    return opcua !== undefined && opcua.profile === 'dev' && !isLoopback(opcua.host) && opcua.allowRemoteDev
      ? [{ message: `the dev profile (SecurityPolicy None, anonymous) listens on ${opcua.host} (opcua.allowRemoteDev)`, setting: 'opcua.allowRemoteDev' }]
      : [];
  },
  'SK-NET-001': (context) => {
    const problems: Problem[] = [];
    const opcua = context.opcua;
    const plainOpcua = opcua !== undefined && (opcua.profile === 'dev' || opcua.securityPolicies?.some((p) => /(^|#)None$/i.test(p)) === true);
    if (opcua !== undefined && plainOpcua && isWildcard(opcua.host)) problems.push({ message: `OPC UA listens on every interface (${opcua.host}) and offers SecurityPolicy None`, setting: 'opcua.host' });
    const server = context.config.updateServer;
    if (server !== undefined && isWildcard(server.host ?? '127.0.0.1') && server.tls?.cert === undefined) {
      problems.push({ message: `the update server listens on every interface (${server.host ?? ''}) over plain HTTP`, setting: 'updateServer.host' });
    }
    return problems;
  },
  'SK-NET-002': (context) => {
    const opcua = context.opcua;
    return opcua !== undefined && isWildcard(opcua.host) ? [{ message: `OPC UA listens on every interface (${opcua.host === '0.0.0.0' && context.config.opcua !== false && context.config.opcua?.host === undefined ? 'the production default' : opcua.host})`, setting: 'opcua.host' }] : [];
  },
  'SK-CERT-001': (context) =>
    certificateProblems(context, (c) => {
      if (c.keyType === 'rsa' || c.keyType === 'rsa-pss') return c.keyBits !== undefined && c.keyBits < 2048 ? `RSA key of ${c.keyBits} bits (below 2048)` : undefined;
      if (c.keyType === 'ec') return c.keyBits !== undefined && c.keyBits < 256 ? `EC key of ${c.keyBits} bits (below 256)` : undefined;
      if (c.keyType === 'dsa') return 'DSA key';
      return undefined;
    }),
  'SK-CERT-002': (context) => certificateProblems(context, (c) => (c.signatureOid !== undefined && WEAK_SIGNATURE_OIDS.has(c.signatureOid) ? `signed with ${c.signatureName}` : undefined)),
  'SK-CERT-003': (context) =>
    certificateProblems(context, (c) => (c.validTo < context.now ? `expired on ${new Date(c.validTo).toISOString()}` : c.validFrom > context.now ? `not valid before ${new Date(c.validFrom).toISOString()}` : undefined)),
  'SK-CERT-004': (context) =>
    certificateProblems(context, (c) => (c.validTo >= context.now && c.validTo < context.now + THIRTY_DAYS_MS ? `expires on ${new Date(c.validTo).toISOString()}, in ${Math.ceil((c.validTo - context.now) / 86_400_000)} days` : undefined)),
  'SK-CERT-005': async (context) => (await context.certificateFiles()).filter((f) => f.problem !== undefined).map((f) => ({ message: `${f.setting} ${f.file}: ${f.problem}`, setting: f.setting, file: f.file })),
  'SK-KEY-001': async (context) => {
    const problems: Problem[] = [];
    for (const { setting, file } of await context.privateKeyFiles()) {
      const facts = await context.file(file);
      if (facts.mode !== undefined && (facts.mode & OPEN_TO_OTHERS) !== 0) problems.push({ message: `${setting} ${file} has mode ${modeText(facts.mode)} (group or others may read it)`, setting, file });
    }
    return problems;
  },
  'SK-KEY-002': async (context) => {
    const secrets: { setting: string; file: string }[] = [];
    const settings = context.config.mqtt === false ? undefined : context.config.mqtt;
    if (settings?.passwordFile !== undefined) secrets.push({ setting: 'mqtt.passwordFile', file: settings.passwordFile });
    if (context.opcua !== undefined) secrets.push({ setting: 'opcua.users', file: context.opcua.users });
    if (context.config.updateServer?.adminTokens !== undefined) secrets.push({ setting: 'updateServer.adminTokens', file: context.config.updateServer.adminTokens });
    const problems: Problem[] = [];
    for (const { setting, file } of secrets) {
      const facts = await context.file(file);
      if (facts.mode !== undefined && (facts.mode & OPEN_TO_OTHERS) !== 0) problems.push({ message: `${setting} ${file} has mode ${modeText(facts.mode)} (group or others may read it)`, setting, file });
    }
    return problems;
  },
  'SK-CMD-001': (context) => {
    if (context.mqtt.kind === 'off' || context.signedCommandsRequired) return [];
    return [{ message: `security.signedCommands is ${JSON.stringify(context.config.security?.signedCommands)}: unsigned MQTT commands and setting writes are carried out`, setting: 'security.signedCommands' }];
  },
  'SK-CMD-002': async (context) => {
    const path = context.config.security?.operators;
    if (path === undefined || path === false) return [{ message: 'security.operators is not configured (no operator trust list)', setting: 'security.operators' }];
    const facts = await context.read(path);
    if (facts.bytes === undefined) return [{ message: `security.operators ${path}: ${facts.error ?? 'cannot read'}`, setting: 'security.operators', file: path }];
    try {
      const parsed = JSON.parse(Buffer.from(facts.bytes).toString('utf8')) as { version?: unknown; operators?: unknown };
      if (parsed.version !== 1 || !Array.isArray(parsed.operators)) return [{ message: `security.operators ${path} is not an operator trust store`, setting: 'security.operators', file: path }];
      const trusted = parsed.operators.filter((o) => typeof o === 'object' && o !== null && (o as { revoked?: unknown }).revoked === undefined);
      return trusted.length === 0 ? [{ message: `security.operators ${path} trusts no operator (every key revoked, or none added)`, setting: 'security.operators', file: path }] : [];
    } catch {
      return [{ message: `security.operators ${path} is not valid JSON`, setting: 'security.operators', file: path }];
    }
  },
  'SK-CMD-003': async (context) => {
    const path = context.config.security?.operators;
    if (path === undefined || path === false) return [];
    const facts = await context.file(path);
    return facts.mode !== undefined && (facts.mode & WRITABLE_BY_OTHERS) !== 0 ? [{ message: `security.operators ${path} has mode ${modeText(facts.mode)} (group or others may add operators)`, setting: 'security.operators', file: path }] : [];
  },
  'SK-OTA-001': (context) => {
    const ota = context.config.ota;
    if (ota === undefined || ota === false) return [];
    if (ota.allowUnsigned === true) return [{ message: 'ota.allowUnsigned accepts firmware nobody signed', setting: 'ota.allowUnsigned' }];
    return ota.trustAnchors === undefined ? [{ message: 'ota.trustAnchors is not set: no key to verify updates against', setting: 'ota.trustAnchors' }] : [];
  },
  'SK-OTA-002': (context) => {
    const ota = context.config.ota;
    return ota && ota.allowDowngrade === true ? [{ message: 'ota.allowDowngrade accepts a manifest below the accepted sequence number', setting: 'ota.allowDowngrade' }] : [];
  },
  'SK-OTA-003': (context) => {
    const server = context.config.updateServer;
    return server !== undefined && server.adminTokens === undefined ? [{ message: `the update server's campaign API takes no administrator token (updateServer.adminTokens is not set)`, setting: 'updateServer.adminTokens' }] : [];
  },
  'SK-OTA-004': (context) => {
    const server = context.config.updateServer;
    return server !== undefined && server.tls?.clientCa === undefined ? [{ message: 'the update server does not ask devices for a client certificate (updateServer.tls.clientCa is not set)', setting: 'updateServer.tls.clientCa' }] : [];
  },
  'SK-DBG-001': (context) => flagged(context, /^--inspect(-brk|-port|-wait)?(=.*)?$/).map((flag) => ({ message: `${flag} opens the Node inspector: whoever reaches its port runs code on the device` })),
  'SK-DBG-002': (context) =>
    (['DEBUG', 'NODE_DEBUG'] as const).filter((name) => (context.env[name] ?? '') !== '').map((name) => ({ message: `${name}=${context.env[name]!.slice(0, 40)} is set: library internals go to the logs` })),
  'SK-LOG-001': (context) => (!context.auditLogOn ? [{ message: 'security.auditLog is off: logins, commands, setting changes and updates leave no record', setting: 'security.auditLog' }] : []),
  'SK-LOG-002': async (context) => {
    const problems: Problem[] = [];
    for (const file of await context.auditLogFiles()) {
      if (!(await context.file(file)).exists) continue;
      const result = await context.verifyAuditLog(file);
      if (!result.ok) problems.push({ message: `the audit log ${file} does not verify: ${result.reason ?? 'broken chain'}`, setting: 'security.auditLog', file });
    }
    return problems;
  },
  'SK-LOG-003': async (context) => {
    const problems: Problem[] = [];
    for (const file of await context.auditLogFiles()) {
      const facts = await context.file(file);
      if (facts.mode !== undefined && (facts.mode & WRITABLE_BY_OTHERS) !== 0) problems.push({ message: `the audit log ${file} has mode ${modeText(facts.mode)} (group or others may rewrite it)`, setting: 'security.auditLog', file });
    }
    return problems;
  },
  'SK-TIME-001': async (context) => {
    const declared = context.config.security?.timeSource;
    if (typeof declared === 'string' && declared !== '') return [];
    for (const marker of TIME_SYNC_MARKERS) if ((await context.file(marker)).exists) return [];
    return [{ message: 'security.timeSource is not configured and the host shows no synchronised clock (systemd-timesyncd, chrony, ntpd)', setting: 'security.timeSource' }];
  },
  'SK-SYS-001': (context) => (context.uid === 0 ? [{ message: 'the device would run as root (uid 0)' }] : []),
};

/** Files whose presence shows the host keeps its clock synchronised. */
export const TIME_SYNC_MARKERS: readonly string[] = ['/run/systemd/timesync/synchronized', '/run/chrony/chronyd.pid', '/var/run/chrony/chronyd.pid', '/run/chronyd.pid', '/var/run/ntpd.pid', '/run/ntpd.pid'];
