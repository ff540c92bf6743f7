/**
 * A board's pins: the IO-plugin `pins[]` (built from a board definition, or given by a board that
 * reports its own, as Firmata does), and the name and number lookups johnny-five and Firmata use.
 */
import { MODES, type IoPin } from './board.js';
import { boardDefinition, BOARD_DEFINITIONS, type AnalogPinDefinition, type BoardDefinition } from './board-definitions.js';
import { PinError, ValidationError } from '../core/errors.js';
import { show } from './checks.js';

/**
 * PWM-capable pins per built-in board. The definitions do not carry timers, so they live here:
 * ATmega328P OC2B/OC0B/OC0A/OC1A/OC1B/OC2A on D3, D5, D6, D9, D10, D11; BCM2711 PWM0/PWM1 on
 * GPIO12, 13, 18, 19. Other definitions get no PWM pins.
 */
const PWM_PINS: Readonly<Record<string, readonly string[]>> = {
  'arduino-uno': ['D3', 'D5', 'D6', 'D9', 'D10', 'D11'],
  'raspberry-pi-4': ['GPIO12', 'GPIO13', 'GPIO18', 'GPIO19'],
};

/** Firmata's "no analog channel" marker in `pins[].analogChannel`. */
const NO_CHANNEL = 127;

/** Options of {@link PinMap}. */
export interface PinMapOptions {
  /** The board's own `pins[]` (a Firmata board's capability reply); default: built from the definition. */
  readonly pins?: IoPin[];
  /** Whether the pins offer GPIO (INPUT, OUTPUT, PULLUP, PWM, SERVO); default true. */
  readonly gpio?: boolean;
}

/**
 * The pin map of one board.
 *
 * @example
 * ```ts
 * const map = new PinMap(ARDUINO_UNO)
 * map.normalize('A0')  // 14
 * map.analog(0).name   // 'A0' (Firmata passes the channel)
 * map.analog(14).name  // 'A0' (other IO plugins pass the pin)
 * ```
 */
export class PinMap {
  readonly definition: BoardDefinition;
  /** Fresh `pins[]` for the IO-plugin contract (the board mutates mode, value and report). */
  readonly pins: IoPin[];

  constructor(definition: BoardDefinition, options: PinMapOptions = {}) {
    this.definition = definition;
    this.pins = options.pins ?? PinMap.#pinsOf(definition, options.gpio ?? true);
  }

