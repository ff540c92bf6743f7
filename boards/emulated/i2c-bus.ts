/**
 * One emulated I2C bus: routes transfers to the attached register-level peripheral models and
 * applies injected faults. Both the IO-plugin path (`i2cRead` …) and the bus path (`I2cDevice`)
 * go through it, so a fault looks the same to johnny-five and to a sensorkit driver.
 *
 * Transfers complete without consuming clock time (the model has no bit timing); only the
 * `timeout` fault waits, on the board's clock, as a real bus watchdog would.
 */
import { i2cTarget, type I2cDevice, type I2cReadHandler } from '../../sdk/io/board.js';
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { BusError, StateError, ValidationError } from '../../sdk/core/errors.js';
import type { I2cPeripheral } from './peripheral.js';
import { numberProblem, show } from './expect.js';
import type { FaultInjector, InjectedFault } from './faults.js';

/** Options of {@link EmulatedI2cBus}. */
export interface EmulatedI2cBusOptions {
  readonly name: string;
  /** Highest clock the bus supports, Hz. */
  readonly maxHz: number;
  readonly clock: Clock;
  readonly faults: FaultInjector;
  /** Default wait of a `timeout` fault, ms. */
  readonly timeoutMs: number;
}

/** One transfer: an optional write, then an optional read (a repeated start when both). */
interface Transfer {
  readonly write?: Uint8Array;
  readonly readCount?: number;
}

/**
 * An emulated I2C bus.
 *
 * @example
 * ```ts
 * const bus = new EmulatedI2cBus({ name: 'i2c0', maxHz: 400_000, clock, faults, timeoutMs: 25 })
 * bus.attach(myPeripheral)
 * const device = bus.open(0x76, 100_000)
 * const id = await device.readRegister(0xd0, 1)
 * ```
 */
export class EmulatedI2cBus {
  readonly name: string;
  readonly maxHz: number;
  readonly #options: EmulatedI2cBusOptions;
  readonly #peripherals = new Map<number, I2cPeripheral>();
  /** Last register pointer written per address (keys the replies of a stuck part). */
  readonly #pointers = new Map<number, number>();
  readonly #waiting = new Set<{ timer: Timer; reject: (error: Error) => void }>();
  #closed = false;

  constructor(options: EmulatedI2cBusOptions) {
    this.name = options.name;
    this.maxHz = options.maxHz;
    this.#options = options;
  }

  /** Attaches a peripheral; throws `ValidationError` for a bad or already used address. */
  attach(peripheral: I2cPeripheral): void {
    const problem = numberProblem('address', peripheral?.address, { integer: true, min: 0x08, max: 0x77 });
    if (problem !== undefined) throw new ValidationError('peripheral.address', problem);
    const taken = this.#peripherals.get(peripheral.address);
    if (taken !== undefined) {
      throw new ValidationError(
        'peripheral.address',
        `${i2cTarget(this.name, peripheral.address)} is already used by ${taken.name}; cannot attach ${peripheral.name}`,
      );
    }
    this.#peripherals.set(peripheral.address, peripheral);
  }

  /** Opens an ECMA-419-style device at `address`. */
  open(address: number, hz: number): I2cDevice {
    const addressProblem = numberProblem('address', address, { integer: true, min: 0x08, max: 0x77 });
    if (addressProblem !== undefined) throw new ValidationError('address', addressProblem);
    const hzProblem = numberProblem('hz', hz, { integer: true, min: 1, max: this.maxHz });
    if (hzProblem !== undefined) throw new ValidationError('hz', `${hzProblem} (bus ${this.name} runs up to ${this.maxHz} Hz)`);
    let open = true;
    const run = async (transfer: Transfer): Promise<Uint8Array> => {
      if (!open) throw new StateError(`I2C device ${i2cTarget(this.name, address)} is closed`);
      return this.transfer(address, transfer);
    };
    return {
      bus: this.name,
      address,
      hz,
      read: async (count) => run({ readCount: expectCount(count) }),
      write: async (bytes) => {
        await run({ write: toBytes(bytes, 'bytes') });
      },
      readRegister: async (register, count) => run({ write: toBytes([register], 'register'), readCount: expectCount(count) }),
      writeRegister: async (register, bytes) => {
        await run({ write: toBytes([register, ...Array.from(bytes)], 'bytes') });
      },
      close: () => {
        open = false;
      },
    };
  }

