import { decode as cborXDecode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../sdk/core/errors.js';
import { CborReader, CborTagged, decodeStrictCbor, type CborLimits, type CborProfile } from '../../sdk/encoding/cbor-reader.js';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const LIMITS: CborLimits = { maxBytes: 1024, maxItems: 16, maxDepth: 8, maxStringLength: 64 };
const LENIENT: CborProfile = { format: 'the test format', tags: [1], floats: true, sortedKeys: false, copyBytes: true };
const STRICT: CborProfile = { format: 'the test format', tags: [], floats: false, sortedKeys: true, copyBytes: false };

function rejection(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('expected a DecodeError');
}

describe('decodeStrictCbor', () => {
  it('decodes every kind of item the profiles allow', () => {
    expect(decodeStrictCbor(hex('83 f9 3c 00 fa 3f c0 00 00 fb 40 09 21 fb 54 44 2d 18'), LIMITS, LENIENT)).toEqual([1, 1.5, 3.141592653589793]);
    expect(decodeStrictCbor(hex('84 f9 7c 00 f9 fc 00 f9 00 01 f9 80 00'), LIMITS, LENIENT)).toEqual([Infinity, -Infinity, 2 ** -24, -0]);
    expect(decodeStrictCbor(hex('c1 1a 69 55 b9 80'), LIMITS, LENIENT)).toEqual(new CborTagged(1, 1767225728));
    expect(decodeStrictCbor(hex('a3 01 f5 20 f4 61 61 f6'), LIMITS, STRICT)).toEqual(new Map<number | string, unknown>([[1, true], [-1, false], ['a', null]]));
    expect(decodeStrictCbor(hex('1b 00 1f ff ff ff ff ff ff'), LIMITS, STRICT)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('decodes all 65,536 half-precision floats as cbor-x does', () => {
    const input = Uint8Array.of(0xf9, 0, 0);
    for (let half = 0; half < 0x10000; half++) {
      input[1] = half >> 8;
      input[2] = half & 0xff;
      expect(decodeStrictCbor(input, LIMITS, LENIENT), `0x${half.toString(16)}`).toBe(cborXDecode(input));
    }
  });

  it('refuses what the profile does not allow, with the reason and byte offset', () => {
    expect(rejection(() => decodeStrictCbor(hex('81 f9 3c 00'), LIMITS, STRICT)).message).toBe('wrong-type: floats are not used in the test format at byte 1');
    expect(rejection(() => decodeStrictCbor(hex('c1 01'), LIMITS, STRICT)).message).toBe('wrong-type: tag 1 is not used in the test format at byte 0');
    expect(rejection(() => decodeStrictCbor(hex('a2 02 00 01 00'), LIMITS, STRICT)).reason).toBe('unsorted-keys');
    expect(decodeStrictCbor(hex('a2 02 00 01 00'), LIMITS, LENIENT)).toEqual(new Map([[2, 0], [1, 0]]));
    expect(rejection(() => decodeStrictCbor(hex('a2 02 00 02 00'), LIMITS, LENIENT)).reason).toBe('duplicate-key');
    expect(rejection(() => decodeStrictCbor(hex('a1 41 00 01'), LIMITS, LENIENT)).message).toBe('wrong-type: a map key must be an integer or a text string at byte 1');
    expect(rejection(() => decodeStrictCbor(hex('a1 f9 3c 00 01'), LIMITS, LENIENT)).reason).toBe('wrong-type');
    expect(rejection(() => decodeStrictCbor(hex('1b 00 20 00 00 00 00 00 00'), LIMITS, LENIENT)).reason).toBe('limit');
    // ±(2^53 − 1) are the widest integers read, as they are the widest an encoder writes: −2^53 is refused.
    expect(decodeStrictCbor(hex('1b 00 1f ff ff ff ff ff ff'), LIMITS, LENIENT)).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeStrictCbor(hex('3b 00 1f ff ff ff ff ff fe'), LIMITS, LENIENT)).toBe(-Number.MAX_SAFE_INTEGER);
    expect(rejection(() => decodeStrictCbor(hex('3b 00 1f ff ff ff ff ff ff'), LIMITS, LENIENT)).message).toBe('limit: an integer below −(2^53 − 1) at byte 0');
    expect(rejection(() => decodeStrictCbor(hex('91 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'), LIMITS, LENIENT)).message).toBe('limit: 17 items is above maxItems 16 at byte 0');
  });

  it('copies byte strings out of the input, or returns views of it, as the profile says', () => {
    const input = hex('42 01 02');
    const copy = decodeStrictCbor(input, LIMITS, LENIENT) as Uint8Array;
    const view = decodeStrictCbor(input, LIMITS, STRICT) as Uint8Array;
    input[1] = 9;
    expect([...copy]).toEqual([1, 2]);
    expect([...view]).toEqual([9, 2]);
  });
});

describe('CborReader', () => {
  it('lets a format walk its own top levels and releases the input on an error', () => {
    const reader = new CborReader(LIMITS, LENIENT);
    reader.begin(hex('82 61 61 01 00'));
    expect(reader.head()).toBe(4);
    expect(reader.argument).toBe(2);
    expect(reader.head()).toBe(3);
    expect(reader.text(reader.argument, 1)).toBe('a');
    expect(reader.item(2)).toBe(1);
    expect(rejection(() => reader.end()).message).toBe('trailing-bytes: 1 bytes after the top-level item at byte 4');
    expect(reader.remaining).toBe(0);
    expect(() => new CborReader(LIMITS, LENIENT).begin(new Uint8Array(1025))).toThrow('limit: 1025 bytes is above maxBytes 1024');
  });
});
