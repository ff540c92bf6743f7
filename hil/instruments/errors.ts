/**
 * Why an instrument failed, as one typed error naming the instrument and the command. The error
 * code follows the reason, so callers branch on `code` (a timeout is `ERR_TIMEOUT` everywhere) or,
 * more precisely, on `reason`.
 */
import { SensorkitError, type ErrorCode } from '../../sdk/core/errors.js';

/**
 * What went wrong, from a closed set:
 * - `timeout`: no answer within the command's time limit;
 * - `garbled`: an answer that cannot be what was asked (not a number, an `*IDN?` without four fields);
 * - `instrument-error`: the instrument's error queue (`SYST:ERR?`) reported an error;
 * - `overload`: the instrument reported an over-range reading (SCPI 9.9E37) or an open input;
 * - `closed`: the connection closed or was closed, or an earlier timeout left it unusable;
 * - `connect`: the connection could not be opened;
 * - `not-identified`: the instrument did not identify itself when connected.
 */
export type InstrumentErrorReason = 'timeout' | 'garbled' | 'instrument-error' | 'overload' | 'closed' | 'connect' | 'not-identified';

const CODES: Readonly<Record<InstrumentErrorReason, ErrorCode>> = {
  timeout: 'ERR_TIMEOUT',
  garbled: 'ERR_DECODE',
  'instrument-error': 'ERR_SENSOR',
  overload: 'ERR_SENSOR',
  closed: 'ERR_STATE',
  connect: 'ERR_STATE',
  'not-identified': 'ERR_SENSOR',
};

/**
 * An instrument failed one command. The message is one line: `instrument (connection): command:
 * what happened`, e.g. `dmm (scpi-tcp:127.0.0.1:5025): MEAS:VOLT:DC?: no answer within 2000 ms`.
 *
 * @example
 * ```ts
 * try { await dmm.measure('voltage-dc') } catch (e) {
 *   if (e instanceof InstrumentError && e.reason === 'instrument-error') console.error(e.instrumentCode, e.instrumentMessage)
 * }
 * ```
 */
export class InstrumentError extends SensorkitError {
  readonly reason: InstrumentErrorReason;
  /** The instrument's role or name, e.g. `dmm`. */
  readonly instrument: string;
  /** The command that failed, e.g. `MEAS:VOLT:DC?`, or the method (`identify`, `measure voltage-dc`). */
  readonly command: string;
  /** What happened, without the instrument and command (the message's last part). */
  readonly detail: string;
  /** For `instrument-error`: the code from the instrument's error queue, e.g. -113. */
  readonly instrumentCode?: number;
  /** For `instrument-error`: the message from the instrument's error queue, e.g. `Undefined header`. */
  readonly instrumentMessage?: string;

  constructor(
    reason: InstrumentErrorReason,
    where: { instrument: string; command: string; connection?: string },
    detail: string,
    options?: { cause?: unknown; instrumentCode?: number; instrumentMessage?: string },
  ) {
    const name = where.connection === undefined ? where.instrument : `${where.instrument} (${where.connection})`;
    super(CODES[reason], `${name}: ${where.command}: ${oneLine(detail)}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.instrument = where.instrument;
    this.command = where.command;
    this.detail = oneLine(detail);
    if (options?.instrumentCode !== undefined) this.instrumentCode = options.instrumentCode;
    if (options?.instrumentMessage !== undefined) this.instrumentMessage = options.instrumentMessage;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