  static #pinsOf(definition: BoardDefinition, gpio: boolean): IoPin[] {
    const pwm = PWM_PINS[definition.id] ?? [];
    const i2cPins = new Set(definition.i2cBuses.flatMap((bus) => [bus.sda, bus.scl]));
    return definition.digitalPins.map((name, index) => {
      const analog = definition.analogPins.find((pin) => pin.pin === index);
      const modes: number[] = gpio ? [MODES.INPUT, MODES.OUTPUT, MODES.PULLUP] : [];
      if (gpio && pwm.includes(name)) modes.push(MODES.PWM, MODES.SERVO);
      if (analog !== undefined) modes.push(MODES.ANALOG);
      if (i2cPins.has(name)) modes.push(MODES.I2C);
      return {
        supportedModes: modes.sort((a, b) => a - b),
        // StandardFirmata starts analog pins in ANALOG mode; others are unset until pinMode().
        mode: analog === undefined ? undefined : MODES.ANALOG,
        value: 0,
        report: 0,
        analogChannel: analog?.channel ?? NO_CHANNEL,
      };
    });
  }

  /** Pin name of index `pin`, e.g. "D13". */
  nameOf(pin: number): string {
    return this.definition.digitalPins[pin] ?? String(pin);
  }

  /**
   * Maps "A0", "D13", "GPIO17", "13" or 13 to the index in `pins`; throws `PinError` for a pin
   * the board does not have.
   */
  normalize(pin: number | string): number {
    if (typeof pin === 'number') {
      if (Number.isInteger(pin) && pin >= 0 && pin < this.pins.length) return pin;
    } else if (typeof pin === 'string') {
      const name = pin.trim();
      const names = this.definition.digitalPins;
      const byName = names.includes(name) ? names.indexOf(name) : names.indexOf(name.toUpperCase());
      if (byName >= 0) return byName;
      if (/^\d+$/.test(name)) return this.normalize(Number(name));
    }
    throw new PinError(`pin ${show(pin)} does not exist on ${this.definition.name} (pins: ${this.definition.digitalPins.join(', ')})`);
  }

  /**
   * The analog input `pin` refers to. A number is an analog channel first (Firmata's convention:
   * `analogRead(0)` is A0), otherwise a pin index (`analogRead(14)` from plugins that pass
   * normalized pins); a string is a pin name.
   */
  analog(pin: number | string): AnalogPinDefinition {
    const analogPins = this.definition.analogPins;
    if (typeof pin === 'number') {
      const byChannel = analogPins.find((candidate) => candidate.channel === pin);
      if (byChannel !== undefined) return byChannel;
    }
    const index = this.normalize(pin);
    const found = analogPins.find((candidate) => candidate.pin === index);
    if (found !== undefined) return found;
    throw this.notAnalog(pin);
  }

  /** The error for a pin that is not an analog input. */
  notAnalog(pin: unknown): PinError {
    const analogPins = this.definition.analogPins;
    if (analogPins.length === 0) {
      return new PinError(
        `${this.definition.name} has no analog inputs (no on-board ADC), so ${show(pin)} cannot be read as analog; use an ADC part such as the ADS1115 on I2C`,
      );
    }
    return new PinError(
      `pin ${show(pin)} is not an analog input of ${this.definition.name} (analog pins: ${analogPins.map((p) => p.name).join(', ')})`,
    );
  }

  /** Throws `PinError` when `pin` does not support `mode`. */
  expectMode(pin: number, mode: number): void {
    const modes = this.pins[pin]?.supportedModes ?? [];
    if (!modes.includes(mode)) {
      throw new PinError(
        `pin ${this.nameOf(pin)} does not support mode ${modeName(mode)} on ${this.definition.name} (supported: ${modes.map(modeName).join(', ')})`,
      );
    }
  }
}

/**
 * The name of a mode value, e.g. "ANALOG (0x02)".
 *
 * @example
 * ```ts
 * modeName(MODES.PWM) // 'PWM (0x03)'
 * ```
 */
export function modeName(mode: number): string {
  const name = Object.entries(MODES).find(([, value]) => value === mode)?.[0] ?? 'UNKNOWN';
  return `${name} (0x${mode.toString(16).padStart(2, '0')})`;
}

/**
 * A board definition from an id or a definition object; throws `ValidationError` for an unknown id
 * or an inconsistent definition (analog pins without an ADC, analog pins not in `digitalPins`).
 *
 * @example
 * ```ts
 * resolveBoardDefinition('arduino-uno').analogPins.length // 6
 * ```
 */
export function resolveBoardDefinition(definition: BoardDefinition | string): BoardDefinition {
  if (typeof definition === 'string') {
    const found = boardDefinition(definition);
    if (found === undefined) {
      throw new ValidationError('definition', `unknown board ${show(definition)} (known: ${Object.keys(BOARD_DEFINITIONS).join(', ')})`);
    }
    return found;
  }
  if (typeof definition !== 'object' || definition === null || !Array.isArray(definition.digitalPins) || !Array.isArray(definition.analogPins)) {
    throw new ValidationError('definition', `expected a BoardDefinition or a board id, got ${show(definition)}`);
  }
  if (definition.analogPins.length > 0 && definition.adc === undefined) {
    throw new ValidationError('definition.adc', `board ${show(definition.id)} has analog pins but no adc`);
  }
  for (const [i, pin] of definition.analogPins.entries()) {
    if (definition.digitalPins[pin.pin] !== pin.name) {
      throw new ValidationError(`definition.analogPins[${i}].pin`, `pin ${pin.pin} is ${show(definition.digitalPins[pin.pin])} in digitalPins, not ${show(pin.name)}`);
    }
  }
  return definition;
}
