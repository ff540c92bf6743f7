/** `sensorkit ota serve`, `sensorkit ota campaign …`, `sensorkit ota device …` and the administrator tokens. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../core/clock.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { AuditLog } from '../../../security/audit-log.js';
import { auditConfiguration, formatFinding, isLoopback } from '../../../security/hardening/index.js';
import { ADMIN_ROLES, AdminTokens, type AdminRole } from '../../../ota/server/admin-tokens.js';
import { campaignApi } from '../../../ota/server/campaign-api.js';
import { CampaignStore, type CampaignStatus } from '../../../ota/server/campaign-store.js';
import { startUpdateServer } from '../../../ota/server/file-server.js';
import { readInput, required } from './options.js';
import { MAX_ENVELOPE_BYTES } from '../../../ota/manifest/suit-envelope.js';
import { homedir } from 'node:os';
import { resolve, sep } from 'node:path';

export const SERVE_HELP = `Usage: sensorkit ota serve --dir DIR [--host 127.0.0.1] [--port 8080] [--db FILE]
                          [--admin-tokens FILE] [--tls-cert FILE --tls-key FILE [--client-ca FILE]]
                          [--audit-log FILE] [--rate-limit N]

Serves the envelopes (*.suit) in DIR and the payloads they sign (the file each manifest names by
URI, when its size and SHA-256 match) over HTTP with strong ETags and byte ranges (devices resume
downloads); nothing else in DIR is served. A system folder (/, /etc, /root, a home folder…) is
refused as DIR. With --db
the campaign API: GET /api/offer?device=ID, POST /api/report, GET /api/campaigns[/ID]. A device is
offered the campaigns of the group it was assigned ('sensorkit ota device add'), and only reports of
devices that were offered a campaign count towards halting it.

  --admin-tokens FILE  administrators' bearer tokens (scrypt hashes; 'sensorkit ota token create'):
                       reading campaigns needs role viewer, changing them (POST /api/campaigns,
                       /api/campaigns/ID/percent|halt, /api/devices) operator. Without it the API
                       is read-only, open to anyone who can connect, and only on a loopback --host
  --tls-cert FILE, --tls-key FILE
                       serve HTTPS (TLS 1.2 at least) with this certificate and key (PEM)
  --client-ca FILE     devices must present a client certificate chaining to this CA, whose CN
                       or subjectAltName is the device id they ask or report for (mutual TLS)
  --audit-log FILE     record refused requests and campaign changes in this hash-chained log
  --rate-limit N       API requests per minute per client address (default 120; bursts of 60)

Refusals are JSON: 401 without a valid token or device certificate, 403 without the role or for
another device's id, 413 for a body above its limit, 429 above the rate limit.
Runs until interrupted (Ctrl-C).
`;

export const TOKEN_HELP = `Usage: sensorkit ota token create|list|revoke --tokens FILE [options]

  create NAME --role viewer|operator|admin
                 add a token; it is printed once, on standard output, and stored only as a
                 scrypt hash (FILE is written owner-only, 0600)
  list           the tokens' names, roles and ids, as JSON (no secrets)
  revoke NAME|ID remove the tokens of NAME (or the one with this id)

Clients send the token as 'Authorization: Bearer TOKEN'. Also reachable as 'sensorkit ota campaign token …'.
`;

export const CAMPAIGN_HELP = `Usage: sensorkit ota campaign create|status|percent|halt --db FILE [options]

  create --name N --group G --envelope FILE.suit [--percent P] [--failure-threshold R] [--min-reports N]
  status [ID]            all campaigns, or one, as JSON
  percent ID P           set the staged percentage (0–100)
  halt ID                halt a campaign
  token create|list|revoke --tokens FILE
                         the update server's administrator tokens ('sensorkit ota token --help')

A campaign targets a group; put devices in groups with 'sensorkit ota device add'.
`;

export const DEVICE_HELP = `Usage: sensorkit ota device add|remove|list --db FILE [options]

  add --group G DEVICE…   put devices in group G (moving them out of any other)
  remove DEVICE…          take devices out of their group (they are offered nothing)
  list [--group G]        the assigned devices, as JSON

A device's group is set here only: the offer requests of devices are not authenticated, so the
group a request names is ignored.
`;

/**
 * Runs `sensorkit ota serve` until SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * await serveCommand(['--dir', 'dist/ota', '--db', 'ota.db'])
 * ```
 */
