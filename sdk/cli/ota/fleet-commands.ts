/**
 * `sensorkit ota campaign …`, `sensorkit ota device …` and `sensorkit ota fleet stop|start|status`:
 * the operator's side of the update server, against its database (`--db`) or its management API
 * (`--server`, the only way while a PGlite directory is open in `ota serve`).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../core/clock.js';
import { StorageError, ValidationError } from '../../core/errors.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../../../ota/manifest/suit-envelope.js';
import { checkPayloads, parseCampaignPage, readCampaignPage, readDevicePage, parseDevicePage, payloadsOf, type CampaignPage, type DevicePage } from '../../../ota/server/admin-api.js';
import { openArtefactStore, type ArtefactStore } from '../../../ota/server/artefacts/index.js';
import { openDatabase } from '../../../ota/server/db/sql.js';
import { FleetStore, type CampaignStatus } from '../../../ota/server/fleet-store.js';
import { parseRolloutPolicy, type RolloutPolicy } from '../../../ota/server/rollout/policy.js';
import { SCHEDULER_LEASE } from '../../../ota/server/scheduler.js';
import { tokenCommand } from './server-commands.js';
import { hashInput, readInput, required } from './options.js';

export const CAMPAIGN_HELP = `Usage: sensorkit ota campaign create|status|pause|resume|halt|rollback (--db URL|DIR | --server URL) [options]

  create --name N --envelope FILE.suit [--group G] [--policy FILE.json] [--payload FILE]… [--store URL]
                         a campaign from a signed envelope and a rollout policy (cohorts, waves,
                         thresholds, rate, abort criteria, timeout, retries, soak, health check);
                         each --payload is uploaded to --store under the URI the manifest names for
                         it (matched by SHA-256); every payload the manifest names must be in the store
                         with its signed size
  status [ID] [--state S,…] [--before ID] [--limit N]
                         one campaign, or a page of them, as JSON (counts per state and per
                         wave): the newest 100 by default (at most 1000); when older ones exist,
                         one line on standard error names the --before ID of the next page
  pause ID [--reason R]  stop releasing offers (devices already offered go on)
  resume ID              go on (after a pause or the policy's health-check pause)
  halt ID [--reason R]   stop the campaign for good
  rollback ID --envelope FILE.suit [--name N] [--payload FILE]… [--store URL]
                         answer a halted campaign: a new envelope with a higher sequence number
                         pointing at the known-good image, for the devices offered the halted one
  token create|list|revoke --tokens FILE
                         the update server's administrator tokens ('sensorkit ota token --help')

  --db URL|DIR           the fleet database: postgres://… or a PGlite directory; a PGlite
                         directory is one process's: while 'ota serve' runs on it, --db DIR is
                         refused (one line, exit 1): use --server and --token
  --server URL           the management API of a running 'ota serve' instead of --db
  --token TOKEN          its bearer token (default: $SENSORKIT_OTA_TOKEN)

A policy that is out of range (thresholds outside 0–1, waves that do not add up to 100, …) is one
line and exit 1, before anything is stored.
`;

export const DEVICE_HELP = `Usage: sensorkit ota device add|remove|list (--db URL|DIR | --server URL) [options]

  add --group G [--hardware REV] DEVICE…
                          put devices in group G with a hardware revision (moving them out of any other)
  remove DEVICE…          take devices out of their group (they are offered nothing)
  list [--group G] [--after ID] [--limit N]
                          the assigned devices, with group and hardware revision, as JSON, in id
                          order: the first 1000 by default (at most 10000); when more exist, one
                          line on standard error names the --after ID of the next page

A device's group and hardware revision are set here only: nothing a device sends chooses them.
--server URL and --token TOKEN as for 'sensorkit ota campaign'.
`;

export const FLEET_HELP = `Usage: sensorkit ota fleet stop|start|status (--db URL|DIR | --server URL) [options]
       sensorkit ota fleet simulate --devices N --server URL [options]

  stop       the kill switch: every offer stops at once, on every instance (devices get 204)
  start      offers go on
  status     the kill switch and the scheduler (which instance holds the lease), as JSON
  simulate   simulated devices rehearsing a rollout ('sensorkit ota fleet simulate --help')

--server URL and --token TOKEN as for 'sensorkit ota campaign'.
`;

/** What the commands need of the update server, from its database or its management API. */
interface Fleet {
  createCampaign(spec: { name: string; envelope: Uint8Array; policy: RolloutPolicy; policyJson: unknown; group?: string }): Promise<CampaignStatus>;
  createRollback(id: number, spec: { envelope: Uint8Array; name?: string }): Promise<CampaignStatus>;
  pause(id: number, reason: string): Promise<CampaignStatus>;
  resume(id: number): Promise<CampaignStatus>;
  halt(id: number, reason: string): Promise<CampaignStatus>;
  status(id: number): Promise<CampaignStatus>;
  list(page: CampaignPage): Promise<{ campaigns: CampaignStatus[]; nextBefore?: number }>;
  setOffersStopped(stopped: boolean): Promise<void>;
  fleet(): Promise<Record<string, unknown>>;
  assign(group: string, ids: readonly string[], hardware?: string): Promise<void>;
  unassign(ids: readonly string[]): Promise<void>;
  devices(group: string | undefined, page: DevicePage): Promise<{ devices: { id: string; group: string; hardware: string | null }[]; nextAfter?: string }>;
  close(): Promise<void>;
  /** True when the server checks payloads against its own store. */
  readonly remote: boolean;
}

