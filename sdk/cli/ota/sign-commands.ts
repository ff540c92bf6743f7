/** `sensorkit ota keygen | sign | verify | inspect`. */
import { timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError } from '../../core/errors.js';
import { parseNumberOption, UsageError } from '../usage.js';
import { readPrivateKey, readPublicKey, writeSigningKey, type SignatureAlgorithm } from '../../../ota/keys/keys.js';
import { TrustAnchors } from '../../../ota/keys/trust-anchors.js';
import { ManifestError } from '../../../ota/errors.js';
import { checkDevice } from '../../../ota/manifest/policy.js';
import { authenticateEnvelope, MAX_ENVELOPE_BYTES, signEnvelope } from '../../../ota/manifest/suit-envelope.js';
import { formatEnvelopeReport, inspectEnvelope } from '../../../ota/manifest/suit-inspect.js';
import { interpretManifest, MAX_SEQUENCE, type SuitComponentImage } from '../../../ota/manifest/suit-manifest.js';
import { classIdOption, hashInput, readInput, required, vendorIdOption } from './options.js';

export const KEYGEN_HELP = `Usage: sensorkit ota keygen --out DIR [--alg ed25519|p256]

Writes a manifest signing key pair: DIR/private.pem (PKCS#8, mode 0600) and DIR/public.pem (SPKI),
and prints the key id (first 8 bytes of the SHA-256 of the SPKI, hex). Never overwrites a key.

Options:
  --out DIR              where to write the key pair (created if missing)
  --alg ed25519|p256     Ed25519 (COSE −8, default) or ECDSA P-256 (COSE −7)
  -h, --help             show this help
`;

export const SIGN_HELP = `Usage: sensorkit ota sign --key PRIVATE.pem --payload FILE --sequence N --out FILE.suit [options]
       sensorkit ota sign --key PRIVATE.pem --component NAME=FILE [--component NAME=FILE …] --sequence N --out FILE.suit [options]

Writes a SUIT envelope (CBOR tag 107, draft-ietf-suit-manifest-37) for one image, or for several
components installed together (all or none), signed with COSE_Sign1 (detached; alg in the protected
header only) over the SUIT digest of the bstr-wrapped manifest.

Options:
  --key FILE             PKCS#8 private key (from \`sensorkit ota keygen\`)
  --payload FILE         the image (single-image form)
  --component PATH       with --payload: its component id, segments separated by / (default: firmware)
  --component NAME=FILE  repeatable: one component each (id NAME, segments separated by /, image FILE,
                         fetched from FILE's name); e.g. --component app=app.tar --component mcu/fw=fw.hex
  --sequence N           the manifest sequence number; must exceed what devices run (anti-rollback)
  --out FILE             where to write the envelope (its folder is created if missing)
  --vendor-id ID         a UUID, or a domain name turned into its UUID v5 (default: sensorkit.example)
  --class-id ID          a UUID, or a model name turned into UUID v5 under the vendor id (default: default)
  --uri URI              single-image form: where devices fetch the image (default: the payload's file name)
  --version TEXT         human-readable version of the image(s) (suit-text component version)
  --description TEXT     free text (suit-text manifest description)
  --severable            put suit-install and suit-text in the envelope, their digests in the manifest
  -h, --help             show this help

An envelope that devices would refuse whatever the key (over ${MAX_ENVELOPE_BYTES} bytes, control
characters in --uri or --version) is not written: the same checks as verify.
`;

export const VERIFY_HELP = `Usage: sensorkit ota verify FILE.suit --key PUBLIC.pem [--payload FILE …] [--vendor-id ID --class-id ID]

Verifies an envelope's signature and SUIT digests (manifest and severed members) over the exact bytes
of FILE.suit, then whether sensorkit can execute its manifest (a command it cannot is named). With
--payload (one per image, in the manifest's order), checks each image's size and SHA-256; with
--vendor-id/--class-id, that the manifest is for that device.
Exits 0 and prints one line when the envelope is authentic; otherwise prints the reason and exits 1.
`;

