/**
 * Socket reads cut into small pieces before mqtt.js parses them.
 *
 * mqtt.js parses a whole socket read (up to 64 KiB: hundreds of small PUBLISH packets in a flood)
 * in one synchronous step, before `yieldBetweenSlices` sees the first message, so a flood held the
 * event loop, and the sampling timers, for milliseconds at a time. Fed pieces of `READ_PIECE_BYTES`,
 * the parser stops at each piece and the slicing can pause between them.
 */
import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import type { MqttClient } from 'mqtt';

/** Bytes of a piece: a few dozen small packets, parsed in well under the 0.5 ms message slice. */
const READ_PIECE_BYTES = 2048;

class ReadPieces extends Transform {
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (let start = 0; start < chunk.length; start += READ_PIECE_BYTES) this.push(chunk.subarray(start, start + READ_PIECE_BYTES));
    callback();
  }
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
  // (mqtt.js 5 client.ts `connect()`); tests cover each reconnect path through it.
  const internals = client as unknown as { streamBuilder: (client: MqttClient) => Duplex };
  const build = internals.streamBuilder;
  internals.streamBuilder = (builder) => {
    const stream = build(builder);
    const pipe = stream.pipe.bind(stream);
    // mqtt.js pipes the socket into its parser; put the piece cutter in between.
    stream.pipe = (<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
      pipe(new ReadPieces()).pipe(destination, options);
      return destination;
    }) as typeof stream.pipe;
    return stream;
  };
}
