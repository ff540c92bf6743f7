/**
 * A streaming Firmata 2.x parser. Bytes arrive in any chunking; whole messages come out. It never
 * throws on input: a frame cut short by the next command byte, a stray data byte, an unknown command
 * or sysex id, a sysex whose payload does not fit its id, or one longer than MAX_SYSEX_BYTES is
 * skipped and counted in {@link FirmataParserStats}, and parsing resumes at the next command byte.
 */
import { ArgumentError } from '../../../sdk/core/errors.js';
import {
  ANALOG_MESSAGE,
  DIGITAL_MESSAGE,
  END_SYSEX,
  I2C_MODE,
  MAX_SYSEX_BYTES,
  REPORT_ANALOG,
  REPORT_DIGITAL,
  REPORT_VERSION,
  SET_DIGITAL_PIN_VALUE,
  SET_PIN_MODE,
  START_SYSEX,
  SYSEX,
  SYSTEM_RESET,
} from './constants.js';
import { fromSevenBit, pairsToValues, type FirmataMessage, type I2cRequestMode, type PinCapability } from './messages.js';

/** What was skipped, by reason. */
export interface FirmataParserStats {
  /** Messages delivered. */
  messages: number;
  /** Bytes dropped, whatever the reason. */
  skippedBytes: number;
  /** Frames cut short by the next command byte. */
  truncated: number;
  /** Frames whose content does not fit their command (wrong length, bad values, oversize sysex). */
  malformed: number;
  /** Unknown command bytes and sysex ids. */
  unknown: number;
  /** Data bytes outside any frame. */
  stray: number;
}

/** Why a frame was skipped. */
export type SkipReason = 'truncated' | 'malformed' | 'unknown' | 'stray';

/** Options of {@link FirmataParser}. */
export interface FirmataParserOptions {
  /**
   * Which side this parser listens for. `board`: it parses what a board receives, so a lone
   * REPORT_VERSION byte is a version query; `host`: REPORT_VERSION carries major and minor.
   */
  role: 'board' | 'host';
  /** Called with each whole message. */
  onMessage: (message: FirmataMessage) => void;
  /** Called for each skipped frame (for logs and tests); optional. */
  onSkip?: (reason: SkipReason, bytes: number[]) => void;
}

/** Data bytes each channel/port command and single command takes. */
function dataLength(command: number, role: 'board' | 'host'): number | undefined {
  if (command < 0xf0) {
    const high = command & 0xf0;
    if (high === ANALOG_MESSAGE || high === DIGITAL_MESSAGE) return 2;
    if (high === REPORT_ANALOG || high === REPORT_DIGITAL) return 1;
    return undefined;
  }
  if (command === SET_PIN_MODE || command === SET_DIGITAL_PIN_VALUE) return 2;
  if (command === REPORT_VERSION) return role === 'board' ? 0 : 2;
  if (command === SYSTEM_RESET) return 0;
  return undefined;
}

/**
 * The streaming parser.
 *
 * @example
 * ```ts
 * const parser = new FirmataParser({ role: 'host', onMessage: (m) => console.log(m) })
 * parser.push(Uint8Array.of(0xf9, 0x02, 0x05, 0xe0, 0x00)) // { type: 'version', major: 2, minor: 5 }
 * parser.push(Uint8Array.of(0x04))                         // { type: 'analog', channel: 0, value: 512 }
 * parser.stats.skippedBytes                                 // 0
 * ```
 */
export class FirmataParser {
  readonly stats: FirmataParserStats = { messages: 0, skippedBytes: 0, truncated: 0, malformed: 0, unknown: 0, stray: 0 };
  readonly #options: FirmataParserOptions;
  /** The frame being read: its command byte first; empty between frames. */
  #frame: number[] = [];
  #expect = 0;
  #inSysex = false;
  #oversize = false;

  constructor(options: FirmataParserOptions) {
    if (options?.role !== 'board' && options?.role !== 'host') throw new ArgumentError(`Expected \`role\` to be "board" or "host", got ${String(options?.role)}`);
    if (typeof options.onMessage !== 'function') throw new ArgumentError('Expected `onMessage` to be a function');
    this.#options = options;
  }

  /** Feeds bytes; delivers every message they complete. */
  push(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.#byte(bytes[i]! & 0xff);
  }