export const INSPECT_HELP = `Usage: sensorkit ota inspect FILE.suit [--key PUBLIC.pem] [--json]

Prints any SUIT envelope (sensorkit's or another tool's, e.g. the draft's examples): signature
(present; verified only with --key), manifest digest, version, sequence number, components, each
command sequence as named commands with named parameters, severable members, text, and whether
sensorkit can execute it. Needs no key. Exits 1 when the envelope cannot be read, its digest does not
match, or --key is given and the signature does not verify.

Options:
  --key FILE             verify the signature with this public key (SPKI PEM)
  --json                 the report as JSON
`;

const ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'p256'];

/**
 * Runs `sensorkit ota keygen`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await keygenCommand(['--out', 'keys/release', '--alg', 'p256'])
 * ```
 */
export async function keygenCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { out: { type: 'string' }, alg: { type: 'string', default: 'ed25519' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) return void process.stdout.write(KEYGEN_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`keygen takes no arguments, got ${positionals.join(' ')}`);
  const out = required(values.out, '--out');
  if (!(ALGORITHMS as readonly string[]).includes(values.alg)) throw new UsageError(`--alg: expected ed25519 or p256, got "${values.alg}"`);
  let pair;
  try {
    pair = await writeSigningKey(out, values.alg as SignatureAlgorithm);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StorageError(join(out, 'private.pem'), code === 'EEXIST' ? 'a key already exists; not overwritten' : `cannot write: ${code ?? (error as Error).message}`, { cause: error });
  }
  process.stdout.write(`${pair.algorithm} key ${pair.keyId}: ${join(out, 'private.pem')} (0600), ${join(out, 'public.pem')}\n`);
  return 0;
}

/**
 * Runs `sensorkit ota sign`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await signCommand(['--key', 'keys/private.pem', '--payload', 'fw.bin', '--sequence', '7', '--out', 'fw.suit'])
 * ```
 */
export async function signCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      key: { type: 'string' }, payload: { type: 'string' }, sequence: { type: 'string' }, out: { type: 'string' },
      'vendor-id': { type: 'string' }, 'class-id': { type: 'string' }, uri: { type: 'string' }, version: { type: 'string' },
      component: { type: 'string', multiple: true }, description: { type: 'string' }, severable: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(SIGN_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`sign takes no arguments, got ${positionals.join(' ')}`);
  const keyFile = required(values.key, '--key');
  const sequence = parseNumberOption('--sequence', required(values.sequence, '--sequence'), { integer: true, min: 0, max: MAX_SEQUENCE });
  const out = required(values.out, '--out');
  const wanted = componentOptions(values.component ?? [], values.payload, values.uri);
  const vendorId = vendorIdOption(values['vendor-id']);
  const classId = classIdOption(values['class-id'], vendorId);
  const components: SuitComponentImage[] = [];
  for (const component of wanted) {
    const payload = await hashInput(component.file);
    components.push({
      componentId: component.id,
      imageDigest: payload.digest,
      imageSize: payload.size,
      uri: component.uri,
      ...(values.version === undefined ? {} : { version: values.version }),
    });
  }
  const key = await readPrivateKey(keyFile).catch((error: unknown) => {
    // An OpenSSL decoder error carries a `reason` property too: only ours pass through as they are.
    if (error instanceof StorageError || error instanceof ManifestError) throw new UsageError(`--key ${keyFile}: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new StorageError(keyFile, `cannot read --key: ${code}`, { cause: error });
    throw new UsageError(`--key ${keyFile}: not a PKCS#8 private key in PEM (a public key or another format?): ${(error as Error).message.split('\n')[0]}`);
  });
  let envelope: Uint8Array;
  try {
    envelope = signEnvelope(
      {
        ...components[0]!,
        sequence, vendorId, classId,
        ...(components.length > 1 ? { components } : {}),
        ...(values.description === undefined ? {} : { description: values.description }),
      },
      key,
      { severable: values.severable },
    );
  } catch (error) {
    const uris = components.map((c) => c.uri).join(' ');
    if (error instanceof ManifestError) throw new UsageError(`${optionOf(error, { '--uri': uris, '--version': values.version, '--description': values.description })}: ${error.message}; devices would refuse this envelope, so it was not written`);
    throw error;
  }
  try {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, envelope);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? `a file is in the way of the folder ${dirname(out)}` : (code ?? (error as Error).message);
    throw new StorageError(out, `cannot write --out: ${why}`, { cause: error });
  }
  const sizes = components.map((c) => (components.length > 1 ? `${c.componentId.join('/')} ${c.imageSize} bytes` : `${c.imageSize} bytes`)).join(', ');
  process.stdout.write(`${out}: sequence ${sequence}, ${sizes}, vendor-id ${vendorId}, class-id ${classId}${values.severable ? ', install and text severable' : ''}\n`);
  return 0;
}

