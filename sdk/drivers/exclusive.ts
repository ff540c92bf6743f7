/**
 * One-at-a-time access to a part. A driver's `configure()` and `sample()` both talk to the part over
 * several bus transfers and clock waits; two of them interleaved would mix a register write into
 * another's conversion, so a driver runs each through one `Exclusive`.
 */

/**
 * Runs async tasks one at a time, in call order. A task starts once the task before it has settled,
 * whether it resolved or rejected: a failed task does not block the next.
 *
 * @example
 * ```ts
 * const exclusive = new Exclusive()
 * const first = exclusive.run(() => convert(0)) // starts on the next microtask
 * const second = exclusive.run(() => convert(1)) // starts once `first` has settled
 * ```
 */
export class Exclusive {
  /** The last task's outcome with its rejection dropped: what the next task waits for. */
  #tail: Promise<void> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled; settles as `task` does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
