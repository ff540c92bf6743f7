/**
 * A readable account of any SUIT envelope, sensorkit's or another tool's: its authentication (a
 * signature is reported as present, and as verified only when trust anchors are given), its digests,
 * the manifest's members and every command sequence as named commands with named parameters, the
 * text, the severable members, and whether sensorkit can execute it (and if not, why).
 */
import { ManifestError } from '../errors.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { CborTagged, decodeCbor, type CborValue } from './cbor.js';
import { SUIT_COMMAND_CODES, parameterName, type SuitCommand } from './suit-commands.js';
import { authenticateEnvelope, checkDigests, splitEnvelope } from './suit-envelope.js';
import { interpretManifest } from './suit-interpret.js';
import { readManifestDocument, segmentText } from './suit-manifest.js';
import { TEXT_COMPONENT_KEYS, TEXT_KEYS } from './suit-text.js';
import { uuidText } from './uuid.js';

/** What {@link inspectEnvelope} found. */
export interface EnvelopeReport {
  readonly bytes: number;
  /** `none`, `present (ES256), not verified`, `verified (key …)` or `NOT verified: reason`. */
  readonly signature: string;
  /** `matches`, or why not. */
  readonly digest: string;
  /** The manifest, when it could be read. */
  readonly manifest?: ManifestReport;
  /** `yes: …` or the reason sensorkit refuses it (`unsupported command: …`). */
  readonly executable: string;
  /** Why the envelope or manifest could not be read at all. */
  readonly error?: string;
}

/** The manifest part of an {@link EnvelopeReport}. */
export interface ManifestReport {
  readonly version: number;
  readonly sequence: number;
  /** Component identifiers in diagnostic form, e.g. `[h'00']` or `["app"]`. */
  readonly components: readonly string[];
  readonly referenceUri?: string;
  /** Each command sequence, as lines of readable commands (nested ones indented). */
  readonly sequences: readonly { readonly name: string; readonly commands: readonly string[] }[];
  /** Severable members and their state. */
  readonly severable: readonly { readonly name: string; readonly key: number; readonly state: string }[];
  /** Text lines, `language: field: value`. */
  readonly text: readonly string[];
}

const HASHES: Readonly<Record<number, string>> = { [-16]: 'sha-256', [-18]: 'shake128', [-43]: 'sha-384', [-44]: 'sha-512', [-45]: 'shake256' };
const ALGORITHMS: Readonly<Record<string, string>> = { ed25519: 'EdDSA', p256: 'ES256' };

/**
 * CBOR diagnostic notation of a value (RFC 8949 §8), for display.
 *
 * @example
 * ```ts
 * diagnostic([Uint8Array.of(0)]) // "[h'00']"
 * ```
 */
export function diagnostic(value: CborValue): string {
  if (value instanceof Uint8Array) return `h'${Buffer.from(value).toString('hex')}'`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(diagnostic).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${diagnostic(k)}: ${diagnostic(v)}`).join(', ')}}`;
  if (value instanceof CborTagged) return `${value.tag}(${diagnostic(value.value)})`;
  return String(value);
}

function parameterValue(key: number | string, value: CborValue): string {
  if ((key === 1 || key === 2 || key === 24) && value instanceof Uint8Array && value.length === 16) return uuidText(value);
  if (key === 1 && value instanceof CborTagged && value.tag === 112 && value.value instanceof Uint8Array) return `pen:${Buffer.from(value.value).toString('hex')}`;
  if (key === 3 && value instanceof Uint8Array) {
    try {
      const digest = decodeCbor(value);
      if (Array.isArray(digest) && typeof digest[0] === 'number' && digest[1] instanceof Uint8Array) return `${HASHES[digest[0]] ?? `alg(${digest[0]})`}:${Buffer.from(digest[1]).toString('hex')}`;
    } catch {
      // shown as bytes below
    }
  }
  return diagnostic(value);
}

function shortName(command: SuitCommand): string {
  return command.name.replace(/^suit-/, '');
}

function commandLines(commands: readonly SuitCommand[], indent = ''): string[] {
  const lines: string[] = [];
  for (const command of commands) {
    const name = shortName(command);
    if (command.code === SUIT_COMMAND_CODES.overrideParameters && command.argument instanceof Map) {
      lines.push(`${indent}${name} {${[...command.argument].map(([k, v]) => `${parameterName(k)}: ${parameterValue(k, v)}`).join(', ')}}`);
    } else if (command.code === SUIT_COMMAND_CODES.setComponentIndex) {
      lines.push(`${indent}${name} ${diagnostic(command.argument)}`);
    } else if (command.nested !== undefined) {
      lines.push(`${indent}${name}`);
      command.nested.forEach((sequence, i) => {
        lines.push(`${indent}  ${command.code === SUIT_COMMAND_CODES.tryEach ? `option ${i}:` : 'sequence:'}`);
        lines.push(...commandLines(sequence, `${indent}    `));
      });
    } else if (command.code < 0 || !/^(condition|directive)-/.test(name)) {
      lines.push(`${indent}${name} ${diagnostic(command.argument)}`);
    } else {
      lines.push(`${indent}${name}`);
    }
  }
  return lines;
}

