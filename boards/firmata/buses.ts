/**
 * ECMA-419-style bus objects of a Firmata board. An I2C read is a round trip over the serial line
 * (I2C_REQUEST → I2C_REPLY); a write has no acknowledgement in Firmata, so it resolves once sent.
 * An analog read is the next ANALOG_MESSAGE of the channel (or the latest, if it arrived within one
 * sampling interval): Firmata pushes analog values, it has no one-shot conversion.
 */
import { i2cTarget, type AnalogInput, type I2cDevice } from '../../sdk/io/board.js';
import { StateError, ValidationError } from '../../sdk/core/errors.js';
import { MAX_I2C_BYTES } from './protocol/constants.js';

/** What the bus objects need from their board. */
export interface FirmataBusHost {
  i2cWriteBytes(address: number, bytes: number[]): void;
  i2cReadBytes(address: number, register: number | undefined, count: number, target: string): Promise<Uint8Array>;
  analogSample(channel: number, pin: string): Promise<number>;
  releaseAnalog(channel: number): void;
}

function expectBytes(bytes: ArrayLike<number>, what: string): number[] {
  const out = Array.from(bytes);
  if (out.length > MAX_I2C_BYTES) throw new ValidationError(what, `expected at most ${MAX_I2C_BYTES} bytes (a longer Firmata I2C frame is refused), got ${out.length}`);
  for (const [i, byte] of out.entries()) {
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new ValidationError(`${what}[${i}]`, `expected a byte (0 … 255), got ${String(byte)}`);
  }
  return out;
}

function expectCount(count: number): void {
  // A longer I2C_REPLY would exceed the frame limit and be dropped: the read could only time out.
  if (!Number.isInteger(count) || count < 1 || count > MAX_I2C_BYTES) throw new ValidationError('count', `expected an integer from 1 to ${MAX_I2C_BYTES} (the longest I2C_REPLY a Firmata frame holds), got ${String(count)}`);
}

/**
 * An I2C peripheral behind a Firmata board.
 *
 * @example
 * ```ts
 * const bme = board.openI2c({ address: 0x76 })
 * const id = await bme.readRegister(0xd0, 1) // one I2C_REQUEST, one I2C_REPLY
 * ```
 */
export class FirmataI2cDevice implements I2cDevice {
  readonly bus: string;
  readonly address: number;
  readonly hz: number;
  readonly #host: FirmataBusHost;
  readonly #target: string;
  #open = true;

  constructor(host: FirmataBusHost, bus: string, address: number, hz: number) {
    this.#host = host;
    this.bus = bus;
    this.address = address;
    this.hz = hz;
    this.#target = i2cTarget(bus, address);
  }

  read(count: number): Promise<Uint8Array> {
    return this.#run(() => {
      expectCount(count);
      return this.#host.i2cReadBytes(this.address, undefined, count, this.#target);
    });
  }

  write(bytes: ArrayLike<number>): Promise<void> {
    return this.#run(async () => this.#host.i2cWriteBytes(this.address, expectBytes(bytes, 'bytes')));
  }

  readRegister(register: number, count: number): Promise<Uint8Array> {
    return this.#run(() => {
      expectBytes([register], 'register');
      expectCount(count);
      return this.#host.i2cReadBytes(this.address, register, count, this.#target);
    });
  }

  writeRegister(register: number, bytes: ArrayLike<number>): Promise<void> {
    return this.#run(async () => this.#host.i2cWriteBytes(this.address, [...expectBytes([register], 'register'), ...expectBytes(bytes, 'bytes')]));
  }

  close(): void {
    this.#open = false;
  }

  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#open) throw new StateError(`${this.#target} is closed`);
    return operation();
  }
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
