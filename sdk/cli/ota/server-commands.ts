/** `sensorkit ota serve` (the update server: a device listener and a management listener on one fleet database) and the administrator tokens. */
import { readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../core/clock.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { AuditLog } from '../../../security/audit-log.js';
import type { AuditEvent } from '../../../security/audit/event.js';
import { auditConfiguration, formatFinding, isLoopback } from '../../../security/hardening/index.js';
import { ADMIN_ROLES, AdminTokens, type AdminRole } from '../../../ota/server/admin-tokens.js';
import { adminApi } from '../../../ota/server/admin-api.js';
import { openArtefactStore } from '../../../ota/server/artefacts/index.js';
import { openDatabase } from '../../../ota/server/db/sql.js';
import { deviceApi } from '../../../ota/server/device-api.js';
import { startUpdateServer, type UpdateServer } from '../../../ota/server/file-server.js';
import { FleetStore } from '../../../ota/server/fleet-store.js';
import { startScheduler, type Scheduler } from '../../../ota/server/scheduler.js';
import { required } from './options.js';

export const SERVE_HELP = `Usage: sensorkit ota serve --db URL|DIR --store DIR|s3://BUCKET/PREFIX [options]
       sensorkit ota serve --dir DIR [--host 127.0.0.1] [--port 8080]

The update server. With --db, two listeners on one fleet database (PostgreSQL, or PGlite in a
directory): the device API (offers, reports, payload files) and the management API (campaigns,
devices, the kill switch), each on its own port, so that only the device port need face the plant
network. Any number of instances may share one PostgreSQL database; the rollout scheduler runs on
one of them at a time (a lease another takes over when its holder dies). A PGlite directory is
for one process at a time: change campaigns through the management API (--server) while it runs.

  --db URL|DIR         postgres://USER:PASSWORD@HOST:PORT/DB, or a PGlite directory
  --store DIR|s3://BUCKET/PREFIX
                       where payloads are: a folder (served by the device listener under /files/)
                       or an S3 bucket (devices get presigned URLs; SENSORKIT_S3_ENDPOINT or
                       AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
  --host H             address of the device listener (default 127.0.0.1)
  --device-port N      port of the device API (default 8080; 0 picks a free one)
  --admin-host H       address of the management listener (default: --host)
  --admin-port N       port of the management API (default 8081; 0 picks a free one)
  --instance NAME      this instance's name, the scheduler lease holder (default HOSTNAME:PID)
  --lease S            seconds a scheduler lease lasts unless renewed (default 15)
  --poll-interval S    poll interval answered to devices offered nothing (default 300)
  --admin-tokens FILE  administrators' bearer tokens ('sensorkit ota token create'): reading needs
                       role viewer, changing operator. Without it the management API is read-only,
                       open to anyone who can connect, and only on a loopback --admin-host
  --tls-cert FILE, --tls-key FILE
                       serve HTTPS (TLS 1.2 at least) on both listeners with this certificate and key
  --client-ca FILE     devices must present a client certificate chaining to this CA, whose CN or
                       subjectAltName is the device id they ask or report for (mutual TLS)
  --audit-log FILE     record refused requests and campaign changes in this hash-chained log
  --rate-limit N       management API requests per minute per client address (default 120;
                       bursts of 60)
  --device-rate-limit N
                       device API requests (polls, reports) per minute per client address
                       (default 6000, bursts of 1000: a plant's devices often share one NAT address)

Without --db: serves the envelopes (*.suit) in --dir and the payloads they sign, with strong ETags
and byte ranges; nothing else in DIR. A system folder (/, /etc, /root, a home folder…) is refused.
A database that does not answer, a schema newer than this sensorkit, or a store that cannot be
read and written: one line and exit 1 before anything listens. Runs until interrupted (Ctrl-C).
`;

export const TOKEN_HELP = `Usage: sensorkit ota token create|list|revoke --tokens FILE [options]

  create NAME --role viewer|operator|admin
                 add a token; it is printed once, on standard output, and stored only as a
                 scrypt hash (FILE is written owner-only, 0600)
  list           the tokens' names, roles and ids, as JSON (no secrets)
  revoke NAME|ID remove the tokens of NAME (or the one with this id)

Clients send the token as 'Authorization: Bearer TOKEN'. Also reachable as 'sensorkit ota campaign token …'.
`;

/** Waits for SIGINT or SIGTERM. */
function interrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/**
 * Runs `sensorkit ota serve` until SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * await serveCommand(['--db', 'postgres://ota@db/ota', '--store', 's3://firmware/releases'])
 * ```
 */
export async function serveCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      db: { type: 'string' }, store: { type: 'string' }, dir: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, 'device-port': { type: 'string' },
      'admin-host': { type: 'string' }, 'admin-port': { type: 'string', default: '8081' },
      instance: { type: 'string' }, lease: { type: 'string', default: '15' }, 'poll-interval': { type: 'string', default: '300' },
      'admin-tokens': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'client-ca': { type: 'string' },
      'audit-log': { type: 'string' }, 'rate-limit': { type: 'string' }, 'device-rate-limit': { type: 'string', default: '6000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(SERVE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got ${positionals.join(' ')}`);
  if (values.port !== undefined && values['device-port'] !== undefined) throw new UsageError('--port and --device-port are the same: give one');
  const devicePort = parseNumberOption('--device-port', values['device-port'] ?? values.port ?? '8080', { integer: true, min: 0, max: 65_535 });
  if (values.db === undefined) {
    if (values.store !== undefined) throw new UsageError('--store needs --db (campaigns); without --db, serve --dir DIR serves signed files');
    return serveFiles(required(values.dir, '--db or --dir'), values.host, devicePort);
  }
  if (values.store !== undefined && values.dir !== undefined) throw new UsageError('--store and --dir are the same (--dir is the older name of a folder store): give one');
  const storeFlag = values.store === undefined ? '--dir' : '--store';
  const storeUrl = required(values.store ?? values.dir, '--store');
  const adminPort = parseNumberOption('--admin-port', values['admin-port'], { integer: true, min: 0, max: 65_535 });
  const adminHost = values['admin-host'] ?? values.host;
  const leaseMs = parseNumberOption('--lease', values.lease, { min: 1, max: 3600 }) * 1000;
  const idlePollIntervalS = parseNumberOption('--poll-interval', values['poll-interval'], { min: 1, max: 86_400 });
  const instance = values.instance ?? `${hostname()}:${process.pid}`;
  if (!/^[\x21-\x7e]{1,128}$/.test(instance)) throw new UsageError(`--instance: expected 1–128 printable characters without spaces, got ${JSON.stringify(instance.slice(0, 60))}`);
  const rateLimit = values['rate-limit'] === undefined ? undefined : parseNumberOption('--rate-limit', values['rate-limit'], { min: 1, max: 1_000_000 });
  const deviceRateLimit = parseNumberOption('--device-rate-limit', values['device-rate-limit'], { min: 1, max: 100_000_000 });
  const folder = /^s3:\/\//i.test(storeUrl) ? undefined : resolve(storeUrl);
  if (folder !== undefined) {
    const system = systemFolder(folder);
    if (system !== undefined) throw new UsageError(`${storeFlag} ${storeUrl} is ${system}: use a folder that holds only the payloads to publish`);
    // Payload files under the folder are served to devices; the database (device ids, groups) is not.
    if (!/^postgres(ql)?:\/\//i.test(values.db) && inside(resolve(values.db), folder)) throw new UsageError(`--db ${values.db} is inside ${storeFlag} ${storeUrl}, whose files are served: keep it elsewhere`);
  }
  const security = await serverSecurity(values);
  if (security.tokens === undefined && !isLoopback(adminHost)) {
    throw new UsageError(`--admin-host ${adminHost} without --admin-tokens would open the management API to the network unauthenticated: create a token ('sensorkit ota token create NAME --role admin --tokens FILE') and pass --admin-tokens FILE, or serve it on 127.0.0.1`);
  }
  // Everything that can fail on bad input is checked before anything listens.
  const clock = new SystemClock();
  const artefacts = openArtefactStore(storeUrl, process.env);
  await artefacts.check();
  const audit = values['audit-log'] === undefined ? undefined : await AuditLog.open(values['audit-log'], { clock });
  const db = await openDatabase(values.db);
  let store: FleetStore;
  try {
    // The management API records the changes made through it (with the client's address); the
    // store's own record of them would repeat them, so only the scheduler's decisions come from it.
    const schedulerAudit = audit === undefined ? undefined : { record: (event: AuditEvent) => (event.actor === 'scheduler' ? audit.record(event) : undefined) };
    store = await FleetStore.open(db, clock, schedulerAudit === undefined ? {} : { audit: schedulerAudit });
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  // The database and the store are usable: now the warnings about how they are served.
  if (security.tokens === undefined) process.stderr.write(`sensorkit: warning: no --admin-tokens: anyone who can connect to ${adminHost}:${adminPort} reads campaigns and device groups; changes over HTTP are refused\n`);
  const findings = await auditConfiguration(
    { mqtt: false, opcua: false, updateServer: { host: values.host, ...(values['admin-tokens'] === undefined ? {} : { adminTokens: values['admin-tokens'] }), tls: { ...(values['tls-cert'] === undefined ? {} : { cert: values['tls-cert'], key: values['tls-key']! }), ...(values['client-ca'] === undefined ? {} : { clientCa: values['client-ca'] }) } } },
    { profile: 'production', env: {}, execArgv: [] },
  );
  for (const finding of findings.filter((f) => f.setting?.startsWith('updateServer') === true)) process.stderr.write(`sensorkit: warning: ${formatFinding(finding)}\n`);

  const limits = rateLimit === undefined ? {} : { rateLimit: { perMinute: rateLimit } };
  const listeners: UpdateServer[] = [];
  let scheduler: Scheduler | undefined;
  try {
    const reported = new Set<string>();
    // Once per distinct failure: a database that went away fails every request and every pass.
    const warnOnce = (what: string, error: unknown): void => {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      if (reported.has(message) || reported.size > 100) return;
      reported.add(message);
      process.stderr.write(`sensorkit: warning: ${what}: ${message}\n`);
    };
    const devices = await startUpdateServer({
      onError: (error) => warnOnce('device API', error),
      host: values.host,
      port: devicePort,
      ...(security.tls ? { tls: security.tls } : {}),
      api: deviceApi(store, artefacts, { clock, idlePollIntervalS, rateLimit: { perMinute: deviceRateLimit, burst: Math.max(1, Math.min(1000, Math.round(deviceRateLimit / 6))) }, ...(security.tls?.clientCa ? { deviceCertificates: true } : {}), ...(audit ? { audit } : {}) }),
    });
    listeners.push(devices);
    scheduler = startScheduler({
      store,
      clock,
      holder: instance,
      leaseMs,
      intervalMs: Math.min(1000, leaseMs / 3),
      onPass: (pass) => {
        for (const { campaign, wave } of pass.opened) process.stdout.write(`scheduler: campaign ${campaign} opened wave ${wave}\n`);
        for (const { campaign, reason } of pass.halted) process.stdout.write(`scheduler: campaign ${campaign} halted: ${reason}\n`);
        for (const campaign of pass.finished) process.stdout.write(`scheduler: campaign ${campaign} finished\n`);
      },
      onError: (error) => warnOnce('scheduler', error),
    });
    const running = scheduler;
    const admin = await startUpdateServer({
      onError: (error) => warnOnce('management API', error),
      host: adminHost,
      port: adminPort,
      ...(security.tls ? { tls: { cert: security.tls.cert, key: security.tls.key } } : {}),
      api: adminApi(store, { clock, artefacts, ...limits, instance: { name: instance, holding: () => running.holding() }, ...(security.tokens ? { adminTokens: security.tokens } : {}), ...(audit ? { audit } : {}) }),
    });
    listeners.push(admin);
    const where = folder === undefined ? storeUrl : `files from ${folder}`;
    process.stdout.write(`device API on ${devices.url} (offers, reports, ${where}${security.tls?.clientCa ? '; device certificates' : ''}) with ${db.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'}\n`);
    process.stdout.write(`management API on ${admin.url} (${security.tokens ? `administrator tokens from ${values['admin-tokens']}` : 'read-only without tokens'}) as instance ${instance}\n`);
    await interrupted();
  } finally {
    await scheduler?.stop();
    for (const listener of listeners) await listener.close();
    await store.close();
    await audit?.flush();
  }
  return 0;
}

/** `serve --dir DIR` without a database: the envelopes and the payloads they sign, until interrupted. */
async function serveFiles(dir: string, host: string, port: number): Promise<number> {
  const system = systemFolder(resolve(dir));
  if (system !== undefined) throw new UsageError(`--dir ${dir} is ${system}: serve a folder that holds only the envelopes and payloads to publish`);
  const server = await startUpdateServer({ dir, host, port, files: 'signed' });
  process.stdout.write(`serving the envelopes in ${dir} and the payloads they sign on ${server.url}\n`);
  await interrupted();
  await server.close();
  return 0;
}

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** The tokens and TLS material of `serve`, read and checked. */
async function serverSecurity(values: { 'admin-tokens'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined; 'client-ca'?: string | undefined }): Promise<{ tokens?: AdminTokens; tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer } }> {
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (values['client-ca'] !== undefined && values['tls-cert'] === undefined) throw new UsageError('--client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)');
  const read = async (flag: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new UsageError(`${flag} ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  let tokens: AdminTokens | undefined;
  if (values['admin-tokens'] !== undefined) {
    tokens = await AdminTokens.load(values['admin-tokens']);
    if (tokens.size === 0) throw new UsageError(`--admin-tokens ${values['admin-tokens']} holds no token: create one with 'sensorkit ota token create NAME --role admin --tokens ${values['admin-tokens']}'`);
  }
  const tls =
    values['tls-cert'] === undefined
      ? undefined
      : {
          cert: await read('--tls-cert', values['tls-cert']),
          key: await read('--tls-key', values['tls-key']!),
          ...(values['client-ca'] === undefined ? {} : { clientCa: await read('--client-ca', values['client-ca']) }),
        };
  return { ...(tokens ? { tokens } : {}), ...(tls ? { tls } : {}) };
}

/**
 * Runs `sensorkit ota token create|list|revoke`: the update server's administrator tokens.
 *
 * @example
 * ```ts
 * await tokenCommand(['create', 'alice', '--role', 'operator', '--tokens', 'ota-admin-tokens.json'])
 * ```
 */
export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { tokens: { type: 'string' }, role: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help || action === undefined || action === '--help' || action === '-h') return void process.stdout.write(TOKEN_HELP), action === undefined ? 2 : 0;
  const tokens = await AdminTokens.load(required(values.tokens, '--tokens'));
  switch (action) {
    case 'create': {
      if (positionals.length !== 1) throw new UsageError(`token create takes one NAME, got ${positionals.length}`);
      const role = required(values.role, '--role');
      if (!(ADMIN_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role: expected ${ADMIN_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
      const { token, record } = await tokens.create(positionals[0]!, role as AdminRole);
      process.stderr.write(`token ${record.id} for ${record.name} (${record.role}) stored in ${tokens.path}; it is shown once:\n`);
      process.stdout.write(`${token}\n`);
      return 0;
    }
    case 'list':
      process.stdout.write(`${JSON.stringify(tokens.list(), null, 2)}\n`);
      return 0;
    case 'revoke': {
      if (positionals.length !== 1) throw new UsageError(`token revoke takes one NAME or ID, got ${positionals.length}`);
      const removed = await tokens.revoke(positionals[0]!);
      if (removed === 0) throw new UsageError(`token revoke: no token named or with id ${JSON.stringify(positionals[0])}`);
      process.stdout.write(`revoked ${removed} token${removed === 1 ? '' : 's'}\n`);
      return 0;
    }
    default:
      throw new UsageError(`token: unknown action "${action}"; expected create, list or revoke`);
  }
}

/** Folders whose files must never be published, or the folder above every user's files. */
const SYSTEM_FOLDERS = ['/', '/etc', '/root', '/home', '/Users', '/var', '/usr', '/boot', '/dev', '/proc', '/sys', '/run', '/srv', '/opt', '/tmp', '/bin', '/sbin', '/lib'];

/** Why `dir` (resolved) is a folder not to serve, or undefined: a system folder or a home folder itself. */
function systemFolder(dir: string): string | undefined {
  if (SYSTEM_FOLDERS.includes(dir)) return 'a system folder';
  if (dir === homedir() || /^\/(home|Users)\/[^/]+$/.test(dir)) return 'a home folder';
  return undefined;
}
