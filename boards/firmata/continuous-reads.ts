/**
 * The IO-plugin I2C state of a Firmata host: whether I2C_CONFIG was sent (and its delay), and the
 * continuous reads (I2C_REQUEST mode "continuous") with their handlers. The board forgets both when
 * it resets, so they are kept here and asked for again after a reconnect.
 */
import type { IoRead } from '../../sdk/io/io-plugin-args.js';
import type { FirmataMessage } from './protocol/messages.js';
import { continuousReadRequest } from './session-state.js';

/**
 * The continuous I2C reads of one board.
 *
 * @example
 * ```ts
 * const i2c = new ContinuousReads((message) => connection.send(message))
 * i2c.add({ address: 0x76, register: 0xf7, count: 8, handler }) // I2C_CONFIG once, then the request
 * i2c.reply(0x76, 0xf7, bytes)                                     // handler(bytes)
 * ```
 */
export class ContinuousReads {
  readonly #send: (message: FirmataMessage) => void;
  readonly #reads: IoRead[] = [];
  #delayUs = 0;
  #enabled = false;

  constructor(send: (message: FirmataMessage) => void) {
    this.#send = send;
  }

  /** The reads to ask for again after a reconnect. */
  get reads(): readonly IoRead[] {
    return this.#reads;
  }

  /** The I2C delay in µs, or undefined when I2C was never configured. */
  get delayUs(): number | undefined {
    return this.#enabled ? this.#delayUs : undefined;
  }

  /** I2C_CONFIG with a new delay (sent again even when I2C is on already). */
  configure(delayUs: number): void {
    this.#delayUs = delayUs;
    this.#enabled = false;
    this.enable();
  }

  /** Sends I2C_CONFIG once, before the first I2C request. */
  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    this.#send({ type: 'i2c-config', delayUs: this.#delayUs });
  }

  add(read: IoRead): void {
    this.enable();
    this.#reads.push(read);
    this.#send(continuousReadRequest(read));
  }

  /** Ends every continuous read of `address` (I2C_REQUEST mode "stop"). */
  stop(address: number): void {
    for (let i = this.#reads.length - 1; i >= 0; i--) if (this.#reads[i]!.address === address) this.#reads.splice(i, 1);
    this.#send({ type: 'i2c-request', address, mode: 'stop', tenBit: false, restart: false, data: [] });
  }

  /** An I2C_REPLY: hands it to the continuous reads of that address and register; returns whether any took it. */
  reply(address: number, register: number, bytes: number[]): boolean {
    let taken = false;
    for (const read of this.#reads) {
      if (read.address !== address || (read.register ?? 0) !== register) continue;
      taken = true;
      read.handler(bytes);
    }
    return taken;
  }
}
