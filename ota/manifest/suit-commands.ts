/**
 * SUIT command sequences (SUIT manifest draft §8.4.5–§8.4.10): the names of conditions, directives
 * and parameters, and a structural reader that turns a `bstr .cbor SUIT_Command_Sequence` into a
 * list of commands, checking the argument shape the draft's CDDL gives each known command. The
 * reader accepts every command the draft defines (so any envelope can be inspected); which of them
 * sensorkit executes is decided in suit-manifest.ts.
 */
import { ManifestError } from '../errors.js';
import { decodeCbor, type CborValue } from './cbor.js';

/** Conditions (draft §8.4.9): code → name without the `suit-condition-` prefix. */
export const SUIT_CONDITIONS: Readonly<Record<number, string>> = Object.freeze({
  1: 'vendor-identifier', 2: 'class-identifier', 3: 'image-match', 5: 'component-slot', 6: 'check-content', 14: 'abort', 24: 'device-identifier',
});

/** Directives (draft §8.4.10): code → name without the `suit-directive-` prefix. */
export const SUIT_DIRECTIVES: Readonly<Record<number, string>> = Object.freeze({
  12: 'set-component-index', 15: 'try-each', 18: 'write', 20: 'override-parameters', 21: 'fetch', 22: 'copy', 23: 'invoke', 31: 'swap', 32: 'run-sequence',
});

/** Parameters (draft §8.4.8): code → name, as `sensorkit ota inspect` prints them. */
export const SUIT_PARAMETERS: Readonly<Record<number, string>> = Object.freeze({
  1: 'vendor-id', 2: 'class-id', 3: 'image-digest', 5: 'component-slot', 12: 'strict-order', 13: 'soft-failure', 14: 'image-size', 18: 'content',
  21: 'uri', 22: 'source-component', 23: 'invoke-args', 24: 'device-id', 25: 'fetch-arguments',
});

/** Command codes sensorkit uses by name. */
export const SUIT_COMMAND_CODES = Object.freeze({
  vendorIdentifier: 1, classIdentifier: 2, imageMatch: 3, componentSlot: 5,
  setComponentIndex: 12, tryEach: 15, overrideParameters: 20, fetch: 21, copy: 22, invoke: 23, runSequence: 32,
});

/** Parameter codes sensorkit uses by name. */
export const SUIT_PARAMETER_CODES = Object.freeze({ vendorId: 1, classId: 2, imageDigest: 3, imageSize: 14, uri: 21 });

/**
 * Reporting policy "record on success and failure, system info on success and failure": 15, what
 * the draft's examples put after conditions (draft §8.4.7).
 */
export const REPORT_ALL = 15;

/**
 * The draft's name of a command code: `suit-condition-image-match`, `suit-directive-fetch`,
 * `suit-command-custom(-300)` for a custom (negative) code, `suit-command-99` for an unknown one.
 *
 * @example
 * ```ts
 * commandName(22) // 'suit-directive-copy'
 * ```
 */
export function commandName(code: number): string {
  if (SUIT_CONDITIONS[code] !== undefined) return `suit-condition-${SUIT_CONDITIONS[code]}`;
  if (SUIT_DIRECTIVES[code] !== undefined) return `suit-directive-${SUIT_DIRECTIVES[code]}`;
  return code < 0 ? `suit-command-custom(${code})` : `suit-command-${code}`;
}

/**
 * The name of a parameter code (`image-digest`), `custom(-5)` for a negative one, `parameter-N` else.
 *
 * @example
 * ```ts
 * parameterName(14) // 'image-size'
 * ```
 */
export function parameterName(code: number | string): string {
  if (typeof code === 'string') return JSON.stringify(code);
  return SUIT_PARAMETERS[code] ?? (code < 0 ? `custom(${code})` : `parameter-${code}`);
}

/** One command of a sequence, with its argument as decoded. */
export interface SuitCommand {
  readonly code: number;
  /** `suit-condition-…`, `suit-directive-…` or `suit-command-…`. */
  readonly name: string;
  readonly argument: CborValue;
  /** The sequences of `try-each` (one each) and `run-sequence` (one), parsed. */
  readonly nested?: readonly (readonly SuitCommand[])[];
}

/** Nesting of `try-each` / `run-sequence` accepted: deeper is refused, not recursed into. */
const MAX_NESTING = 4;

function bad(message: string): ManifestError {
  return new ManifestError('bad-structure', message);
}

