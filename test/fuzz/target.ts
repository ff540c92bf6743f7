/**
 * What a fuzz target is: an input generator and a check that throws `FuzzViolation` when a property
 * does not hold. The short run (`*.test.ts`, inside `npm test`) and the long run (`run.ts`, `npm run
 * fuzz`) drive the same targets, so a finding of the long run replays in the short one by its seed.
 */
import type fc from 'fast-check';

/**
 * One parser under fuzzing.
 *
 * @example
 * ```ts
 * const target: FuzzTarget<Uint8Array> = { name: 'x', arbitrary: fc.uint8Array(), check: (bytes) => parse(bytes), shortRuns: 2000 }
 * ```
 */
export interface FuzzTarget<T = unknown> {
  /** Short name, printed by the long run and used to pick targets on its command line. */
  readonly name: string;
  /** What the parser is held to, one line. */
  readonly property: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /**
   * Feeds one input and checks the property: returns (or resolves) when it holds, throws
   * `FuzzViolation` when it does not; any other exception escaping is itself a crash. (A method,
   * so that targets of different inputs share one list.)
   */
  check(input: T): void | Promise<void>;
  /** Inputs of the short run in `npm test`. */
  readonly shortRuns: number;
  /** Optional setup before the first input (e.g. a template outbox on disk) and teardown after the last. */
  readonly setup?: () => Promise<void>;
  readonly teardown?: () => Promise<void>;
  /** Outcome counters a target keeps beside pass/fail (e.g. how often open refused), for the long run's report. */
  readonly outcomes?: () => Readonly<Record<string, number>>;
}

/** A property that does not hold for an input (as opposed to the parser crashing on it); `hang` when the input took too long. */
export class FuzzViolation extends Error {
  override readonly name = 'FuzzViolation';

  constructor(
    message: string,
    readonly kind: 'violation' | 'hang' = 'violation',
  ) {
    super(message);
  }
}

/** Longest an input may take before it counts as a hang, ms. Generous: the machine is shared. */
export const HANG_MS = 2000;

/** Runs `work` and throws `FuzzViolation` when it takes longer than `HANG_MS` (a synchronous hang can only be measured after the fact). */
export function timed<R>(label: string, work: () => R): R {
  const start = performance.now();
  const result = work();
  const elapsed = performance.now() - start;
  if (elapsed > HANG_MS) throw new FuzzViolation(`${label} took ${elapsed.toFixed(0)} ms (limit ${HANG_MS} ms)`, 'hang');
  return result;
}

/** Awaits `promise`, or throws `FuzzViolation` after `HANG_MS` (an async hang is caught as it happens). */
export async function withDeadline<R>(label: string, promise: Promise<R>, ms = HANG_MS): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FuzzViolation(`${label} did not settle within ${ms} ms`, 'hang')), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Counts outcomes by name. */
export class Outcomes {
  readonly #counts: Record<string, number> = {};

  add(name: string): void {
    this.#counts[name] = (this.#counts[name] ?? 0) + 1;
  }

  snapshot(): Readonly<Record<string, number>> {
    return { ...this.#counts };
  }
}
