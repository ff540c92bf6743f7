/**
 * One Firmata session over one opened byte stream: the parser, the handshake (REPORT_VERSION,
 * REPORT_FIRMWARE, CAPABILITY_QUERY, ANALOG_MAPPING_QUERY) and the bookkeeping of I2C reads that
 * wait for their I2C_REPLY. A reconnect makes a new connection; `FirmataBoard` keeps the state
 * that outlives it.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../sdk/core/clock.js';
import { BusError } from '../../sdk/core/errors.js';
import { I2cReads, type I2cReplyStats } from './i2c-reads.js';
import { encodeFirmata, type FirmataMessage, type PinCapability } from './protocol/messages.js';
import { FirmataParser, type FirmataParserStats } from './protocol/parser.js';

/** What the handshake learnt about the board. */
export interface FirmataIdentity {
  readonly protocol: { readonly major: number; readonly minor: number };
  readonly firmware: { readonly name: string; readonly major: number; readonly minor: number };
  readonly capabilities: PinCapability[][];
  /** Analog channel per pin, 127 for none. */
  readonly analogMapping: number[];
}

interface ConnectionEvents {
  message: [message: FirmataMessage];
  /** The stream closed or failed. */
  lost: [reason: string];
}

/**
 * A Firmata host session on a stream.
 *
 * @example
 * ```ts
 * const connection = new FirmataConnection(stream, { clock, describe: '/dev/ttyACM0 at 57600 baud' })
 * const identity = await connection.handshake(3000)
 * identity.firmware.name // 'StandardFirmata.ino'
 * ```
 */
export class FirmataConnection extends EventEmitter<ConnectionEvents> {
  readonly #stream: Duplex;
  readonly #clock: Clock;
  readonly #describe: string;
  readonly #parser: FirmataParser;
  readonly #reads: I2cReads;
  #lost = false;

