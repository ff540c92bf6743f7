/** `sensorkit ota fleet simulate`: simulated devices rehearsing a rollout against an update server. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FleetSimulator, type FleetSummary } from '../../../ota/fleet/fleet-simulator.js';
import type { CampaignFailure } from '../../../ota/agent/campaign-client.js';
import { readPublicKey } from '../../../ota/keys/keys.js';
import { TrustAnchors } from '../../../ota/keys/trust-anchors.js';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../../../ota/manifest/suit-envelope.js';
import { StorageError } from '../../core/errors.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { readInput, required } from './options.js';

export const FLEET_SIMULATE_HELP = `Usage: sensorkit ota fleet simulate --devices N --server URL [options]

Rehearses a rollout with N simulated devices against an update server's device listener. Each
device polls (with the ETag of the last answer, again after the server's x-poll-after), waits for
its download slot, fetches every payload by the offer's URL with a Range request, checks the
envelope's signature and the payloads' signed size and digest, and reports downloading → staged
→ trial → confirmed, or failed with a failure type, or rolled-back. Nothing is written to disk.

  --devices N          how many devices (1–1000000); ids are PREFIX0 … PREFIX<N−1>
  --server URL         the update server's device listener (http:// or https://)
  --id-prefix P        the device ids' prefix (default sim-)
  --key FILE           a trusted public key (SPKI PEM) the envelopes must verify against
                       (repeatable); without it only their form and digests are checked
  --running FILE.suit  the envelope of the image the devices run at the start (default none:
                       sequence 0); an image a device has run is known-good and never fails
  --fail-rate R        share of the devices that fail every new image (0–1, default 0)
  --failure TYPE       the failure those report: download, verify, install (default), health, other
  --rollback-rate R    share that roll every new image back after the trial (0–1, default 0)
  --silent-rate R      share that report downloading for their first offer, then nothing (0–1)
  --trial-s S          seconds in the trial before confirming or rolling back (default 0)
  --seed S             seed of the fates (default 1): the same seed deals the same devices
  --duration S         run at most S seconds (default 600)
  --keep-polling       run the whole duration, even once every device has settled
  --concurrency C      most HTTP exchanges in flight at once (default 64)
  --ramp S             spread the first polls over S seconds (default 0)
  --ca FILE            a private CA of an https:// server (PEM)
  --json               print the summary as JSON

Exactly round(N × rate) devices get each fate, dealt by a seeded shuffle. Standard error says when
the server first answers ('fleet: N devices polling URL'), then shows progress; the summary (devices per state, reports, polls per second, p50/p99 poll latency) to standard
output once every device has settled (silent, or past its outcome with nothing more offered), the
duration is over, or on SIGINT/SIGTERM. Exit 1 when no poll reached the server.
`;

const FAILURES: readonly CampaignFailure[] = ['download', 'verify', 'install', 'health', 'other'];

/**
 * Runs `sensorkit ota fleet simulate`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await fleetSimulateCommand(['--devices', '100', '--server', 'http://127.0.0.1:8081/', '--fail-rate', '0.05'])
 * ```
 */
