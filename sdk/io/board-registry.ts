/**
 * The board registry: board kind name → how to open one. `sensorkit run --board NAME[:ARGS]` and
 * the runtime's `board` setting look a kind up here, as device models look parts up in the driver
 * registry. sensorkit's own kinds (`emulated`, `firmata`, `linux`) are registered by
 * `sensorkit/runtime`; a sensor maker adds their own with `registerBoard` before starting a device
 * on it (in an application, or at the top of a `sensorkit.config.ts`).
 *
 * A board spec is `NAME` or `NAME:ARGS`; what ARGS mean is the kind's business (`firmata:PATH@BAUD`,
 * `linux:ROOT`).
 */
import type { Clock } from '../core/clock.js';
import { ArgumentError, ValidationError } from '../core/errors.js';
import type { Board } from './board.js';
import type { BoardDefinition } from './board-definitions.js';

/** What a board kind is given to open a board for a device. */
export interface BoardContext {
  /** The pin map the device is declared for (its model's `board`). */
  readonly definition: BoardDefinition;
  /** The device's clock. */
  readonly clock: Clock;
  /** Seed of the emulated world's random signals. */
  readonly seed: number;
  /** Reports something an operator should know (a serial line lost, a missing emulation). */
  readonly warn: (message: string) => void;
  /**
   * Wires the device's emulated world (its device file's `emulation()`) onto a board the kind has
   * built: a kind that emulates the device's parts calls it once, with an `EmulatedBoard`.
   */
  readonly emulate: (board: Board) => Promise<void>;
}

/** An opened board with a description for the start line ("the emulated Raspberry Pi 4, seed 1"). */
export interface OpenedBoard {
  readonly board: Board;
  readonly description: string;
}

/**
 * A kind of board: how a spec names it and how it opens.
 *
 * @example
 * ```ts
 * const bench: BoardKind = {
 *   name: 'bench',
 *   usage: 'bench[:SEED]',
 *   summary: 'the test bench in room 4',
 *   check: (args) => { if (args !== undefined && !/^\d+$/.test(args)) throw new ValidationError('', 'SEED must be digits') },
 *   open: async (args, context) => ({ board: new BenchBoard(context.definition, context.clock), description: 'the bench' }),
 * }
 * ```
 */
export interface BoardKind {
  /** The spec's name before any `:` (lower case letters, digits, `-`), e.g. `firmata`. */
  readonly name: string;
  /** How a spec of this kind is written, for help and errors, e.g. `firmata:PATH[@BAUD]`. */
  readonly usage: string;
  /** One line on what it is, for help. */
  readonly summary: string;
  /**
   * Checks the ARGS part of a spec (undefined when there is no `:`) without opening anything;
   * throws `ValidationError` (its path may name the part, e.g. `firmata:PATH`). Also run before `open`.
   */
  check?(args: string | undefined): void;
  /** Opens the board. A failure closes what it opened before it throws. */
  open(args: string | undefined, context: BoardContext): Promise<OpenedBoard>;
}

const NAME = /^[a-z][a-z0-9-]*$/;
const registry = new Map<string, BoardKind>();

/**
 * Registers a board kind. Throws `ValidationError` (path `board`) when its name is taken and
 * `ArgumentError` for a malformed definition.
 *
 * @example
 * ```ts
 * registerBoard(bench)
 * await startRuntime({ device: './device.ts', board: 'bench:7' })
 * ```
 */
export function registerBoard(kind: BoardKind): void {
  if (typeof kind !== 'object' || kind === null) throw new ArgumentError(`Expected a board kind object, got ${String(kind)}`);
  if (typeof kind.name !== 'string' || !NAME.test(kind.name)) {
    throw new ArgumentError(`Expected \`name\` of lower case letters, digits and "-", starting with a letter, got ${JSON.stringify(kind.name)}`);
  }
  if (typeof kind.open !== 'function') throw new ArgumentError(`Expected \`open\` of board kind "${kind.name}" to be a function`);
  if (kind.check !== undefined && typeof kind.check !== 'function') throw new ArgumentError(`Expected \`check\` of board kind "${kind.name}" to be a function`);
  if (typeof kind.usage !== 'string' || kind.usage === '') throw new ArgumentError(`Expected \`usage\` of board kind "${kind.name}" to be a non-empty string`);
  if (registry.has(kind.name)) throw new ValidationError('board', `a board kind "${kind.name}" is already registered`);
  registry.set(kind.name, kind);
}

/** The kind registered under `name`, or undefined. */
export function boardKind(name: string): BoardKind | undefined {
  return registry.get(name);
}

/** Every registered kind, in the order they were registered (sensorkit's own first). */
export function registeredBoards(): BoardKind[] {
  return [...registry.values()];
}

/**
 * Looks a spec's kind up and checks its ARGS, opening nothing. Throws `ValidationError` with the
 * path `board` (an unknown kind, listing the registered ones) or `board <part>` (what the kind's
 * `check` named, e.g. `board linux:ROOT: ROOT is empty`).
 *
 * @example
 * ```ts
 * checkBoardSpec('firmata:/dev/ttyACM0@115200') // { kind: <firmata>, args: '/dev/ttyACM0@115200' }
 * checkBoardSpec('esp32') // throws 'board: unknown board "esp32"; available: emulated, firmata:PATH[@BAUD], linux[:ROOT]'
 * ```
 */
export function checkBoardSpec(spec: string): { kind: BoardKind; args: string | undefined } {
  if (typeof spec !== 'string' || spec === '') throw new ValidationError('board', `expected a board like ${available()}, got ${JSON.stringify(spec)}`);
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const args = colon < 0 ? undefined : spec.slice(colon + 1);
  const kind = registry.get(name);
  if (kind === undefined) throw new ValidationError('board', `unknown board "${spec}"; available: ${available()}`);
  try {
    kind.check?.(args);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.path ? `board ${error.path}` : 'board', error.reason, { cause: error });
    throw error;
  }
  return { kind, args };
}

/**
 * Opens the board a spec names, for a device declared for `context.definition`.
 *
 * @example
 * ```ts
 * const { board, description } = await openBoardSpec('linux', { definition, clock, seed: 1, warn, emulate })
 * ```
 */
export async function openBoardSpec(spec: string, context: BoardContext): Promise<OpenedBoard> {
  const { kind, args } = checkBoardSpec(spec);
  return kind.open(args, context);
}

function available(): string {
  return registeredBoards()
    .map((kind) => kind.usage)
    .join(', ');
}
