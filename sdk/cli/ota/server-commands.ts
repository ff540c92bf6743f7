/** `sensorkit ota serve` and `sensorkit ota campaign …`. */
import { parseArgs } from 'node:util';
import { SystemClock } from '../../core/clock.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { campaignApi } from '../../../ota/server/campaign-api.js';
import { CampaignStore, type CampaignStatus } from '../../../ota/server/campaign-store.js';
import { startUpdateServer } from '../../../ota/server/file-server.js';
import { readInput, required } from './options.js';
import { MAX_ENVELOPE_BYTES } from '../../../ota/manifest/suit-envelope.js';
import { homedir } from 'node:os';
import { resolve, sep } from 'node:path';

export const SERVE_HELP = `Usage: sensorkit ota serve --dir DIR [--host 127.0.0.1] [--port 8080] [--db FILE]

Serves the envelopes (*.suit) in DIR and the payloads they sign (the file each manifest names by
URI, when its size and SHA-256 match) over HTTP with strong ETags and byte ranges (devices resume
downloads); nothing else in DIR is served. A system folder (/, /etc, /root, a home folder…) is
refused as DIR. With --db
the campaign API: GET /api/offer?device=ID, POST /api/report, GET /api/campaigns[/ID]. A device is
offered the campaigns of the group it was assigned ('sensorkit ota device add'), and only reports of
devices that were offered a campaign count towards halting it.
Runs until interrupted (Ctrl-C).
`;

export const CAMPAIGN_HELP = `Usage: sensorkit ota campaign create|status|percent|halt --db FILE [options]

  create --name N --group G --envelope FILE.suit [--percent P] [--failure-threshold R] [--min-reports N]
  status [ID]            all campaigns, or one, as JSON
  percent ID P           set the staged percentage (0–100)
  halt ID                halt a campaign

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
    options: { dir: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8080' }, db: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
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
  const store = values.db === undefined ? undefined : new CampaignStore(values.db, new SystemClock());
  const server = await startUpdateServer({ dir, host: values.host, port, files: 'signed', ...(store ? { api: campaignApi(store) } : {}) });
  process.stdout.write(`serving the envelopes in ${dir} and the payloads they sign on ${server.url}${store ? ` with campaigns from ${values.db}` : ''}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  store?.close();
  return 0;
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
