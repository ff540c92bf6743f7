/**
 * Fault injection on a target: what a plan's `fault` steps need. Emulated targets offer it (the
 * faults their emulation declares, and the board's pin and I2C faults); a real board does not.
 */
import type { Target } from './target.js';

/** A target that can inject faults into the device's world. */
export interface FaultInjecting {
  /**
   * Switches fault `fault` on at `target` (a fault the emulation declares, e.g. `transmitter`, or
   * a board target such as `i2c1@0x76` or `A0`) for `durationMs` (default: until cleared), or ends
   * every fault there with `fault: 'clear'`. `options` carry a board fault's own settings
   * (`probability` of a dropout, `sigma` of a noise burst …). Rejects with `ValidationError` for an
   * unknown target, kind or option.
   */
  injectFault(target: string, fault: string, durationMs?: number, options?: Readonly<Record<string, number | string>>): Promise<void>;
  /** The fault targets the emulation declares, with their kinds. */
  faultTargets(): readonly { readonly name: string; readonly kinds: readonly string[] }[];
}

/**
 * Whether `target` can inject faults.
 *
 * @example
 * ```ts
 * if (canInjectFaults(target)) await target.injectFault('i2c1@0x76', 'dropout', 30_000)
 * ```
 */
export function canInjectFaults(target: Target): target is Target & FaultInjecting {
  return typeof (target as Partial<FaultInjecting>).injectFault === 'function';
}
