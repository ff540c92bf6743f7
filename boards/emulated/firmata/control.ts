/**
 * Control commands of a running Firmata emulator, one per line (stdin of `sensorkit emulate
 * firmata`): inject and clear faults, drop the line, read the counters.
 *
 *   fault TARGET KIND [DURATION_MS] [sigma=V] [probability=P] [timeoutMs=MS] [wiring=pull-up|pull-down]
 *   clear            end every fault
 *   faults           list the active faults
 *   stats            the engine's counters (JSON)
 *   drop             drop the serial line (the client sees a lost line and reopens it)
 *   help             this list
 */
import { SensorkitError } from '../../../sdk/core/errors.js';
import type { FaultSpec, Faults } from '../faults.js';
import type { FirmataEngineStats } from './engine.js';

/** What the commands act on. */
export interface ControlTarget {
  readonly faults: Faults;
  readonly stats: () => FirmataEngineStats;
  readonly drop: () => void;
}

/**
 * The commands, for `help` and `sensorkit emulate --help`.
 *
 * @example
 * ```ts
 * process.stdout.write(`${CONTROL_HELP}\n`)
 * ```
 */
export const CONTROL_HELP = `commands:
  fault TARGET KIND [DURATION_MS] [sigma=V] [probability=P] [timeoutMs=MS] [wiring=pull-up|pull-down]
           TARGET: an analog pin (A0) or an I2C target (i2c0@0x76); KIND: stuck, open-circuit
           (wiring=), noise-burst (needs sigma=), dropout (probability=), nak, timeout (timeoutMs=)
           e.g. "fault i2c1@0x76 nak 5000", "fault A0 stuck", "fault A0 noise-burst sigma=0.2"
  clear    end every fault
  faults   list the active faults
  stats    the engine's counters (JSON: messages, skipped frames, sessions …)
  drop     drop the serial line (the client sees a lost line and reopens it)
  help     this list
A bad command is answered with one line starting "error:"; the engine keeps serving.`;

/** The option each fault kind takes. */
const OPTION_OF_KIND: Readonly<Record<string, string>> = { sigma: 'noise-burst', probability: 'dropout', timeoutMs: 'timeout', wiring: 'open-circuit' };

/** Commands that take no arguments. */
const BARE = new Set(['help', 'clear', 'faults', 'stats', 'drop']);

/**
 * Runs one control line; returns the reply (one or more lines). Never throws: a bad command's
 * reply starts with "error:".
 *
 * @example
 * ```ts
 * runControlCommand('fault i2c1@0x76 nak 5000', { faults: board.faults, stats: () => engine.stats, drop: () => server.drop() })
 * // 'ok: fault 1 nak on i2c1@0x76 for 5000 ms'
 * ```
 */
export function runControlCommand(line: string, target: ControlTarget): string {
  const [command, ...args] = line.trim().split(/\s+/);
  if (command !== undefined && BARE.has(command) && args.length > 0) return `error: ${command} takes no arguments, got "${args.join(' ')}"`;
  try {
    switch (command) {
      case undefined:
      case '':
        return '';
      case 'help':
        return CONTROL_HELP;
      case 'clear':
        target.faults.clearAll();
        return 'ok: faults cleared';
      case 'faults': {
        const active = target.faults.active();
        if (active.length === 0) return 'no active faults';
        return active.map((f) => `${f.id} ${f.kind} on ${f.target}${Number.isFinite(f.endMs) ? ` until ${new Date(f.endMs).toISOString()}` : ''}`).join('\n');
      }
      case 'stats':
        return JSON.stringify(target.stats());
      case 'drop':
        target.drop();
        return 'ok: line dropped';
      case 'fault':
        return inject(args, target.faults);
      default:
        return `error: unknown command "${command}" (try help)`;
    }
  } catch (error) {
    const message = error instanceof SensorkitError || error instanceof TypeError ? error.message : String(error);
    // One line, whatever the error says.
    return `error: ${message.split('\n')[0]}`;
  }
}

function inject(args: string[], faults: Faults): string {
  const [targetName, kind, ...rest] = args;
  if (targetName === undefined || kind === undefined) return 'error: usage: fault TARGET KIND [DURATION_MS] [key=value …]';
  const spec: Record<string, unknown> = { target: targetName, kind };
  for (const arg of rest) {
    const equals = arg.indexOf('=');
    if (equals < 0) {
      const duration = Number(arg);
      if (!Number.isFinite(duration) || duration <= 0) return `error: DURATION_MS must be a number above 0, got "${arg}"`;
      if (spec.durationMs !== undefined) return `error: DURATION_MS given twice ("${String(spec.durationMs)}" and "${arg}")`;
      spec.durationMs = duration;
      continue;
    }
    const key = arg.slice(0, equals);
    const value = arg.slice(equals + 1);
    const kindOfKey = OPTION_OF_KIND[key];
    if (kindOfKey === undefined) return `error: unknown option "${key}" (sigma, probability, timeoutMs, wiring)`;
    if (kindOfKey !== kind) return `error: ${key}= applies to ${kindOfKey} faults only, not ${kind}`;
    if (value === '') return `error: ${key}= needs a value`;
    if (spec[key] !== undefined) return `error: ${key}= given twice`;
    // Number('') is 0 and Number(' ') too: only non-empty values get here.
    spec[key] = key === 'wiring' ? value : Number(value);
  }
  const fault = faults.inject(spec as unknown as FaultSpec);
  return `ok: fault ${fault.id} ${fault.kind} on ${fault.target}${spec.durationMs === undefined ? ' until cleared' : ` for ${String(spec.durationMs)} ms`}`;
}