  /**
   * Runs one transfer at the clock's current time: faults first, then the peripheral. Resolves
   * with the bytes read (empty for a pure write).
   */
  async transfer(address: number, transfer: Transfer): Promise<Uint8Array> {
    if (this.#closed) throw new StateError('the board is closed');
    const target = i2cTarget(this.name, address);
    const faults = this.#options.faults.on(target);
    const reads = transfer.readCount !== undefined;

    const timeout = faults.find((fault) => fault.spec.kind === 'timeout');
    if (timeout !== undefined) return this.#timeout(target, timeout);
    const refusing = faults.find((fault) => fault.kind === 'nak' || fault.kind === 'open-circuit');
    if (refusing !== undefined) throw new BusError('ERR_I2C_NAK', `${target} did not acknowledge (injected ${refusing.kind})`);
    if (reads && faults.some((fault) => fault.kind === 'dropout' && dropsOut(fault))) {
      throw new BusError('ERR_BUS_TIMEOUT', `read from ${target} failed (injected dropout)`);
    }

    const peripheral = this.#peripherals.get(address);
    // No device: nobody pulls SDA low in the address's ACK slot, exactly a NAK on real hardware.
    if (peripheral === undefined) throw new BusError('ERR_I2C_NAK', `no device acknowledged at ${target}`);
    const now = this.#options.clock.now();
    if (transfer.write !== undefined && transfer.write.length > 0) {
      peripheral.write(Uint8Array.from(transfer.write), now);
      this.#pointers.set(address, transfer.write[0]!);
    }
    if (transfer.readCount === undefined) return new Uint8Array(0);

    const stuck = faults.find((fault) => fault.kind === 'stuck');
    if (stuck === undefined) return Uint8Array.from(peripheral.read(transfer.readCount, now));
    const key = `${this.#pointers.get(address) ?? -1}:${transfer.readCount}`;
    let reply = stuck.replies.get(key);
    if (reply === undefined) {
      reply = Uint8Array.from(peripheral.read(transfer.readCount, now));
      stuck.replies.set(key, reply);
    }
    return Uint8Array.from(reply);
  }

  /** Rejects every transfer still waiting on a timeout and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const waiting of this.#waiting) {
      waiting.timer.cancel();
      waiting.reject(new StateError('the board was closed during the transfer'));
    }
    this.#waiting.clear();
  }

  #timeout(target: string, fault: InjectedFault): Promise<never> {
    const spec = fault.spec;
    const waitMs = spec.kind === 'timeout' && spec.timeoutMs !== undefined ? spec.timeoutMs : this.#options.timeoutMs;
    const clock = this.#options.clock;
    return new Promise<never>((_, reject) => {
      const waiting = {
        reject,
        timer: clock.schedule(clock.now() + waitMs, () => {
          this.#waiting.delete(waiting);
          reject(new BusError('ERR_BUS_TIMEOUT', `${target} did not answer within ${waitMs} ms (injected timeout)`));
        }),
      };
      this.#waiting.add(waiting);
    });
  }
}

function dropsOut(fault: InjectedFault): boolean {
  const p = fault.spec.kind === 'dropout' ? (fault.spec.probability ?? 1) : 1;
  return p >= 1 || fault.random.next() < p;
}

function expectCount(count: number): number {
  const problem = numberProblem('count', count, { integer: true, min: 1, max: 4096 });
  if (problem !== undefined) throw new TypeError(problem);
  return count;
}

function toBytes(bytes: ArrayLike<number>, name: string): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (typeof byte !== 'number' || !Number.isInteger(byte) || byte < 0 || byte > 0xff) {
      throw new TypeError(`Expected \`${name}\` to hold bytes (integers from 0 to 255), got ${show(byte)} at index ${i}`);
    }
    out[i] = byte;
  }
  return out;
}

/** An IO-plugin I2C read request (`i2cRead`, `i2cReadOnce`). */
export interface IoRead {
  readonly address: number;
  /** Register to write before reading; undefined reads from the current pointer. */
  readonly register: number | undefined;
  readonly count: number;
  readonly handler: I2cReadHandler;
}

/**
 * Parses the IO-plugin read arguments, `(address, count, handler)` or
 * `(address, register, count, handler)`; throws `ValidationError` for bad numbers.
 *
 * @example
 * ```ts
 * parseIoRead(0x76, 0xd0, 1, (bytes) => console.log(bytes)) // { address: 0x76, register: 0xd0, count: 1, … }
 * ```
 */
export function parseIoRead(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): IoRead {
  const read: IoRead =
    typeof countOrHandler === 'function'
      ? { address, register: undefined, count: registerOrCount, handler: countOrHandler }
      : { address, register: registerOrCount, count: countOrHandler, handler: handler! };
  if (typeof read.handler !== 'function') throw new TypeError('Expected a handler function as the last argument of i2cRead');
  const checks: [string, unknown, { integer: true; min: number; max: number }][] = [
    ['address', read.address, { integer: true, min: 0, max: 0x7f }],
    ['register', read.register ?? 0, { integer: true, min: 0, max: 0xff }],
    ['count', read.count, { integer: true, min: 1, max: 4096 }],
  ];
  for (const [name, value, rule] of checks) {
    const problem = numberProblem(name, value, rule);
    if (problem !== undefined) throw new ValidationError(`i2cRead.${name}`, problem);
  }
  return read;
}