async function fleetOnDatabase(url: string): Promise<Fleet> {
  const db = await openDatabase(url);
  let store: FleetStore;
  try {
    store = await FleetStore.open(db, new SystemClock());
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  const actor = `cli ${process.env.USER ?? 'unknown'}`;
  return {
    remote: false,
    createCampaign: ({ name, envelope, policy, group }) => store.createCampaign({ name, envelope, policy, ...(group === undefined ? {} : { group }), actor }),
    createRollback: (id, spec) => store.createRollback(id, { ...spec, actor }),
    pause: (id, reason) => store.pause(id, reason, actor),
    resume: (id) => store.resume(id, actor),
    halt: (id, reason) => store.halt(id, reason, actor),
    status: (id) => store.status(id),
    list: (page) => readCampaignPage(store, page),
    setOffersStopped: (stopped) => store.setOffersStopped(stopped, actor),
    fleet: async () => {
      const holder = await store.leaseHolder(SCHEDULER_LEASE);
      return { offersStopped: await store.offersStopped(), scheduler: holder ?? null };
    },
    assign: (group, ids, hardware) => store.assign(group, ids, hardware === undefined ? {} : { hardware }),
    unassign: (ids) => store.unassign(ids),
    devices: (group, page) => readDevicePage(store, group, page),
    close: () => store.close(),
  };
}

function fleetOverHttp(server: string, token: string | undefined): Fleet {
  let base: URL;
  try {
    base = new URL(server.endsWith('/') ? server : `${server}/`);
  } catch {
    throw new UsageError(`--server: expected a URL such as http://127.0.0.1:8081/, got ${JSON.stringify(server.slice(0, 80))}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--server: expected an http:// or https:// URL, got ${base.protocol}`);
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown, next?: (headers: Headers) => void): Promise<T> => {
    const url = new URL(path, base);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new StorageError(base.href, `the management API does not answer: ${cause}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new ValidationError(`${method} ${url.pathname}`, `${response.status} ${message.split('\n')[0]!.slice(0, 300)}`);
    }
    next?.(response.headers);
    return JSON.parse(text) as T;
  };
  const search = (fields: Record<string, string | number | readonly string[] | undefined>): string => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) params.set(name, Array.isArray(value) ? value.join(',') : String(value));
    const text = params.toString();
    return text === '' ? '' : `?${text}`;
  };
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  return {
    remote: true,
    createCampaign: (spec) => call('POST', 'api/campaigns', { name: spec.name, envelope: b64(spec.envelope), policy: spec.policyJson, ...(spec.group === undefined ? {} : { group: spec.group }) }),
    createRollback: (id, spec) => call('POST', `api/campaigns/${id}/rollback`, { envelope: b64(spec.envelope), ...(spec.name === undefined ? {} : { name: spec.name }) }),
    pause: (id, reason) => call('POST', `api/campaigns/${id}/pause`, { reason }),
    resume: (id) => call('POST', `api/campaigns/${id}/resume`, {}),
    halt: (id, reason) => call('POST', `api/campaigns/${id}/halt`, { reason }),
    status: (id) => call('GET', `api/campaigns/${id}`),
    list: async (page) => {
      let nextBefore: number | undefined;
      const campaigns = await call<CampaignStatus[]>('GET', `api/campaigns${search({ state: page.states, before: page.before, limit: page.limit })}`, undefined, (headers) => {
        const next = headers.get('x-next-before');
        if (next !== null) nextBefore = Number(next);
      });
      return nextBefore === undefined ? { campaigns } : { campaigns, nextBefore };
    },
    setOffersStopped: async (stopped) => void (await call('POST', `api/fleet/${stopped ? 'stop' : 'start'}`, {})),
    fleet: () => call('GET', 'api/fleet'),
    assign: async (group, ids, hardware) => void (await call('POST', 'api/devices', { group, devices: ids, ...(hardware === undefined ? {} : { hardware }) })),
    unassign: async (ids) => void (await call('POST', 'api/devices/remove', { devices: ids })),
    devices: async (group, page) => {
      let nextAfter: string | undefined;
      const devices = await call<{ id: string; group: string; hardware: string | null }[]>('GET', `api/devices${search({ group, after: page.after, limit: page.limit })}`, undefined, (headers) => {
        nextAfter = headers.get('x-next-after') ?? undefined;
      });
      return nextAfter === undefined ? { devices } : { devices, nextAfter };
    },
    close: async () => undefined,
  };
}

/** The fleet named by `--db` or `--server` (exactly one). */
async function openFleet(values: { db?: string | undefined; server?: string | undefined; token?: string | undefined }): Promise<Fleet> {
  if (values.db !== undefined && values.server !== undefined) throw new UsageError('give --db or --server, not both');
  if (values.server !== undefined) return fleetOverHttp(values.server, values.token ?? (process.env.SENSORKIT_OTA_TOKEN || undefined));
  return fleetOnDatabase(required(values.db, '--db or --server'));
}

const COMMON = {
  db: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' },
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
} as const;

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Uploads each payload file to the store under the URI the manifest names for a component with its
 * size and SHA-256; a file that is no payload of the manifest is a `ValidationError`.
 */
async function uploadPayloads(envelope: Uint8Array, files: readonly string[], store: ArtefactStore): Promise<void> {
  const { manifest } = readEnvelopeUnverified(envelope);
  const components = (manifest.components ?? [manifest]).filter((c) => c.uri !== undefined);
  for (const file of files) {
    const { size, digest } = await hashInput(file);
    const component = components.find((c) => c.imageSize === size && Buffer.from(c.imageDigest).equals(digest));
    if (component === undefined) throw new ValidationError('--payload', `${file} is no payload the manifest signs (no component with its size and SHA-256)`);
    const present = await store.head(component.uri!);
    if (present?.size !== size) await store.put(component.uri!, file);
  }
}

/** Uploads the `--payload` files and checks every payload the envelope names is in the store. */
async function preparePayloads(envelope: Uint8Array, values: { store?: string | undefined; payload?: string[] | undefined }, fleet: Fleet): Promise<void> {
  const payloads = values.payload ?? [];
  if (values.store === undefined) {
    if (payloads.length > 0) throw new UsageError('--payload needs --store (where the payloads go)');
    if (!fleet.remote && payloadsOf(envelope).length > 0) {
      throw new UsageError('--store is required to check that the payloads the manifest names are there (or use --server: the update server checks its own store)');
    }
    return;
  }
  const store = openArtefactStore(values.store, process.env);
  await store.check();
  await uploadPayloads(envelope, payloads, store);
  await checkPayloads(envelope, store);
}

/**
 * Runs `sensorkit ota campaign create|status|pause|resume|halt|rollback`.
 *
 * @example
 * ```ts
 * await campaignCommand(['create', '--db', 'postgres://ota@db/ota', '--name', 'fw 2', '--envelope', 'fw-2.suit', '--policy', 'rollout.json'])
 * ```
 */
export async function campaignCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'token') return tokenCommand(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...COMMON, name: { type: 'string' }, group: { type: 'string' }, envelope: { type: 'string' }, policy: { type: 'string' },
      payload: { type: 'string', multiple: true }, store: { type: 'string' }, reason: { type: 'string' },
      state: { type: 'string' }, before: { type: 'string' }, limit: { type: 'string' },
    },
  });
  if (values.help || action === undefined || action === '--help' || action === '-h') return void process.stdout.write(CAMPAIGN_HELP), action === undefined ? 2 : 0;
  const actions = ['create', 'status', 'pause', 'resume', 'halt', 'rollback'];
  if (!actions.includes(action)) throw new UsageError(`campaign: unknown action "${action}"; expected ${actions.join(', ')}`);
  const id = (): number => parseNumberOption('ID', required(positionals[0], 'ID'), { integer: true, min: 1 });
  const takes = action === 'create' ? 0 : action === 'status' ? positionals.length : 1;
  if (positionals.length !== takes) throw new UsageError(`campaign ${action} takes ${takes === 0 ? 'no argument' : 'one ID'}, got ${positionals.length}`);
  const paging = values.state !== undefined || values.before !== undefined || values.limit !== undefined;
  if (paging && (action !== 'status' || positionals.length > 0)) throw new UsageError('--state, --before and --limit are for campaign status without an ID');
  const page = pageFlags(() => parseCampaignPage(values));
  // Read and check every file before the database is opened: bad input changes nothing.
  const envelope = action === 'create' || action === 'rollback' ? new Uint8Array(await readInput(required(values.envelope, '--envelope'), { maxBytes: MAX_ENVELOPE_BYTES })) : undefined;
  // The policy as written is what the management API receives (it parses it again); parsed here first so a bad one stops here.
  const policyJson = action === 'create' && values.policy !== undefined ? await readPolicy(values.policy) : {};
  const policy = action === 'create' ? parseRolloutPolicy(policyJson) : undefined;
  const name = action === 'create' ? required(values.name, '--name') : values.name;
  const fleet = await openFleet(values);
  try {
    switch (action) {
      case 'create':
        await preparePayloads(envelope!, values, fleet);
        print(await fleet.createCampaign({ name: name!, envelope: envelope!, policy: policy!, policyJson, ...(values.group === undefined ? {} : { group: values.group }) }));
        return 0;
      case 'rollback':
        await preparePayloads(envelope!, values, fleet);
        print(await fleet.createRollback(id(), { envelope: envelope!, ...(name === undefined ? {} : { name }) }));
        return 0;
      case 'status':
        if (positionals.length > 0) print(await fleet.status(id()));
        else {
          const { campaigns, nextBefore } = await fleet.list(page);
          print(campaigns);
          if (nextBefore !== undefined) process.stderr.write(`sensorkit: the newest ${campaigns.length} campaigns shown; older ones: --before ${nextBefore}\n`);
        }
        return 0;
      case 'pause':
        print(await fleet.pause(id(), values.reason ?? 'paused by hand'));
        return 0;
      case 'resume':
        print(await fleet.resume(id()));
        return 0;
      default:
        print(await fleet.halt(id(), values.reason ?? 'halted by hand'));
        return 0;
    }
  } finally {
    await fleet.close();
  }
}

/** A page read from flags: a bad value is a usage error (exit 2, one line). */
function pageFlags<P>(parse: () => P): P {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`--${error.path}: ${error.reason}`);
    throw error;
  }
}

async function readPolicy(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StorageError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(file, `not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs `sensorkit ota device add|remove|list`: the operator's assignment of devices to groups and
 * hardware revisions.
 *
 * @example
 * ```ts
 * await deviceGroupCommand(['add', '--db', 'ota-db', '--group', 'line-3', '--hardware', 'revB', 'en-1-SN1', 'en-1-SN2'])
 * ```
 */
export async function deviceGroupCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { ...COMMON, group: { type: 'string' }, hardware: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } },
  });
  if (values.help || action === undefined || action === '--help' || action === '-h') return void process.stdout.write(DEVICE_HELP), action === undefined ? 2 : 0;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new UsageError(`device: unknown action "${action}"; expected add, remove or list`);
  const ids = positionals.map((id) => deviceIdArgument(id));
  if (action !== 'list' && ids.length === 0) throw new UsageError(`device ${action}: name at least one DEVICE`);
  if (action === 'list' && ids.length > 0) throw new UsageError(`device list takes no DEVICE, got ${ids.join(' ')}`);
  const group = action === 'add' ? deviceIdArgument(required(values.group, '--group'), '--group') : values.group === undefined ? undefined : deviceIdArgument(values.group, '--group');
  const hardware = values.hardware === undefined ? undefined : deviceIdArgument(values.hardware, '--hardware');
  if (action === 'remove' && (group !== undefined || hardware !== undefined)) throw new UsageError('device remove takes no --group or --hardware');
  if (action !== 'list' && (values.after !== undefined || values.limit !== undefined)) throw new UsageError('--after and --limit are for device list');
  const page = pageFlags(() => parseDevicePage(values));
  const fleet = await openFleet(values);
  try {
    if (action === 'add') await fleet.assign(group!, ids, hardware);
    if (action === 'remove') await fleet.unassign(ids);
    // After add or remove: the first page of the fleet's devices, as before paging.
    const { devices: listed, nextAfter } = await fleet.devices(action === 'list' ? group : undefined, page);
    // A hardware revision is shown when the operator set one.
    const shown = listed.filter((d) => action !== 'list' || hardware === undefined || d.hardware === hardware).map((d) => (d.hardware === null ? { id: d.id, group: d.group } : d));
    print(shown);
    if (nextAfter !== undefined) process.stderr.write(`sensorkit: the first ${listed.length} devices shown; more: ${action === 'list' ? '' : 'sensorkit ota device list '}--after ${nextAfter}\n`);
    return 0;
  } finally {
    await fleet.close();
  }
}

