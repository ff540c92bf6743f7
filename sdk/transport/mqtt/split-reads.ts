/**
 * Socket reads cut into small pieces before mqtt.js parses them.
 *
 * mqtt.js parses a whole socket read (up to 64 KiB: hundreds of small PUBLISH packets in a flood)
 * in one synchronous step, before `yieldBetweenSlices` sees the first message, so a flood held the
 * event loop, and the sampling timers, for milliseconds at a time. Fed pieces of `READ_PIECE_BYTES`,
 * the parser stops at each piece and the slicing can pause between them.
 *
 * The pieces are handed straight to the parser's `_write`, one after the other as it finishes
 * each: no stream in between (a `Transform` there cost a stream hop and a buffer per read, ~5 % of
 * the CPU of a publish under load).
 */
import type { Duplex, Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';

/** Bytes of a piece: a few dozen small packets, parsed in well under the 0.5 ms message slice. */
const READ_PIECE_BYTES = 2048;

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
function writeInPieces(parser: Writable, source: Duplex): void {
  const target = parser as Writable & { _write: WriteMethod };
  const write = target._write.bind(target);
  target._write = (chunk, encoding, callback) => {
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

/**
 * Makes every stream the client builds (the first connection and each reconnection) hand its reads
 * to mqtt.js in pieces. Call it on a client created with `manualConnect: true`, before `connect()`.
 *
 * @example
 * ```ts
 * const client = mqtt.connect(url, { ...options, manualConnect: true })
 * splitSocketReads(client)
 * client.connect()
 * ```
 */
export function splitSocketReads(client: MqttClient): void {
  // `streamBuilder` is private in mqtt.js's types but is how every connection gets its stream
  // (mqtt.js 5 client.ts `connect()`), which it then pipes into a fresh parser; tests cover each
  // reconnect path through it.
  const internals = client as unknown as { streamBuilder: (client: MqttClient) => Duplex };
  const build = internals.streamBuilder;
  internals.streamBuilder = (builder) => {
    const stream = build(builder);
    const pipe = stream.pipe.bind(stream);
    stream.pipe = (<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
      writeInPieces(destination as unknown as Writable, stream);
      return pipe(destination, options);
    }) as typeof stream.pipe;
    return stream;
  };
}
