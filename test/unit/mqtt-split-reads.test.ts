import { PassThrough, Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { splitSocketReads } from '../../sdk/transport/mqtt/split-reads.js';

describe('splitSocketReads', () => {
  it('hands every stream the client builds to its parser in pieces of at most 2 KiB, bytes unchanged', async () => {
    const built: PassThrough[] = [];
    const client = { streamBuilder: () => built[built.push(new PassThrough()) - 1]! };
    splitSocketReads(client as unknown as MqttClient);
    const internals = client as unknown as { streamBuilder: (client: unknown) => PassThrough };

    for (const connection of [1, 2]) {
      const socket = internals.streamBuilder(client);
      const pieces: Buffer[] = [];
      const parser = new Writable({
        write(chunk: Buffer, _encoding, done) {
          pieces.push(chunk);
          done();
        },
      });
      const finished = new Promise((resolve) => parser.on('finish', resolve));
      expect(socket.pipe(parser)).toBe(parser);
      const read = Buffer.from(Array.from({ length: 10_000 + connection }, (_, i) => (i * 7 + connection) & 0xff));
      socket.end(read);
      await finished;
      expect(pieces.length).toBeGreaterThanOrEqual(5);
      expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThanOrEqual(2048);
      expect(Buffer.concat(pieces).equals(read)).toBe(true);
    }
    expect(built).toHaveLength(2);
  });
});
