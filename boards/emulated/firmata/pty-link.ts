/**
 * A pseudo-terminal pair made by socat, supervised: one end for the engine, one (a stable symlink)
 * for the client. socat is started as
 *
 *     socat -d -d -t 0 pty,raw,echo=0,link=ENGINE pty,raw,echo=0,link=CLIENT,wait-slave,pty-interval=0.005
 *
 * `wait-slave` holds the transfer until a client opens its end, and socat logs "starting data
 * transfer loop" at that moment: that is the link's "session" event, the emulated board's reset.
 * When the client closes its end socat exits; the link starts a new socat on the same CLIENT path,
 * so a client that reopens the path starts a new session, as a USB-serial Arduino does.
 *
 * On Linux socat is started through util-linux's `setpriv --pdeathsig TERM` when both are found
 * and setpriv takes the option: the kernel then ends socat when this process dies, even by
 * SIGKILL, which no handler of ours could (socat waiting for a client would otherwise hold its
 * ptys forever).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { StateError } from '../../../sdk/core/errors.js';

/** Options of {@link PtyLink}. */
export interface PtyLinkOptions {
  /** socat executable. Default "socat" (on PATH). */
  socat?: string;
  /** Path of the client's symlink. Default: `ttyFIRMATA` in a new temporary folder. */
  clientLink?: string;
}

/** One socat run: the engine's pty and the client's. */
export interface PtyPair {
  /** The engine's end, e.g. /dev/pts/3. */
  readonly enginePath: string;
  /** The client's end as a stable symlink to its /dev/pts/N. */
  readonly clientPath: string;
  /** The /dev/pts/N the client link points to in this run. */
  readonly clientPty: string;
}

interface PtyLinkEvents {
  /** A socat run is up; open `pair.enginePath` now. */
  pair: [pair: PtyPair];
  /** A client opened its end: the data transfer started. */
  session: [];
  /** The socat run ended (client closed, dropped, or socat failed); another starts unless closed. */
  end: [code: number | null];
  error: [error: Error];
}

/** Restarts faster than this after a failed start are spaced out (ms, real time: not the data path). */
const RESTART_BACKOFF_MS = 200;

/**
 * A supervised socat pty pair.
 *
 * @example
 * ```ts
 * const link = new PtyLink({ socat: '/usr/bin/socat' })
 * link.on('pair', (pair) => openEngineEnd(pair.enginePath))
 * link.on('session', () => engine.announce())
 * const first = await link.start()
 * console.log(first.clientPath) // give this path to the client
 * ```
 */
export class PtyLink extends EventEmitter<PtyLinkEvents> {
  readonly clientPath: string;
  readonly #socat: string;
  readonly #engineLink: string;
  readonly #ownDir: string | undefined;
  #child: ChildProcess | undefined;
  #closed = false;
  #runs = 0;

