/**
 * Serves `.../cmd/<command>` requests: decode with limits, validate and run through the device
 * (`device.invoke`, which checks the model's typed arguments), reply on `.../cmd/<command>/result`.
 *
 * Hostile input costs little and never blocks sampling: each request first spends a reply token
 * (a token bucket on the injected clock); without one, or with too many commands still running, it
 * is ignored and counted. A malformed request gets an error reply, never an exception.
 */
import type { Clock } from '../../core/clock.js';
import { ArgumentError, SensorkitError } from '../../core/errors.js';
import { decodeCommandRequest, type CommandRequestLimits } from './command-payload.js';
import { CBOR, JSON_TYPE, type CommandResult, type PayloadWriter } from './payloads.js';
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

/** Limits of the command server; every field has a default. */
export interface CommandLimits extends CommandRequestLimits {
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
  /** Requests dropped without a reply (rate limit, too many running, not a command topic). */
  readonly ignored: number;
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
  #running = 0;
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
  }) {
    const limits = options.limits ?? {};
    this.#target = options.target;
    this.#prefix = options.prefix;
    this.#deviceRoot = options.deviceRoot;
    this.#writer = options.writer;
    this.#publish = options.publish;
    this.#bucket = new TokenBucket({ clock: options.clock, ratePerSecond: limits.repliesPerSecond ?? 50, burst: limits.replyBurst ?? 100 });
    this.#maxConcurrent = limits.maxConcurrent ?? 8;
    if (!(Number.isInteger(this.#maxConcurrent) && this.#maxConcurrent >= 1)) {
      throw new ArgumentError(`Expected \`commands.maxConcurrent\` to be an integer from 1 and up, got ${String(limits.maxConcurrent)}`);
    }
    this.#limits = { ...(limits.maxBytes === undefined ? {} : { maxBytes: limits.maxBytes }), ...(limits.maxEntries === undefined ? {} : { maxEntries: limits.maxEntries }) };
  }

  /** Counters so far. */
  stats(): CommandStats {
    return { received: this.#received, answered: this.#answered, ignored: this.#ignored };
  }

  /** Handles one request; never throws. */
  handle(request: CommandRequest): void {
    this.#received++;
    const name = request.topic.startsWith(this.#prefix) ? request.topic.slice(this.#prefix.length) : '';
    if (name === '' || name.includes('/') || this.#running >= this.#maxConcurrent || !this.#bucket.take()) {
      this.#ignored++;
      return;
    }
    const decoded = decodeCommandRequest(request.payload, request.contentType, this.#limits);
    const send = (result: CommandResult): void => this.#reply(request, name, decoded.format, result);
    if (!decoded.ok) return send({ ok: false, error: { code: 'ERR_DECODE', message: decoded.message } });
    this.#running++;
    let invocation: Promise<unknown>;
    try {
      invocation = Promise.resolve(this.#target.invoke(name, decoded.args));
    } catch (error) {
      invocation = Promise.reject(error);
    }
    invocation.then(
      (result) => send(result === undefined ? { ok: true } : { ok: true, result }),
      (error: unknown) => send({ ok: false, error: describeError(error) }),
    ).finally(() => this.#running--);
  }

  #reply(request: CommandRequest, name: string, format: 'cbor' | 'json', result: CommandResult): void {
    this.#answered++;
    const topic = this.#honoured(request.responseTopic) ?? `${this.#prefix}${name}/result`;
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

  /** A Response Topic is honoured unless it has wildcards or points into the device's own tree. */
  #honoured(topic: string | undefined): string | undefined {
    if (topic === undefined || topic === '' || /[+#\u0000]/.test(topic)) return undefined;
    if (topic.startsWith(this.#deviceRoot) && !(topic.startsWith(this.#prefix) && topic.endsWith('/result'))) return undefined;
    return topic;
  }
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof SensorkitError) return { code: error.code, message: error.message };
  return { code: 'ERR_COMMAND', message: error instanceof Error ? error.message : String(error) };
}
