/** `sensorkit ota serve` and `sensorkit ota campaign …`. */
import { parseArgs } from 'node:util';
import { SystemClock } from '../../core/clock.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { campaignApi } from '../../../ota/server/campaign-api.js';
import { CampaignStore, type CampaignStatus } from '../../../ota/server/campaign-store.js';
import { startUpdateServer } from '../../../ota/server/file-server.js';
import { readInput, required } from './options.js';
import { MAX_ENVELOPE_BYTES } from '../../../ota/manifest/suit-envelope.js';
import { resolve, sep } from 'node:path';

export const SERVE_HELP = `Usage: sensorkit ota serve --dir DIR [--host 127.0.0.1] [--port 8080] [--db FILE]

Serves DIR over HTTP with strong ETags and byte ranges (devices resume downloads), and with --db
the campaign API: GET /api/offer?device=ID&group=G, POST /api/report, GET /api/campaigns[/ID].
Runs until interrupted (Ctrl-C).
`;

export const CAMPAIGN_HELP = `Usage: sensorkit ota campaign create|status|percent|halt --db FILE [options]

  create --name N --group G --envelope FILE.suit [--percent P] [--failure-threshold R] [--min-reports N]
  status [ID]            all campaigns, or one, as JSON
  percent ID P           set the staged percentage (0–100)
  halt ID                halt a campaign
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
  if (values.db !== undefined) {
    const served = resolve(dir);
    const db = resolve(values.db);
    // Everything under --dir is public; the campaign database (device ids, groups) is not.
    if (db.startsWith(served.endsWith(sep) ? served : served + sep)) throw new UsageError(`--db ${values.db} is inside --dir ${dir}, which is served to anyone: keep it elsewhere`);
  }
  const store = values.db === undefined ? undefined : new CampaignStore(values.db, new SystemClock());
  const server = await startUpdateServer({ dir, host: values.host, port, ...(store ? { api: campaignApi(store) } : {}) });
  process.stdout.write(`serving ${dir} on ${server.url}${store ? ` with campaigns from ${values.db}` : ''}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  store?.close();
  return 0;
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
