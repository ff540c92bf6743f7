/**
 * A simulated SCPI instrument on a raw TCP socket: what `sensorkit instrument simulate` serves, what
 * the SCPI driver is tested against, and what a test bed can dry-run a plan with. Every connection
 * talks to the same instrument (and error queue), as with a real one. For tests it can misbehave:
 * answer `*IDN?` with garbage, answer nothing, answer late, answer chosen text, or drop the
 * connection when a command arrives.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError, StateError } from '../../sdk/core/errors.js';
import { ScpiEngine, SIMULATED_KINDS, type SimulatedKind } from './scpi-engine.js';
import { headerPattern, splitMessage, type HeaderPattern } from './scpi-headers.js';
import { MAX_LINE } from './scpi-link.js';
import { SimulatedCalibrator } from './sim-calibrator.js';
import { SimulatedChamber } from './sim-chamber.js';
import type { SimulatedInstrument } from './sim-common.js';
import { SimulatedDmm } from './sim-dmm.js';
import { SimulatedPowerSupply } from './sim-supply.js';

/** Ways to make the simulator misbehave, for tests of the driver's error handling. */
export interface ScpiMisbehaviour {
  /** The answer to `*IDN?` instead of the identity (e.g. garbage). */
  readonly idn?: string;
  /** Fixed answers by header pattern, e.g. `{ 'MEASure:VOLTage[:DC]?': 'OVLD' }`. */
  readonly answers?: Readonly<Record<string, string>>;
  /** `true`: no query is answered; a list: queries matching these header patterns are not. */
  readonly silent?: boolean | readonly string[];
  /** Every answer is sent this many ms (of the simulator's clock) late. */
  readonly delayMs?: number;
  /** The connection is dropped when a message matching this header pattern arrives. */
  readonly closeOn?: string;
}

/** Options of {@link startScpiSimulator}. */
export interface ScpiSimulatorOptions {
  readonly kind: SimulatedKind;
  /** TCP port; 0 picks a free one. Default 5025. */
  readonly port?: number;
  /** Address to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string;
  /** Seed of the instrument's noise. Default 1. */
  readonly seed?: number;
  /** The instrument's clock. Default the system clock. */
  readonly clock?: Clock;
  /** The simulated instrument to serve (default: a new one of `kind` on `clock` with `seed`). */
  readonly instrument?: SimulatedInstrument;
  readonly misbehave?: ScpiMisbehaviour;
}

/** A running simulator. */
export interface ScpiSimulator {
  readonly kind: SimulatedKind;
  readonly host: string;
  readonly port: number;
  /** The instrument spec that reaches it, e.g. `scpi-tcp:127.0.0.1:5025`. */
  readonly spec: string;
  readonly instrument: SimulatedInstrument;
  readonly engine: ScpiEngine;
  /** Messages received so far (all connections), for tests. */
  readonly received: readonly string[];
  /** Stops listening and drops every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the simulated instrument of a kind.
 *
 * @example
 * ```ts
 * const chamber = createSimulatedInstrument('chamber', { clock, seed: 1 })
 * ```
 */
export function createSimulatedInstrument(kind: SimulatedKind, options: { clock: Clock; seed: number; id?: string }): SimulatedInstrument {
  switch (kind) {
    case 'dmm':
      return new SimulatedDmm(options);
    case 'calibrator':
      return new SimulatedCalibrator(options);
    case 'supply':
      return new SimulatedPowerSupply(options);
    case 'chamber':
      return new SimulatedChamber(options);
    default:
      throw new ArgumentError(`Expected a kind of simulated instrument (${SIMULATED_KINDS.join(', ')}), got ${JSON.stringify(kind)}`);
  }
}

/**
 * Starts a simulated SCPI instrument on TCP; resolves once it listens. Rejects with `StateError`
 * when the port cannot be bound.
 *
 * @example
 * ```ts
 * const simulator = await startScpiSimulator({ kind: 'dmm', port: 0, seed: 7 })
 * const dmm = await ScpiInstrument.tcp(simulator.host, simulator.port)
 * await dmm.measure('voltage-dc')
 * await dmm.close()
 * await simulator.close()
 * ```
 */
export async function startScpiSimulator(options: ScpiSimulatorOptions): Promise<ScpiSimulator> {
  const port = options.port ?? 5025;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ArgumentError(`Expected \`port\` to be an integer from 0 to 65535, got ${String(options.port)}`);
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? 1;
  const clock = options.clock ?? new SystemClock({ precisionWindowMs: 0 });
  const instrument = options.instrument ?? createSimulatedInstrument(options.kind, { clock, seed });
  const engine = new ScpiEngine(instrument);
  const misbehave = compileMisbehaviour(options.misbehave ?? {});
  const received: string[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    // After an overlong message, the rest of it up to its newline is dropped too.
    let discarding = false;
    let chain: Promise<void> = Promise.resolve();
    // Messages run in order, each after the previous one's (possibly late) answer; one that fails
    // does not stop the ones after it.
    const enqueue = (step: () => Promise<void> | void): void => {
      chain = chain.then(step).catch(() => undefined);
    };
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const message = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (discarding) {
          discarding = false;
          continue;
        }
        if (message.length > MAX_LINE) {
          enqueue(() => engine.queueError(-223, 'Too much data'));
          continue;
        }
        enqueue(() => serve(message, socket));
      }
      if (buffer.length > MAX_LINE) {
        buffer = '';
        // Queued in turn with the messages before it.
        if (!discarding) enqueue(() => engine.queueError(-223, 'Too much data'));
        discarding = true;
      }
    });
  });

  async function serve(message: string, socket: Socket): Promise<void> {
    if (socket.destroyed) return;
    received.push(message);
    const { header } = splitMessage(message);
    if (misbehave.closeOn?.matches(header)) {
      socket.destroy();
      return;
    }
    const fixed = misbehave.answers.find(([pattern]) => pattern.matches(header));
    const answer = fixed !== undefined ? fixed[1] : await engine.execute(message);
    if (answer === undefined || misbehave.silent(header)) return;
    if (misbehave.delayMs > 0) await new Promise<void>((resolve) => clock.schedule(clock.now() + misbehave.delayMs, resolve));
    if (!socket.destroyed) socket.write(`${answer}\n`, 'latin1');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new StateError(`cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    kind: options.kind,
    host,
    port: boundPort,
    spec: `scpi-tcp:${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    instrument,
    engine,
    received,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

function compileMisbehaviour(m: ScpiMisbehaviour): { answers: [HeaderPattern, string][]; silent: (header: string) => boolean; delayMs: number; closeOn: HeaderPattern | undefined } {
  const answers: [HeaderPattern, string][] = Object.entries(m.answers ?? {}).map(([pattern, answer]) => [headerPattern(pattern), answer]);
  if (m.idn !== undefined) answers.unshift([headerPattern('*IDN?'), m.idn]);
  const silentPatterns = Array.isArray(m.silent) ? m.silent.map((p: string) => headerPattern(p)) : [];
  const delayMs = m.delayMs ?? 0;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new ArgumentError(`Expected \`delayMs\` to be a finite number from 0 and up, got ${String(m.delayMs)}`);
  return {
    answers,
    silent: (header) => m.silent === true || silentPatterns.some((p) => p.matches(header)),
    delayMs,
    closeOn: m.closeOn === undefined ? undefined : headerPattern(m.closeOn),
  };
}
