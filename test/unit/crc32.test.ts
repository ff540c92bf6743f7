import { describe, expect, it } from 'vitest';
import * as zlib from 'node:zlib';
import { Crc32c, crc32, crc32c, jsCrc32 } from '../../sdk/transport/outbox/crc32.js';
import { SeededRandom } from '../../sdk/core/random.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bit-by-bit reference (no tables), to check the sliced tables on random input. */
function reference(polynomial: number, bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('CRC-32 and CRC-32C', () => {
  it('give the catalogued check values for "123456789"', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });

  it('give 0 for empty input and the known values of RFC 3720 §B.4 test vectors', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // iSCSI (RFC 3720 B.4): 32 bytes of zeros, of 0xFF, and ascending 0..31.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('match a bit-by-bit reference for every length 0..300 and random content (seeded)', () => {
    const random = new SeededRandom(3);
    for (let length = 0; length <= 300; length++) {
      const bytes = Uint8Array.from({ length }, () => random.nextUint32() & 0xff);
      expect(crc32c(bytes)).toBe(reference(0x82f63b78, bytes));
      expect(crc32(bytes)).toBe(reference(0xedb88320, bytes));
      expect(jsCrc32(bytes)).toBe(reference(0xedb88320, bytes));
    }
  });

  it('CRC-32: zlib (where Node has it) and the JS fallback agree with the reference, also continued from a previous CRC', () => {
    // zlib has CRC-32 from Node 20.15 (and 22.2): there the fast path is the one tested here; below,
    // the JS fallback is, and both are checked against the reference anyway.
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    expect(typeof (zlib as { crc32?: unknown }).crc32 === 'function').toBe(major > 20 || (major === 20 && minor >= 15));
    const random = new SeededRandom(5);
    for (const length of [0, 1, 7, 16, 100, 3009, 65_537]) {
      const bytes = Uint8Array.from({ length }, () => random.nextUint32() & 0xff);
      const expected = reference(0xedb88320, bytes);
      expect(crc32(bytes)).toBe(expected);
      expect(jsCrc32(bytes)).toBe(expected);
      const split = length >>> 1;
      expect(crc32(bytes, split, length, crc32(bytes, 0, split))).toBe(expected);
      expect(jsCrc32(bytes, split, length, jsCrc32(bytes, 0, split))).toBe(expected);
    }
  });

  it('computes a range, and incrementally over split ranges, the same as at once', () => {
    const bytes = ascii('xx123456789yy');
    expect(crc32c(bytes, 2, 11)).toBe(0xe3069283);
    expect(crc32(bytes, 2, 11)).toBe(0xcbf43926);
    for (let split = 2; split <= 11; split++) {
      expect(new Crc32c().update(bytes, 2, split).update(bytes, split, 11).digest()).toBe(0xe3069283);
    }
  });

  it('match the reference at every alignment of the input in its buffer (the word reads start at a 4-byte boundary)', () => {
    const random = new SeededRandom(11);
    const backing = Uint8Array.from({ length: 200 }, () => random.nextUint32() & 0xff);
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 100, 150]) {
        const view = new Uint8Array(backing.buffer, offset, length); // byteOffset = offset
        const copy = view.slice(); // the same bytes at byteOffset 0
        expect(crc32c(view)).toBe(reference(0x82f63b78, copy));
        expect(crc32(view)).toBe(reference(0xedb88320, copy));
        expect(jsCrc32(view)).toBe(reference(0xedb88320, copy));
        // A range inside a buffer, starting at every index.
        if (length >= 3) {
          const range = backing.slice(offset + 1, offset + length);
          expect(crc32c(backing, offset + 1, offset + length)).toBe(reference(0x82f63b78, range));
          expect(crc32(backing, offset + 1, offset + length)).toBe(reference(0xedb88320, range));
          expect(jsCrc32(backing, offset + 1, offset + length)).toBe(reference(0xedb88320, range));
          // …and of a view that does not start at its buffer's start (zlib must honour byteOffset).
          expect(crc32(view, 1, length)).toBe(reference(0xedb88320, copy.subarray(1)));
        }
      }
    }
  });

  it('computes a frame-sized input (3 KB, many 16-byte steps) as the reference does', () => {
    const random = new SeededRandom(5);
    const bytes = Uint8Array.from({ length: 3034 }, () => random.nextUint32() & 0xff);
    expect(crc32c(bytes)).toBe(reference(0x82f63b78, bytes));
    expect(new Crc32c().update(bytes, 0, 5).update(bytes, 9, bytes.length).digest()).toBe(reference(0x82f63b78, Uint8Array.from([...bytes.subarray(0, 5), ...bytes.subarray(9)])));
  });
});
