/**
 * The emulated board served over Firmata on a pseudo-terminal: a {@link PtyLink} (socat) whose
 * engine end is opened with the real serialport 13 bindings, so every byte goes through the same
 * kernel tty layer and serial stack as a USB-serial Arduino.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { EmulatedBoard } from '../board.js';
import { FirmataEngine, type FirmataEngineStats } from './engine.js';
import { PtyLink, type PtyPair } from './pty-link.js';

/** Options of {@link FirmataPtyServer}. */
export interface FirmataPtyServerOptions {
  board: EmulatedBoard;
  /** socat executable. Default "socat". */
  socat?: string;
  /** Path of the client's symlink. Default: a new temporary folder's `ttyFIRMATA`. */
  clientLink?: string;
  /** Firmware name in REPORT_FIRMWARE. */
  firmwareName?: string;
}

interface FirmataPtyServerEvents {
  /** A client opened the line; the engine announced itself. */
  session: [];
  /** The line closed (client gone or dropped). */
  end: [];
  /** A problem with socat or the engine's end of the line; the server keeps going when it can. */
  error: [error: Error];
}

/**
 * Serves `board` over Firmata on a pty.
 *
 * @example
 * ```ts
 * const server = new FirmataPtyServer({ board })
 * const path = await server.start()   // e.g. /tmp/sensorkit-firmata-Ab12/ttyFIRMATA
 * // a Firmata host opens `path` at any baud rate (a pty has none)
 * await server.close()
 * ```
 */
export class FirmataPtyServer extends EventEmitter<FirmataPtyServerEvents> {
  readonly engine: FirmataEngine;
  readonly link: PtyLink;
  #port: SerialPort | undefined;
  #pair: PtyPair | undefined;
  #closed = false;

  constructor(options: FirmataPtyServerOptions) {
    super();
    this.engine = new FirmataEngine({
      board: options.board,
      write: (bytes) => this.#port?.write(Buffer.from(bytes)),
      ...(options.firmwareName === undefined ? {} : { firmwareName: options.firmwareName }),
    });
    this.link = new PtyLink({
      ...(options.socat === undefined ? {} : { socat: options.socat }),
      ...(options.clientLink === undefined ? {} : { clientLink: options.clientLink }),
    });
    this.link.on('pair', (pair) => this.#open(pair));
    this.link.on('session', () => {
      this.engine.announce();
      this.emit('session');
    });
    this.link.on('end', () => {
      this.engine.reset();
      const port = this.#port;
      this.#port = undefined;
      if (port?.isOpen) port.close(() => undefined);
      this.emit('end');
    });
    // Before start() resolves its rejection carries the error; afterwards listeners get it (none: ignored).
    this.link.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  /** The path a client opens (stable across sessions). */
  get path(): string {
    return this.link.clientPath;
  }

  /** The /dev/pts/N of the current run's client end. */
  get pty(): string | undefined {
    return this.#pair?.clientPty;
  }

  get stats(): FirmataEngineStats {
    return this.engine.stats;
  }

  /** Starts socat and opens the engine end; resolves with the client's path. */
  async start(): Promise<string> {
    await this.link.start();
    return this.link.clientPath;
  }

  /** Drops the line now, as a pulled cable; the client can reopen the same path. */
  drop(): void {
    this.link.drop();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.engine.close();
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.link.close();
  }

  #open(pair: PtyPair): void {
    this.#pair = pair;
    // The baud rate of a pty is not used; 57600 is StandardFirmata's.
    const port = new SerialPort({ path: pair.enginePath, baudRate: 57_600 });
    this.#port = port;
    port.on('data', (chunk: Buffer) => this.engine.receive(chunk));
    port.on('error', (error) => {
      // EIO when socat goes away under an open pty: the 'end' of the run handles it.
      if (this.#port === port && this.listenerCount('error') > 0) this.emit('error', error);
    });
  }
}
