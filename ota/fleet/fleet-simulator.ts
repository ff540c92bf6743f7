/**
 * A fleet of simulated devices against an update server's device API, to rehearse a rollout
 * before it touches a plant: N {@link SimulatedDevice}s with ids `<prefix><i>` (i from 0), their
 * fates dealt by a seeded shuffle (exactly round(N × rate) devices of each), every HTTP exchange
 * within one concurrency bound, and a summary: devices per state, outcomes reported, polls per
 * second and the poll latency's p50/p99.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SystemClock, type Clock, type Timer } from '../../sdk/core/clock.js';
import { ArgumentError, StateError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { CampaignClient, type CampaignFailure, type ReportedState } from '../agent/campaign-client.js';
import type { ClientTls } from '../agent/http-request.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { readEnvelopeUnverified } from '../manifest/suit-envelope.js';
import { componentsOf } from '../manifest/suit-manifest.js';
import { checkPayload } from './payload-check.js';
import { SimulatedDevice, type DeviceContext, type DeviceFate, type RunningImage, type SimulatedState } from './simulated-device.js';

/** Options of {@link FleetSimulator}. */
export interface FleetSimulatorOptions {
  /** The update server's device listener. */
  readonly serverUrl: string;
  /** How many devices, 1–1,000,000. */
  readonly devices: number;
  /** Device ids are `${idPrefix}${i}`. Default `sim-`. */
  readonly idPrefix?: string;
  /** Seed of the fates and start times. Default 1. */
  readonly seed?: number;
  /** Shares of devices that fail every new image, roll it back after the trial, or fall silent. Default 0 each; their sum ≤ 1. */
  readonly failRate?: number;
  readonly rollbackRate?: number;
  readonly silentRate?: number;
  /** The failure type `fail` devices report. Default `install`. */
  readonly failure?: CampaignFailure;
  /** Trust anchors the envelopes are verified against; without them only their form and digests are checked. */
  readonly trust?: TrustAnchors;
  /** The envelope of the image every device runs at the start (its sequence and image are known-good). Default none: sequence 0. */
  readonly running?: Uint8Array;
  /** Seconds a device stays in its trial. Default 0. */
  readonly trialS?: number;
  /** Most HTTP exchanges in flight at once. Default 64. */
  readonly concurrency?: number;
  /** First polls spread uniformly over this many seconds. Default 0 (all at once, within the concurrency). */
  readonly rampS?: number;
  /** One request's time limit, ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** Bounds of the server's poll interval, seconds. Default `{ min: 0.1, max: 86_400 }`. */
  readonly pollBoundsS?: { readonly min?: number; readonly max?: number };
  readonly tls?: ClientTls;
  /** Default a SystemClock without precision waits (thousands of timers, no spinning). */
  readonly clock?: Clock;
}

/** What a simulation saw. */
export interface FleetSummary {
  readonly devices: number;
  readonly elapsedS: number;
  /** Devices per state now. */
  readonly states: Record<SimulatedState, number>;
  /** Devices per fate. */
  readonly fates: Record<DeviceFate, number>;
  /** Reports sent (accepted by the server) per state. */
  readonly reports: Record<ReportedState, number> & { readonly refused: number };
  readonly polls: {
    readonly total: number;
    readonly perSecond: number;
    readonly offers: number;
    readonly none: number;
    readonly unchanged: number;
    readonly errors: number;
    readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  };
  readonly downloads: { readonly total: number; readonly bytes: number; readonly errors: number };
  /** Devices per sequence they run (`none` before a first image). */
  readonly sequences: Record<string, number>;
  /** Whether every device is silent or past an outcome with nothing more offered. */
  readonly settled: boolean;
  /** Seconds from the start until the last device settled, when they all did. */
  readonly settledAtS: number | undefined;
}

const STATES: readonly SimulatedState[] = ['idle', 'waiting', 'downloading', 'staged', 'trial', 'confirmed', 'current', 'failed', 'rolled-back', 'silent'];
const REPORTED: readonly ReportedState[] = ['downloading', 'staged', 'trial', 'confirmed', 'current', 'failed', 'rolled-back'];

/**
 * A simulated fleet.
 *
 * @example
 * ```ts
 * const fleet = new FleetSimulator({ serverUrl: 'http://127.0.0.1:8081/', devices: 1000, failRate: 0.02, seed: 7 })
 * const summary = await fleet.run({ durationS: 120 })
 * console.log(summary.states.confirmed, summary.polls.latencyMs.p99)
 * ```
 */
export class FleetSimulator {
  readonly #clock: Clock;
  readonly #devices: SimulatedDevice[] = [];
  readonly #latencies: number[] = [];
  readonly #sleeps = new Set<{ timer: Timer; resolve: () => void }>();
  readonly #waiting: (() => void)[] = [];
  readonly #concurrency: number;
  readonly #rampS: number;
  readonly #agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  readonly #random: SeededRandom;
  readonly #counts = { polls: 0, offers: 0, none: 0, unchanged: 0, pollErrors: 0, refused: 0, downloads: 0, bytes: 0, downloadErrors: 0 };
  readonly #reports = Object.fromEntries(REPORTED.map((s) => [s, 0])) as Record<ReportedState, number>;
  #inFlight = 0;
  #stopped = false;
  #startedAt = 0;
  #settledAt: number | undefined;
  #onFirstAnswer: (() => void) | undefined;

