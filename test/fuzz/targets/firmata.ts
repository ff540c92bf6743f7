/**
 * The streaming Firmata parser (`boards/firmata/protocol`): streams of valid frames, random bytes and
 * overlong sysex, mutated, fed in random chunkings, in both roles. Properties: `push` never throws;
 * no skipped frame is longer than MAX_SYSEX_BYTES + 1 (the buffer is bounded); every number in a
 * delivered message is a safe integer; the chunking changes nothing (same messages, same counters
 * as one push of the whole stream).
 */
import fc from 'fast-check';
import { END_SYSEX, MAX_SYSEX_BYTES, START_SYSEX, SYSEX } from '../../../boards/firmata/protocol/constants.js';
import { encodeFirmata, type FirmataMessage } from '../../../boards/firmata/protocol/messages.js';
import { FirmataParser } from '../../../boards/firmata/protocol/parser.js';
import { applyMutations, byteArb, byteMutationArb } from '../mutate.js';
import { FuzzViolation, timed, type FuzzTarget } from '../target.js';

const MESSAGES: readonly FirmataMessage[] = [
  { type: 'analog', channel: 3, value: 1023 },
  { type: 'digital', port: 1, mask: 0xff },
  { type: 'report-analog', channel: 0, enable: true },
  { type: 'report-digital', port: 2, enable: false },
  { type: 'set-pin-mode', pin: 13, mode: 1 },
  { type: 'set-digital-pin', pin: 13, value: 1 },
  { type: 'version', major: 2, minor: 5 },
  { type: 'system-reset' },
  { type: 'query-firmware' },
  { type: 'firmware', major: 2, minor: 5, name: 'StandardFirmata.ino' },
  { type: 'capability-query' },
  { type: 'capability-response', pins: [[{ mode: 0, resolution: 1 }, { mode: 1, resolution: 1 }], [], [{ mode: 2, resolution: 10 }]] },
  { type: 'analog-mapping-query' },
  { type: 'analog-mapping-response', channels: [0x7f, 0x7f, 0, 1, 2] },
  { type: 'pin-state-query', pin: 4 },
  { type: 'pin-state-response', pin: 4, mode: 1, state: 1 },
  { type: 'sampling-interval', ms: 19 },
  { type: 'i2c-config', delayUs: 100 },
  { type: 'i2c-request', address: 0x76, mode: 'read', tenBit: false, restart: false, data: [0xfa, 3] },
  { type: 'i2c-request', address: 0x76, mode: 'write', tenBit: false, restart: false, data: [0xf4, 0x27] },
  { type: 'i2c-reply', address: 0x76, register: 0xfa, bytes: [0x80, 0x00, 0x12] },
  { type: 'string', text: 'hello' },
  { type: 'extended-analog', pin: 20, value: 16_383 },
];
const FRAMES: readonly Uint8Array[] = MESSAGES.map((message) => encodeFirmata(message));

type Piece = { kind: 'frame'; index: number } | { kind: 'bytes'; bytes: number[] } | { kind: 'long-sysex'; id: number; length: number; end: boolean };

const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('frame' as const), index: fc.nat({ max: FRAMES.length - 1 }) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.array(byteArb, { maxLength: 12 }) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('long-sysex' as const),
      id: fc.constantFrom(...Object.values(SYSEX), 0x00, 0x7f),
      length: fc.integer({ min: MAX_SYSEX_BYTES - 8, max: MAX_SYSEX_BYTES + 64 }),
      end: fc.boolean(),
    }),
    weight: 1,
  },
);

export interface FirmataInput {
  readonly role: 'board' | 'host';
  readonly stream: Uint8Array;
  /** Sizes of the chunks the stream is pushed in, cycled. */
  readonly chunks: readonly number[];
}

function build(pieces: readonly Piece[]): Uint8Array {
  const out: number[] = [];
  for (const piece of pieces) {
    if (piece.kind === 'frame') out.push(...FRAMES[piece.index]!);
    else if (piece.kind === 'bytes') out.push(...piece.bytes);
    else {
      out.push(START_SYSEX, piece.id);
      for (let i = 0; i < piece.length; i++) out.push(i & 0x7f);
      if (piece.end) out.push(END_SYSEX);
    }
  }
  return Uint8Array.from(out);
}

const inputArb: fc.Arbitrary<FirmataInput> = fc
  .record({
    role: fc.constantFrom('board' as const, 'host' as const),
    pieces: fc.array(pieceArb, { minLength: 1, maxLength: 12 }),
    mutations: fc.array(byteMutationArb, { maxLength: 6 }),
    chunks: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ role, pieces, mutations, chunks }) => ({ role, stream: applyMutations(build(pieces), mutations, FRAMES), chunks }));

interface ParseResult {
  readonly messages: FirmataMessage[];
  readonly stats: object;
  readonly longestSkip: number;
}

function parse(role: 'board' | 'host', stream: Uint8Array, chunks: readonly number[] | undefined): ParseResult {
  const messages: FirmataMessage[] = [];
  let longestSkip = 0;
  const parser = new FirmataParser({ role, onMessage: (message) => messages.push(message), onSkip: (_, bytes) => void (longestSkip = Math.max(longestSkip, bytes.length)) });
  if (chunks === undefined) parser.push(stream);
  else {
    for (let offset = 0, i = 0; offset < stream.length; i++) {
      const size = chunks[i % chunks.length]!;
      parser.push(stream.subarray(offset, offset + size));
      offset += size;
    }
  }
  return { messages, stats: { ...parser.stats }, longestSkip };
}

/** The first number in `value` (a message) that is not a safe integer, with its path. */
function unsafeNumber(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? undefined : `${path} = ${value}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unsafeNumber(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = unsafeNumber(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

export const firmataTarget: FuzzTarget<FirmataInput> = {
  name: 'firmata',
  property: 'FirmataParser.push never throws; skipped frames ≤ MAX_SYSEX_BYTES + 1 bytes; message numbers are safe integers; chunking changes nothing',
  arbitrary: inputArb,
  shortRuns: 2000,
  check({ role, stream, chunks }) {
    timed('FirmataParser.push', () => {
      const whole = parse(role, stream, undefined);
      const chunked = parse(role, stream, chunks);
      if (whole.longestSkip > MAX_SYSEX_BYTES + 1) throw new FuzzViolation(`a skipped frame of ${whole.longestSkip} bytes was buffered`);
      for (const message of whole.messages) {
        const unsafe = unsafeNumber(message, message.type);
        if (unsafe !== undefined) throw new FuzzViolation(`delivered ${unsafe}`);
      }
      if (JSON.stringify(whole) !== JSON.stringify(chunked)) throw new FuzzViolation(`chunks ${chunks.join(',')} changed the outcome`);
    });
  },
};
