/**
 * An instrument driven over SCPI (IEEE 488.2 common commands, SCPI-99 command tree) on a line: a
 * raw TCP socket or a serial port. One command at a time; after each, the error queue is read with
 * `SYST:ERR?` (until `0,"No error"`), so an error the instrument queued fails the command that
 * caused it. Every answer is awaited for at most `timeoutMs`: silence is one `timeout` error, never
 * a hang. A query the instrument refuses gets no answer, only an error in its queue: when an answer
 * is late, `SYST:ERR?` is sent before the timeout ends, and its reply turns the silence into the
 * instrument's own error. An instrument silent to that too leaves the line out of step (a late
 * answer would be taken for the next one), so the driver then closes it and refuses further commands.
 */
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError, NotSupportedError } from '../../sdk/core/errors.js';
import { convertDifference, converter } from '../../sdk/core/units.js';
import { InstrumentError, type InstrumentErrorReason } from './errors.js';
import type { InstrumentCertificate, InstrumentIdentity, InstrumentQuantity, InstrumentReading } from './instrument.js';
import type { Instrument } from './instrument.js';
import { formatScpiNumber, parseIdn, parseScpiNumber, parseSystemError, quote, resolveDialect, type ScpiDialect } from './scpi-dialect.js';
import { openSerialLink, openTcpLink, type LinkEnd, type ScpiLink, type ScpiTerminator } from './scpi-link.js';
import { defaultCalibratorCertificate } from './sim-calibrator.js';
import { QUANTITIES, QUANTITY_UNITS } from './instrument.js';

/** Default time an answer is awaited, ms. */
export const DEFAULT_SCPI_TIMEOUT_MS = 2000;
/** Most errors read from the queue after one command (SCPI queues hold at least 2; ours 10). */
const MAX_QUEUE_READS = 16;
/** Lines kept while nobody waits for one. */
const MAX_BUFFERED_LINES = 64;
/** When an answer is late, `SYST:ERR?` is sent this share of the timeout (at most PROBE_MAX_MS) before it ends. */
const PROBE_FRACTION = 0.25;
const PROBE_MAX_MS = 500;

/** A `SYST:ERR?` reply in its strict form, `<code>,"<message>"`, or undefined for anything else. */
function errorReply(line: string): { code: number; message: string } | undefined {
  const match = /^\s*([+-]?\d+)\s*,\s*"([^"]*)"\s*$/.exec(line);
  return match === null ? undefined : { code: Number(match[1]), message: match[2]! };
}

/** Options of {@link ScpiInstrument}. */
export interface ScpiInstrumentOptions {
  /** The plan's role for it, named in errors. Default `instrument`. */
  readonly id?: string;
  /** How it was reached, named in errors and records, e.g. `scpi-tcp:192.168.1.20:5025`. */
  readonly connection: string;
  /** The open line. */
  readonly link: ScpiLink;
  /** How long an answer is awaited, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** The harness's clock: readings carry its time. Default the system clock. */
  readonly clock?: Clock;
  /** Overrides of the dialect per `*IDN?` model (over the built-ins). */
  readonly models?: Readonly<Record<string, ScpiDialect>>;
  /** Overrides of the dialect for this instrument, over the model's. */
  readonly dialect?: ScpiDialect;
  /** Whether `SYST:ERR?` is read after each command. Default true. */
  readonly checkErrors?: boolean;
  /**
   * The instrument's calibration certificate: in its identity, and U with each reading. Default:
   * none, except sensorkit's simulated calibrator, which states its simulated certificate.
   */
  readonly certificate?: InstrumentCertificate;
}

/** Options of {@link ScpiInstrument.tcp} and {@link ScpiInstrument.serial}. */
export type ScpiConnectOptions = Omit<ScpiInstrumentOptions, 'link' | 'connection'> & {
  /** What ends each message sent: `\n` (default) or `\r\n`. Answers may end in either. */
  readonly terminator?: ScpiTerminator;
};

/**
 * An SCPI instrument.
 *
 * @example
 * ```ts
 * const dmm = await ScpiInstrument.tcp('192.168.1.20', 5025, { id: 'dmm' })
 * console.log(await dmm.identify())                 // { manufacturer: 'Keysight Technologies', model: '34465A', … }
 * const volts = await dmm.measure('voltage-dc')     // MEAS:VOLT:DC?, then SYST:ERR?
 * await dmm.close()
 * ```
 */