/** The components `sign` was asked for: `--payload FILE [--component PATH]`, or `--component NAME=FILE`… */
function componentOptions(options: readonly string[], payload: string | undefined, uri: string | undefined): { id: string[]; file: string; uri: string }[] {
  const pairs = options.filter((option) => option.includes('='));
  const idOf = (path: string): string[] => {
    const id = path.split('/');
    if (id.some((segment) => segment === '')) throw new UsageError(`--component: empty segment in "${path}"`);
    return id;
  };
  if (pairs.length === 0) {
    if (options.length > 1) throw new UsageError('--component PATH names the id of the one --payload; give several components as --component NAME=FILE');
    const file = required(payload, '--payload (or --component NAME=FILE)');
    return [{ id: idOf(options[0] ?? 'firmware'), file, uri: uri ?? file.split('/').pop()! }];
  }
  if (pairs.length !== options.length) throw new UsageError('--component: give every component as NAME=FILE, or one PATH with --payload');
  if (payload !== undefined) throw new UsageError('--payload and --component NAME=FILE do not go together: name each image with --component');
  if (uri !== undefined) throw new UsageError('--uri is for the single-image form; with --component NAME=FILE each image is fetched by its file name');
  const seen = new Set<string>();
  return pairs.map((pair) => {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at);
    const file = pair.slice(at + 1);
    if (file === '') throw new UsageError(`--component ${pair}: no FILE after =`);
    if (seen.has(name)) throw new UsageError(`--component: ${name} given twice`);
    seen.add(name);
    return { id: idOf(name), file, uri: file.split('/').pop()! };
  });
}

/**
 * The option a refused manifest field came from: the decoder's messages name the field first; a
 * size limit is put on the longest text option.
 */
function optionOf(error: ManifestError, texts: Record<string, string | undefined>): string {
  const message = error.message.replace(/^[a-z-]+: /, '');
  if (/\buri\b/.test(message)) return '--uri';
  if (message.includes('component-version')) return '--version';
  if (message.includes('manifest-description')) return '--description';
  const longest = Object.entries(texts).sort(([, a], [, b]) => (b?.length ?? 0) - (a?.length ?? 0))[0];
  return longest !== undefined && (longest[1]?.length ?? 0) > 1024 ? `${longest[0]} (${longest[1]!.length} characters)` : '--uri, --version and --description together';
}

/**
 * Runs `sensorkit ota verify`; resolves with 0, or throws the `ManifestError` the CLI prints as one line.
 *
 * @example
 * ```ts
 * await verifyCommand(['fw.suit', '--key', 'keys/public.pem', '--payload', 'fw.bin'])
 * ```
 */