  constructor(options: FleetSimulatorOptions) {
    const n = options.devices;
    if (!(Number.isSafeInteger(n) && n >= 1 && n <= 1_000_000)) throw new ArgumentError(`Expected \`devices\` to be an integer from 1 to 1,000,000, got ${String(n)}`);
    const rates = { failRate: options.failRate ?? 0, rollbackRate: options.rollbackRate ?? 0, silentRate: options.silentRate ?? 0 };
    for (const [name, rate] of Object.entries(rates)) {
      if (!(Number.isFinite(rate) && rate >= 0 && rate <= 1)) throw new ArgumentError(`Expected \`${name}\` to be a number from 0 to 1, got ${String(rate)}`);
    }
    if (rates.failRate + rates.rollbackRate + rates.silentRate > 1 + 1e-9) throw new ArgumentError('Expected `failRate + rollbackRate + silentRate` to be at most 1');
    const concurrency = options.concurrency ?? 64;
    if (!(Number.isSafeInteger(concurrency) && concurrency >= 1)) throw new ArgumentError(`Expected \`concurrency\` to be an integer from 1, got ${String(concurrency)}`);
    const trialS = options.trialS ?? 0;
    if (!(Number.isFinite(trialS) && trialS >= 0)) throw new ArgumentError(`Expected \`trialS\` to be a number ≥ 0, got ${String(trialS)}`);
    const rampS = options.rampS ?? 0;
    if (!(Number.isFinite(rampS) && rampS >= 0)) throw new ArgumentError(`Expected \`rampS\` to be a number ≥ 0, got ${String(rampS)}`);
    const prefix = options.idPrefix ?? 'sim-';
    if (!/^[A-Za-z0-9._:-]{0,120}$/.test(prefix)) throw new ArgumentError(`Expected \`idPrefix\` to be at most 120 letters, digits or ._:-, got ${JSON.stringify(prefix)}`);
    this.#clock = options.clock ?? new SystemClock({ precisionWindowMs: 0 });
    this.#concurrency = concurrency;
    this.#rampS = rampS;
    this.#random = new SeededRandom(options.seed ?? 1);
    const running = options.running === undefined ? undefined : runningImageOf(options.running);
    const fates = dealFates(n, rates, this.#random.fork('fates'));
    const context = this.#context(options, trialS);
    for (let i = 0; i < n; i++) {
      const client = new CampaignClient({
        serverUrl: options.serverUrl,
        deviceId: `${prefix}${i}`,
        clock: this.#clock,
        timeoutMs: options.timeoutMs ?? 30_000,
        // Before a first answer (a first poll that failed), try again within a second.
        pollBoundsS: { min: options.pollBoundsS?.min ?? 0.1, max: options.pollBoundsS?.max ?? 86_400, fallback: Math.max(options.pollBoundsS?.min ?? 0.1, Math.min(options.pollBoundsS?.max ?? 86_400, 1)) },
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
      this.#devices.push(new SimulatedDevice(client, fates[i]!, context, running));
    }
  }

  /**
   * Runs the devices for `durationS` seconds, or until every device has settled when
   * `untilSettled` (default true), or until {@link stop}; then resolves with the summary.
   * `onProgress` gets a summary every `progressMs` (default 1,000); `onFirstAnswer` is called once,
   * when the server first answers a poll. A simulator runs once.
   */
  async run(options: { durationS: number; untilSettled?: boolean; onProgress?: (summary: FleetSummary) => void; progressMs?: number; onFirstAnswer?: () => void }): Promise<FleetSummary> {
    if (!(Number.isFinite(options.durationS) && options.durationS > 0)) throw new ArgumentError(`Expected \`durationS\` to be a number above 0, got ${String(options.durationS)}`);
    if (this.#startedAt !== 0) throw new StateError('this fleet has run already: make a new FleetSimulator');
    this.#onFirstAnswer = options.onFirstAnswer;
    this.#startedAt = this.#clock.now();
    const untilSettled = options.untilSettled ?? true;
    const deadline = this.#clock.schedule(this.#startedAt + options.durationS * 1000, () => this.#halt());
    const progressMs = options.progressMs ?? 1000;
    let lastProgress = this.#startedAt;
    let tick: Timer | undefined;
    // Settling is checked four times a second; progress goes out every progressMs.
    const watch = (): void => {
      if (this.#stopped) return;
      const now = this.#clock.now();
      if (this.#settledAt === undefined && this.#devices.every((d) => d.settled)) {
        this.#settledAt = now;
        if (untilSettled) return this.#halt();
      }
      if (options.onProgress !== undefined && now - lastProgress >= progressMs) {
        lastProgress = now;
        options.onProgress(this.summary());
      }
      tick = this.#clock.schedule(now + 250, watch);
    };
    tick = this.#clock.schedule(this.#startedAt + 250, watch);
    const loops = this.#devices.map(async (device) => {
      if (this.#rampS > 0) await this.#sleep(this.#random.next() * this.#rampS * 1000);
      await device.run();
    });
    await Promise.all(loops);
    deadline.cancel();
    tick?.cancel();
    this.#agents.http.destroy();
    this.#agents.https.destroy();
    return this.summary();
  }

  /** Stops the devices: sleeps end at once, requests in flight finish. */
  stop(): void {
    this.#halt();
  }

  /** What the simulation saw so far. */
  summary(): FleetSummary {
    const states = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<SimulatedState, number>;
    const fates: Record<DeviceFate, number> = { healthy: 0, fail: 0, rollback: 0, silent: 0 };
    const sequences: Record<string, number> = {};
    for (const device of this.#devices) {
      states[device.state]++;
      fates[device.fate]++;
      const key = device.sequence === undefined ? 'none' : String(device.sequence);
      sequences[key] = (sequences[key] ?? 0) + 1;
    }
    const elapsedS = this.#startedAt === 0 ? 0 : (this.#clock.now() - this.#startedAt) / 1000;
    const sorted = Float64Array.from(this.#latencies).sort();
    const at = (q: number): number => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!));
    const c = this.#counts;
    return {
      devices: this.#devices.length,
      elapsedS: round(elapsedS),
      states,
      fates,
      reports: { ...this.#reports, refused: c.refused },
      polls: {
        total: c.polls,
        perSecond: elapsedS > 0 ? round(c.polls / elapsedS) : 0,
        offers: c.offers,
        none: c.none,
        unchanged: c.unchanged,
        errors: c.pollErrors,
        latencyMs: { p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? 0 : round(sorted[sorted.length - 1]!) },
      },
      downloads: { total: c.downloads, bytes: c.bytes, errors: c.downloadErrors },
      sequences,
      settled: this.#devices.every((d) => d.settled),
      settledAtS: this.#settledAt === undefined ? undefined : round((this.#settledAt - this.#startedAt) / 1000),
    };
  }

  #context(options: FleetSimulatorOptions, trialS: number): DeviceContext {
    const counts = this.#counts;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return {
      clock: this.#clock,
      trust: options.trust,
      failure: options.failure ?? 'install',
      trialS,
      limit: (run) => this.#limit(run),
      fetch: (check) => checkPayload({ ...check, timeoutMs, agents: this.#agents, ...(options.tls === undefined ? {} : { tls: options.tls }) }),
      sleep: (ms) => this.#sleep(ms),
      stopped: () => this.#stopped,
      onPoll: (status, latencyMs) => {
        counts.polls++;
        if (status === 'error') counts.pollErrors++;
        else {
          if (this.#onFirstAnswer !== undefined) {
            const first = this.#onFirstAnswer;
            this.#onFirstAnswer = undefined;
            first();
          }
          counts[status === 'offer' ? 'offers' : status]++;
          this.#latencies.push(latencyMs);
        }
      },
      onReport: (state, ok) => {
        if (ok) this.#reports[state]++;
        else counts.refused++;
      },
      onDownload: (bytes, ok) => {
        counts.downloads++;
        counts.bytes += bytes;
        if (!ok) counts.downloadErrors++;
      },
    };
  }

  async #limit<T>(run: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.#concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight++;
    try {
      return await run();
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        resolve: () => {
          this.#sleeps.delete(entry);
          resolve();
        },
        timer: this.#clock.schedule(this.#clock.now() + ms, () => entry.resolve()),
      };
      this.#sleeps.add(entry);
    });
  }

  #halt(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const entry of [...this.#sleeps]) {
      entry.timer.cancel();
      entry.resolve();
    }
  }
}