function isUint(value: CborValue): value is number {
  return typeof value === 'number' && value >= 0;
}

/**
 * Parses a `bstr .cbor SUIT_Command_Sequence` (or `SUIT_Shared_Sequence`): an array of one or more
 * command/argument pairs, each known command's argument of the shape the draft's CDDL gives it.
 * Throws `ManifestError` `bad-structure` (naming `where`) when it is not one.
 *
 * @example
 * ```ts
 * parseCommandSequence(encodeCbor([3, 15]), 'suit-validate') // [{ code: 3, name: 'suit-condition-image-match', argument: 15 }]
 * ```
 */
export function parseCommandSequence(bytes: Uint8Array, where: string, depth = 0): SuitCommand[] {
  return parseCommandArray(decodeCbor(bytes), where, depth);
}

function parseCommandArray(value: CborValue, where: string, depth: number): SuitCommand[] {
  if (!Array.isArray(value) || value.length === 0 || value.length % 2 !== 0) throw bad(`${where} is not a non-empty sequence of command/argument pairs`);
  const commands: SuitCommand[] = [];
  for (let i = 0; i < value.length; i += 2) {
    const code = value[i]!;
    const argument = value[i + 1]!;
    if (typeof code !== 'number') throw bad(`${where}: command ${i / 2} is not an integer code`);
    const name = commandName(code);
    const at = `${where}: ${name}`;
    let nested: SuitCommand[][] | undefined;
    if (code < 0) {
      // SUIT_Command_Custom: bstr / tstr / int / nil.
      if (!(argument instanceof Uint8Array || typeof argument === 'string' || typeof argument === 'number' || argument === null)) throw bad(`${at}: the argument is not bstr, tstr, int or nil`);
    } else if (code === SUIT_COMMAND_CODES.setComponentIndex) {
      const ok = isUint(argument) || argument === true || (Array.isArray(argument) && argument.length > 0 && argument.every((item) => isUint(item)));
      if (!ok) throw bad(`${at}: the index is not uint, true or [+ uint]`);
    } else if (code === SUIT_COMMAND_CODES.overrideParameters) {
      if (!(argument instanceof Map) || argument.size === 0) throw bad(`${at}: the argument is not a non-empty parameter map`);
      for (const key of argument.keys()) if (typeof key !== 'number') throw bad(`${at}: parameter ${JSON.stringify(key)} is not an integer key`);
    } else if (code === SUIT_COMMAND_CODES.tryEach || code === SUIT_COMMAND_CODES.runSequence) {
      if (depth >= MAX_NESTING) throw bad(`${at}: nested deeper than ${MAX_NESTING}`);
      if (code === SUIT_COMMAND_CODES.runSequence) {
        if (!(argument instanceof Uint8Array)) throw bad(`${at}: the argument is not a bstr-wrapped sequence`);
        nested = [parseCommandSequence(argument, `${at}`, depth + 1)];
      } else {
        const options = Array.isArray(argument) ? argument : [];
        const last = options.at(-1);
        const sequences = last === null ? options.slice(0, -1) : options;
        if (!Array.isArray(argument) || sequences.length < 2 || !sequences.every((item) => item instanceof Uint8Array)) throw bad(`${at}: the argument is not [2* bstr-wrapped sequence, ? nil]`);
        nested = sequences.map((item, n) => parseCommandSequence(item as Uint8Array, `${at} option ${n}`, depth + 1));
      }
    } else if (SUIT_CONDITIONS[code] !== undefined || SUIT_DIRECTIVES[code] !== undefined) {
      // Every other condition and directive takes a reporting policy (SUIT_Rep_Policy, a uint).
      if (!isUint(argument)) throw bad(`${at}: the reporting policy is not an unsigned integer`);
    }
    // An unknown positive code keeps its argument as it is: inspect shows it, execution refuses it.
    commands.push(nested === undefined ? { code, name, argument } : { code, name, argument, nested });
  }
  return commands;
}

/**
 * Every command of a sequence, nested ones included, in order.
 *
 * @example
 * ```ts
 * [...allCommands(commands)].map((c) => c.name)
 * ```
 */
export function* allCommands(commands: readonly SuitCommand[]): Generator<SuitCommand> {
  for (const command of commands) {
    yield command;
    for (const sequence of command.nested ?? []) yield* allCommands(sequence);
  }
}