export async function serveCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dir: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8080' }, db: { type: 'string' },
      'admin-tokens': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'client-ca': { type: 'string' },
      'audit-log': { type: 'string' }, 'rate-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(SERVE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got ${positionals.join(' ')}`);
  const dir = required(values.dir, '--dir');
  const port = parseNumberOption('--port', values.port, { integer: true, min: 0, max: 65_535 });
  const system = systemFolder(resolve(dir));
  if (system !== undefined) throw new UsageError(`--dir ${dir} is ${system}: serve a folder that holds only the envelopes and payloads to publish`);
  if (values.db !== undefined) {
    const served = resolve(dir);
    const db = resolve(values.db);
    // Everything under --dir is public; the campaign database (device ids, groups) is not.
    if (db.startsWith(served.endsWith(sep) ? served : served + sep)) throw new UsageError(`--db ${values.db} is inside --dir ${dir}, which is served to anyone: keep it elsewhere`);
  }
  const security = await serverSecurity(values);
  if (values.db !== undefined && security.tokens === undefined && !isLoopback(values.host)) {
    throw new UsageError(`--host ${values.host} without --admin-tokens would open the campaign API to the network unauthenticated: create a token ('sensorkit ota token create NAME --role admin --tokens FILE') and pass --admin-tokens FILE, or serve on 127.0.0.1`);
  }
  if (values.db !== undefined) {
    if (security.tokens === undefined) process.stderr.write(`sensorkit: warning: no --admin-tokens: anyone who can connect to ${values.host} reads campaigns and device groups; campaign changes over HTTP are refused\n`);
    const findings = await auditConfiguration(
      { mqtt: false, opcua: false, updateServer: { host: values.host, ...(values['admin-tokens'] === undefined ? {} : { adminTokens: values['admin-tokens'] }), tls: { ...(values['tls-cert'] === undefined ? {} : { cert: values['tls-cert'], key: values['tls-key']! }), ...(values['client-ca'] === undefined ? {} : { clientCa: values['client-ca'] }) } } },
      { profile: 'production', env: {}, execArgv: [] },
    );
    for (const finding of findings.filter((f) => f.setting?.startsWith('updateServer') === true)) process.stderr.write(`sensorkit: warning: ${formatFinding(finding)}\n`);
  }
  const clock = new SystemClock();
  const audit = values['audit-log'] === undefined ? undefined : await AuditLog.open(values['audit-log'], { clock });
  const rateLimit = values['rate-limit'] === undefined ? undefined : parseNumberOption('--rate-limit', values['rate-limit'], { min: 1, max: 1_000_000 });
  const store = values.db === undefined ? undefined : new CampaignStore(values.db, clock);
  const api = store
    ? campaignApi(store, {
        clock,
        ...(security.tokens ? { adminTokens: security.tokens } : {}),
        ...(security.tls?.clientCa ? { deviceCertificates: true } : {}),
        ...(audit ? { audit } : {}),
        ...(rateLimit === undefined ? {} : { rateLimit: { perMinute: rateLimit } }),
      })
    : undefined;
  const server = await startUpdateServer({ dir, host: values.host, port, files: 'signed', ...(security.tls ? { tls: security.tls } : {}), ...(api ? { api } : {}) });
  const guards = [security.tokens ? `administrator tokens from ${values['admin-tokens']}` : '', security.tls?.clientCa ? 'device certificates' : ''].filter(Boolean).join(' and ');
  process.stdout.write(`serving the envelopes in ${dir} and the payloads they sign on ${server.url}${store ? ` with campaigns from ${values.db}${guards ? ` (${guards})` : ''}` : ''}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  store?.close();
  await audit?.flush();
  return 0;
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

function printStatus(status: CampaignStatus | CampaignStatus[]): void {
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
}

/**
 * Runs `sensorkit ota campaign create|status|percent|halt`.
 *
 * @example
 * ```ts
 * await campaignCommand(['percent', '3', '50', '--db', 'ota.db'])
 * ```
 */
export async function campaignCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'token') return tokenCommand(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      db: { type: 'string' }, name: { type: 'string' }, group: { type: 'string' }, envelope: { type: 'string' },
      percent: { type: 'string' }, 'failure-threshold': { type: 'string' }, 'min-reports': { type: 'string' }, reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || action === '--help' || action === '-h') return void process.stdout.write(CAMPAIGN_HELP), 0;
  const store = new CampaignStore(required(values.db, '--db'), new SystemClock());
  try {
    const id = (index: number): number => parseNumberOption('ID', required(positionals[index], 'ID'), { integer: true, min: 1 });
    switch (action) {
      case 'create': {
        const created = store.create({
          name: required(values.name, '--name'),
          group: required(values.group, '--group'),
          envelope: await readInput(required(values.envelope, '--envelope'), { maxBytes: MAX_ENVELOPE_BYTES }),
          ...(values.percent === undefined ? {} : { percent: parseNumberOption('--percent', values.percent, { integer: true, min: 0, max: 100 }) }),
          ...(values['failure-threshold'] === undefined ? {} : { failureThreshold: parseNumberOption('--failure-threshold', values['failure-threshold'], { min: 0, max: 1 }) }),
          ...(values['min-reports'] === undefined ? {} : { minReports: parseNumberOption('--min-reports', values['min-reports'], { integer: true, min: 1 }) }),
        });
        printStatus(store.status(created));
        return 0;
      }
      case 'status':
        printStatus(positionals.length === 0 ? store.list() : store.status(id(0)));
        return 0;
      case 'percent':
        store.setPercent(id(0), parseNumberOption('P', required(positionals[1], 'P'), { integer: true, min: 0, max: 100 }));
        printStatus(store.status(id(0)));
        return 0;
      case 'halt':
        store.halt(id(0), values.reason ?? 'halted by hand');
        printStatus(store.status(id(0)));
        return 0;
      default:
        throw new UsageError(`campaign: unknown action "${action ?? ''}"; expected create, status, percent or halt`);
    }
  } finally {
    store.close();
  }
}

/**
 * Runs `sensorkit ota device add|remove|list`: the operator's assignment of devices to groups.
 *
 * @example
 * ```ts
 * await deviceGroupCommand(['add', '--db', 'ota.db', '--group', 'line-3', 'en-1-SN1', 'en-1-SN2'])
 * ```
 */
export async function deviceGroupCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { db: { type: 'string' }, group: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help || action === '--help' || action === '-h') return void process.stdout.write(DEVICE_HELP), 0;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new UsageError(`device: unknown action "${action ?? ''}"; expected add, remove or list`);
  const ids = positionals.map((id) => deviceIdArgument(id));
  if (action !== 'list' && ids.length === 0) throw new UsageError(`device ${action}: name at least one DEVICE`);
  if (action === 'list' && ids.length > 0) throw new UsageError(`device list takes no DEVICE, got ${ids.join(' ')}`);
  const group = action === 'add' ? deviceIdArgument(required(values.group, '--group'), '--group') : values.group;
  if (action === 'remove' && group !== undefined) throw new UsageError('device remove takes no --group');
  const store = new CampaignStore(required(values.db, '--db'), new SystemClock());
  try {
    if (action === 'add') store.assign(group!, ids);
    if (action === 'remove') store.unassign(ids);
    process.stdout.write(`${JSON.stringify(store.devices(action === 'list' ? group : undefined), null, 2)}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** A device id or group as the campaign API accepts it: 1–128 of letters, digits and `._:-`. */
function deviceIdArgument(value: string, name = 'DEVICE'): string {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(value)) throw new UsageError(`${name}: expected 1–128 letters, digits or ._:-, got ${JSON.stringify(value.slice(0, 60))}`);
  return value;
}
