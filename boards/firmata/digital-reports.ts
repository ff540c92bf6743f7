/**
 * The digital side of a Firmata host: which ports report (REPORT_DIGITAL), and which pin changes a
 * DIGITAL_MESSAGE carries. A port message holds all 8 pins of the port (Firmata protocol, "Digital
 * I/O Message"), so each pin's report is delivered only when its value changed, or when it is the
 * first report after `digitalRead` (a board answers REPORT_DIGITAL with the port's state).
 */
import { MODES, type IoPin } from '../../sdk/io/board.js';

/**
 * Digital reports of one board.
 *
 * @example
 * ```ts
 * const digital = new DigitalReports()
 * const port = digital.watch(2)                 // 0: send REPORT_DIGITAL for port 0
 * digital.received(0, 0b100, pins, (pin, value) => console.log(pin, value)) // 2 1
 * ```
 */
export class DigitalReports {
  readonly #ports = new Set<number>();
  /** Pins whose next port report is their first: delivered even when unchanged. */
  readonly #first = new Set<number>();

  /** The ports that report (to ask again after a reconnect). */
  get ports(): ReadonlySet<number> {
    return this.#ports;
  }

  /** A pin starts reporting; returns its port. */
  watch(pin: number): number {
    this.#first.add(pin);
    const port = pin >> 3;
    this.#ports.add(port);
    return port;
  }

  /** A DIGITAL_MESSAGE: updates `pins` and calls `changed` for each reporting input pin whose value it changes. */
  received(port: number, mask: number, pins: IoPin[], changed: (pin: number, value: number) => void): void {
    for (let bit = 0; bit < 8; bit++) {
      const index = port * 8 + bit;
      const pin = pins[index];
      if (pin === undefined || pin.mode === MODES.OUTPUT) continue;
      const value = (mask >> bit) & 1;
      const isNew = pin.value !== value || this.#first.delete(index);
      pin.value = value;
      if (pin.report === 1 && isNew) changed(index, value);
    }
  }
}
