/**
 * Firmata 2.x messages as typed values, and their encoding to bytes. Multi-byte values travel as
 * 7-bit groups, least significant first (Firmata protocol, "Data Message Expansion"); a byte of
 * sysex data as two 7-bit bytes (LSB, MSB).
 */
import {
  ANALOG_MESSAGE,
  DIGITAL_MESSAGE,
  END_SYSEX,
  I2C_MODE,
  REPORT_ANALOG,
  REPORT_DIGITAL,
  REPORT_VERSION,
  SET_DIGITAL_PIN_VALUE,
  SET_PIN_MODE,
  START_SYSEX,
  SYSEX,
  SYSTEM_RESET,
} from './constants.js';

/** One supported mode of a pin with its resolution in bits (capability response). */
export interface PinCapability {
  readonly mode: number;
  readonly resolution: number;
}

/** An I2C request's read/write mode. */
export type I2cRequestMode = keyof typeof I2C_MODE;

/** Every Firmata message this codec knows, both directions. */
export type FirmataMessage =
  | { type: 'analog'; channel: number; value: number }
  | { type: 'digital'; port: number; mask: number }
  | { type: 'report-analog'; channel: number; enable: boolean }
  | { type: 'report-digital'; port: number; enable: boolean }
  | { type: 'set-pin-mode'; pin: number; mode: number }
  | { type: 'set-digital-pin'; pin: number; value: number }
  | { type: 'version'; major: number; minor: number }
  | { type: 'query-version' }
  | { type: 'system-reset' }
  | { type: 'query-firmware' }
  | { type: 'firmware'; major: number; minor: number; name: string }
  | { type: 'capability-query' }
  | { type: 'capability-response'; pins: PinCapability[][] }
  | { type: 'analog-mapping-query' }
  | { type: 'analog-mapping-response'; channels: number[] }
  | { type: 'pin-state-query'; pin: number }
  | { type: 'pin-state-response'; pin: number; mode: number; state: number }
  | { type: 'sampling-interval'; ms: number }
  | { type: 'i2c-config'; delayUs: number }
  | { type: 'i2c-request'; address: number; mode: I2cRequestMode; tenBit: boolean; restart: boolean; data: number[] }
  | { type: 'i2c-reply'; address: number; register: number; bytes: number[] }
  | { type: 'string'; text: string }
  | { type: 'extended-analog'; pin: number; value: number };

/** The `type` of a {@link FirmataMessage}. */
export type FirmataMessageType = FirmataMessage['type'];

/**
 * `value` as 7-bit groups, least significant first, at least `minGroups` of them.
 *
 * @example
 * ```ts
 * toSevenBit(1000, 2) // [0x68, 0x07]
 * ```
 */
export function toSevenBit(value: number, minGroups = 1): number[] {
  const out: number[] = [];
  let rest = Math.max(0, Math.trunc(value));
  do {
    out.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  } while (rest > 0 || out.length < minGroups);
  return out;
}

/**
 * The number in 7-bit groups, least significant first.
 *
 * @example
 * ```ts
 * fromSevenBit([0x68, 0x07]) // 1000
 * ```
 */
export function fromSevenBit(groups: ArrayLike<number>, start = 0, count = groups.length - start): number {
  let value = 0;
  for (let i = count - 1; i >= 0; i--) value = value * 128 + ((groups[start + i] ?? 0) & 0x7f);
  return value;
}

/**
 * Each byte (0–255) as two 7-bit bytes, LSB then MSB (sysex data).
 *
 * @example
 * ```ts
 * bytesToPairs([0xd0]) // [0x50, 0x01]
 * ```
 */
export function bytesToPairs(bytes: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]! & 0xff;
    out.push(byte & 0x7f, byte >> 7);
  }
  return out;
}

/**
 * Two 7-bit bytes per value back to values (a trailing odd byte is ignored).
 *
 * @example
 * ```ts
 * pairsToValues([0x50, 0x01, 0x06, 0x00]) // [0xd0, 6]
 * ```
 */
export function pairsToValues(data: ArrayLike<number>, start = 0): number[] {
  const out: number[] = [];
  for (let i = start; i + 1 < data.length; i += 2) out.push((data[i]! & 0x7f) | ((data[i + 1]! & 0x7f) << 7));
  return out;
}

function sysex(command: number, data: readonly number[] = []): Uint8Array {
  return Uint8Array.from([START_SYSEX, command, ...data.map((byte) => byte & 0x7f), END_SYSEX]);
}

