/**
 * Board definitions: the pin maps the device model is validated against, so a driver bound to a pin
 * or bus the board lacks fails at definition time, with the path of the bad field.
 */

/** An analog input pin. */
export interface AnalogPinDefinition {
  /** Name used in device models, e.g. "A0". */
  readonly name: string;
  /** Index in the IO-plugin `pins` array. */
  readonly pin: number;
  /** ADC channel number (what johnny-five passes to `analogRead`). */
  readonly channel: number;
}

/** An I2C bus. */
export interface I2cBusDefinition {
  readonly name: string;
  /** Pins used by the bus (informative). */
  readonly sda: string;
  readonly scl: string;
  /** Highest clock the bus supports, Hz. */
  readonly maxHz: number;
}

/** A board's pin map and on-board converters. */
export interface BoardDefinition {
  readonly id: string;
  readonly name: string;
  /** Digital pin names in `pins` order (analog pins included, as on Firmata boards). */
  readonly digitalPins: readonly string[];
  readonly analogPins: readonly AnalogPinDefinition[];
  /** On-board ADC, absent on boards without one (Raspberry Pi). */
  readonly adc?: { readonly resolution: number; readonly referenceVoltage: number; readonly maxRateHz: number };
  readonly i2cBuses: readonly I2cBusDefinition[];
  /** Pin of the on-board LED, if any. */
  readonly defaultLed?: number;
}

/** Arduino Uno R3-like: 14 digital pins, A0–A5 on a 10-bit 5 V ADC, one I2C bus on A4/A5. */
export const ARDUINO_UNO: BoardDefinition = Object.freeze({
  id: 'arduino-uno',
  name: 'Arduino Uno (ATmega328P)',
  digitalPins: [...Array.from({ length: 14 }, (_, i) => `D${i}`), 'A0', 'A1', 'A2', 'A3', 'A4', 'A5'],
  analogPins: Array.from({ length: 6 }, (_, channel) => ({ name: `A${channel}`, pin: 14 + channel, channel })),
  // ~10 kS/s is the ATmega328P's practical limit at the default ADC prescaler.
  adc: { resolution: 10, referenceVoltage: 5, maxRateHz: 10_000 },
  i2cBuses: [{ name: 'i2c0', sda: 'A4', scl: 'A5', maxHz: 400_000 }],
  defaultLed: 13,
});

/** Raspberry Pi 4-like: GPIO0–GPIO27, no ADC (use an ADS1115 on I2C), I2C bus 1 on GPIO2/GPIO3. */
export const RASPBERRY_PI_4: BoardDefinition = Object.freeze({
  id: 'raspberry-pi-4',
  name: 'Raspberry Pi 4 Model B',
  digitalPins: Array.from({ length: 28 }, (_, i) => `GPIO${i}`),
  analogPins: [],
  i2cBuses: [{ name: 'i2c1', sda: 'GPIO2', scl: 'GPIO3', maxHz: 400_000 }],
});

/** Every built-in definition, by id. */
export const BOARD_DEFINITIONS: Readonly<Record<string, BoardDefinition>> = Object.freeze({
  [ARDUINO_UNO.id]: ARDUINO_UNO,
  [RASPBERRY_PI_4.id]: RASPBERRY_PI_4,
});

/**
 * Looks up a board definition by id.
 *
 * @example
 * ```ts
 * boardDefinition('arduino-uno')?.analogPins.map((p) => p.name) // ['A0', …, 'A5']
 * ```
 */
export function boardDefinition(id: string): BoardDefinition | undefined {
  // Own properties only: "toString" or "__proto__" is not a board.
  return Object.hasOwn(BOARD_DEFINITIONS, id) ? BOARD_DEFINITIONS[id] : undefined;
}
