/**
 * A process that stands for another machine in a timing test (a broker, an attacker): it runs at
 * the lowest priority (nice 19, setpriority(2)) and, on a host with two CPUs or more, only on the
 * last one (sched_setaffinity(2) through util-linux's `taskset`, every thread), so that what a test
 * measures of the device is the cost of the traffic it receives, not the CPU the stand-ins take.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';

/**
 * Lowers `pid` to nice 19 and, with two CPUs or more, pins it to the last CPU.
 *
 * @example
 * ```ts
 * const attacker = spawn(process.execPath, [script])
 * standInForAnotherMachine(attacker.pid!)
 * ```
 * @throws Error when `taskset` is missing or refuses (util-linux is part of every Debian system).
 */
export function standInForAnotherMachine(pid: number): void {
  setPriority(pid, 19);
  const cpus = availableParallelism();
  if (cpus < 2) return;
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(cpus - 1), String(pid)], { stdio: 'ignore' });
}
