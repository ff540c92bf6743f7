/** `sensorkit ota provision` and `sensorkit ota update`: the update agent from the command line. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../core/clock.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { AuditLog } from '../../../security/audit-log.js';
import { UpdateAgent } from '../../../ota/agent/update-agent.js';
import { readPublicKey } from '../../../ota/keys/keys.js';
import { TrustAnchors } from '../../../ota/keys/trust-anchors.js';
import { classIdOption, readInput, required, vendorIdOption } from './options.js';
import { ProgressBar } from './progress-bar.js';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../../../ota/manifest/suit-envelope.js';

export const UPDATE_HELP = `Usage: sensorkit ota provision|update --root DIR --key PUBLIC.pem --envelope FILE.suit [options]

  provision --payload FILE      install the first (factory) image into DIR (one --payload per
                                component, in the manifest's order)
  update [--url URL | --base-url URL]
                                download the payload (resumable), stage, switch, trial boot, confirm
                                or roll back; shows a progress bar on stderr

Options:
  --root DIR             the device's state directory (images, current/previous, state, audit.log)
  --key FILE             a trusted public key (SPKI PEM)
  --vendor-id ID         this device's vendor (UUID or domain name; default sensorkit.example)
  --class-id ID          this device's class (UUID or model name; default default)
  --device-id ID         for reports (default: device)
  --component PATH       a component this device updates, segments separated by / (repeatable;
                         default firmware); a manifest naming another component is refused
  --health-timeout MS    how long health probes may take (default 30000)
`;

/**
 * Runs `sensorkit ota provision` or `sensorkit ota update` on a device directory.
 *
 * @example
 * ```ts
 * await deviceCommand('update', ['--root', '/var/lib/device', '--key', 'public.pem', '--envelope', 'fw.suit', '--base-url', 'http://127.0.0.1:8080/'])
 * ```
 */
export async function deviceCommand(verb: 'provision' | 'update', argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      root: { type: 'string' }, key: { type: 'string' }, envelope: { type: 'string' }, payload: { type: 'string', multiple: true }, url: { type: 'string' }, 'base-url': { type: 'string' },
      'vendor-id': { type: 'string' }, 'class-id': { type: 'string' }, 'device-id': { type: 'string', default: 'device' }, component: { type: 'string', multiple: true }, 'health-timeout': { type: 'string', default: '30000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(UPDATE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`${verb} takes no arguments, got ${positionals.join(' ')}`);
  const root = required(values.root, '--root');
  const vendorId = vendorIdOption(values['vendor-id']);
  const clock = new SystemClock();
  const components = (values.component ?? ['firmware']).map((path) => {
    const id = path.split('/');
    if (id.some((segment) => segment === '')) throw new UsageError(`--component: empty segment in "${path}"`);
    return id;
  });
  const agent = await UpdateAgent.open({
    components,
    root,
    clock,
    trust: TrustAnchors.of([await readPublicKey(required(values.key, '--key'))]),
    device: { vendorId, classId: classIdOption(values['class-id'], vendorId), deviceId: values['device-id'] },
    audit: await AuditLog.open(join(root, 'audit.log'), { clock }),
    healthTimeoutMs: parseNumberOption('--health-timeout', values['health-timeout'], { min: 1 }),
  });
  const envelope = await readInput(required(values.envelope, '--envelope'), { maxBytes: MAX_ENVELOPE_BYTES });
  if (verb === 'provision') {
    // Capped by the size the envelope names: a wrong or endless --payload is not read whole.
    const { manifest } = readEnvelopeUnverified(envelope);
    const images = manifest.components ?? [manifest];
    const files = values.payload ?? [];
    if (files.length !== images.length) throw new UsageError(`--payload: the manifest has ${images.length} image${images.length === 1 ? '' : 's'}, got ${files.length}`);
    const payloads: Buffer[] = [];
    for (const [index, file] of files.entries()) payloads.push(await readInput(file, { maxBytes: images[index]!.imageSize }));
    await agent.provision(envelope, payloads);
    const booted = await agent.boot();
    process.stdout.write(`provisioned ${booted.image} (sequence ${booted.sequence})\n`);
    return 0;
  }
  const bar = new ProgressBar(process.stderr, 'downloading');
  agent.on('status', (status) => {
    if (status.state === 'downloading' && status.received !== undefined && status.total !== undefined) bar.update(status.received, status.total);
    else if (status.state !== 'verifying') {
      bar.done();
      process.stderr.write(`${status.state}${status.reason ? `: ${status.reason}` : ''}\n`);
    }
  });
  const offer = { envelope, ...(values.url ? { url: values.url } : {}), ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}) };
  const result = await agent.update(offer);
  bar.done();
  process.stdout.write(`running ${result.image} (sequence ${result.sequence}${result.version ? `, version ${result.version}` : ''})${result.trial ? `: ${result.trial}` : ''}\n`);
  return result.trial === 'rolled-back' ? 1 : 0;
}
