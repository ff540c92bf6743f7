/**
 * Instruments by spec, as plans, station files and the command line name them:
 *
 * - `sim:dmm`, `sim:calibrator`, `sim:supply`, `sim:chamber` — simulated on the harness's clock;
 * - `scpi-tcp:HOST[:PORT]` — SCPI over a raw socket (port 5025 by default; IPv6 as `[::1]:5025`);
 * - `scpi-serial:PATH[@BAUD]` — SCPI over a serial port (9600 baud by default).
 *
 * A SCPI spec may end in `?timeout=MS`: how long each answer is awaited (default 2000 ms, at most
 * 600 000), for a DMM integrating over 100 power-line cycles or a chamber that answers slowly, e.g.
 * `scpi-tcp:192.168.1.20:5025?timeout=10000`.
 *
 * Connecting identifies the instrument: one that does not is refused before anything runs.
 */
import type { Clock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import type { ConnectedInstrument } from '../run/run-options.js';
import { InstrumentError } from './errors.js';
import type { InstrumentCertificate } from './instrument.js';
import type { ScpiDialect } from './scpi-dialect.js';
import { SIMULATED_KINDS, type SimulatedKind } from './scpi-engine.js';
import { ScpiInstrument } from './scpi-instrument.js';
import type { ScpiTerminator } from './scpi-link.js';
import { createSimulatedInstrument } from './scpi-simulator.js';

/** A parsed instrument spec. */
export type InstrumentSpec =
  | { readonly kind: 'sim'; readonly simulated: SimulatedKind }
  | { readonly kind: 'scpi-tcp'; readonly host: string; readonly port: number; readonly timeoutMs?: number }
  | { readonly kind: 'scpi-serial'; readonly path: string; readonly baudRate: number; readonly timeoutMs?: number };

const FORMS = 'sim:dmm|calibrator|supply|chamber, scpi-tcp:HOST[:PORT][?timeout=MS] or scpi-serial:PATH[@BAUD][?timeout=MS]';
/** Largest answer timeout a spec may set, ms. */
const MAX_TIMEOUT_MS = 600_000;

/**
 * Parses an instrument spec; `ValidationError` (at `path`) naming the accepted forms otherwise.
 *
 * @example
 * ```ts
 * parseInstrumentSpec('scpi-tcp:192.168.1.20')    // { kind: 'scpi-tcp', host: '192.168.1.20', port: 5025 }
 * parseInstrumentSpec('scpi-serial:/dev/ttyUSB0@19200') // { kind: 'scpi-serial', path: '/dev/ttyUSB0', baudRate: 19200 }
 * parseInstrumentSpec('scpi-tcp:10.0.0.7?timeout=10000') // { kind: 'scpi-tcp', host: '10.0.0.7', port: 5025, timeoutMs: 10000 }
 * ```
 */
export function parseInstrumentSpec(spec: string, path = 'instrument'): InstrumentSpec {
  const bad = (why: string): ValidationError => new ValidationError(path, `${JSON.stringify(spec)} ${why} (expected ${FORMS})`);
  if (typeof spec !== 'string') throw new ValidationError(path, `expected an instrument spec (${FORMS}), got ${typeof spec}`);
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? spec : spec.slice(0, colon);
  const question = spec.indexOf('?', colon + 1);
  const rest = colon < 0 ? '' : spec.slice(colon + 1, question < 0 ? undefined : question);
  const query = question < 0 ? undefined : spec.slice(question + 1);
  let timeout: { timeoutMs?: number } = {};
  if (query !== undefined) {
    if (scheme === 'sim') throw bad('takes no options');
    const match = /^timeout=(\d+)$/.exec(query);
    if (match === null) throw bad(`has options "${query}"; the only one is timeout=MS`);
    const timeoutMs = Number(match[1]);
    if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) throw bad(`has timeout ${timeoutMs} ms, outside 1 to ${MAX_TIMEOUT_MS}`);
    timeout = { timeoutMs };
  }
  switch (scheme) {
    case 'sim': {
      if (!SIMULATED_KINDS.includes(rest as SimulatedKind)) throw bad(`names no simulated instrument`);
      return { kind: 'sim', simulated: rest as SimulatedKind };
    }
    case 'scpi-tcp': {
      const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d+))?$/.exec(rest);
      if (match === null) throw bad('has no HOST[:PORT]');
      const port = match[3] === undefined ? 5025 : Number(match[3]);
      if (port < 1 || port > 65_535) throw bad(`has port ${port}, outside 1 to 65535`);
      return { kind: 'scpi-tcp', host: match[1] ?? match[2]!, port, ...timeout };
    }
    case 'scpi-serial': {
      const match = /^(.+?)(?:@(\d+))?$/.exec(rest);
      if (match === null || match[1]!.trim() === '') throw bad('has no PATH');
      const baudRate = match[2] === undefined ? 9600 : Number(match[2]);
      if (baudRate < 50 || baudRate > 4_000_000) throw bad(`has baud rate ${baudRate}, outside 50 to 4000000`);
      return { kind: 'scpi-serial', path: match[1]!, baudRate, ...timeout };
    }
    default:
      throw bad('is not an instrument spec');
  }
}

