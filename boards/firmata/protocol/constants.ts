/**
 * Firmata 2.x command bytes (the MIDI-derived framing of the Firmata protocol document, "Message
 * Types" and "Sysex Message Format"). A command byte has its top bit set; data bytes are 7-bit.
 */

/** Commands whose low nibble carries a channel or port (0xE0 | channel …). */
export const ANALOG_MESSAGE = 0xe0;
export const DIGITAL_MESSAGE = 0x90;
export const REPORT_ANALOG = 0xc0;
export const REPORT_DIGITAL = 0xd0;

/** Single commands. */
export const SET_PIN_MODE = 0xf4;
export const SET_DIGITAL_PIN_VALUE = 0xf5;
export const REPORT_VERSION = 0xf9;
export const SYSTEM_RESET = 0xff;
export const START_SYSEX = 0xf0;
export const END_SYSEX = 0xf7;

/** Sysex command ids (the byte after START_SYSEX). */
export const SYSEX = Object.freeze({
  ANALOG_MAPPING_QUERY: 0x69,
  ANALOG_MAPPING_RESPONSE: 0x6a,
  CAPABILITY_QUERY: 0x6b,
  CAPABILITY_RESPONSE: 0x6c,
  PIN_STATE_QUERY: 0x6d,
  PIN_STATE_RESPONSE: 0x6e,
  EXTENDED_ANALOG: 0x6f,
  STRING_DATA: 0x71,
  I2C_REQUEST: 0x76,
  I2C_REPLY: 0x77,
  I2C_CONFIG: 0x78,
  REPORT_FIRMWARE: 0x79,
  SAMPLING_INTERVAL: 0x7a,
} as const);

/** I2C_REQUEST read/write mode, bits 3–4 of the second byte. */
export const I2C_MODE = Object.freeze({ write: 0b00, read: 0b01, continuous: 0b10, stop: 0b11 } as const);

/** The protocol version this implementation speaks (Firmata 2.5, as StandardFirmata 2.5.x). */
export const PROTOCOL_VERSION = Object.freeze({ major: 2, minor: 5 } as const);

/** Firmata's "this pin has no analog channel" marker in the analog-mapping reply. */
export const NO_ANALOG_CHANNEL = 0x7f;

/** Sysex payloads longer than this are refused as malformed (no Firmata reply comes close). */
export const MAX_SYSEX_BYTES = 4096;

/**
 * The most bytes one I2C transfer can carry so that its frame stays within MAX_SYSEX_BYTES: an
 * I2C_REPLY is START_SYSEX, its id, address and register (4 bytes), then two bytes per data byte.
 * (StandardFirmata's own limit is lower: the Wire buffer of 32 bytes.)
 */
export const MAX_I2C_BYTES = Math.floor((MAX_SYSEX_BYTES - 6) / 2);
