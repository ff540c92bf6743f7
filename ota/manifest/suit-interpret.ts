/**
 * What a manifest asks a device to do, worked out before anything is done: the command sequences run
 * in the draft's order (shared, payload-fetch, install, validate, invoke; SUIT manifest draft §6)
 * over the component parameters they set, with the component index rules of §6.4 (an integer, `true`
 * for every component, or a list). The result is the {@link SuitManifest} the agent installs.
 *
 * sensorkit executes these commands: conditions vendor-identifier, class-identifier, image-match;
 * directives set-component-index, override-parameters, fetch, invoke (parameters vendor-id, class-id,
 * image-digest, image-size, uri). A manifest holding any other command, parameter or a suit-load
 * sequence is refused with `unsupported-command` naming it, before anything runs: a processor must
 * not skip what it cannot do (draft §8.4.10). It also refuses a manifest without the vendor and class
 * checks (RFC 9124 §4.2.1) and one that fetches an image it never checks against its digest.
 */
import { ManifestError } from '../errors.js';
import { decodeCbor, type CborValue } from './cbor.js';
import { allCommands, SUIT_COMMAND_CODES, commandName, SUIT_PARAMETER_CODES, parameterName, type SuitCommand } from './suit-commands.js';
import { readManifestDocument, segmentText, SUIT_SHA256, type SequenceName, type SuitComponentImage, type SuitManifest, type SuitManifestDocument } from './suit-manifest.js';
import type { SuitText } from './suit-text.js';
import { uuidText } from './uuid.js';

const EXECUTION_ORDER: readonly SequenceName[] = ['suit-shared-sequence', 'suit-payload-fetch', 'suit-install', 'suit-validate', 'suit-load', 'suit-invoke'];

function supportedCommand(code: number): boolean {
  return code === SUIT_COMMAND_CODES.vendorIdentifier || code === SUIT_COMMAND_CODES.classIdentifier || code === SUIT_COMMAND_CODES.imageMatch || code === SUIT_COMMAND_CODES.setComponentIndex || code === SUIT_COMMAND_CODES.overrideParameters || code === SUIT_COMMAND_CODES.fetch || code === SUIT_COMMAND_CODES.invoke;
}

function supportedParameter(code: number | string): boolean {
  return code === SUIT_PARAMETER_CODES.vendorId || code === SUIT_PARAMETER_CODES.classId || code === SUIT_PARAMETER_CODES.imageDigest || code === SUIT_PARAMETER_CODES.imageSize || code === SUIT_PARAMETER_CODES.uri;
}

function bad(message: string): ManifestError {
  return new ManifestError('bad-structure', message);
}

function unsupported(message: string): ManifestError {
  return new ManifestError('unsupported-command', message);
}

/**
 * The first command, parameter or sequence of `document` that sensorkit does not execute, as the
 * `ManifestError` it would be refused with; undefined when it can execute them all.
 *
 * @example
 * ```ts
 * unsupportedIn(document)?.message // 'unsupported-command: unsupported command: suit-directive-try-each (in suit-shared-sequence)'
 * ```
 */
export function unsupportedIn(document: SuitManifestDocument): ManifestError | undefined {
  for (const name of EXECUTION_ORDER) {
    const sequence = document.sequences.get(name);
    if (sequence === undefined) continue;
    for (const command of allCommands(sequence)) {
      if (!supportedCommand(command.code)) return unsupported(`unsupported command: ${command.name} (in ${name})`);
    }
  }
  for (const name of EXECUTION_ORDER) {
    for (const command of allCommands(document.sequences.get(name) ?? [])) {
      if (command.code !== SUIT_COMMAND_CODES.overrideParameters) continue;
      for (const key of (command.argument as Map<number | string, CborValue>).keys()) {
        if (!supportedParameter(key)) return unsupported(`unsupported parameter: suit-parameter-${parameterName(key)} (in ${name})`);
      }
    }
  }
  if (document.sequences.has('suit-load')) return unsupported('unsupported command sequence: suit-load (sensorkit installs into files and has no load step)');
  return undefined;
}

interface ComponentState {
  readonly parameters: Map<number, CborValue>;
  fetched?: { readonly uri: string; readonly digest: Uint8Array; readonly size: number };
  matched: boolean;
}