export class ScpiInstrument implements Instrument {
  readonly id: string;
  readonly connection: string;
  readonly timeoutMs: number;
  readonly #link: ScpiLink;
  readonly #clock: Clock;
  /**
   * The answer timeouts: pure durations, on a clock that keeps the time base of its start, so that
   * a wall-time step neither times a query out at once nor lets an unanswered one wait for hours.
   */
  readonly #timers = new SystemClock({ precisionWindowMs: 0, stepThresholdMs: Infinity });
  readonly #options: ScpiInstrumentOptions;
  #identity: InstrumentIdentity | undefined;
  #dialect: ScpiDialect | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Lines received and not yet taken, and who waits for the next one. */
  readonly #lines: string[] = [];
  #waiter: { resolve: (line: string) => void; reject: (error: InstrumentError) => void; command: string } | undefined;
  /** A `SYST:ERR?` was sent for a late answer and its reply is still to be read. */
  #probeSent = false;
  /** Why the instrument no longer takes commands. */
  #unusable: { reason: InstrumentErrorReason; detail: string } | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ScpiInstrumentOptions) {
    if (options === null || typeof options !== 'object' || options.link === undefined) throw new ArgumentError('Expected options with a `link`');
    const timeoutMs = options.timeoutMs ?? DEFAULT_SCPI_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ArgumentError(`Expected \`timeoutMs\` to be a finite number above 0, got ${String(options.timeoutMs)}`);
    this.id = options.id ?? 'instrument';
    this.connection = options.connection;
    this.timeoutMs = timeoutMs;
    this.#link = options.link;
    this.#clock = options.clock ?? new SystemClock();
    this.#options = options;
    this.#link.onLine((line) => {
      const waiter = this.#waiter;
      if (waiter === undefined) {
        // Kept until the next command is sent: two answers may arrive in one chunk.
        if (this.#lines.length < MAX_BUFFERED_LINES) this.#lines.push(line);
        return;
      }
      this.#waiter = undefined;
      waiter.resolve(line);
    });
    this.#link.onEnd((end) => this.#ended(end));
  }

  /**
   * Connects over a raw TCP socket (default port 5025).
   *
   * @example
   * ```ts
   * const supply = await ScpiInstrument.tcp('127.0.0.1', 5025, { id: 'supply', timeoutMs: 1000 })
   * ```
   */
  static async tcp(host: string, port = 5025, options: ScpiConnectOptions = {}): Promise<ScpiInstrument> {
    const id = options.id ?? 'instrument';
    const link = await openTcpLink({
      host,
      port,
      instrument: id,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.terminator === undefined ? {} : { terminator: options.terminator }),
    });
    return new ScpiInstrument({ ...options, id, link, connection: `scpi-tcp:${host.includes(':') ? `[${host}]` : host}:${port}` });
  }

  /**
   * Connects over a serial port (8N1, default 9600 baud).
   *
   * @example
   * ```ts
   * const chamber = await ScpiInstrument.serial('/dev/ttyUSB0', 19200, { id: 'chamber' })
   * ```
   */
  static async serial(path: string, baudRate = 9600, options: ScpiConnectOptions = {}): Promise<ScpiInstrument> {
    const id = options.id ?? 'instrument';
    const link = await openSerialLink({ path, baudRate, instrument: id, ...(options.terminator === undefined ? {} : { terminator: options.terminator }) });
    return new ScpiInstrument({ ...options, id, link, connection: `scpi-serial:${path}@${baudRate}` });
  }

  /** `*IDN?`, parsed into its four fields (asked once; later calls answer from the first). */
  async identify(): Promise<InstrumentIdentity> {
    if (this.#identity !== undefined) return this.#identity;
    const answer = await this.query('*IDN?');
    const parsed = parseIdn(answer);
    if (typeof parsed === 'string') throw this.#error('garbled', '*IDN?', parsed);
    const simulated = parsed.manufacturer === 'sensorkit' && parsed.model.startsWith('SIM-');
    // sensorkit's simulated calibrator states the certificate it simulates (sim-calibrator.ts).
    const certificate = this.#options.certificate ?? (simulated && parsed.model === 'SIM-CAL' ? defaultCalibratorCertificate(parsed.serialNumber) : undefined);
    this.#identity = { ...parsed, simulated, ...(certificate === undefined ? {} : { certificate }) };
    this.#dialect = resolveDialect(parsed.model, this.#options.models, this.#options.dialect);
    return this.#identity;
  }

  async measure(quantity: InstrumentQuantity): Promise<InstrumentReading> {
    const mapping = (await this.#resolvedDialect())[quantity];
    if (mapping?.measure === undefined) throw new NotSupportedError(`${this.id} (${this.connection}): no SCPI query measures ${describeQuantity(quantity)} on this instrument`);
    const command = mapping.measure;
    const answer = await this.query(command);
    const number = parseScpiNumber(answer);
    if (number.kind === 'garbled') throw this.#error('garbled', command, number.detail);
    if (number.kind === 'overload') throw this.#error('overload', command, `over range (the instrument answered ${answer.trim()})`);
    const unit = QUANTITY_UNITS[quantity];
    const value = converter(mapping.unit, unit)(number.value);
    const time = this.#clock.now();
    const accuracy = mapping.accuracy === undefined ? undefined : convertDifference((Math.abs(number.value) * mapping.accuracy.percentOfReading) / 100 + mapping.accuracy.absolute, mapping.unit, unit);
    const certified = this.#identity?.certificate?.uncertainty[quantity];
    const uncertainty =
      certified === undefined
        ? undefined
        : { expanded: Math.abs(value) * certified.relative + convertDifference(certified.absolute, certified.unit, unit), coverageFactor: this.#identity!.certificate!.coverageFactor };
    return { quantity, value, unit, time, ...(accuracy === undefined ? {} : { accuracy }), ...(uncertainty === undefined ? {} : { uncertainty }) };
  }

  async source(quantity: InstrumentQuantity, value: number, unit: string): Promise<void> {
    const mapping = (await this.#resolvedDialect())[quantity];
    if (mapping?.source === undefined) throw new NotSupportedError(`${this.id} (${this.connection}): no SCPI command sources ${describeQuantity(quantity)} on this instrument`);
    if (!Number.isFinite(value)) throw new ArgumentError(`Expected a finite value to source for ${quantity}, got ${String(value)}`);
    await this.write(`${mapping.source} ${formatScpiNumber(converter(unit, mapping.unit)(value))}`);
  }

  /** `*RST`: the instrument's reset state. */
  async reset(): Promise<void> {
    await this.write('*RST');
  }

  /** `*CLS`: clears the status registers and the error queue. */
  async clear(): Promise<void> {
    await this.write('*CLS');
  }

  /**
   * Sends a query and resolves with its answer line (untrimmed), after checking the error queue.
   *
   * @example
   * ```ts
   * const state = await supply.query('OUTP?') // '1'
   * ```
   */
  query(command: string): Promise<string> {
    return this.#serialized(command, true);
  }

  /**
   * Sends a command that has no answer, then checks the error queue.
   *
   * @example
   * ```ts
   * await supply.write('OUTP ON')
   * ```
   */
  async write(command: string): Promise<void> {
    await this.#serialized(command, false);
  }

  /** Closes the line; later commands reject with a `closed` error. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unusable ??= { reason: 'closed', detail: 'the instrument is closed' };
      await this.#link.close();
    })();
    return this.#closing;
  }

  async #resolvedDialect(): Promise<ScpiDialect> {
    if (this.#dialect === undefined) await this.identify();
    return this.#dialect!;
  }

  /** Runs one command (and its error check) after the ones before it. */
  #serialized(command: string, answered: boolean): Promise<string> {
    if (typeof command !== 'string' || command.trim() === '' || /[\r\n]/.test(command)) {
      return Promise.reject(new ArgumentError(`Expected one SCPI command without line breaks, got ${JSON.stringify(command)}`));
    }
    const checked = this.#options.checkErrors !== false && command.trim().toUpperCase() !== 'SYST:ERR?';
    const run = this.#queue.then(async () => {
      this.#assertUsable(command);
      // Whatever arrived unasked since the last command (a talkative instrument) is not an answer.
      this.#lines.length = 0;
      this.#link.send(command);
      const answer = answered ? await this.#answer(command, checked) : '';
      if (checked) await this.#checkErrors(command, []);
      return answer;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The answer to a query just sent. A query the instrument refuses gets no answer (IEEE 488.2
   * §6.3.2), only an error in its queue: so when the answer is late, `SYST:ERR?` is sent while the
   * timeout still runs (`PROBE_FRACTION` before its end). Its reply, if it comes first, says why
   * there is no answer and keeps the line in step; a late answer that comes first is the answer, and
   * the reply to the probe is then the first read of the error check.
   */
  async #answer(command: string, probe: boolean): Promise<string> {
    const deadline = this.#timers.now() + this.timeoutMs;
    const probeAt = probe ? deadline - Math.min(PROBE_MAX_MS, this.timeoutMs * PROBE_FRACTION) : deadline;
    let line = await this.#nextLine(command, probeAt);
    if (line === undefined && probe) {
      this.#link.send('SYST:ERR?');
      this.#probeSent = true;
      line = await this.#nextLine(command, deadline);
      const reply = line === undefined ? undefined : errorReply(line);
      if (reply !== undefined) {
        this.#probeSent = false;
        if (reply.code === 0) throw this.#error('timeout', command, `no answer within ${this.timeoutMs} ms (the instrument answers SYST:ERR? with no error)`);
        await this.#checkErrors(command, [reply], 'answered nothing and reported');
      }
    }
    if (line !== undefined) return line;
    this.#unusable = { reason: 'timeout', detail: `unusable after "${command}" got no answer within ${this.timeoutMs} ms; connect again` };
    void this.#link.close();
    throw this.#error('timeout', command, `no answer within ${this.timeoutMs} ms`);
  }

  /** The next line, or undefined when `deadline` (on `#timers`) passes first. */
  #nextLine(command: string, deadline: number): Promise<string | undefined> {
    this.#assertUsable(command);
    const buffered = this.#lines.shift();
    if (buffered !== undefined) return Promise.resolve(buffered);
    return new Promise<string | undefined>((resolve, reject) => {
      const timer = this.#timers.schedule(deadline, () => {
        this.#waiter = undefined;
        resolve(undefined);
      });
      this.#waiter = {
        command,
        resolve: (line) => {
          timer.cancel();
          resolve(line);
        },
        reject: (error) => {
          timer.cancel();
          reject(error);
        },
      };
    });
  }

  /**
   * Reads the error queue until it is empty (the reply to a probe already sent first); rejects with
   * the first error, `found` ones included.
   */
  async #checkErrors(command: string, found: { code: number; message: string }[], verb = 'reported'): Promise<void> {
    const errors = [...found];
    for (let i = 0; i < MAX_QUEUE_READS; i++) {
      if (!this.#probeSent) this.#link.send('SYST:ERR?');
      this.#probeSent = false;
      const answer = await this.#nextLine('SYST:ERR?', this.#timers.now() + this.timeoutMs);
      if (answer === undefined) {
        this.#unusable = { reason: 'timeout', detail: `unusable after "SYST:ERR?" got no answer within ${this.timeoutMs} ms; connect again` };
        void this.#link.close();
        throw this.#error('timeout', `${command}: SYST:ERR?`, `no answer within ${this.timeoutMs} ms`);
      }
      const parsed = parseSystemError(answer);
      if (typeof parsed === 'string') throw this.#error('garbled', `${command}: SYST:ERR?`, `answered ${quote(answer)} (expected <code>,"<message>")`);
      if (parsed.code === 0) break;
      errors.push(parsed);
    }
    const first = errors[0];
    if (first === undefined) return;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1).map((e) => e.code).join(', ')})` : '';
    throw this.#error('instrument-error', command, `the instrument ${verb} ${first.code},"${first.message}"${more}`, { instrumentCode: first.code, instrumentMessage: first.message });
  }

  #assertUsable(command: string): void {
    const unusable = this.#unusable;
    if (unusable !== undefined) throw this.#error(unusable.reason === 'timeout' ? 'closed' : unusable.reason, command, unusable.detail);
  }

  #ended(end: LinkEnd): void {
    const detail = end.kind === 'overlong' ? 'the instrument sent an answer line longer than 64 KiB' : end.detail;
    const reason = end.kind === 'overlong' ? 'garbled' : 'closed';
    if (this.#unusable === undefined) this.#unusable = { reason, detail: `${detail}; connect again` };
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    waiter.reject(this.#error(reason, waiter.command, end.kind === 'overlong' ? detail : `${detail} while waiting for the answer`));
  }

  #error(reason: InstrumentErrorReason, command: string, detail: string, extra?: { instrumentCode: number; instrumentMessage: string }): InstrumentError {
    return new InstrumentError(reason, { instrument: this.id, command, connection: this.connection }, detail, extra);
  }
}

function describeQuantity(quantity: string): string {
  return QUANTITIES.includes(quantity as InstrumentQuantity) ? quantity : `"${String(quantity)}" (not a quantity)`;
}
