/**
 * The `--target` forms, parsed and checked before anything opens:
 *
 *   emulated              the device on the emulated board (in process, or through its MQTT/OPC UA side)
 *   firmata:PATH[@BAUD]   the device in this process on a Firmata 2.x board at PATH (57600 baud)
 *   serial:PATH[@BAUD]    the device in this process on a board behind the serial line at PATH; the
 *                         one board protocol sensorkit speaks on a serial line is Firmata 2.x, so
 *                         this is `firmata:PATH[@BAUD]` recorded as a serial target (57600 baud)
 *   linux[:ROOT]          the device in this process on this Linux board (ROOT: a sys/ + dev/ tree)
 *
 * A path that does not exist is refused here, as one line naming it, before the run starts.
 */
import { existsSync, statSync } from 'node:fs';
import { ValidationError } from '../../sdk/core/errors.js';
import type { TargetKind } from './target.js';

/** A parsed `--target`. */
export type TargetSpec =
  | { readonly kind: 'emulated'; readonly text: string }
  | { readonly kind: 'firmata'; readonly text: string; readonly path: string; readonly baud?: number }
  | { readonly kind: 'serial'; readonly text: string; readonly path: string; readonly baud?: number }
  | { readonly kind: 'linux'; readonly text: string; readonly root?: string };

const KINDS: readonly TargetKind[] = ['emulated', 'firmata', 'serial', 'linux'];
const USAGE = 'emulated, firmata:PATH[@BAUD], serial:PATH[@BAUD], linux[:ROOT]';

/**
 * Parses a `--target` spec without touching the file system. Throws `ValidationError` (path
 * `target`) for an unknown kind or malformed arguments.
 *
 * @example
 * ```ts
 * parseTargetSpec('firmata:/dev/ttyACM0@115200') // { kind: 'firmata', text: 'firmata:/dev/ttyACM0@115200', path: '/dev/ttyACM0', baud: 115200 }
 * parseTargetSpec('linux')                      // { kind: 'linux', text: 'linux' }
 * parseTargetSpec('esp32')                      // throws 'target: unknown target "esp32"; expected emulated, firmata:PATH[@BAUD], …'
 * ```
 */
export function parseTargetSpec(text: string): TargetSpec {
  if (typeof text !== 'string' || text.trim() === '') throw new ValidationError('target', `expected one of ${USAGE}, got ${JSON.stringify(text)}`);
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const args = colon < 0 ? undefined : text.slice(colon + 1);
  if (!(KINDS as readonly string[]).includes(name)) throw new ValidationError('target', `unknown target "${text}"; expected ${USAGE}`);
  switch (name as TargetKind) {
    case 'emulated':
      if (args !== undefined) throw new ValidationError(`target ${text}`, 'emulated takes no arguments (the seed is set with --seed)');
      return { kind: 'emulated', text };
    case 'linux':
      if (args === '') throw new ValidationError(`target ${text}`, 'ROOT is empty');
      return args === undefined ? { kind: 'linux', text } : { kind: 'linux', text, root: args };
    case 'firmata':
    case 'serial': {
      const kind = name as 'firmata' | 'serial';
      const { path, baud } = pathAndBaud(args ?? '', text, kind);
      return baud === undefined ? { kind, text, path } : { kind, text, path, baud };
    }
  }
}

/**
 * Parses a spec and checks that what it names exists: the serial device of `firmata:`/`serial:`,
 * the ROOT folder of `linux:ROOT`. Throws `ValidationError` naming the path.
 *
 * @example
 * ```ts
 * checkTargetSpec('firmata:/dev/ttyNOPE') // throws 'target firmata:/dev/ttyNOPE: /dev/ttyNOPE does not exist'
 * ```
 */
export function checkTargetSpec(text: string): TargetSpec {
  const spec = parseTargetSpec(text);
  if (spec.kind === 'firmata' || spec.kind === 'serial') {
    if (!existsSync(spec.path)) throw new ValidationError(`target ${text}`, `${spec.path} does not exist`);
    if (statSync(spec.path).isDirectory()) throw new ValidationError(`target ${text}`, `${spec.path} is a folder, not a serial device`);
  }
  if (spec.kind === 'linux' && spec.root !== undefined) {
    if (!existsSync(spec.root)) throw new ValidationError(`target ${text}`, `${spec.root} does not exist`);
    if (!statSync(spec.root).isDirectory()) throw new ValidationError(`target ${text}`, `${spec.root} is not a folder`);
  }
  return spec;
}

/**
 * The runtime board spec of a target: `emulated`, `firmata:PATH[@BAUD]` (for `firmata:` and
 * `serial:`), `linux[:ROOT]`.
 *
 * @example
 * ```ts
 * boardSpecOf(parseTargetSpec('firmata:/dev/pts/4')) // 'firmata:/dev/pts/4'
 * ```
 */
export function boardSpecOf(spec: TargetSpec): string {
  switch (spec.kind) {
    case 'emulated':
      return 'emulated';
    case 'firmata':
    case 'serial':
      return `firmata:${spec.path}${spec.baud === undefined ? '' : `@${spec.baud}`}`;
    case 'linux':
      return spec.root === undefined ? 'linux' : `linux:${spec.root}`;
  }
}

function pathAndBaud(rest: string, text: string, kind: string): { path: string; baud: number | undefined } {
  const at = rest.lastIndexOf('@');
  const path = at >= 0 && /^\d+$/.test(rest.slice(at + 1)) ? rest.slice(0, at) : rest;
  const baud = path === rest ? undefined : Number(rest.slice(at + 1));
  if (path === '') throw new ValidationError(`target ${text}`, `the serial port path is missing (e.g. ${kind}:/dev/ttyACM0)`);
  if (baud !== undefined && !(baud >= 300 && baud <= 4_000_000)) throw new ValidationError(`target ${text}`, 'baud rate must be from 300 to 4000000');
  return { path, baud };
}
