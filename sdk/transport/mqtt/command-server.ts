/**
 * Serves `.../cmd/<command>` requests: decode with limits, validate and run through the device
 * (`device.invoke`, which checks the model's typed arguments), reply on `.../cmd/<command>/result`.
 *
 * Hostile input costs little and never blocks sampling: each request first spends a reply token
 * (a token bucket on the injected clock); without one, or with too many commands still running, it
 * is ignored and counted. A malformed request gets an error reply, never an exception.
 *
 * Replies go to `.../cmd/<command>/result`, or to the request's MQTT 5 Response Topic (§4.10) when
 * that lies under the device's own `cmd/<command>/result` or under a configured prefix: a device
 * that replied anywhere could be made to publish into another device's tree
 * (`sensorkit/v1/other-device/cmd/reboot`) by anyone who may publish a request. A request with any
 * other Response Topic is ignored and counted. A handler's own exception is answered with a generic
 * message and a reference; its text (paths, addresses, internals) goes to the log with that reference.
 *
 * With a `guard` (signed requests, see request-guard.ts), a request must be a COSE_Sign1 by a
 * trusted operator whose role suffices: a refused one is answered `{ ok: false, error: { code:
 * 'ERR_REFUSED', reason, message } }` and recorded in the audit sink, and never reaches the device.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { ArgumentError, SensorkitError, StateError, ValidationError } from '../../core/errors.js';
import { decodeCommandRequest, type CommandRequestLimits } from './command-payload.js';
import { CBOR, JSON_TYPE, type CommandResult, type PayloadWriter } from './payloads.js';
import type { RequestGuard } from './request-guard.js';
import { TokenBucket } from './token-bucket.js';

/** What runs commands: a `Device` satisfies it. */
export interface CommandTarget {
  invoke(id: string, args: Readonly<Record<string, unknown>>): Promise<unknown>;
}

/** An incoming request as the client hands it over. */
export interface CommandRequest {
  readonly topic: string;
  readonly payload: Uint8Array;
  /** MQTT 5 Response Topic (§3.3.2.3.5). */
  readonly responseTopic?: string;
  /** MQTT 5 Correlation Data (§3.3.2.3.6), echoed in the reply. */
  readonly correlationData?: Uint8Array;
  /** MQTT 5 Content Type (§3.3.2.3.9). */
  readonly contentType?: string;
}

/** A reply to publish. */
export interface CommandReply {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly contentType: string;
  readonly correlationData?: Uint8Array;
}

/** Limits and reply policy of the command server; every field has a default. */
export interface CommandLimits extends CommandRequestLimits {
  /**
   * Topic prefixes under which a Response Topic is honoured, besides the device's own
   * `cmd/<command>/result…` (e.g. `['plant-7/replies/']`). Default none.
   */
  readonly responseTopicPrefixes?: readonly string[];
  /** Replies per second, sustained. Default 50. */
  readonly repliesPerSecond?: number;
  /** Replies in a burst. Default 100. */
  readonly replyBurst?: number;
  /** Commands running at once; more are ignored. Default 8. */
  readonly maxConcurrent?: number;
}

/** Counters of the command server. */
export interface CommandStats {
  readonly received: number;
  readonly answered: number;
  /** Requests dropped without a reply (rate limits, too many running, not a command topic, a refused Response Topic). */
  readonly ignored: number;
  /** Of `ignored`: requests whose Response Topic lay outside the device's own tree and the configured prefixes. */
  readonly refusedResponseTopics: number;
  /** Commands whose handler threw (answered with a generic error; the details went to `onFailure`). */
  readonly failed: number;
  /** Requests refused by the signed-request check (answered with `ERR_REFUSED`), never run. */
  readonly refused?: number;
}

/**
 * @example
 * ```ts
 * const server = new CommandServer({ clock, target: device, prefix: 'sensorkit/v1/env-node-7/cmd/', writer, publish })
 * client.on('message', (topic, payload, packet) => server.handle({ topic, payload }))
 * ```
 */