/** Options of {@link connectInstrument}. */
export interface ConnectInstrumentOptions {
  /** The harness's clock (simulated instruments run on it; readings carry its time). */
  readonly clock: Clock;
  /** Seed of a simulated instrument's noise. */
  readonly seed: number;
  /** The plan's role for it (the instrument's `id`). Default: the simulated kind, or `instrument`. */
  readonly role?: string;
  /** Same as `role`. */
  readonly id?: string;
  /** SCPI: how long an answer is awaited, ms. Default 2000; a spec's `?timeout=MS` wins. */
  readonly timeoutMs?: number;
  /** SCPI: dialect overrides per `*IDN?` model, and for this instrument. */
  readonly models?: Readonly<Record<string, ScpiDialect>>;
  readonly dialect?: ScpiDialect;
  /** SCPI: the instrument's calibration certificate. */
  readonly certificate?: InstrumentCertificate;
  /** SCPI: what ends each message sent, `\n` (default) or `\r\n`. */
  readonly terminator?: ScpiTerminator;
  /** SCPI: whether `SYST:ERR?` is read after each command (default true; false for instruments without it). */
  readonly checkErrors?: boolean;
}

/**
 * Opens an instrument from its spec and identifies it. Rejects with a one-line typed error:
 * `ValidationError` for a malformed spec, `InstrumentError` (`connect`) when the line cannot be
 * opened, `InstrumentError` (`not-identified`) when `*IDN?` gets no answer or garbage.
 *
 * @example
 * ```ts
 * const { instrument, connection } = await connectInstrument('scpi-tcp:127.0.0.1:5025', { clock, seed: 1, role: 'dmm' })
 * const sim = await connectInstrument('sim:chamber', { clock: target.clock, seed: 1 })
 * ```
 */
export async function connectInstrument(spec: string, options: ConnectInstrumentOptions): Promise<ConnectedInstrument> {
  const role = options.role ?? options.id;
  const parsed = parseInstrumentSpec(spec, role === undefined ? 'instrument' : `instruments.${role}`);
  if (parsed.kind === 'sim') {
    const instrument = createSimulatedInstrument(parsed.simulated, { clock: options.clock, seed: options.seed, id: role ?? parsed.simulated });
    await instrument.identify();
    return { instrument, connection: `sim:${parsed.simulated}` };
  }
  const scpiOptions = {
    id: role ?? 'instrument',
    clock: options.clock,
    ...((parsed.timeoutMs ?? options.timeoutMs) === undefined ? {} : { timeoutMs: parsed.timeoutMs ?? options.timeoutMs }),
    ...(options.models === undefined ? {} : { models: options.models }),
    ...(options.dialect === undefined ? {} : { dialect: options.dialect }),
    ...(options.certificate === undefined ? {} : { certificate: options.certificate }),
    ...(options.terminator === undefined ? {} : { terminator: options.terminator }),
    ...(options.checkErrors === undefined ? {} : { checkErrors: options.checkErrors }),
  };
  const instrument = parsed.kind === 'scpi-tcp' ? await ScpiInstrument.tcp(parsed.host, parsed.port, scpiOptions) : await ScpiInstrument.serial(parsed.path, parsed.baudRate, scpiOptions);
  try {
    await instrument.identify();
  } catch (error) {
    await instrument.close();
    const detail = error instanceof InstrumentError ? error.detail : error instanceof Error ? error.message : String(error);
    // The command that failed, e.g. `*IDN?: SYST:ERR?` when the error check after *IDN? got garbage.
    const command = error instanceof InstrumentError && error.command.startsWith('*IDN?') ? error.command : '*IDN?';
    throw new InstrumentError('not-identified', { instrument: instrument.id, command, connection: instrument.connection }, `the instrument did not identify: ${detail}`, { cause: error });
  }
  return { instrument, connection: instrument.connection };
}
