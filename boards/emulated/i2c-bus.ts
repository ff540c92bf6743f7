/**
 * One emulated I2C bus: routes transfers to the attached register-level peripheral models and
 * applies injected faults. Both the IO-plugin path (`i2cRead` …) and the bus path (`I2cDevice`)
 * reach it through the board's one transfer primitive, so a fault looks the same to johnny-five
 * and to a sensorkit driver.
 *
 * Transfers complete without consuming clock time (the model has no bit timing); only the
 * `timeout` fault waits, on the board's clock, as a real bus watchdog would. The peripherals run on
 * the clock's steady time (`steadyNow`): a part's oscillator does not see a wall-time step the
 * clock follows, so its conversions and FIFO neither jump ahead nor stall for the step's length.
 */
import { i2cTarget } from '../../sdk/io/board.js';
import type { I2cTransfer } from '../../sdk/io/i2c-device.js';
import { I2C_ADDRESS } from '../../sdk/io/limits.js';
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { steadyNow } from '../../sdk/core/wall-clock-watch.js';
import { BusError, StateError, ValidationError } from '../../sdk/core/errors.js';
import type { I2cPeripheral } from './peripheral.js';
import { numberProblem } from './expect.js';
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

/**
 * An emulated I2C bus.
 *
 * @example
 * ```ts
 * const bus = new EmulatedI2cBus({ name: 'i2c0', maxHz: 400_000, clock, faults, timeoutMs: 25 })
 * bus.attach(myPeripheral)
 * const [chipId] = await bus.transfer(0x76, { write: Uint8Array.of(0xd0), readCount: 1 })
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
    const problem = numberProblem('address', peripheral?.address, { integer: true, ...I2C_ADDRESS });
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

  /**
   * Runs one transfer at the clock's current time: faults first, then the peripheral. Resolves
   * with the bytes read (empty for a pure write).
   */
  async transfer(address: number, transfer: I2cTransfer): Promise<Uint8Array> {
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
    const now = steadyNow(this.#options.clock);
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