  /** Forgets a frame in progress (e.g. when the line was reopened), counting it as truncated. */
  reset(): void {
    if (this.#frame.length > 0) this.#skip('truncated', this.#frame);
    this.#clear();
  }

  #clear(): void {
    this.#frame = [];
    this.#inSysex = false;
    this.#oversize = false;
    this.#expect = 0;
  }

  #byte(byte: number): void {
    if (this.#inSysex) {
      if (byte === END_SYSEX) {
        const frame = this.#frame;
        const oversize = this.#oversize;
        this.#clear();
        if (oversize) this.#skip('malformed', [...frame, byte]);
        else this.#sysex(frame, byte);
        return;
      }
      if (byte < 0x80) {
        if (this.#frame.length < MAX_SYSEX_BYTES) this.#frame.push(byte);
        else {
          this.#oversize = true;
          this.stats.skippedBytes++;
        }
        return;
      }
      // A command byte inside a sysex: the sysex was cut short; the byte starts a new frame.
      this.#skip('truncated', this.#frame);
      this.#clear();
    } else if (this.#frame.length > 0) {
      if (byte < 0x80) {
        this.#frame.push(byte);
        if (this.#frame.length - 1 === this.#expect) this.#deliverShort();
        return;
      }
      this.#skip('truncated', this.#frame);
      this.#clear();
    }
    // Between frames.
    if (byte < 0x80) {
      this.#skip('stray', [byte]);
      return;
    }
    if (byte === START_SYSEX) {
      this.#inSysex = true;
      this.#frame = [byte];
      return;
    }
    const length = dataLength(byte, this.#options.role);
    if (length === undefined) {
      this.#skip('unknown', [byte]);
      return;
    }
    this.#frame = [byte];
    this.#expect = length;
    if (length === 0) this.#deliverShort();
  }

  #deliverShort(): void {
    const [command = 0, a = 0, b = 0] = this.#frame;
    this.#clear();
    const high = command & 0xf0;
    if (command < 0xf0) {
      if (high === ANALOG_MESSAGE) return this.#deliver({ type: 'analog', channel: command & 0x0f, value: a | (b << 7) });
      if (high === DIGITAL_MESSAGE) return this.#deliver({ type: 'digital', port: command & 0x0f, mask: a | (b << 7) });
      if (high === REPORT_ANALOG) return this.#deliver({ type: 'report-analog', channel: command & 0x0f, enable: a !== 0 });
      return this.#deliver({ type: 'report-digital', port: command & 0x0f, enable: a !== 0 });
    }
    if (command === SET_PIN_MODE) return this.#deliver({ type: 'set-pin-mode', pin: a, mode: b });
    if (command === SET_DIGITAL_PIN_VALUE) return this.#deliver({ type: 'set-digital-pin', pin: a, value: b });
    if (command === SYSTEM_RESET) return this.#deliver({ type: 'system-reset' });
    if (this.#options.role === 'board') return this.#deliver({ type: 'query-version' });
    return this.#deliver({ type: 'version', major: a, minor: b });
  }

  /** A whole sysex frame: `frame` is START_SYSEX, id, data… (END_SYSEX not included). */
  #sysex(frame: number[], end: number): void {
    const id = frame[1];
    const data = frame.slice(2);
    const whole = [...frame, end];
    if (id === undefined) return this.#skip('malformed', whole);
    const message = decodeSysex(id, data);
    if (message === 'unknown') return this.#skip('unknown', whole);
    if (message === undefined) return this.#skip('malformed', whole);
    this.#deliver(message);
  }

  #deliver(message: FirmataMessage): void {
    this.stats.messages++;
    this.#options.onMessage(message);
  }

  #skip(reason: SkipReason, bytes: number[]): void {
    this.stats[reason]++;
    this.stats.skippedBytes += bytes.length;
    this.#options.onSkip?.(reason, bytes);
  }
}

/** The request modes by their 2-bit code (the inverse of I2C_MODE). */
const I2C_MODES: readonly I2cRequestMode[] = (Object.keys(I2C_MODE) as I2cRequestMode[]).sort((a, b) => I2C_MODE[a] - I2C_MODE[b]);
/** Most 7-bit groups of an EXTENDED_ANALOG value: 7 × 7 = 49 bits, every value a safe integer. */
const MAX_EXTENDED_ANALOG_GROUPS = 7;

