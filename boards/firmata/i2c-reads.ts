/**
 * The I2C reads of one Firmata session that wait for their I2C_REPLY. Firmata has no request ids: a
 * reply carries only the address, the register and the bytes (Firmata protocol, "I2C_REPLY"). So
 * that a reply can only ever reach the read that asked for it:
 *
 * - at most one read per address and register is on the wire at a time; another read of the same
 *   register waits its turn (its time limit runs while it waits);
 * - a read that timed out keeps its place until its late reply arrives (dropped and counted in
 *   `late`) or one more time limit has passed, so that reply cannot be handed to the next read;
 * - a reply must also have the length that was asked for; one that does not is dropped and counted.
 *
 * A board answers the requests of one register in order, so these three rules leave no reply that
 * could be taken for another read's.
 */
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { BusError } from '../../sdk/core/errors.js';

/** StandardFirmata's I2C_REGISTER_NOT_SPECIFIED (-1) as its one-byte echo in I2C_REPLY. */
const NO_REGISTER_ECHO = 0xff;

/** What happened to replies that did not answer a waiting read. */
export interface I2cReplyStats {
  /** Replies that answered a read. */
  delivered: number;
  /** Replies for reads that had already timed out: dropped. */
  late: number;
  /** Replies of the wrong length for their read: dropped. */
  wrongLength: number;
  /** Replies no read asked for (continuous reads, or later than twice the time limit): left to the board. */
  unmatched: number;
}

interface Read {
  readonly address: number;
  readonly register: number | undefined;
  readonly count: number;
  readonly target: string;
  readonly timeoutMs: number;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (error: Error) => void;
  timer: Timer | undefined;
  /** 'waiting': queued behind another read of its register; 'sent': on the wire; 'expired': timed out after being sent. */
  state: 'waiting' | 'sent' | 'expired';
  /** Send order (the board answers in it). */
  sent: number;
}

/**
 * The waiting I2C reads of one line.
 *
 * @example
 * ```ts
 * const reads = new I2cReads(clock, (address, register, count) => connection.send(readRequest(address, register, count)))
 * const bytes = reads.read(0x76, 0xd0, 1, 1000, 'i2c0@0x76') // resolves on reads.reply(0x76, 0xd0, [0x60])
 * ```
 */
export class I2cReads {
  readonly stats: I2cReplyStats = { delivered: 0, late: 0, wrongLength: 0, unmatched: 0 };
  readonly #clock: Clock;
  readonly #send: (address: number, register: number | undefined, count: number) => void;
  /** Per address and register: the read on the wire (or expired) first, then those waiting their turn. */
  readonly #lanes = new Map<string, Read[]>();
  #failed: ((target: string) => Error) | undefined;
  #sent = 0;

  constructor(clock: Clock, send: (address: number, register: number | undefined, count: number) => void) {
    this.#clock = clock;
    this.#send = send;
  }

  /** Reads on the wire, expired or waiting (for tests and leak checks). */
  get size(): number {
    let size = 0;
    for (const lane of this.#lanes.values()) size += lane.length;
    return size;
  }

  /** Sends (or queues) one read; resolves with the reply's bytes or rejects with `BusError`. */
  read(address: number, register: number | undefined, count: number, timeoutMs: number, target: string): Promise<Uint8Array> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed(target));
    return new Promise((resolve, reject) => {
      const read: Read = { address, register, count, target, timeoutMs, resolve, reject, timer: undefined, state: 'waiting', sent: 0 };
      read.timer = this.#clock.schedule(this.#clock.now() + timeoutMs, () => this.#timeout(read));
      const key = laneKey(address, register);
      const lane = this.#lanes.get(key) ?? [];
      lane.push(read);
      this.#lanes.set(key, lane);
      if (lane.length === 1) this.#start(read);
    });
  }

  /** An I2C_REPLY arrived: answers the read it belongs to, if any; returns whether one took it. */
  reply(address: number, register: number, bytes: readonly number[]): boolean {
    const lane = this.#lanes.get(laneKey(address, register)) ?? (register === 0 || register === NO_REGISTER_ECHO ? this.#lanes.get(laneKey(address, undefined)) : undefined);
    const head = lane?.[0];
    if (head === undefined || head.state === 'waiting') {
      this.stats.unmatched++;
      return false;
    }
    if (head.state === 'expired') {
      this.stats.late++;
      this.#finish(head);
      return false;
    }
    if (bytes.length !== head.count) {
      this.stats.wrongLength++;
      return false;
    }
    this.stats.delivered++;
    this.#finish(head);
    head.resolve(Uint8Array.from(bytes));
    return true;
  }

  /**
   * The board reported a failed transfer (STRING_DATA "I2C…"): the oldest read on the wire for
   * `address` (any, when the message names none) fails with `error`; an expired one just ends.
   */
  refuse(address: number | undefined, error: (target: string) => Error): void {
    let oldest: Read | undefined;
    for (const lane of this.#lanes.values()) {
      const head = lane[0];
      if (head === undefined || head.state === 'waiting' || (address !== undefined && head.address !== address)) continue;
      if (oldest === undefined || head.sent < oldest.sent) oldest = head;
    }
    if (oldest === undefined) return;
    this.#finish(oldest);
    if (oldest.state === 'sent') oldest.reject(error(oldest.target));
  }

  /** Rejects every read, now and from now on (the line is gone). */
  failAll(error: (target: string) => Error): void {
    this.#failed = error;
    for (const lane of [...this.#lanes.values()]) {
      for (const read of lane) {
        read.timer?.cancel();
        if (read.state !== 'expired') read.reject(error(read.target));
      }
    }
    this.#lanes.clear();
  }

  #start(read: Read): void {
    read.state = 'sent';
    read.sent = ++this.#sent;
    this.#send(read.address, read.register, read.count);
  }

  #timeout(read: Read): void {
    read.timer = undefined;
    const error = new BusError('ERR_BUS_TIMEOUT', `${read.target}: no I2C_REPLY within ${read.timeoutMs} ms`);
    if (read.state === 'waiting') {
      this.#remove(read);
      read.reject(error);
      return;
    }
    // On the wire: keep its place for one more time limit, so its late reply is recognised.
    read.state = 'expired';
    read.timer = this.#clock.schedule(this.#clock.now() + read.timeoutMs, () => {
      read.timer = undefined;
      this.#finish(read);
    });
    read.reject(error);
  }

  /** Ends the read at the head of its lane and sends the next one of that register. */
  #finish(read: Read): void {
    read.timer?.cancel();
    read.timer = undefined;
    this.#remove(read);
    const next = this.#lanes.get(laneKey(read.address, read.register))?.[0];
    if (next !== undefined && next.state === 'waiting') this.#start(next);
  }

  #remove(read: Read): void {
    const key = laneKey(read.address, read.register);
    const lane = this.#lanes.get(key);
    if (lane === undefined) return;
    const index = lane.indexOf(read);
    if (index >= 0) lane.splice(index, 1);
    if (lane.length === 0) this.#lanes.delete(key);
  }
}

function laneKey(address: number, register: number | undefined): string {
  return register === undefined ? `${address}:-` : `${address}:${register}`;
}