function digestOf(value: CborValue | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw bad(`${what}: image-digest is not set`);
  const digest = decodeCbor(value);
  if (!Array.isArray(digest) || digest.length !== 2 || !(digest[1] instanceof Uint8Array)) throw bad(`${what}: image-digest is not a SUIT_Digest`);
  if (digest[0] !== SUIT_SHA256) throw unsupported(`${what}: image-digest algorithm ${String(digest[0])} is not supported (SHA-256, −16, only)`);
  if (digest[1].length !== 32) throw bad(`${what}: a SHA-256 image digest is 32 bytes`);
  return Uint8Array.from(digest[1]);
}

function sizeOf(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || value < 0) throw bad(`${what}: image-size is not set`);
  return value;
}

function uuidOf(value: CborValue | undefined, what: string): string {
  if (value === undefined) throw bad(`${what}: the identifier parameter is not set, so the condition fails`);
  if (!(value instanceof Uint8Array) || value.length !== 16) throw unsupported(`${what}: only 16-byte UUID identifiers are supported`);
  return uuidText(value);
}

function uriOf(value: CborValue | undefined, what: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw bad(`${what}: uri is not text`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) throw bad(`${what}: uri holds control characters`);
  return value;
}

/**
 * Works out what `document` installs. Throws `ManifestError`: `unsupported-command` naming the
 * first command, parameter or sequence sensorkit does not execute, `bad-structure` for a manifest
 * whose commands do not add up (a condition on a parameter never set, a component index out of range,
 * no vendor or class check, an image fetched and never checked, no image at all).
 *
 * @example
 * ```ts
 * const manifest = interpretManifest(readManifestDocument(bytes))
 * manifest.components?.length // 2
 * ```
 */
