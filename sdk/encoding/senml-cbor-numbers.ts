/**
 * CBOR heads and numbers for the SenML-CBOR encoder's hot path (RFC 8949 §3, §4.2.1, §4.2.2), as
 * plain functions over a buffer and a write position: the encoder keeps the position in a local
 * variable while it writes a record, instead of a field read and written for every byte.
 *
 * Every number goes out in its shortest exact form (preferred serialization, §4.2.1): integers
 * from −2^32 to 2^32 − 1 as integers, others as half, single or double floats, whichever keeps
 * the value.
 */

/** Scratch for reading a single float's bits. Holds nothing between calls. */
const bits32 = new DataView(new ArrayBuffer(4));

/**
 * Writes an initial byte of major type `major` with `value` as its argument in the shortest form
 * (RFC 8949 §3); returns the position after it. `buffer` must have 9 bytes of room at `pos`.
 *
 * @example
 * ```ts
 * const buffer = new Uint8Array(9)
 * writeHead(buffer, new DataView(buffer.buffer), 0, 4, 100) // 2: 0x98 0x64, an array of 100
 * ```
 */
export function writeHead(buffer: Uint8Array, view: DataView, pos: number, major: number, value: number): number {
  const type = major << 5;
  if (value < 24) {
    buffer[pos] = type | value;
    return pos + 1;
  }
  if (value < 0x100) {
    buffer[pos] = type | 24;
    buffer[pos + 1] = value;
    return pos + 2;
  }
  if (value < 0x10000) {
    buffer[pos] = type | 25;
    buffer[pos + 1] = value >>> 8;
    buffer[pos + 2] = value & 0xff;
    return pos + 3;
  }
  if (value < 0x100000000) {
    buffer[pos] = type | 26;
    view.setUint32(pos + 1, value);
    return pos + 5;
  }
  buffer[pos] = type | 27;
  view.setUint32(pos + 1, Math.floor(value / 0x100000000));
  view.setUint32(pos + 5, value >>> 0);
  return pos + 9;
}

/**
 * Writes a finite number in its shortest exact form (RFC 8949 §4.2.1, §4.2.2); returns the
 * position after it. `buffer` must have 9 bytes of room at `pos`; `view` is a DataView of it.
 *
 * @example
 * ```ts
 * const buffer = new Uint8Array(9)
 * writeNumber(buffer, new DataView(buffer.buffer), 0, 21.5) // 3: 0xf9 0x4d 0x60, a half float
 * ```
 */
export function writeNumber(buffer: Uint8Array, view: DataView, pos: number, x: number): number {
  if (Number.isInteger(x) && x >= -4294967296 && x <= 4294967295 && !(x === 0 && 1 / x < 0)) {
    return x >= 0 ? writeHead(buffer, view, pos, 0, x) : writeHead(buffer, view, pos, 1, -1 - x);
  }
  if (Math.fround(x) !== x) {
    buffer[pos] = 0xfb;
    view.setFloat64(pos + 1, x);
    return pos + 9;
  }
  const half = halfBits(x);
  if (half >= 0) {
    buffer[pos] = 0xf9;
    buffer[pos + 1] = half >>> 8;
    buffer[pos + 2] = half & 0xff;
    return pos + 3;
  }
  buffer[pos] = 0xfa;
  view.setFloat32(pos + 1, x);
  return pos + 5;
}

/** The IEEE 754 half-precision bits of a single-precision value, or −1 when half cannot hold it exactly. */
function halfBits(x: number): number {
  bits32.setFloat32(0, x);
  const bits = bits32.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127;
  const mantissa = bits & 0x7fffff;
  if (exponent === -127) return mantissa === 0 ? sign : -1; // ±0; single subnormals are below half's range
  if (exponent > 15) return -1;
  if (exponent >= -14) return mantissa & 0x1fff ? -1 : sign | ((exponent + 15) << 10) | (mantissa >>> 13);
  if (exponent < -24) return -1;
  const shift = 13 - 14 - exponent; // half subnormal: value = m × 2^-24
  const full = mantissa | 0x800000;
  return full & ((1 << shift) - 1) ? -1 : sign | (full >>> shift);
}
