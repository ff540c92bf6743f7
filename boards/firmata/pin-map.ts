/**
 * A Firmata board's pin map from its capability and analog-mapping replies: the IO-plugin `pins[]`
 * and a `BoardDefinition`. With a definition given (the device model's board), its names are used
 * and checked against what the board reports, so a model written for an Arduino Uno refuses a
 * board that lacks one of its pins.
 */
import { MODES, type IoPin } from '../../sdk/io/board.js';
import type { AnalogPinDefinition, BoardDefinition } from '../../sdk/io/board-definitions.js';
import { PinError } from '../../sdk/core/errors.js';
import type { FirmataIdentity } from './connection.js';
import { NO_ANALOG_CHANNEL } from './protocol/constants.js';

/**
 * Fresh IO-plugin pins from the replies (mode unset until `pinMode`, as firmata.js; analog pins
 * start in ANALOG, as StandardFirmata leaves them).
 *
 * @example
 * ```ts
 * pinsFromIdentity(identity)[14] // { supportedModes: [0, 1, 2, 11], mode: 2, analogChannel: 0, … }
 * ```
 */
export function pinsFromIdentity(identity: FirmataIdentity): IoPin[] {
  return identity.capabilities.map((modes, pin) => {
    const supported = modes.map((m) => m.mode);
    const channel = identity.analogMapping[pin] ?? NO_ANALOG_CHANNEL;
    return {
      supportedModes: supported,
      mode: channel !== NO_ANALOG_CHANNEL && supported.includes(MODES.ANALOG) ? MODES.ANALOG : undefined,
      value: 0,
      report: 0,
      analogChannel: channel,
    };
  });
}

/**
 * A definition for a board known only by its replies: pins `D0…`, analog pins `A<channel>`, the
 * ADC resolution from the ANALOG capability, one I2C bus `i2c0` when a pin supports I2C.
 *
 * @example
 * ```ts
 * derivedDefinition(identity).analogPins.map((p) => p.name) // ['A0', … 'A5'] on an Uno
 * ```
 */
export function derivedDefinition(identity: FirmataIdentity, referenceVoltage = 5): BoardDefinition {
  const analogPins: AnalogPinDefinition[] = [];
  const digitalPins: string[] = [];
  let adcBits = 10;
  const i2cPins: string[] = [];
  identity.capabilities.forEach((modes, pin) => {
    const channel = identity.analogMapping[pin] ?? NO_ANALOG_CHANNEL;
    const analog = modes.find((m) => m.mode === MODES.ANALOG);
    const name = channel !== NO_ANALOG_CHANNEL && analog !== undefined ? `A${channel}` : `D${pin}`;
    digitalPins.push(name);
    if (name.startsWith('A')) {
      analogPins.push({ name, pin, channel });
      adcBits = analog!.resolution;
    }
    if (modes.some((m) => m.mode === MODES.I2C)) i2cPins.push(name);
  });
  return {
    id: 'firmata',
    name: `Firmata board (${identity.firmware.name} ${identity.firmware.major}.${identity.firmware.minor})`,
    digitalPins,
    analogPins,
    ...(analogPins.length > 0 ? { adc: { resolution: adcBits, referenceVoltage, maxRateHz: 1000 } } : {}),
    i2cBuses: i2cPins.length >= 2 ? [{ name: 'i2c0', sda: i2cPins[0]!, scl: i2cPins[1]!, maxHz: 400_000 }] : [],
  };
}

/**
 * Checks that the board has every pin of `definition` with the capabilities it declares; throws
 * `PinError` naming the first mismatch.
 *
 * @example
 * ```ts
 * checkDefinition(ARDUINO_UNO, identity) // throws if A0 is not analog channel 0 on the board
 * ```
 */
export function checkDefinition(definition: BoardDefinition, identity: FirmataIdentity): void {
  const count = identity.capabilities.length;
  if (count < definition.digitalPins.length) {
    throw new PinError(`the Firmata board reports ${count} pins, but ${definition.name} has ${definition.digitalPins.length}: is this the right board?`);
  }
  for (const analog of definition.analogPins) {
    const modes = identity.capabilities[analog.pin] ?? [];
    if (!modes.some((m) => m.mode === MODES.ANALOG) || identity.analogMapping[analog.pin] !== analog.channel) {
      throw new PinError(`pin ${analog.name} (${analog.pin}) is not analog channel ${analog.channel} on the Firmata board (its analog mapping says ${identity.analogMapping[analog.pin] ?? 'nothing'})`);
    }
  }
  if (definition.i2cBuses.length > 0 && !identity.capabilities.some((modes) => modes.some((m) => m.mode === MODES.I2C))) {
    throw new PinError(`${definition.name} has I2C, but the Firmata board reports no I2C-capable pin (a sketch without Wire support?)`);
  }
}
