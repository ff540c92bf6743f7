/**
 * The Firmata emulator on a real pseudo-terminal (socat) for tests: an EmulatedBoard on the system
 * clock behind a FirmataPtyServer. Callers get the client path and stop it with `close()`.
 */
import { Duplex } from 'node:stream';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataPtyServer } from '../../boards/emulated/firmata/pty-server.js';
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';

export interface PtyEmulator {
  board: EmulatedBoard;
  server: FirmataPtyServer;
  /** The path a client opens. */
  path: string;
  close(): Promise<void>;
}

/** Starts the emulator; `wire` attaches signals and parts before the line opens. */
export async function startPtyEmulator(options: {
  socat: string;
  definition?: BoardDefinition | string;
  seed?: number;
  clock?: Clock;
  wire?: (board: EmulatedBoard) => void;
}): Promise<PtyEmulator> {
  const board = new EmulatedBoard({ definition: options.definition ?? 'arduino-uno', clock: options.clock ?? new SystemClock(), seed: options.seed ?? 1 });
  options.wire?.(board);
  const server = new FirmataPtyServer({ board, socat: options.socat });
  // Errors of the engine's end during a drop are expected; tests look at behaviour, not at these.
  server.on('error', () => undefined);
  let path: string;
  try {
    path = await server.start();
  } catch (error) {
    // No socat or board left behind by a failed start.
    await server.close();
    await board.close();
    throw error;
  }
  return {
    board,
    server,
    path,
    async close() {
      await server.close();
      await board.close();
    },
  };
}

/** Two connected in-memory streams: what one writes, the other reads (a zero-latency serial line). */
export function streamPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        other().push(chunk);
        done();
      },
    });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}
