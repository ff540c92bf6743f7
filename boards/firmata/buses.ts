/**
 * The analog input of a Firmata board. Firmata pushes analog values, it has no one-shot
 * conversion: a read is the next ANALOG_MESSAGE of the channel (or the latest, if it arrived within
 * one sampling interval). I2C devices are the shared `I2cTransferDevice` (sdk/io).
 */
import type { AnalogInput } from '../../sdk/io/board.js';
import { StateError } from '../../sdk/core/errors.js';

/** What the analog input needs from its board. */
export interface FirmataBusHost {
  analogSample(channel: number, pin: string): Promise<number>;
  releaseAnalog(channel: number): void;
}

/**
 * An analog input of a Firmata board; opening it turns the channel's reporting on.
 *
 * @example
 * ```ts
 * const a0 = board.openAnalogInput({ pin: 'A0' })
 * const counts = await a0.read() // 0 … 1023 on an Uno
 * ```
 */
export class FirmataAnalogInput implements AnalogInput {
  readonly pin: string;
  readonly resolution: number;
  readonly referenceVoltage: number;
  readonly #host: FirmataBusHost;
  readonly #channel: number;
  #open = true;

  constructor(host: FirmataBusHost, pin: string, channel: number, resolution: number, referenceVoltage: number) {
    this.#host = host;
    this.pin = pin;
    this.#channel = channel;
    this.resolution = resolution;
    this.referenceVoltage = referenceVoltage;
  }

  async read(): Promise<number> {
    if (!this.#open) throw new StateError(`analog input ${this.pin} is closed`);
    return this.#host.analogSample(this.#channel, this.pin);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#host.releaseAnalog(this.#channel);
  }
}
