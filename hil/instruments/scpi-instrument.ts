/**
 * An instrument driven over SCPI (IEEE 488.2 common commands, SCPI-99 command tree) on a line: a
 * raw TCP socket or a serial port. One command at a time; after each, the error queue is read with
 * `SYST:ERR?` (until `0,"No error"`), so an error the instrument queued fails the command that
 * caused it. Every answer is awaited for at most `timeoutMs`: silence is one `timeout` error, never
 * a hang. A timeout leaves the line out of step (a late answer would be taken for the next one),
 * so the driver then closes it and refuses further commands.
 */
import { SystemClock, type Clock, type Timer } from '../../sdk/core/clock.js';
import { ArgumentError, NotSupportedError } from '../../sdk/core/errors.js';
import { convertDifference, converter } from '../../sdk/core/units.js';
import { InstrumentError, type InstrumentErrorReason } from './errors.js';
import type { InstrumentCertificate, InstrumentIdentity, InstrumentQuantity, InstrumentReading } from './instrument.js';
import type { Instrument } from './instrument.js';
import { formatScpiNumber, parseIdn, parseScpiNumber, parseSystemError, resolveDialect, type ScpiDialect } from './scpi-dialect.js';
import { openSerialLink, openTcpLink, type LinkEnd, type ScpiLink, type ScpiTerminator } from './scpi-link.js';
import { QUANTITIES, QUANTITY_UNITS } from './sim-common.js';

/** Default time an answer is awaited, ms. */
export const DEFAULT_SCPI_TIMEOUT_MS = 2000;
/** Most errors read from the queue after one command (SCPI queues hold at least 2; ours 10). */
const MAX_QUEUE_READS = 16;

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
  /** The instrument's calibration certificate: in its identity, and U with each reading. */
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
  readonly #timers = new SystemClock({ precisionWindowMs: 0 });
  readonly #options: ScpiInstrumentOptions;
  #identity: InstrumentIdentity | undefined;
  #dialect: ScpiDialect | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #waiting: { resolve: (line: string) => void; reject: (error: InstrumentError) => void; command: string } | undefined;
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
      const waiting = this.#waiting;
      // An answer nobody asked for (a talkative instrument) is dropped.
      if (waiting === undefined) return;
      this.#waiting = undefined;
      waiting.resolve(line);
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
    this.#identity = { ...parsed, simulated: parsed.manufacturer === 'sensorkit' && parsed.model.startsWith('SIM-'), ...(this.#options.certificate ? { certificate: this.#options.certificate } : {}) };
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
    const run = this.#queue.then(async () => {
      const answer = answered ? await this.#exchange(command, true) : (await this.#exchange(command, false), '');
      if (this.#options.checkErrors !== false && command.toUpperCase() !== 'SYST:ERR?') await this.#checkErrors(command);
      return answer;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Sends `command`; for a query, resolves with the next line or rejects after the timeout. */
  #exchange(command: string, answered: boolean): Promise<string> {
    if (this.#unusable !== undefined) return Promise.reject(this.#error(this.#unusable.reason === 'timeout' ? 'closed' : this.#unusable.reason, command, this.#unusable.detail));
    if (!answered) {
      this.#link.send(command);
      return Promise.resolve('');
    }
    return new Promise<string>((resolve, reject) => {
      let timer: Timer | undefined;
      this.#waiting = {
        command,
        resolve: (line) => {
          timer?.cancel();
          resolve(line);
        },
        reject: (error) => {
          timer?.cancel();
          reject(error);
        },
      };
      timer = this.#timers.schedule(this.#timers.now() + this.timeoutMs, () => {
        if (this.#waiting?.command !== command) return;
        this.#waiting = undefined;
        this.#unusable = { reason: 'timeout', detail: `unusable after "${command}" got no answer within ${this.timeoutMs} ms; connect again` };
        reject(this.#error('timeout', command, `no answer within ${this.timeoutMs} ms`));
        void this.#link.close();
      });
      this.#link.send(command);
    });
  }

  /** Reads the error queue until it is empty; rejects with the first error it held. */
  async #checkErrors(command: string): Promise<void> {
    const errors: { code: number; message: string }[] = [];
    for (let i = 0; i < MAX_QUEUE_READS; i++) {
      const answer = await this.#exchange('SYST:ERR?', true);
      const parsed = parseSystemError(answer);
      if (typeof parsed === 'string') throw this.#error('garbled', 'SYST:ERR?', parsed);
      if (parsed.code === 0) break;
      errors.push(parsed);
    }
    const first = errors[0];
    if (first === undefined) return;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1).map((e) => e.code).join(', ')})` : '';
    throw this.#error('instrument-error', command, `the instrument reported ${first.code},"${first.message}"${more}`, { instrumentCode: first.code, instrumentMessage: first.message });
  }

  #ended(end: LinkEnd): void {
    const detail = end.kind === 'overlong' ? 'the instrument sent an answer line longer than 64 KiB' : end.detail;
    if (this.#unusable === undefined) this.#unusable = { reason: end.kind === 'overlong' ? 'garbled' : 'closed', detail: `${detail}; connect again` };
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    const reason = end.kind === 'overlong' ? 'garbled' : 'closed';
    waiting.reject(this.#error(reason, waiting.command, end.kind === 'overlong' ? detail : `${detail} while waiting for the answer`));
  }

  #error(reason: InstrumentErrorReason, command: string, detail: string, extra?: { instrumentCode: number; instrumentMessage: string }): InstrumentError {
    return new InstrumentError(reason, { instrument: this.id, command, connection: this.connection }, detail, extra);
  }
}

function describeQuantity(quantity: string): string {
  return QUANTITIES.includes(quantity as InstrumentQuantity) ? quantity : `"${String(quantity)}" (not a quantity)`;
}