/**
 * Encodes one message to the bytes that go on the wire.
 *
 * @example
 * ```ts
 * encodeFirmata({ type: 'analog', channel: 0, value: 512 })   // E0 00 04
 * encodeFirmata({ type: 'sampling-interval', ms: 100 })         // F0 7A 64 00 F7
 * ```
 */
export function encodeFirmata(message: FirmataMessage): Uint8Array {
  switch (message.type) {
    case 'analog': {
      const [lsb = 0, msb = 0] = toSevenBit(message.value, 2);
      if (message.channel <= 0x0f && message.value < 1 << 14) return Uint8Array.of(ANALOG_MESSAGE | message.channel, lsb, msb);
      // Channels above 15 or values above 14 bits need EXTENDED_ANALOG (Firmata 2.3).
      return sysex(SYSEX.EXTENDED_ANALOG, [message.channel & 0x7f, ...toSevenBit(message.value, 2)]);
    }
    case 'digital':
      return Uint8Array.of(DIGITAL_MESSAGE | (message.port & 0x0f), message.mask & 0x7f, (message.mask >> 7) & 0x01);
    case 'report-analog':
      return Uint8Array.of(REPORT_ANALOG | (message.channel & 0x0f), message.enable ? 1 : 0);
    case 'report-digital':
      return Uint8Array.of(REPORT_DIGITAL | (message.port & 0x0f), message.enable ? 1 : 0);
    case 'set-pin-mode':
      return Uint8Array.of(SET_PIN_MODE, message.pin & 0x7f, message.mode & 0x7f);
    case 'set-digital-pin':
      return Uint8Array.of(SET_DIGITAL_PIN_VALUE, message.pin & 0x7f, message.value ? 1 : 0);
    case 'version':
      return Uint8Array.of(REPORT_VERSION, message.major & 0x7f, message.minor & 0x7f);
    case 'query-version':
      return Uint8Array.of(REPORT_VERSION);
    case 'system-reset':
      return Uint8Array.of(SYSTEM_RESET);
    case 'query-firmware':
      return sysex(SYSEX.REPORT_FIRMWARE);
    case 'firmware':
      return sysex(SYSEX.REPORT_FIRMWARE, [message.major, message.minor, ...bytesToPairs(Buffer.from(message.name, 'latin1'))]);
    case 'capability-query':
      return sysex(SYSEX.CAPABILITY_QUERY);
    case 'capability-response':
      return sysex(
        SYSEX.CAPABILITY_RESPONSE,
        message.pins.flatMap((modes) => [...modes.flatMap((m) => [m.mode, m.resolution]), 0x7f]),
      );
    case 'analog-mapping-query':
      return sysex(SYSEX.ANALOG_MAPPING_QUERY);
    case 'analog-mapping-response':
      return sysex(SYSEX.ANALOG_MAPPING_RESPONSE, message.channels);
    case 'pin-state-query':
      return sysex(SYSEX.PIN_STATE_QUERY, [message.pin]);
    case 'pin-state-response':
      return sysex(SYSEX.PIN_STATE_RESPONSE, [message.pin, message.mode, ...toSevenBit(message.state)]);
    case 'sampling-interval':
      return sysex(SYSEX.SAMPLING_INTERVAL, toSevenBit(message.ms, 2));
    case 'i2c-config':
      return sysex(SYSEX.I2C_CONFIG, toSevenBit(message.delayUs, 2));
    case 'i2c-request': {
      // Byte 2: bit 6 auto-restart, bit 5 10-bit address, bits 3–4 mode, bits 0–2 address MSBs.
      const modeByte = (message.restart ? 0x40 : 0) | (message.tenBit ? 0x20 : 0) | (I2C_MODE[message.mode] << 3) | ((message.address >> 7) & 0x07);
      const data = message.mode === 'write' ? bytesToPairs(message.data) : message.data.flatMap((value) => toSevenBit(value, 2).slice(0, 2));
      return sysex(SYSEX.I2C_REQUEST, [message.address & 0x7f, modeByte, ...data]);
    }
    case 'i2c-reply':
      return sysex(SYSEX.I2C_REPLY, [...toSevenBit(message.address, 2), ...toSevenBit(message.register, 2), ...bytesToPairs(message.bytes)]);
    case 'string':
      return sysex(SYSEX.STRING_DATA, bytesToPairs(Buffer.from(message.text, 'latin1')));
    case 'extended-analog':
      return sysex(SYSEX.EXTENDED_ANALOG, [message.pin, ...toSevenBit(message.value)]);
  }
}