function latin1(values: number[]): string {
  return String.fromCharCode(...values.map((value) => value & 0xff));
}

/** One sysex payload as a message; `undefined` when malformed, `'unknown'` for an unknown id. */
function decodeSysex(id: number, data: number[]): FirmataMessage | undefined | 'unknown' {
  switch (id) {
    case SYSEX.REPORT_FIRMWARE:
      if (data.length === 0) return { type: 'query-firmware' };
      if (data.length < 2 || data.length % 2 !== 0) return undefined;
      return { type: 'firmware', major: data[0]!, minor: data[1]!, name: latin1(pairsToValues(data, 2)) };
    case SYSEX.CAPABILITY_QUERY:
      return data.length === 0 ? { type: 'capability-query' } : undefined;
    case SYSEX.CAPABILITY_RESPONSE: {
      const pins: PinCapability[][] = [];
      let modes: PinCapability[] = [];
      for (let i = 0; i < data.length; ) {
        if (data[i] === 0x7f) {
          pins.push(modes);
          modes = [];
          i++;
        } else {
          if (i + 1 >= data.length) return undefined;
          modes.push({ mode: data[i]!, resolution: data[i + 1]! });
          i += 2;
        }
      }
      return modes.length === 0 ? { type: 'capability-response', pins } : undefined;
    }
    case SYSEX.ANALOG_MAPPING_QUERY:
      return data.length === 0 ? { type: 'analog-mapping-query' } : undefined;
    case SYSEX.ANALOG_MAPPING_RESPONSE:
      return { type: 'analog-mapping-response', channels: data };
    case SYSEX.PIN_STATE_QUERY:
      return data.length === 1 ? { type: 'pin-state-query', pin: data[0]! } : undefined;
    case SYSEX.PIN_STATE_RESPONSE:
      if (data.length < 3 || data.length > 6) return undefined;
      return { type: 'pin-state-response', pin: data[0]!, mode: data[1]!, state: fromSevenBit(data, 2) };
    case SYSEX.SAMPLING_INTERVAL:
      return data.length === 2 ? { type: 'sampling-interval', ms: fromSevenBit(data) } : undefined;
    case SYSEX.I2C_CONFIG:
      // StandardFirmata takes the delay in the first two bytes and ignores any more.
      return data.length === 0 ? { type: 'i2c-config', delayUs: 0 } : data.length >= 2 ? { type: 'i2c-config', delayUs: fromSevenBit(data, 0, 2) } : undefined;
    case SYSEX.I2C_REQUEST: {
      if (data.length < 2 || data.length % 2 !== 0) return undefined;
      const modeByte = data[1]!;
      const tenBit = (modeByte & 0x20) !== 0;
      const address = tenBit ? data[0]! | ((modeByte & 0x07) << 7) : data[0]!;
      const mode = I2C_MODES[(modeByte >> 3) & 0x03]!;
      const values = pairsToValues(data, 2);
      // A read names the byte count, optionally after a register (StandardFirmata: argc 4 or 6).
      if ((mode === 'read' || mode === 'continuous') && (values.length < 1 || values.length > 2)) return undefined;
      if (mode === 'write' && values.some((value) => value > 0xff)) return undefined;
      return { type: 'i2c-request', address, mode, tenBit, restart: (modeByte & 0x40) !== 0, data: values };
    }
    case SYSEX.I2C_REPLY:
      if (data.length < 4 || data.length % 2 !== 0) return undefined;
      return { type: 'i2c-reply', address: fromSevenBit(data, 0, 2), register: fromSevenBit(data, 2, 2), bytes: pairsToValues(data, 4).map((v) => v & 0xff) };
    case SYSEX.STRING_DATA:
      return data.length % 2 === 0 ? { type: 'string', text: latin1(pairsToValues(data)) } : undefined;
    case SYSEX.EXTENDED_ANALOG:
      // The pin, then the value in 7-bit groups (StandardFirmata reads three). Eight groups or more
      // may pass 2^53 and come out inexact or Infinity, so such a frame is malformed.
      return data.length >= 2 && data.length <= 1 + MAX_EXTENDED_ANALOG_GROUPS ? { type: 'extended-analog', pin: data[0]!, value: fromSevenBit(data, 1) } : undefined;
    default:
      return 'unknown';
  }
}