  constructor(stream: Duplex, options: { clock: Clock; describe: string }) {
    super();
    this.#stream = stream;
    this.#clock = options.clock;
    this.#describe = options.describe;
    this.#parser = new FirmataParser({ role: 'host', onMessage: (message) => this.#receive(message) });
    this.#reads = new I2cReads(this.#clock, (address, register, count) =>
      this.send({ type: 'i2c-request', address, mode: 'read', tenBit: false, restart: false, data: register === undefined ? [count] : [register, count] }),
    );
    stream.on('data', (chunk: Buffer) => this.#parser.push(chunk));
    stream.on('close', () => this.#lose('the line closed'));
    stream.on('error', (error: Error) => this.#lose(`the line failed: ${error.message}`));
  }

  get parserStats(): FirmataParserStats {
    return { ...this.#parser.stats };
  }

  /** What became of the I2C replies: delivered, late (their read had timed out), wrong length, unmatched. */
  get i2cReplyStats(): I2cReplyStats {
    return { ...this.#reads.stats };
  }

  /** I2C reads waiting for their reply (or for their late reply, after a timeout). */
  get pendingI2cReads(): number {
    return this.#reads.size;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Sends one message (dropped silently once the line is lost: its requests fail instead). */
  send(message: FirmataMessage): void {
    if (this.#lost) return;
    this.#stream.write(Buffer.from(encodeFirmata(message)));
  }

  /**
   * Asks for the version (a board that announced itself already answers twice: harmless), then
   * the firmware, capabilities and analog mapping. Rejects with `BusError` (ERR_BUS_TIMEOUT) when
   * the board does not answer within `timeoutMs` of clock time: a wrong baud rate garbles every
   * byte, so the parser finds no frame; the message says so.
   */
  handshake(timeoutMs: number): Promise<FirmataIdentity> {
    return new Promise((resolve, reject) => {
      let protocol: FirmataIdentity['protocol'] | undefined;
      let firmware: FirmataIdentity['firmware'] | undefined;
      let capabilities: PinCapability[][] | undefined;
      const finish = (error?: Error): void => {
        timer.cancel();
        this.off('message', onMessage);
        this.off('lost', onLost);
        if (error) reject(error);
      };
      const onMessage = (message: FirmataMessage): void => {
        if (message.type === 'version' && protocol === undefined) {
          protocol = { major: message.major, minor: message.minor };
          this.send({ type: 'query-firmware' });
        } else if (message.type === 'firmware' && protocol !== undefined && firmware === undefined) {
          firmware = { name: message.name, major: message.major, minor: message.minor };
          this.send({ type: 'capability-query' });
        } else if (message.type === 'capability-response' && firmware !== undefined && capabilities === undefined) {
          capabilities = message.pins;
          this.send({ type: 'analog-mapping-query' });
        } else if (message.type === 'analog-mapping-response' && capabilities !== undefined && protocol && firmware) {
          finish();
          resolve({ protocol, firmware, capabilities, analogMapping: message.channels });
        }
      };
      const onLost = (reason: string): void => finish(new BusError('ERR_BUS_TIMEOUT', `no Firmata handshake on ${this.#describe}: ${reason}`));
      const timer = this.#clock.schedule(this.#clock.now() + timeoutMs, () => {
        const stats = this.#parser.stats;
        const step = protocol === undefined ? 'no REPORT_VERSION' : firmware === undefined ? 'no REPORT_FIRMWARE' : capabilities === undefined ? 'no CAPABILITY_RESPONSE' : 'no ANALOG_MAPPING_RESPONSE';
        const heard = stats.skippedBytes > 0
          ? `; ${stats.skippedBytes} bytes arrived but formed no valid frame: check the baud rate (StandardFirmata uses 57600)`
          : stats.messages === 0
            ? ': the line is silent (no Firmata sketch, wrong port, or a board still resetting)'
            : '';
        finish(new BusError('ERR_BUS_TIMEOUT', `no Firmata handshake on ${this.#describe} within ${timeoutMs} ms (${step})${heard}`));
      });
      this.on('message', onMessage);
      this.on('lost', onLost);
      this.send({ type: 'query-version' });
    });
  }

  /**
   * Sends an I2C read and resolves with the reply's bytes, or rejects with `BusError`. A reply is
   * matched by address, register and length, and one arriving after its read timed out is dropped
   * (see {@link I2cReads}), so it never answers a later read.
   */
  i2cRead(address: number, register: number | undefined, count: number, timeoutMs: number, target: string): Promise<Uint8Array> {
    if (this.#lost) return Promise.reject(new BusError('ERR_BUS_TIMEOUT', `${target}: the Firmata line is down`));
    return this.#reads.read(address, register, count, timeoutMs, target);
  }

  /** Rejects every I2C read, now and from now on, with `error` (e.g. the board is closing). */
  failReads(error: (target: string) => Error): void {
    this.#reads.failAll(error);
  }

  /** Closes the stream (the board decides whether to reconnect). */
  close(): Promise<void> {
    this.#lose('closed by the host');
    const stream = this.#stream as Duplex & { isOpen?: boolean; close?: (cb: (error?: Error | null) => void) => void };
    if (typeof stream.close === 'function' && stream.isOpen !== false) {
      return new Promise((resolve) => stream.close!(() => resolve()));
    }
    stream.destroy();
    return Promise.resolve();
  }

  #receive(message: FirmataMessage): void {
    if (message.type === 'i2c-reply') {
      this.#reads.reply(message.address, message.register, message.bytes);
    } else if (message.type === 'string' && message.text.startsWith('I2C')) {
      // StandardFirmata reports a failed transfer as a string; ours names the target ("i2c0@0x76").
      const named = /@0x([0-9a-f]{2})/i.exec(message.text)?.[1];
      const code = /time|did not answer/i.test(message.text) ? 'ERR_BUS_TIMEOUT' : 'ERR_I2C_NAK';
      const text = message.text.replace(/^I2C:\s*/, '');
      this.#reads.refuse(named === undefined ? undefined : Number.parseInt(named, 16), () => new BusError(code, text));
    }
    this.emit('message', message);
  }

  #lose(reason: string): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#reads.failAll((target) => new BusError('ERR_BUS_TIMEOUT', `${target}: ${reason}`));
    this.emit('lost', reason);
  }
}