/**
 * Deals the fates: a seeded shuffle of the device indexes, then exactly round(n × rate) silent,
 * failing and rolling-back devices in that order, the rest healthy.
 *
 * @example
 * ```ts
 * dealFates(10, { failRate: 0.2, rollbackRate: 0, silentRate: 0.1 }, new SeededRandom(1)) // 2 'fail', 1 'silent', 7 'healthy'
 * ```
 */
export function dealFates(n: number, rates: { failRate: number; rollbackRate: number; silentRate: number }, random: SeededRandom): DeviceFate[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextUint32() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const fates: DeviceFate[] = new Array<DeviceFate>(n).fill('healthy');
  let next = 0;
  for (const [fate, rate] of [['silent', rates.silentRate], ['fail', rates.failRate], ['rollback', rates.rollbackRate]] as const) {
    const count = Math.min(n - next, Math.round(n * rate));
    for (let k = 0; k < count; k++) fates[order[next++]!] = fate;
  }
  return fates;
}

/** The sequence and image of an envelope devices run at the start (read, not verified: the operator gave it). */
function runningImageOf(envelope: Uint8Array): RunningImage {
  const { manifest } = readEnvelopeUnverified(envelope);
  return { sequence: manifest.sequence, image: componentsOf(manifest).map((c) => Buffer.from(c.imageDigest).toString('hex')).join('+') };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
