/** Options of a Firmata board, and what it records about its line. */
import type { Duplex } from 'node:stream';
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { Clock } from '../../sdk/core/clock.js';

/** Opens the line: a serial port or any duplex stream, open or opening. */
export type LineOpener = () => Promise<Duplex> | Duplex;

/** Options of {@link FirmataBoard.open}. */
export interface FirmataBoardOptions {
  /** Opens (and on reconnect reopens) the line; see {@link serialLine}. */
  line: LineOpener;
  /** Names the line in messages, e.g. "/dev/ttyACM0 at 57600 baud". Default "the Firmata line". */
  describe?: string;
  clock: Clock;
  /** The pin map to use (the device model's board); checked against the board's replies. Default: derived from them. */
  definition?: BoardDefinition | string;
  /** Handshake limit, ms of clock time. Default 5000. */
  handshakeTimeoutMs?: number;
  /** I2C reply and analog report limit, ms. Default 1000. */
  requestTimeoutMs?: number;
  /** Reopen a lost line. Default true. */
  reconnect?: boolean;
  /** Wait between reopening attempts, ms. Default 500. */
  reconnectDelayMs?: number;
  /** Sampling interval sent after each handshake, ms, rounded and clamped to 1 … 16383 (see `SAMPLING_INTERVAL_MS`). Default 19 (StandardFirmata's). */
  samplingIntervalMs?: number;
  /** ADC reference, V (Firmata does not report it). Default 5. */
  referenceVoltage?: number;
}

/** A reconnection, for logs and tests. */
export interface LineGap {
  readonly lostAt: number;
  readonly restoredAt: number | undefined;
  readonly reason: string;
}