export async function verifyCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { key: { type: 'string' }, payload: { type: 'string', multiple: true }, 'vendor-id': { type: 'string' }, 'class-id': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(VERIFY_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`verify takes one FILE.suit, got ${positionals.length}`);
  const keyFile = required(values.key, '--key');
  const envelope = await readInput(positionals[0]!, { maxBytes: MAX_ENVELOPE_BYTES });
  const publicKey = await readPublicKey(keyFile).catch((error: unknown) => {
    throw (error as { reason?: string }).reason ? error : new StorageError(keyFile, `not a public key: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  });
  const { document, keyId } = authenticateEnvelope(envelope, TrustAnchors.of([publicKey]));
  const payloads = values.payload ?? [];
  const checksDevice = values['vendor-id'] !== undefined || values['class-id'] !== undefined;
  let manifest;
  try {
    manifest = interpretManifest(document);
  } catch (error) {
    // Authentic, but not something sensorkit executes: say so; a payload or device check needs the manifest.
    if (!(error instanceof ManifestError) || payloads.length > 0 || checksDevice) throw error;
    process.stdout.write(`ok: signature and digest verify (key ${keyId}), sequence ${document.sequence}; sensorkit cannot execute it: ${error.message.replace(/^[a-z-]+: /, '')}\n`);
    return 0;
  }
  if (checksDevice) {
    const vendorId = vendorIdOption(values['vendor-id']);
    checkDevice(manifest, { vendorId, classId: classIdOption(values['class-id'], vendorId) });
  }
  const images = manifest.components ?? [manifest];
  if (payloads.length > 0 && payloads.length !== images.length) throw new UsageError(`--payload: the manifest has ${images.length} image${images.length === 1 ? '' : 's'}, got ${payloads.length}`);
  for (const [index, file] of payloads.entries()) {
    const image = images[index]!;
    // Streamed and capped at the signed size: a wrong file (or /dev/zero) is not read whole.
    const payload = await hashInput(file, { maxBytes: image.imageSize });
    if (payload.size !== image.imageSize) throw new ManifestError('payload-mismatch', `the payload is ${payload.size} bytes, the manifest says ${image.imageSize}`);
    if (!timingSafeEqual(payload.digest, image.imageDigest)) throw new ManifestError('payload-mismatch', 'the payload does not match the signed image digest');
  }
  const described = images.map((image) => `${image.componentId.join('/')} ${image.imageSize} bytes sha256:${Buffer.from(image.imageDigest).toString('hex')}`).join('; ');
  const matches = payloads.length === 0 ? '' : payloads.length === 1 ? ', payload matches' : ', payloads match';
  process.stdout.write(`ok: sequence ${manifest.sequence}${manifest.version ? `, version ${manifest.version}` : ''}, key ${keyId}, ${described}${matches}\n`);
  return 0;
}

/**
 * Runs \`sensorkit ota inspect\`; resolves with 0, or 1 when the envelope cannot be read, its digest
 * does not match, or \`--key\` is given and the signature does not verify.
 *
 * @example
 * ```ts
 * await inspectCommand(['test/fixtures/suit/example1.suit', '--json'])
 * ```
 */
export async function inspectCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { key: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(INSPECT_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`inspect takes one FILE.suit, got ${positionals.length}`);
  const envelope = await readInput(positionals[0]!, { maxBytes: MAX_ENVELOPE_BYTES });
  let trust: TrustAnchors | undefined;
  if (values.key !== undefined) {
    const keyFile = values.key;
    const publicKey = await readPublicKey(keyFile).catch((error: unknown) => {
      throw (error as { reason?: string }).reason ? error : new StorageError(keyFile, `not a public key: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    });
    trust = TrustAnchors.of([publicKey]);
  }
  const report = inspectEnvelope(envelope, trust);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatEnvelopeReport(report));
  const failed = report.error !== undefined || report.digest !== 'matches' || (trust !== undefined && !report.signature.startsWith('verified'));
  return failed ? 1 : 0;
}
