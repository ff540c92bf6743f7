import { PassThrough, Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard, PacketTooLargeError, splitSocketReads } from '../../sdk/transport/mqtt/split-reads.js';

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

  it('takes a very large read whose pieces the parser finishes at once (no whole packet in them) without growing the stack', async () => {
    // mqtt.js's parser calls back synchronously when a piece completes no packet: a 64 MiB read
    // (a WebSocket message, say) is 32,768 such pieces in a row.
    const client = { streamBuilder: () => new PassThrough() };
    splitSocketReads(client as unknown as MqttClient);
    const socket = (client as unknown as { streamBuilder: (client: unknown) => PassThrough }).streamBuilder(client);
    let count = 0;
    let bytes = 0;
    let ordered = true;
    const parser = new Writable({
      write(chunk: Buffer, _encoding, done) {
        ordered &&= chunk[0] === (count & 0xff) && chunk.length <= 2048;
        count++;
        bytes += chunk.length;
        done();
      },
    });
    const finished = new Promise((resolve) => parser.on('finish', resolve));
    socket.pipe(parser);
    const read = Buffer.alloc(64 * 1024 * 1024);
    for (let piece = 0; piece < read.length / 2048; piece++) read[piece * 2048] = piece & 0xff;
    socket.end(read);
    await finished;
    expect({ count, bytes, ordered }).toEqual({ count: 32_768, bytes: read.length, ordered: true });
  });

  it.each(['at once', 'later'])('stops at a piece the parser fails (%s): the rest of the read is not written, the error reaches the stream once', async (when) => {
    const client = { streamBuilder: () => new PassThrough() };
    splitSocketReads(client as unknown as MqttClient);
    const socket = (client as unknown as { streamBuilder: (client: unknown) => PassThrough }).streamBuilder(client);
    const pieces: number[] = [];
    const parser = new Writable({
      write(chunk: Buffer, _encoding, done) {
        pieces.push(chunk.length);
        const error = pieces.length === 2 ? new Error('malformed packet') : null;
        if (when === 'at once') done(error);
        else setImmediate(() => done(error));
      },
    });
    const errors: Error[] = [];
    const failed = new Promise<void>((resolve) => parser.on('error', (error) => (errors.push(error), resolve())));
    socket.pipe(parser);
    socket.write(Buffer.alloc(7000));
    await failed;
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.map((error) => error.message)).toEqual(['malformed packet']);
    expect(pieces).toEqual([2048, 2048]);
  });

  it('writes no further piece once the socket is destroyed with an error (after a malformed packet the rest is not parsed)', async () => {
    const client = { streamBuilder: () => new PassThrough() };
    splitSocketReads(client as unknown as MqttClient);
    const socket = (client as unknown as { streamBuilder: (client: unknown) => PassThrough }).streamBuilder(client);
    const pieces: Buffer[] = [];
    let finish!: () => void;
    const read = new Promise<void>((resolve) => (finish = resolve));
    const parser = new Writable({
      write(chunk: Buffer, _encoding, done) {
        pieces.push(chunk);
        // The parser meets a malformed packet in the first piece: the transport destroys the socket.
        if (pieces.length === 1) socket.destroy(new Error('Not supported'));
        done();
        finish();
      },
    });
    socket.on('error', () => undefined);
    socket.pipe(parser);
    socket.write(Buffer.alloc(8192, 7));
    await read;
    await new Promise((resolve) => setImmediate(resolve));
    expect(pieces.map((piece) => piece.length)).toEqual([2048]);
  });
});

describe('PacketSizeGuard', () => {
  it('follows packets across reads and finds the first that declares more than the limit, from its header alone', () => {
    const guard = new PacketSizeGuard(200);
    // A PINGRESP (2 bytes), a PUBLISH of 102 bytes split across reads, then one declaring 16,384.
    const publish = Buffer.concat([Buffer.from([0x30, 100]), Buffer.alloc(100, 1)]);
    expect(guard.scan(Buffer.concat([Buffer.from([0xd0, 0x00]), publish.subarray(0, 60)]))).toBeUndefined();
    expect(guard.scan(publish.subarray(60))).toBeUndefined();
    expect(guard.scan(Buffer.from([0x30, 0x80]))).toBeUndefined(); // the length's first byte only
    expect(guard.scan(Buffer.from([0x80, 0x01]))).toBe(4 + 16_384);
  });

  it('refuses a Remaining Length of more than four bytes (MQTT §1.5.5)', () => {
    expect(new PacketSizeGuard(1e9).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(-1);
  });

  it('closes the stream at a packet above the limit: nothing of it, or after it, reaches the parser', async () => {
    const client = { streamBuilder: () => new PassThrough() };
    const refused: PacketTooLargeError[] = [];
    splitSocketReads(client as unknown as MqttClient, { maxPacketBytes: 64, onTooLarge: (error) => refused.push(error) });
    const socket = (client as unknown as { streamBuilder: (client: unknown) => PassThrough }).streamBuilder(client);
    socket.on('error', () => undefined);
    const pieces: Buffer[] = [];
    socket.pipe(new Writable({ write: (chunk: Buffer, _encoding, done) => void (pieces.push(chunk), done()) }));
    socket.write(Buffer.from([0xd0, 0x00]));
    await new Promise((resolve) => setImmediate(resolve));
    socket.write(Buffer.concat([Buffer.from([0x30, 0x80, 0x80, 0x10]), Buffer.alloc(1000)]));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(Buffer.concat(pieces)).toEqual(Buffer.from([0xd0, 0x00]));
    expect(socket.destroyed).toBe(true);
    expect(refused.map((error) => error.message)).toEqual(['the broker sent a packet of 262148 bytes, above the limit of 64; connection closed before reading it']);
  });
});