export async function fleetSimulateCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      devices: { type: 'string' }, server: { type: 'string' }, 'id-prefix': { type: 'string', default: 'sim-' },
      key: { type: 'string', multiple: true }, running: { type: 'string' },
      'fail-rate': { type: 'string', default: '0' }, failure: { type: 'string', default: 'install' },
      'rollback-rate': { type: 'string', default: '0' }, 'silent-rate': { type: 'string', default: '0' },
      'trial-s': { type: 'string', default: '0' }, seed: { type: 'string', default: '1' },
      duration: { type: 'string', default: '600' }, 'keep-polling': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '64' }, ramp: { type: 'string', default: '0' }, ca: { type: 'string' },
      json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(FLEET_SIMULATE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`fleet simulate takes no arguments, got ${positionals.join(' ')}`);
  const devices = parseNumberOption('--devices', required(values.devices, '--devices'), { integer: true, min: 1, max: 1_000_000 });
  const server = required(values.server, '--server');
  if (!/^https?:\/\//i.test(server) || !URL.canParse(server)) throw new UsageError(`--server: expected an http:// or https:// URL, got "${server}"`);
  const rate = (name: string, text: string): number => parseNumberOption(name, text, { min: 0, max: 1 });
  const failRate = rate('--fail-rate', values['fail-rate']);
  const rollbackRate = rate('--rollback-rate', values['rollback-rate']);
  const silentRate = rate('--silent-rate', values['silent-rate']);
  if (failRate + rollbackRate + silentRate > 1 + 1e-9) throw new UsageError('--fail-rate + --rollback-rate + --silent-rate: must add up to at most 1');
  const failure = values.failure as CampaignFailure;
  if (!FAILURES.includes(failure)) throw new UsageError(`--failure: expected one of ${FAILURES.join(', ')}, got "${values.failure}"`);
  const prefix = values['id-prefix'];
  if (!/^[A-Za-z0-9._:-]{0,120}$/.test(prefix)) throw new UsageError(`--id-prefix: expected at most 120 letters, digits or ._:-, got "${prefix}"`);
  const durationS = parseNumberOption('--duration', values.duration, { min: 0.1 });
  const trialS = parseNumberOption('--trial-s', values['trial-s'], { min: 0 });
  const seed = parseNumberOption('--seed', values.seed, { integer: true, min: 0, max: 0xffff_ffff });
  const concurrency = parseNumberOption('--concurrency', values.concurrency, { integer: true, min: 1, max: 100_000 });
  const rampS = parseNumberOption('--ramp', values.ramp, { min: 0 });

  const trust = values.key === undefined ? undefined : TrustAnchors.of(await Promise.all(values.key.map((file) => readPublicKey(file))));
  let running: Uint8Array | undefined;
  if (values.running !== undefined) {
    running = await readInput(values.running, { maxBytes: MAX_ENVELOPE_BYTES });
    readEnvelopeUnverified(running); // a file that is not an envelope: one line now, not N later
  }
  const ca = values.ca === undefined ? undefined : await readFile(values.ca).catch((error: NodeJS.ErrnoException) => {
    throw new StorageError(values.ca!, `cannot read --ca: ${error.code ?? error.message}`, { cause: error });
  });
  if (trust === undefined) process.stderr.write('sensorkit: warning: no --key: the envelopes\' signatures are not verified, only their form and digests\n');

  const fleet = new FleetSimulator({
    serverUrl: server, devices, idPrefix: prefix, seed, failRate, rollbackRate, silentRate, failure, trialS, concurrency, rampS,
    ...(trust === undefined ? {} : { trust }), ...(running === undefined ? {} : { running }), ...(ca === undefined ? {} : { tls: { ca } }),
  });
  const tty = process.stderr.isTTY === true;
  const stop = (): void => fleet.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let summary: FleetSummary;
  try {
    summary = await fleet.run({
      durationS,
      untilSettled: !values['keep-polling'],
      progressMs: tty ? 1000 : 5000,
      onProgress: (s) => process.stderr.write(tty ? `\r${progressLine(s)}\u001b[K` : `${progressLine(s)}\n`),
      onFirstAnswer: () => process.stderr.write(`fleet: ${devices} devices polling ${server}\n`),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (tty) process.stderr.write('\n');
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  if (summary.polls.total > 0 && summary.polls.errors === summary.polls.total) {
    process.stderr.write(`sensorkit: no poll reached ${server} (${summary.polls.errors} failed)\n`);
    return 1;
  }
  return 0;
}

/** One line of progress. */
function progressLine(s: FleetSummary): string {
  const states = Object.entries(s.states).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(' · ');
  return `fleet ${s.elapsedS.toFixed(0)} s: ${states} | polls ${s.polls.total} (${s.polls.perSecond.toFixed(0)}/s, p99 ${s.polls.latencyMs.p99} ms, ${s.polls.errors} errors)`;
}

/**
 * The summary as text.
 *
 * @example
 * ```ts
 * process.stdout.write(formatSummary(await fleet.run({ durationS: 60 })))
 * ```
 */
export function formatSummary(s: FleetSummary): string {
  const pairs = (record: Record<string, number>): string => Object.entries(record).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const lines = [
    `devices      ${s.devices} in ${s.elapsedS} s${s.settledAtS === undefined ? (s.settled ? '' : ' (not all settled)') : `, settled after ${s.settledAtS} s`}`,
    `states       ${pairs(s.states)}`,
    `fates        ${pairs(s.fates)}`,
    `reports      ${pairs(s.reports)}`,
    `polls        ${s.polls.total} (${s.polls.perSecond}/s): offers ${s.polls.offers}, nothing ${s.polls.none}, unchanged ${s.polls.unchanged}, errors ${s.polls.errors}`,
    `latency      p50 ${s.polls.latencyMs.p50} ms, p99 ${s.polls.latencyMs.p99} ms, max ${s.polls.latencyMs.max} ms`,
    `downloads    ${s.downloads.total} (${s.downloads.bytes} bytes), errors ${s.downloads.errors}`,
    `sequences    ${pairs(s.sequences)}`,
  ];
  return `${lines.join('\n')}\n`;
}