function reasonOf(error: unknown): string {
  if (error instanceof ManifestError) return error.message;
  throw error;
}

/**
 * Reads an envelope for display. Never throws for a bad envelope: what could not be read or checked
 * is said in the report. With `trust`, the signature is verified; without, it is reported as
 * present and not verified.
 *
 * @example
 * ```ts
 * const report = inspectEnvelope(await readFile('example1.suit'))
 * console.log(formatEnvelopeReport(report))
 * ```
 */
export function inspectEnvelope(bytes: Uint8Array, trust?: TrustAnchors): EnvelopeReport {
  let parts;
  try {
    parts = splitEnvelope(bytes, { allowUnsigned: true });
  } catch (error) {
    return { bytes: bytes.length, signature: 'unknown', digest: 'unknown', executable: 'no', error: reasonOf(error) };
  }
  let signature = 'none';
  if (parts.sign1 !== undefined) {
    const algorithm = ALGORITHMS[parts.sign1.algorithm] ?? parts.sign1.algorithm;
    signature = `present (${algorithm}${parts.sign1.keyId === undefined ? '' : `, kid ${parts.sign1.keyId}`}), not verified`;
    if (trust !== undefined) {
      try {
        signature = `verified (key ${authenticateEnvelope(bytes, trust).keyId})`;
      } catch (error) {
        signature = `NOT verified: ${reasonOf(error)}`;
      }
    }
  }
  let digest = 'matches';
  try {
    checkDigests(parts);
  } catch (error) {
    digest = reasonOf(error);
  }
  let document;
  try {
    document = readManifestDocument(parts.manifestBytes, parts.members);
  } catch (error) {
    return { bytes: bytes.length, signature, digest, executable: 'no', error: reasonOf(error) };
  }
  let executable: string;
  try {
    const manifest = interpretManifest(document);
    const components = manifest.components ?? [];
    const fetched = components.filter((c) => c.fetch).length;
    executable = `yes: ${components.length} image${components.length === 1 ? '' : 's'}, ${fetched} fetched${fetched === 0 ? ' (nothing to download: install it with `ota provision` and the image)' : ''}`;
  } catch (error) {
    executable = `no: ${reasonOf(error)}`;
  }
  const text: string[] = [];
  for (const [tag, language] of document.text ?? new Map()) {
    for (const [key, value] of language.manifest) text.push(`${tag}: ${TEXT_KEYS[key] ?? `text-${key}`}: ${value}`);
    for (const component of language.components) {
      for (const [key, value] of component.fields) text.push(`${tag}: [${component.componentId.map(segmentText).join(', ')}] ${TEXT_COMPONENT_KEYS[key] ?? `text-${key}`}: ${value}`);
    }
  }
  return {
    bytes: bytes.length,
    signature,
    digest,
    executable,
    manifest: {
      version: document.version,
      sequence: document.sequence,
      components: document.componentIds.map((id) => diagnostic([...id])),
      ...(document.referenceUri === undefined ? {} : { referenceUri: document.referenceUri }),
      sequences: [...document.sequences].map(([name, commands]) => ({ name, commands: commandLines(commands) })),
      severable: document.severable.map((member) => ({
        name: member.name,
        key: member.key,
        state: member.digest === undefined ? 'inline' : member.inEnvelope ? `severed, in the envelope (${HASHES[member.digest.algorithm] ?? member.digest.algorithm}:${Buffer.from(member.digest.bytes).toString('hex')})` : 'severed, not in the envelope',
      })),
      text,
    },
  };
}

/**
 * The report as text lines for a terminal (text values on one line each, long ones cut at 160
 * characters; `--json` gives them whole).
 *
 * @example
 * ```ts
 * process.stdout.write(formatEnvelopeReport(inspectEnvelope(bytes)))
 * ```
 */
export function formatEnvelopeReport(report: EnvelopeReport): string {
  const lines = [`envelope: ${report.bytes} bytes`, `signature: ${report.signature}`, `manifest digest: ${report.digest}`];
  if (report.error !== undefined) lines.push(`error: ${report.error}`);
  const manifest = report.manifest;
  if (manifest !== undefined) {
    lines.push(`manifest version: ${manifest.version}`, `sequence number: ${manifest.sequence}`, `components: ${manifest.components.join(', ')}`);
    if (manifest.referenceUri !== undefined) lines.push(`reference-uri: ${manifest.referenceUri}`);
    for (const sequence of manifest.sequences) {
      lines.push(`${sequence.name}:`);
      for (const command of sequence.commands) lines.push(`  ${command}`);
    }
    for (const member of manifest.severable) lines.push(`${member.name} (key ${member.key}): ${member.state}`);
    if (manifest.text.length > 0) {
      lines.push('text:');
      for (const line of manifest.text) {
        const flat = line.replace(/\s*\n\s*/g, ' ');
        lines.push(`  ${flat.length > 160 ? `${flat.slice(0, 159)}…` : flat}`);
      }
    }
  }
  lines.push(`sensorkit can execute: ${report.executable}`);
  return `${lines.join('\n')}\n`;
}
