/**
 * Socket reads cut into small pieces before mqtt.js parses them, and packets above a size limit
 * refused before their body is read.
 *
 * mqtt.js parses a whole socket read (up to 64 KiB: hundreds of small PUBLISH packets in a flood)
 * in one synchronous step, before `yieldBetweenSlices` sees the first message, so a flood held the
 * event loop, and the sampling timers, for milliseconds at a time. Fed pieces of `READ_PIECE_BYTES`,
 * the parser stops at each piece and the slicing can pause between them.
 *
 * The pieces are handed straight to the parser's `_write`, one after the other as it finishes
 * each: no stream in between (a `Transform` there cost a stream hop and a buffer per read, ~5 % of
 * the CPU of a publish under load).
 *
 * mqtt.js buffers a packet whole before it hands it over, whatever its size: one 250 MB PUBLISH on a
 * command topic held sampling for 16.7 s and the heap at 300–600 MB. Here each packet's fixed header
 * (MQTT 5 §2.1.1: a type byte and the Remaining Length, a variable byte integer of §1.5.5) is read as
 * it goes by, and a packet that declares more than the limit closes the connection before its body
 * reaches the parser: the socket is destroyed and the kernel discards what was not read. MQTT 5
 * brokers are told the limit at CONNECT (Maximum Packet Size, §3.1.2.11.4) and do not send such a
 * packet (§3.1.2.11.4: they discard it); this is the limit under 3.1.1, which has no such property.
 */
import type { Duplex, Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';

/** Bytes of a piece: a few dozen small packets, parsed in well under the 0.5 ms message slice. */
const READ_PIECE_BYTES = 2048;

/** Follows packet boundaries in a byte stream and finds the first packet above `maxPacketBytes`. */
export class PacketSizeGuard {
  readonly maxPacketBytes: number;
  /** Body bytes of the current packet still to go by. */
  #body = 0;
  /** Bytes of the fixed header read so far (0: at a packet boundary). */
  #headerBytes = 0;
  #length = 0;
  #multiplier = 1;

  constructor(maxPacketBytes: number) {
    this.maxPacketBytes = maxPacketBytes;
  }

  /**
   * Follows `chunk`; returns the size a packet in it declares when that is above the limit (or -1
   * for a Remaining Length longer than four bytes, malformed by §1.5.5), else undefined.
   *
   * @example
   * ```ts
   * new PacketSizeGuard(16).scan(Uint8Array.of(0x30, 0x80, 0x01)) // 131: a PUBLISH of 128 body bytes
   * ```
   */
  scan(chunk: Uint8Array): number | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.#body > 0) {
        const skipped = Math.min(this.#body, chunk.length - at);
        this.#body -= skipped;
        at += skipped;
        continue;
      }
      const byte = chunk[at++]!;
      if (this.#headerBytes++ === 0) continue; // the packet type and flags
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      if (byte & 0x80) {
        if (this.#headerBytes === 5) return -1;
        continue;
      }
      const size = this.#headerBytes + this.#length;
      if (size > this.maxPacketBytes) return size;
      this.#body = this.#length;
      this.#headerBytes = 0;
      this.#length = 0;
      this.#multiplier = 1;
    }
    return undefined;
  }
}

/** A packet from the broker above the limit: the connection was closed before its body was read. */
export class PacketTooLargeError extends Error {
  readonly size: number;
  constructor(size: number, limit: number) {
    super(size < 0 ? 'the broker sent a malformed packet length; connection closed' : `the broker sent a packet of ${size} bytes, above the limit of ${limit}; connection closed before reading it`);
    this.name = 'PacketTooLargeError';
    this.size = size;
  }
}

type WriteMethod = (chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void) => void;

/**
 * Makes `parser` take each write in pieces of at most `READ_PIECE_BYTES`, in order, until `source`
 * fails: once it is destroyed with an error (the transport does so on a malformed packet, after
 * which the bytes are no longer known to start at a packet boundary) the rest of the read is
 * dropped. A stream that merely ended still hands over all it read.
 *
 * mqtt.js's parser calls back synchronously when a piece completes no packet (a part of a large
 * one), so a piece finished at once is followed by a loop, not by recursion: a read of many such
 * pieces (a large WebSocket message) would otherwise take a stack frame or more per piece.
 */
function writeInPieces(parser: Writable, source: Duplex, guard: PacketSizeGuard | undefined, onTooLarge: (error: PacketTooLargeError) => void): void {
  const target = parser as Writable & { _write: WriteMethod };
  const write = target._write.bind(target);
  target._write = (chunk, encoding, callback) => {
    if (source.errored) return callback();
    const size = guard && Buffer.isBuffer(chunk) ? guard.scan(chunk) : undefined;
    if (size !== undefined) {
      // Nothing more of this stream is parsed: the packets before the large one in this read are
      // dropped too (PUBACKs among them are resent for from the outbox on the next connection).
      const error = new PacketTooLargeError(size, guard!.maxPacketBytes);
      source.destroy(error);
      onTooLarge(error);
      return callback();
    }
    if (!Buffer.isBuffer(chunk) || chunk.length <= READ_PIECE_BYTES) return write(chunk, encoding, callback);
    let start = 0;
    let writing = false; // inside the loop below
    let again = false; // the piece just written was finished at once: the loop writes the next
    const next = (error?: Error | null): void => {
      if (error || start >= chunk.length || source.errored) return callback(error);
      if (writing) return void (again = true);
      writing = true;
      do {
        again = false;
        const piece = chunk.subarray(start, start + READ_PIECE_BYTES);
        start += READ_PIECE_BYTES;
        write(piece, encoding, next);
      } while (again);
      writing = false;
    };
    next();
  };
}

/** Options of {@link splitSocketReads}. */
export interface SplitReadsOptions {
  /** Largest packet accepted from the broker, bytes (fixed header included); default: no limit. */
  readonly maxPacketBytes?: number;
  /** Told when a packet above `maxPacketBytes` closed the connection. */
  readonly onTooLarge?: (error: PacketTooLargeError) => void;
}

/**
 * Makes every stream the client builds (the first connection and each reconnection) hand its reads
 * to mqtt.js in pieces, and close at a packet above `maxPacketBytes`. Call it on a client created
 * with `manualConnect: true`, before `connect()`.
 *
 * @example
 * ```ts
 * const client = mqtt.connect(url, { ...options, manualConnect: true })
 * splitSocketReads(client, { maxPacketBytes: 12_288 })
 * client.connect()
 * ```
 */
export function splitSocketReads(client: MqttClient, options: SplitReadsOptions = {}): void {
  const { maxPacketBytes, onTooLarge = () => undefined } = options;
  // `streamBuilder` is private in mqtt.js's types but is how every connection gets its stream
  // (mqtt.js 5 client.ts `connect()`), which it then pipes into a fresh parser; tests cover each
  // reconnect path through it.
  const internals = client as unknown as { streamBuilder: (client: MqttClient) => Duplex };
  const build = internals.streamBuilder;
  internals.streamBuilder = (builder) => {
    const stream = build(builder);
    const pipe = stream.pipe.bind(stream);
    stream.pipe = (<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
      writeInPieces(destination as unknown as Writable, stream, maxPacketBytes === undefined ? undefined : new PacketSizeGuard(maxPacketBytes), onTooLarge);
      return pipe(destination, options);
    }) as typeof stream.pipe;
    return stream;
  };
}
