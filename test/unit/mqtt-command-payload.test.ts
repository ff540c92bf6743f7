/**
 * Command requests are decoded strictly and never throw: every malformed shape becomes an error value.
 */
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { SeededRandom, VirtualClock } from '../../sdk/core/index.js';
import { decodeCommandRequest } from '../../sdk/transport/mqtt/command-payload.js';
import { ReconnectBackoff } from '../../sdk/transport/mqtt/backoff.js';
import { TokenBucket } from '../../sdk/transport/mqtt/token-bucket.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

describe('decodeCommandRequest', () => {
  it('reads a CBOR map of scalars, a JSON object, and an empty payload as no arguments', () => {
    const decoded = decodeCommandRequest(cbor.encode({ gain: 2.5, n: -3, big: 70000, name: 'x', on: true, none: null }));
    expect(decoded).toEqual({ ok: true, format: 'cbor', args: { gain: 2.5, n: -3, big: 70000, name: 'x', on: true, none: null } });
    expect(decodeCommandRequest(new TextEncoder().encode('{"gain":2}'))).toEqual({ ok: true, format: 'json', args: { gain: 2 } });
    expect(decodeCommandRequest(new Uint8Array(0))).toEqual({ ok: true, format: 'json', args: {} });
    // float16 1.5 (RFC 8949 Appendix D) and float32
    expect(decodeCommandRequest(bytes(0xa2, 0x61, 0x61, 0xf9, 0x3e, 0x00, 0x61, 0x62, 0xfa, 0x3f, 0xc0, 0x00, 0x00))).toMatchObject({ ok: true, args: { a: 1.5, b: 1.5 } });
  });

  // Messages of the strict CBOR reader (sdk/encoding/cbor-reader.ts), with the byte offset.
  it.each([
    ['truncated map', bytes(0xa1), /^invalid CBOR request: truncated: 1 items need more bytes than remain at byte 0$/],
    ['truncated text', bytes(0xa1, 0x65, 0x61), /truncated/],
    ['not a map', bytes(0x83, 1, 2, 3), /^request must be a CBOR map of arguments, got an array$/],
    ['integer key', bytes(0xa1, 0x01, 0x02), /^argument names must be text strings, got the integer 1$/],
    ['duplicate key', bytes(0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02), /duplicate-key: map key "a" appears twice/],
    ['nested array', bytes(0xa1, 0x61, 0x61, 0x80), /^argument "a" must be a number, text string, boolean or null, got an array$/],
    ['nested array with items', bytes(0xa1, 0x61, 0x61, 0x81, 0x01), /nesting deeper than maxDepth 2/],
    ['byte string', bytes(0xa1, 0x61, 0x61, 0x41, 0x00), /got a byte string$/],
    ['tag', bytes(0xa1, 0x61, 0x61, 0xc1, 0x00), /tag 1 is not used in command requests/],
    ['indefinite map', bytes(0xbf, 0xff), /indefinite/],
    ['reserved info', bytes(0xa1, 0x61, 0x61, 0x1c), /reserved/],
    ['huge map count', bytes(0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), /beyond 2\^53|above maxItems/],
    ['more entries than maxEntries', bytes(0xb8, 33), /33 items is above maxItems 32/],
    ['huge text length', bytes(0xa1, 0x7a, 0xff, 0xff, 0xff, 0xff), /above maxStringLength 4096/],
    ['trailing bytes', bytes(0xa0, 0x00), /trailing-bytes: 1 bytes after the top-level item/],
    ['invalid UTF-8', bytes(0xa1, 0x61, 0xff, 0x01), /UTF-8/],
    ['integer beyond 2^53', bytes(0xa1, 0x61, 0x61, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), /2\^53/],
    ['JSON array', new TextEncoder().encode('{"a":[1]}'), /must be a number/],
    ['broken JSON', new TextEncoder().encode('{"a":'), /JSON/],
    ['JSON duplicate key', new TextEncoder().encode('{"a":1,"b":{"a":3},"a":2}'), /^duplicate argument "a"$/],
    ['JSON duplicate key, escaped', new TextEncoder().encode('{"a":1, "\\u0061" :2}'), /^duplicate argument "a"$/],
    ['JSON array at the top', new TextEncoder().encode('[]'), /^request must be a JSON object of arguments, got an array$/],
    ['JSON number at the top', new TextEncoder().encode(' 5'), /^request must be a JSON object of arguments, got a number$/],
  ])('rejects %s', (_name, payload, message) => {
    const decoded = decodeCommandRequest(payload);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.message).toMatch(message);
  });

  it('decides the format by the content type, else by the first byte: a CBOR map head is CBOR, the start of JSON text is JSON', () => {
    expect(decodeCommandRequest(new TextEncoder().encode('[]'))).toMatchObject({ ok: false, format: 'json' });
    expect(decodeCommandRequest(bytes(0x5b, 0x5d), 'application/cbor')).toMatchObject({ ok: false, format: 'cbor' });
    expect(decodeCommandRequest(bytes(0xa0))).toEqual({ ok: true, format: 'cbor', args: {} });
    expect(decodeCommandRequest(bytes(0x01))).toMatchObject({ ok: false, format: 'cbor', message: 'request must be a CBOR map of arguments, got a number' });
    expect(decodeCommandRequest(new TextEncoder().encode('{"a":1,"b":"{\\"a\\":2}"}'))).toEqual({ ok: true, format: 'json', args: { a: 1, b: '{"a":2}' } });
  });

  it('rejects a payload above maxBytes before reading it', () => {
    expect(decodeCommandRequest(new Uint8Array(5000))).toMatchObject({ ok: false, message: /5000 bytes is above the limit of 4096/ });
  });

  it('never throws on random bytes', () => {
    const random = new SeededRandom(3);
    for (let i = 0; i < 5000; i++) {
      const payload = Uint8Array.from({ length: random.nextUint32() % 40 }, () => random.nextUint32() & 0xff);
      expect(() => decodeCommandRequest(payload)).not.toThrow();
    }
  });

  it('does not let an argument named __proto__ change the prototype', () => {
    const decoded = decodeCommandRequest(new TextEncoder().encode('{"__proto__":1}'));
    expect(decoded.ok && Object.getPrototypeOf(decoded.args)).toBe(null);
  });
});

describe('ReconnectBackoff', () => {
  it('doubles from minMs to maxMs with jitter inside [d·(1−jitter), d], and resets', () => {
    const backoff = new ReconnectBackoff({ minMs: 500, maxMs: 4000, jitter: 0.5 }, new SeededRandom(1));
    const ceilings = [500, 1000, 2000, 4000, 4000];
    for (const ceiling of ceilings) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThan(ceiling * 0.5);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(500);
    expect(() => new ReconnectBackoff({ minMs: 10, maxMs: 5 }, new SeededRandom(1))).toThrow(/maxMs/);
  });

  it('is reproducible for a seed', () => {
    const a = new ReconnectBackoff({}, new SeededRandom(9));
    const b = new ReconnectBackoff({}, new SeededRandom(9));
    expect([a.next(), a.next(), a.next()]).toEqual([b.next(), b.next(), b.next()]);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket({ clock, ratePerSecond: 10, burst: 5 });
    expect(Array.from({ length: 7 }, () => bucket.take())).toEqual([true, true, true, true, true, false, false]);
    await clock.advance(250);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });
});
