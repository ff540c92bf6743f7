/** `sensorkit ota keygen | sign | verify`. */
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
import { MAX_ENVELOPE_BYTES, signEnvelope, verifyEnvelope } from '../../../ota/manifest/suit-envelope.js';
import { MAX_SEQUENCE } from '../../../ota/manifest/suit-manifest.js';
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

Writes a SUIT envelope (CBOR tag 107) for FILE, signed with COSE_Sign1 (detached; alg in the
protected header only).

Options:
  --key FILE             PKCS#8 private key (from \`sensorkit ota keygen\`)
  --payload FILE         the image
  --sequence N           the manifest sequence number; must exceed what devices run (anti-rollback)
  --out FILE             where to write the envelope (its folder is created if missing)
  --vendor-id ID         a UUID, or a domain name turned into its UUID v5 (default: sensorkit.example)
  --class-id ID          a UUID, or a model name turned into UUID v5 under the vendor id (default: default)
  --uri URI              where devices fetch the image (default: the payload's file name)
  --version TEXT         human-readable version
  --component PATH       component id, segments separated by / (default: firmware)
  --description TEXT     free text
  -h, --help             show this help

An envelope that devices would refuse whatever the key (over ${MAX_ENVELOPE_BYTES} bytes, control
characters in --uri, --version or --component) is not written: the same checks as verify.
`;

export const VERIFY_HELP = `Usage: sensorkit ota verify FILE.suit --key PUBLIC.pem [--payload FILE] [--vendor-id ID --class-id ID]

Verifies an envelope's signature and manifest digest over the exact bytes of FILE.suit (and the
payload's size and SHA-256 when --payload is given; the vendor and class ids when given).
Exits 0 and prints one line on success; otherwise prints the reason and exits 1.
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
      component: { type: 'string', default: 'firmware' }, description: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(SIGN_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`sign takes no arguments, got ${positionals.join(' ')}`);
  const keyFile = required(values.key, '--key');
  const payloadFile = required(values.payload, '--payload');
  const sequence = parseNumberOption('--sequence', required(values.sequence, '--sequence'), { integer: true, min: 0, max: MAX_SEQUENCE });
  const out = required(values.out, '--out');
  const componentId = values.component.split('/');
  if (componentId.some((s) => s === '')) throw new UsageError(`--component: empty segment in "${values.component}"`);
  const vendorId = vendorIdOption(values['vendor-id']);
  const classId = classIdOption(values['class-id'], vendorId);
  const payload = await hashInput(payloadFile);
  const key = await readPrivateKey(keyFile).catch((error: unknown) => {
    // An OpenSSL decoder error carries a `reason` property too: only ours pass through as they are.
    if (error instanceof StorageError || error instanceof ManifestError) throw new UsageError(`--key ${keyFile}: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new StorageError(keyFile, `cannot read --key: ${code}`, { cause: error });
    throw new UsageError(`--key ${keyFile}: not a PKCS#8 private key in PEM (a public key or another format?): ${(error as Error).message.split('\n')[0]}`);
  });
  const uri = values.uri ?? payloadFile.split('/').pop()!;
  let envelope: Uint8Array;
  try {
    envelope = signEnvelope(
      {
        sequence, componentId, vendorId, classId,
        imageDigest: payload.digest,
        imageSize: payload.size,
        uri,
        ...(values.version === undefined ? {} : { version: values.version }),
        ...(values.description === undefined ? {} : { description: values.description }),
      },
      key,
    );
  } catch (error) {
    if (error instanceof ManifestError) throw new UsageError(`${optionOf(error, { '--uri': uri, '--version': values.version, '--description': values.description })}: ${error.message}; devices would refuse this envelope, so it was not written`);
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
  process.stdout.write(`${out}: sequence ${sequence}, ${payload.size} bytes, vendor-id ${vendorId}, class-id ${classId}\n`);
  return 0;
}

/**
 * The option a refused manifest field came from: the decoder's messages name the field first; a
 * size limit is put on the longest text option.
 */
function optionOf(error: ManifestError, texts: Record<string, string | undefined>): string {
  const message = error.message.replace(/^[a-z-]+: /, '');
  if (message.startsWith('uri')) return '--uri';
  if (message.startsWith('version')) return '--version';
  if (message.startsWith('description')) return '--description';
  if (message.startsWith('component id')) return '--component';
  const longest = Object.entries(texts).sort(([, a], [, b]) => (b?.length ?? 0) - (a?.length ?? 0))[0];
  return longest !== undefined && (longest[1]?.length ?? 0) > 1024 ? `${longest[0]} (${longest[1]!.length} characters)` : '--uri, --version, --description and --component together';
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
    options: { key: { type: 'string' }, payload: { type: 'string' }, 'vendor-id': { type: 'string' }, 'class-id': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(VERIFY_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`verify takes one FILE.suit, got ${positionals.length}`);
  const keyFile = required(values.key, '--key');
  const envelope = await readInput(positionals[0]!, { maxBytes: MAX_ENVELOPE_BYTES });
  const publicKey = await readPublicKey(keyFile).catch((error: unknown) => {
    throw (error as { reason?: string }).reason ? error : new StorageError(keyFile, `not a public key: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  });
  const { manifest, keyId } = verifyEnvelope(envelope, TrustAnchors.of([publicKey]));
  if (values['vendor-id'] !== undefined || values['class-id'] !== undefined) {
    const vendorId = vendorIdOption(values['vendor-id']);
    checkDevice(manifest, { vendorId, classId: classIdOption(values['class-id'], vendorId) });
  }
  if (values.payload !== undefined) {
    // Streamed and capped at the signed size: a wrong file (or /dev/zero) is not read whole.
    const payload = await hashInput(values.payload, { maxBytes: manifest.imageSize });
    if (payload.size !== manifest.imageSize) throw new ManifestError('payload-mismatch', `the payload is ${payload.size} bytes, the manifest says ${manifest.imageSize}`);
    if (!timingSafeEqual(payload.digest, manifest.imageDigest)) throw new ManifestError('payload-mismatch', 'the payload does not match the signed image digest');
  }
  const digest = Buffer.from(manifest.imageDigest).toString('hex');
  process.stdout.write(`ok: sequence ${manifest.sequence}${manifest.version ? `, version ${manifest.version}` : ''}, key ${keyId}, ${manifest.componentId.join('/')} ${manifest.imageSize} bytes sha256:${digest}${values.payload ? ', payload matches' : ''}\n`);
  return 0;
}
