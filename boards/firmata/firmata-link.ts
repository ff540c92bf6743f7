/**
 * The line of a Firmata board and its life: the current {@link FirmataConnection}, whether it is up,
 * and reopening it on the board's clock after it was lost (a pulled cable, a USB reset). A reopened
 * line has a freshly reset board behind it, so after the handshake the link sends what the board
 * had been asked for (`restore`) before it reports the line as up again.
 */
import { EventEmitter } from 'node:events';
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { PinError, StateError } from '../../sdk/core/errors.js';
import { FirmataConnection, type FirmataIdentity } from './connection.js';
import type { LineGap, LineOpener } from './options.js';
import type { FirmataMessage } from './protocol/messages.js';

/** Options of {@link FirmataLink}. */
export interface FirmataLinkOptions {
  readonly line: LineOpener;
  readonly describe: string;
  readonly clock: Clock;
  readonly handshakeTimeoutMs: number;
  readonly reconnect: boolean;
  readonly reconnectDelayMs: number;
  /** What to send to a reset board after a reconnect. */
  readonly restore: () => Iterable<FirmataMessage>;
}

/** Line losses kept in `gaps` (the oldest go first), so a line that flaps for months does not grow memory. */
const MAX_GAPS = 256;

interface FirmataLinkEvents {
  message: [message: FirmataMessage];
  /** The line was lost; reads in flight have failed. */
  disconnect: [reason: string];
  /** The line is up again and the board was restored. */
  reconnect: [];
  'reconnect-failed': [error: unknown];
}

/**
 * Opens a line and completes the Firmata handshake; the line is closed again if that fails.
 *
 * @example
 * ```ts
 * const { connection, identity } = await connectFirmata(serialLine('/dev/ttyACM0'), clock, '/dev/ttyACM0', 5000)
 * ```
 */
export async function connectFirmata(
  line: LineOpener,
  clock: Clock,
  describe: string,
  handshakeTimeoutMs: number,
  opened: (connection: FirmataConnection) => void = () => undefined,
): Promise<{ connection: FirmataConnection; identity: FirmataIdentity }> {
  const connection = new FirmataConnection(await line(), { clock, describe });
  try {
    opened(connection);
    return { connection, identity: await connection.handshake(handshakeTimeoutMs) };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * The supervised line of one board.
 *
 * @example
 * ```ts
 * const link = new FirmataLink(connection, identity.capabilities.length, { line, describe, clock, handshakeTimeoutMs: 5000, reconnect: true, reconnectDelayMs: 500, restore: () => [] })
 * link.on('message', (message) => console.log(message.type))
 * link.send({ type: 'report-analog', channel: 0, enable: true })
 * ```
 */
export class FirmataLink extends EventEmitter<FirmataLinkEvents> {
  /** The line losses (the last 256), with when each was restored. */
  readonly gaps: LineGap[] = [];
  readonly #options: FirmataLinkOptions;
  readonly #pinCount: number;
  #connection: FirmataConnection;
  /** A reconnection in progress (closed at once by `close()`). */
  #attempt: FirmataConnection | undefined;
  #state: 'ready' | 'down' | 'closed' = 'ready';
  #retry: Timer | undefined;

  constructor(connection: FirmataConnection, pinCount: number, options: FirmataLinkOptions) {
    super();
    this.#options = options;
    this.#pinCount = pinCount;
    this.#connection = connection;
    this.#adopt(connection);
  }

  get state(): 'ready' | 'down' | 'closed' {
    return this.#state;
  }

  /** The session on the current line (a new one after each reconnect). */
  get connection(): FirmataConnection {
    return this.#connection;
  }

  send(message: FirmataMessage): void {
    this.#connection.send(message);
  }

  /** Drops the line now, as a pulled cable would. */
  drop(): Promise<void> {
    return this.#connection.close();
  }

  /** Closes the line for good, and a reconnection in progress; `beforeClose` runs on a still open line. */
  async close(beforeClose: (connection: FirmataConnection) => void): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#retry?.cancel();
    beforeClose(this.#connection);
    await Promise.all([this.#connection.close(), this.#attempt?.close()]);
  }

  #adopt(connection: FirmataConnection): void {
    connection.on('message', (message) => {
      if (connection === this.#connection) this.emit('message', message);
    });
    connection.on('lost', (reason) => {
      if (connection !== this.#connection || this.#state !== 'ready') return;
      this.#state = 'down';
      this.gaps.push({ lostAt: this.#options.clock.now(), restoredAt: undefined, reason });
      if (this.gaps.length > MAX_GAPS) this.gaps.splice(0, this.gaps.length - MAX_GAPS);
      this.emit('disconnect', reason);
      if (this.#options.reconnect) this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    const clock = this.#options.clock;
    this.#retry = clock.schedule(clock.now() + this.#options.reconnectDelayMs, () => {
      this.#retry = undefined;
      // A listener's exception is thrown as from any event listener, not left as an unhandled rejection.
      this.#reconnect().catch((error: unknown) => process.nextTick(() => {
        throw error;
      }));
    });
  }

  async #reconnect(): Promise<void> {
    if (this.#state !== 'down') return;
    const { line, clock, describe, handshakeTimeoutMs } = this.#options;
    let connection: FirmataConnection;
    try {
      let identity: FirmataIdentity;
      ({ connection, identity } = await connectFirmata(line, clock, describe, handshakeTimeoutMs, (opened) => {
        this.#attempt = opened;
        // Closed while the line was opening: close() could not see it yet.
        if (this.#state !== 'down') throw new StateError('the board is closed');
      }));
      if (identity.capabilities.length !== this.#pinCount) {
        await connection.close();
        throw new PinError(`a different board answered on ${describe} (${identity.capabilities.length} pins, was ${this.#pinCount})`);
      }
    } catch (error) {
      this.#attempt = undefined;
      if (this.#state !== 'down') return;
      this.emit('reconnect-failed', error);
      this.#scheduleReconnect();
      return;
    }
    this.#attempt = undefined;
    if (this.#state !== 'down') {
      await connection.close();
      return;
    }
    this.#connection = connection;
    this.#adopt(connection);
    for (const message of this.#options.restore()) connection.send(message);
    this.#state = 'ready';
    const gap = this.gaps.at(-1);
    if (gap !== undefined) this.gaps[this.gaps.length - 1] = { ...gap, restoredAt: clock.now() };
    this.emit('reconnect');
  }
}
