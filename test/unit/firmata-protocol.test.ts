/** The Firmata codec against byte vectors from the Firmata 2.x protocol document. */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import { encodeFirmata, FirmataParser, type FirmataMessage } from '../../boards/firmata/protocol/index.js';

function parse(role: 'board' | 'host', ...chunks: number[][]): { messages: FirmataMessage[]; parser: FirmataParser } {
  const messages: FirmataMessage[] = [];
  const parser = new FirmataParser({ role, onMessage: (m) => messages.push(m) });
  for (const chunk of chunks) parser.push(chunk);
  return { messages, parser };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('Firmata encoder: byte vectors', () => {
  const vectors: [FirmataMessage, string][] = [
    [{ type: 'analog', channel: 0, value: 512 }, 'e00004'],
    [{ type: 'analog', channel: 5, value: 1023 }, 'e57f07'],
    [{ type: 'digital', port: 1, mask: 0b1010_0001 }, '912101'],
    [{ type: 'report-analog', channel: 3, enable: true }, 'c301'],
    [{ type: 'report-digital', port: 0, enable: false }, 'd000'],
    [{ type: 'set-pin-mode', pin: 13, mode: 1 }, 'f40d01'],
    [{ type: 'set-digital-pin', pin: 13, value: 1 }, 'f50d01'],
    [{ type: 'version', major: 2, minor: 5 }, 'f90205'],
    [{ type: 'query-version' }, 'f9'],
    [{ type: 'system-reset' }, 'ff'],
    [{ type: 'query-firmware' }, 'f079f7'],
    [{ type: 'firmware', major: 2, minor: 5, name: 'Ab' }, 'f0790205410062 00f7'.replace(/ /g, '')],
    [{ type: 'capability-query' }, 'f06bf7'],
    [{ type: 'capability-response', pins: [[{ mode: 0, resolution: 1 }, { mode: 1, resolution: 1 }], [{ mode: 2, resolution: 10 }]] }, 'f06c000101017f020a7ff7'],
    [{ type: 'analog-mapping-query' }, 'f069f7'],
    [{ type: 'analog-mapping-response', channels: [127, 127, 0, 1] }, 'f06a7f7f0001f7'],
    [{ type: 'pin-state-query', pin: 13 }, 'f06d0df7'],
    [{ type: 'pin-state-response', pin: 13, mode: 1, state: 1 }, 'f06e0d0101f7'],
    [{ type: 'pin-state-response', pin: 3, mode: 3, state: 200 }, 'f06e0303 4801f7'.replace(/ /g, '')],
    [{ type: 'sampling-interval', ms: 100 }, 'f07a6400f7'],
    [{ type: 'sampling-interval', ms: 1000 }, 'f07a6807f7'],
    [{ type: 'i2c-config', delayUs: 0 }, 'f0780000f7'],
    // Read 6 bytes from register 0xD0 of 0x76, once.
    [{ type: 'i2c-request', address: 0x76, mode: 'read', tenBit: false, restart: false, data: [0xd0, 6] }, 'f07676 08 5001 0600 f7'.replace(/ /g, '')],
    // Write 0xF4 0x27 to 0x76.
    [{ type: 'i2c-request', address: 0x76, mode: 'write', tenBit: false, restart: false, data: [0xf4, 0x27] }, 'f07676 00 7401 2700 f7'.replace(/ /g, '')],
    [{ type: 'i2c-request', address: 0x48, mode: 'stop', tenBit: false, restart: false, data: [] }, 'f0764818f7'],
    [{ type: 'i2c-reply', address: 0x76, register: 0xd0, bytes: [0x60] }, 'f077 7600 5001 6000 f7'.replace(/ /g, '')],
    [{ type: 'string', text: 'hi' }, 'f071 6800 6900 f7'.replace(/ /g, '')],
  ];
  it.each(vectors)('%o', (message, bytes) => {
    expect(hex(encodeFirmata(message))).toBe(bytes);
  });

  it('every vector parses back to its message (board side for queries, host side for replies)', () => {
    for (const [message, bytes] of vectors) {
      const role = message.type === 'query-version' ? 'board' : 'host';
      const { messages, parser } = parse(role, [...Buffer.from(bytes, 'hex')]);
      expect(messages, bytes).toEqual([message]);
      expect(parser.stats.skippedBytes).toBe(0);
    }
  });
});

describe('Firmata parser: streaming and bad input', () => {
  it('reassembles messages split at every byte', () => {
    const bytes = [...encodeFirmata({ type: 'version', major: 2, minor: 5 }), ...encodeFirmata({ type: 'firmware', major: 2, minor: 5, name: 'x.ino' }), ...encodeFirmata({ type: 'analog', channel: 1, value: 3 })];
    const { messages } = parse('host', ...bytes.map((b) => [b]));
    expect(messages.map((m) => m.type)).toEqual(['version', 'firmware', 'analog']);
    expect(messages[1]).toMatchObject({ name: 'x.ino' });
  });

  it('a lone REPORT_VERSION is a query on the board side and waits for its data on the host side', () => {
    expect(parse('board', [0xf9]).messages).toEqual([{ type: 'query-version' }]);
    expect(parse('host', [0xf9]).messages).toEqual([]);
  });

  it('skips and counts a truncated message, a stray byte, an unknown command and an unknown sysex, and keeps parsing', () => {
    const { messages, parser } = parse('host', [
      0xe0, 0x01, // analog cut short by the next command byte, which is …
      0xf1, // … an unknown command
      0x05, // stray data byte
      0xf0, 0x10, 0x01, 0x02, 0xf7, // unknown sysex id
      0xf0, 0x79, 0x02, // firmware cut short by …
      0xe1, 0x7f, 0x07, // … a whole analog message
    ]);
    expect(messages).toEqual([{ type: 'analog', channel: 1, value: 1023 }]);
    expect(parser.stats).toMatchObject({ messages: 1, truncated: 2, stray: 1, unknown: 2, skippedBytes: 2 + 1 + 1 + 5 + 3 });
  });

  it('counts a sysex that does not fit its id as malformed', () => {
    const { messages, parser } = parse('host', [0xf0, 0x7a, 0x01, 0xf7], [0xf0, 0x6c, 0x00, 0xf7], [0xf0, 0x77, 0x01, 0xf7], [0xf9, 0x02, 0x05]);
    expect(messages).toEqual([{ type: 'version', major: 2, minor: 5 }]);
    expect(parser.stats.malformed).toBe(3);
  });

  it('refuses an endless sysex without growing, then resumes', () => {
    const { messages, parser } = parse('host', [0xf0, 0x71, ...Array(10_000).fill(0x41)], [0xf7, 0xe0, 0x00, 0x04]);
    expect(messages).toEqual([{ type: 'analog', channel: 0, value: 512 }]);
    expect(parser.stats.malformed).toBe(1);
    expect(parser.stats.skippedBytes).toBe(10_003);
  });

  it('never throws on random bytes', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const role of ['board', 'host'] as const) {
      const { parser } = parse(role, Array.from({ length: 50_000 }, next));
      expect(parser.stats.messages + parser.stats.skippedBytes).toBeGreaterThan(0);
    }
  });

  it('rejects a bad role', () => {
    expect(() => new FirmataParser({ role: 'x' as 'host', onMessage: () => undefined })).toThrow(ArgumentError);
  });
});
