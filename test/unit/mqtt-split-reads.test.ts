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

  it('writes the next piece only once the parser has finished the one before, as a paused parser does', async () => {
    const client = { streamBuilder: () => new PassThrough() };
    splitSocketReads(client as unknown as MqttClient);
    const socket = (client as unknown as { streamBuilder: (client: unknown) => PassThrough }).streamBuilder(client);
    const pieces: Buffer[] = [];
    let busy = false;
    const parser = new Writable({
      write(chunk: Buffer, _encoding, done) {
        expect(busy).toBe(false);
        busy = true;
        pieces.push(chunk);
        setTimeout(() => ((busy = false), done()), 1); // the slicing's pause
      },
    });
    const finished = new Promise((resolve) => parser.on('finish', resolve));
    socket.pipe(parser);
    const reads = [Buffer.alloc(5000, 1), Buffer.alloc(100, 2), Buffer.alloc(4096, 3)];
    for (const read of reads) socket.write(read);
    socket.end();
    await finished;
    expect(pieces.map((piece) => piece.length)).toEqual([2048, 2048, 904, 100, 2048, 2048]);
    expect(Buffer.concat(pieces).equals(Buffer.concat(reads))).toBe(true);
  });
});