/**
 * Runs `sensorkit ota fleet stop|start|status` (the kill switch and the scheduler's lease).
 *
 * @example
 * ```ts
 * await fleetCommand(['stop', '--db', 'postgres://ota@db/ota']) // every offer stops
 * ```
 */
export async function fleetCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: COMMON });
  if (values.help || action === undefined || action === '--help' || action === '-h') return void process.stdout.write(FLEET_HELP), action === undefined ? 2 : 0;
  if (action !== 'stop' && action !== 'start' && action !== 'status') throw new UsageError(`fleet: unknown action "${action}"; expected stop, start, status or simulate`);
  if (positionals.length > 0) throw new UsageError(`fleet ${action} takes no argument, got ${positionals.join(' ')}`);
  const fleet = await openFleet(values);
  try {
    if (action !== 'status') await fleet.setOffersStopped(action === 'stop');
    print(await fleet.fleet());
    return 0;
  } finally {
    await fleet.close();
  }
}

/** A device id, group or hardware revision: 1–128 of letters, digits and `._:-`. */
function deviceIdArgument(value: string, name = 'DEVICE'): string {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(value)) throw new UsageError(`${name}: expected 1–128 letters, digits or ._:-, got ${JSON.stringify(value.slice(0, 60))}`);
  return value;
}