export function interpretManifest(document: SuitManifestDocument): SuitManifest {
  const refusal = unsupportedIn(document);
  if (refusal !== undefined) throw refusal;
  // A severed sequence the envelope does not carry cannot run; severed text is simply not needed.
  for (const member of document.severable) {
    if (member.key !== 23 && member.digest !== undefined && !member.inEnvelope) throw bad(`${member.name} is severed and not in the envelope: nothing to execute`);
  }
  const count = document.componentIds.length;
  const states: ComponentState[] = document.componentIds.map(() => ({ parameters: new Map(), matched: false }));
  const vendors = new Set<string>();
  const classes = new Set<string>();
  const run = (name: SequenceName, commands: readonly SuitCommand[]): void => {
    // A sequence starts on component 0 when there is one component; with more, it must choose (draft §6.4).
    let current: number[] = count === 1 ? [0] : [];
    for (const command of commands) {
      const what = `${name}: ${command.name}`;
      if (command.code === SUIT_COMMAND_CODES.setComponentIndex) {
        const argument = command.argument;
        const indices = argument === true ? states.map((_, i) => i) : Array.isArray(argument) ? (argument as number[]) : [argument as number];
        for (const index of indices) if (index >= count) throw bad(`${what}: component index ${index} is not below ${count}`);
        current = indices;
        continue;
      }
      if (current.length === 0) throw bad(`${what} before suit-directive-set-component-index (the manifest has ${count} components)`);
      for (const index of current) {
        const state = states[index]!;
        const at = `${what} (component ${index})`;
        switch (command.code) {
          case SUIT_COMMAND_CODES.overrideParameters:
            for (const [key, value] of command.argument as Map<number, CborValue>) state.parameters.set(key, value);
            break;
          case SUIT_COMMAND_CODES.vendorIdentifier:
            vendors.add(uuidOf(state.parameters.get(SUIT_PARAMETER_CODES.vendorId), at));
            break;
          case SUIT_COMMAND_CODES.classIdentifier:
            classes.add(uuidOf(state.parameters.get(SUIT_PARAMETER_CODES.classId), at));
            break;
          case SUIT_COMMAND_CODES.fetch: {
            if (name !== 'suit-install' && name !== 'suit-payload-fetch') throw bad(`${at}: fetch belongs in suit-install or suit-payload-fetch`);
            // Two fetches into one component: which image is installed would depend on the order of two URIs.
            if (state.fetched !== undefined) throw bad(`${at}: component ${index} is fetched twice`);
            state.fetched = { uri: uriOf(state.parameters.get(SUIT_PARAMETER_CODES.uri), at), digest: digestOf(state.parameters.get(SUIT_PARAMETER_CODES.imageDigest), at), size: sizeOf(state.parameters.get(SUIT_PARAMETER_CODES.imageSize), at) };
            break;
          }
          case SUIT_COMMAND_CODES.imageMatch: {
            const digest = digestOf(state.parameters.get(SUIT_PARAMETER_CODES.imageDigest), at);
            if (state.fetched !== undefined && !Buffer.from(state.fetched.digest).equals(Buffer.from(digest))) throw bad(`${at}: the image digest changed after the fetch`);
            state.matched = true;
            break;
          }
          case SUIT_COMMAND_CODES.invoke:
            if (name !== 'suit-invoke') throw bad(`${at}: invoke belongs in suit-invoke`);
            break;
          default:
            throw unsupported(`unsupported command: ${commandName(command.code)} (in ${name})`);
        }
      }
    }
  };
  for (const name of EXECUTION_ORDER) {
    const commands = document.sequences.get(name);
    if (commands !== undefined) run(name, commands);
  }
  if (vendors.size === 0) throw bad('no suit-condition-vendor-identifier: sensorkit requires the vendor and class checks (RFC 9124 §4.2.1)');
  if (classes.size === 0) throw bad('no suit-condition-class-identifier: sensorkit requires the vendor and class checks (RFC 9124 §4.2.1)');
  if (vendors.size > 1 || classes.size > 1) throw bad('the components name different vendor or class ids; a sensorkit device has one identity');
  const components: SuitComponentImage[] = [];
  states.forEach((state, i) => {
    const idBytes = document.componentIds[i]!;
    const what = `component ${i}`;
    if (state.fetched !== undefined && !state.matched) throw bad(`${what} is fetched but never checked by suit-condition-image-match`);
    const hasImage = state.fetched !== undefined || (state.parameters.has(SUIT_PARAMETER_CODES.imageDigest) && state.parameters.has(SUIT_PARAMETER_CODES.imageSize));
    if (!hasImage) return;
    const fetched = state.fetched;
    const text = componentText(document.text, idBytes);
    const component: { -readonly [K in keyof SuitComponentImage]: SuitComponentImage[K] } = {
      componentId: idBytes.map(segmentText),
      componentIdBytes: idBytes.map((s) => Uint8Array.from(s)),
      imageDigest: fetched?.digest ?? digestOf(state.parameters.get(SUIT_PARAMETER_CODES.imageDigest), what),
      imageSize: fetched?.size ?? sizeOf(state.parameters.get(SUIT_PARAMETER_CODES.imageSize), what),
      fetch: fetched !== undefined,
    };
    if (fetched !== undefined && fetched.uri !== '') component.uri = fetched.uri;
    if (text.get(6) !== undefined) component.version = text.get(6)!;
    if (text.get(5) !== undefined) component.componentDescription = text.get(5)!;
    components.push(component);
  });
  const primary = components.find((c) => c.fetch) ?? components[0];
  if (primary === undefined) throw bad('no component has an image digest and size');
  const description = languageOf(document.text)?.manifest.get(1);
  return {
    ...primary,
    sequence: document.sequence,
    vendorId: [...vendors][0]!,
    classId: [...classes][0]!,
    components,
    ...(description === undefined ? {} : { description }),
    ...(document.referenceUri === undefined ? {} : { referenceUri: document.referenceUri }),
  };
}

/** English when present, else the first language. */
function languageOf(text: SuitText | undefined): ReturnType<SuitText['get']> {
  if (text === undefined) return undefined;
  return text.get('en') ?? [...text.entries()].find(([tag]) => /^en(-|$)/i.test(tag))?.[1] ?? [...text.values()][0];
}

function componentText(text: SuitText | undefined, id: readonly Uint8Array[]): ReadonlyMap<number, string> {
  const language = languageOf(text);
  const match = language?.components.find((c) => c.componentId.length === id.length && c.componentId.every((s, i) => Buffer.from(s).equals(Buffer.from(id[i]!))));
  return match?.fields ?? new Map();
}

/**
 * Decodes manifest bytes with every member inline and works out what they install (call only after
 * the signature and digest check). Throws `ManifestError` for malformed CBOR, a structure this
 * processor does not accept, or a command it does not execute.
 *
 * @example
 * ```ts
 * const manifest = decodeManifest(manifestBytes)
 * manifest.sequence // 7
 * ```
 */
export function decodeManifest(bytes: Uint8Array): SuitManifest {
  return interpretManifest(readManifestDocument(bytes));
}