  constructor(options: PtyLinkOptions = {}) {
    super();
    this.#socat = options.socat ?? 'socat';
    if (options.clientLink === undefined) {
      this.#ownDir = mkdtempSync(join(tmpdir(), 'sensorkit-firmata-'));
      this.clientPath = join(this.#ownDir, 'ttyFIRMATA');
    } else {
      this.clientPath = options.clientLink;
    }
    this.#engineLink = `${this.clientPath}.engine`;
  }

  /** socat runs so far (1 after the first start; one more after each client session or drop). */
  get runs(): number {
    return this.#runs;
  }

  /** Starts the first socat run; resolves when both ends exist. */
  start(): Promise<PtyPair> {
    if (this.#closed) return Promise.reject(new StateError('the pty link is closed'));
    return new Promise((resolve, reject) => {
      const onPair = (pair: PtyPair): void => {
        this.off('error', onError);
        resolve(pair);
      };
      const onError = (error: Error): void => {
        this.off('pair', onPair);
        reject(error);
      };
      this.once('pair', onPair);
      this.once('error', onError);
      this.#run();
    });
  }

  /** Drops the line (ends the socat run, as a pulled cable does); a new run starts by itself. */
  drop(): void {
    this.#child?.kill('SIGTERM');
  }

  /** Ends socat and removes the links. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    if (this.#ownDir !== undefined) rmSync(this.#ownDir, { recursive: true, force: true });
  }

  #run(): void {
    this.#runs++;
    const started = performance.now();
    const args = ['-d', '-d', '-t', '0', `pty,raw,echo=0,link=${this.#engineLink}`, `pty,raw,echo=0,link=${this.clientPath},wait-slave,pty-interval=0.005`];
    const [command, commandArgs] = withParentDeathSignal(this.#socat, args);
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    const ptys: string[] = [];
    let log = ''; // the unfinished line
    let lastLine = ''; // the last complete one, for an error message
    let announced = false;
    child.on('error', (error) => this.#fail(new StateError(`cannot start socat (${this.#socat}): ${error.message}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      let newline = log.indexOf('\n');
      while (newline >= 0) {
        const line = log.slice(0, newline);
        log = log.slice(newline + 1);
        if (line.trim() !== '') lastLine = line.trim();
        const pty = /PTY is (\S+)/.exec(line)?.[1];
        if (pty !== undefined && ptys.length < 2) {
          ptys.push(pty);
          if (ptys.length === 2) this.#whenLinked(ptys[0]!, ptys[1]!);
        }
        if (!announced && line.includes('starting data transfer loop')) {
          announced = true;
          this.emit('session');
        }
        newline = log.indexOf('\n');
      }
    });
    child.on('exit', (code) => {
      if (this.#child === child) this.#child = undefined;
      this.emit('end', code);
      if (this.#closed) return;
      if (ptys.length < 2) {
        const via = command === this.#socat ? '' : ` (started by ${command})`;
        this.#fail(new StateError(`socat exited (code ${String(code)})${via} before creating the pty pair: ${log.trim() || lastLine}`));
        return;
      }
      // A run that ended at once (socat failing) is not restarted in a tight loop.
      const delay = performance.now() - started < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0;
      setTimeout(() => {
        if (!this.#closed) this.#run();
      }, delay);
    });
  }

  /** An 'error' event for listeners; without one, nothing (an unheard 'error' would crash the process). */
  #fail(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** socat logs each pty before it makes the symlink: wait (briefly) for the client link. */
  #whenLinked(enginePty: string, clientPty: string, attempt = 0): void {
    if (this.#closed) return;
    if (existsSync(this.clientPath) || attempt >= 200) {
      this.emit('pair', { enginePath: enginePty, clientPath: this.clientPath, clientPty });
      return;
    }
    setTimeout(() => this.#whenLinked(enginePty, clientPty, attempt + 1), 5);
  }
}

/**
 * The command that runs `program` with `args` and ends it with SIGTERM when this process dies:
 * `setpriv --pdeathsig TERM PROGRAM ARGS` (Linux prctl PR_SET_PDEATHSIG, kept across the exec)
 * where setpriv and the program are both found, else the program itself (its spawn error, if any,
 * stays the one the caller reports).
 */
function withParentDeathSignal(program: string, args: readonly string[]): [string, string[]] {
  const setpriv = setprivWithDeathSignal();
  const resolved = setpriv === undefined ? undefined : executable(program);
  return setpriv !== undefined && resolved !== undefined ? [setpriv, ['--pdeathsig', 'TERM', resolved, ...args]] : [program, [...args]];
}

let setprivProbe: { path: string | undefined } | undefined;

/**
 * util-linux's setpriv where it takes `--pdeathsig` (2.33 and later; older ones refuse it), probed
 * once per process by running `setpriv --pdeathsig TERM true`; undefined elsewhere (not Linux).
 */
function setprivWithDeathSignal(): string | undefined {
  if (setprivProbe === undefined) {
    const path = process.platform === 'linux' ? executable('setpriv') : undefined;
    const works = path !== undefined && spawnSync(path, ['--pdeathsig', 'TERM', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
    setprivProbe = { path: works ? path : undefined };
  }
  return setprivProbe.path;
}

/** The path of an executable file: `name` itself when it has a slash, else the first on PATH. */
function executable(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}