export class CommandServer {
  readonly #target: CommandTarget;
  readonly #prefix: string;
  readonly #deviceRoot: string;
  readonly #writer: PayloadWriter;
  readonly #publish: (reply: CommandReply) => void;
  readonly #bucket: TokenBucket;
  readonly #limits: CommandRequestLimits;
  readonly #maxConcurrent: number;
  readonly #responsePrefixes: readonly string[];
  readonly #onFailure: (error: Error) => void;
  readonly #guard: RequestGuard | undefined;
  #running = 0;
  #refused = 0;
  #failed = 0;
  #received = 0;
  #answered = 0;
  #ignored = 0;

  constructor(options: {
    clock: Clock;
    target: CommandTarget;
    /** Topic prefix of requests, ending in `cmd/`. */
    prefix: string;
    /** The device's own topic tree, ending in `/`: a Response Topic inside it is not honoured. */
    deviceRoot: string;
    writer: PayloadWriter;
    publish: (reply: CommandReply) => void;
    limits?: CommandLimits;
    /** Told the details of a handler's exception, with the reference the reply carries (the log). */
    onFailure?: (error: Error) => void;
    /** The signed-request check; without it every well-formed request runs (development). */
    guard?: RequestGuard;
  }) {
    const limits = options.limits ?? {};
    this.#target = options.target;
    this.#prefix = options.prefix;
    this.#deviceRoot = options.deviceRoot;
    this.#writer = options.writer;
    this.#publish = options.publish;
    this.#bucket = new TokenBucket({ clock: options.clock, ratePerSecond: limits.repliesPerSecond ?? 50, burst: limits.replyBurst ?? 100 });
    this.#maxConcurrent = limits.maxConcurrent ?? 8;
    this.#responsePrefixes = limits.responseTopicPrefixes ?? [];
    const badPrefix = this.#responsePrefixes.find((prefix) => prefix === '' || /[+#\u0000]/.test(prefix));
    if (badPrefix !== undefined) throw new ArgumentError(`Expected \`commands.responseTopicPrefixes\` to hold topic prefixes without wildcards, got ${JSON.stringify(badPrefix)}`);
    this.#onFailure = options.onFailure ?? (() => undefined);
    this.#guard = options.guard;
    if (!(Number.isInteger(this.#maxConcurrent) && this.#maxConcurrent >= 1)) {
      throw new ArgumentError(`Expected \`commands.maxConcurrent\` to be an integer from 1 and up, got ${String(limits.maxConcurrent)}`);
    }
    this.#limits = { ...(limits.maxBytes === undefined ? {} : { maxBytes: limits.maxBytes }), ...(limits.maxEntries === undefined ? {} : { maxEntries: limits.maxEntries }) };
  }

  /** Counters so far. */
  stats(): CommandStats {
    return { received: this.#received, answered: this.#answered, ignored: this.#ignored, refusedResponseTopics: this.#refused, failed: this.#failed, ...(this.#guard ? { refused: this.#guard.refused } : {}) };
  }

  /** Handles one request; never throws. */
  handle(request: CommandRequest): void {
    this.#received++;
    const name = request.topic.startsWith(this.#prefix) ? request.topic.slice(this.#prefix.length) : '';
    if (name === '' || name.includes('/') || this.#running >= this.#maxConcurrent) {
      this.#ignored++;
      return;
    }
    if (request.responseTopic !== undefined && !this.#honoured(request.responseTopic)) {
      this.#ignored++;
      this.#refused++;
      return;
    }
    if (!this.#bucket.take()) {
      this.#ignored++;
      return;
    }
    const action = { kind: 'command', id: name } as const;
    const outcome = this.#guard?.check(request.payload, request.contentType, action, this.#limits.maxBytes ?? 4096);
    if (outcome?.kind === 'ignored') {
      this.#ignored++;
      return;
    }
    if (outcome?.kind === 'refused') {
      const format = outcome.reason === 'unsigned' ? decodeCommandRequest(request.payload, request.contentType, this.#limits).format : 'json';
      return this.#reply(request, name, format, { ok: false, error: { code: 'ERR_REFUSED', reason: outcome.reason, message: `${outcome.reason}: ${outcome.message}` } });
    }
    // A signed request is answered in JSON: its payload is COSE, not the CBOR of a plain request.
    const decoded = outcome?.kind === 'granted' ? ({ ok: true, format: 'json', args: outcome.args } as const) : decodeCommandRequest(request.payload, request.contentType, this.#limits);
    const send = (result: CommandResult): void => this.#reply(request, name, decoded.format, result);
    const operator = outcome?.kind === 'granted' ? outcome.operator : undefined;
    // Every command let through is recorded: by its operator when signed, as `unsigned` when not.
    const record = (result: 'success' | 'failure', detail?: Readonly<Record<string, unknown>>): void => {
      if (operator) this.#guard!.done(action, operator, result, detail);
      else if (outcome?.kind === 'unsigned') this.#guard!.unsigned(action, result, detail);
    };
    if (!decoded.ok) {
      record('failure', { code: 'ERR_DECODE' });
      return send({ ok: false, error: { code: 'ERR_DECODE', message: decoded.message } });
    }
    this.#running++;
    let invocation: Promise<unknown>;
    try {
      invocation = Promise.resolve(this.#target.invoke(name, decoded.args));
    } catch (error) {
      invocation = Promise.reject(error);
    }
    invocation.then(
      (result) => {
        record('success');
        send(result === undefined ? { ok: true } : { ok: true, result });
      },
      (error: unknown) => {
        const described = this.#describe(name, error);
        record('failure', { code: described.code });
        send({ ok: false, error: described });
      },
    ).finally(() => this.#running--);
  }

  #reply(request: CommandRequest, name: string, format: 'cbor' | 'json', result: CommandResult): void {
    this.#answered++;
    const topic = request.responseTopic ?? `${this.#prefix}${name}/result`;
    try {
      this.#publish({
        topic,
        payload: this.#writer.reply(result, format),
        contentType: format === 'json' ? JSON_TYPE : CBOR,
        ...(request.correlationData === undefined ? {} : { correlationData: request.correlationData }),
      });
    } catch {
      // The connection went away between request and reply: the requester times out, as MQTT allows.
    }
  }

  /**
   * A Response Topic is honoured under the device's own `cmd/<command>/result` (a level below
   * `cmd/+`, so never a request to itself) or under a configured prefix, outside the rest of its own
   * tree (its settings and commands); never with wildcards (MQTT 5 §3.3.2.3.5).
   */
  #honoured(topic: string): boolean {
    if (topic === '' || /[+#\u0000]/.test(topic)) return false;
    if (topic.startsWith(this.#prefix)) return topic.slice(this.#prefix.length).split('/')[1] === 'result';
    if (topic.startsWith(this.#deviceRoot)) return false;
    return this.#responsePrefixes.some((prefix) => topic.startsWith(prefix));
  }

  /**
   * The error a client is told. A `ValidationError` is about the request (an unknown command, an
   * argument out of range) and is told as it is; anything else is the handler's own failure, told
   * as a generic message with a reference, its text passed to `onFailure` with the same reference.
   */
  #describe(name: string, error: unknown): { code: string; message: string } {
    if (error instanceof ValidationError) return { code: error.code, message: error.message };
    this.#failed++;
    const reference = randomBytes(6).toString('hex');
    const detail = error instanceof Error ? error.message : String(error);
    this.#onFailure(new StateError(`command "${name}" failed (reference ${reference}): ${detail}`));
    return { code: error instanceof SensorkitError ? error.code : 'ERR_COMMAND', message: `command "${name}" failed; reference ${reference} in the device log` };
  }
}
