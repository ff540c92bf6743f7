/**
 * A structural check of SUIT envelopes against the CDDL of draft-ietf-suit-manifest-37
 * (test/fixtures/suit/draft-ietf-suit-manifest.cddl, RFC 8610 notation), written rule by rule from
 * that file: keys, types, tags, `bstr .cbor` wrapping, command sequence shapes, parameters, reporting
 * policies, the text map. It has its own small CBOR reader (any map key, no profile) so that it
 * shares nothing with the code it checks. It checks the CDDL only: not signatures, digests or
 * deterministic encoding.
 *
 * The draft's CDDL leaves extension sockets (`$$SUIT_Parameters`, `$$SUIT_Envelope_Extensions`, …)
 * that it fills only with what it defines; this check allows exactly those, so an unknown key fails.
 */

/** A decoded CBOR item, kept close to the wire. */
type Item =
  | { readonly t: 'uint' | 'nint'; readonly v: number }
  | { readonly t: 'bstr'; readonly v: Uint8Array }
  | { readonly t: 'tstr'; readonly v: string }
  | { readonly t: 'array'; readonly v: readonly Item[] }
  | { readonly t: 'map'; readonly v: readonly (readonly [Item, Item])[] }
  | { readonly t: 'tag'; readonly tag: number; readonly v: Item }
  | { readonly t: 'simple'; readonly v: boolean | null };

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  arg(info: number): number {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1;
    if (size < 0) throw new Error(`unsupported additional information ${info} at ${this.pos}`);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.byte();
    return value;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('truncated CBOR');
    return this.bytes[this.pos++]!;
  }

  item(): Item {
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) {
      if (info === 20 || info === 21) return { t: 'simple', v: info === 21 };
      if (info === 22) return { t: 'simple', v: null };
      throw new Error(`simple value or float ${info} at ${this.pos - 1}`);
    }
    const arg = this.arg(info);
    switch (major) {
      case 0:
        return { t: 'uint', v: arg };
      case 1:
        return { t: 'nint', v: -1 - arg };
      case 2:
      case 3: {
        if (this.pos + arg > this.bytes.length) throw new Error('truncated string');
        const bytes = this.bytes.subarray(this.pos, this.pos + arg);
        this.pos += arg;
        return major === 2 ? { t: 'bstr', v: bytes } : { t: 'tstr', v: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
      }
      case 4:
        return { t: 'array', v: Array.from({ length: arg }, () => this.item()) };
      case 5:
        return { t: 'map', v: Array.from({ length: arg }, () => [this.item(), this.item()] as const) };
      default:
        return { t: 'tag', tag: arg, v: this.item() };
    }
  }
}

/** Exactly one CBOR item (what `.cbor` requires of a byte string's content). */
function decodeOne(bytes: Uint8Array): Item {
  const reader = new Reader(bytes);
  const item = reader.item();
  if (reader.pos !== bytes.length) throw new Error(`${bytes.length - reader.pos} bytes after the item`);
  return item;
}

type Problems = string[];

const isUint = (i: Item): boolean => i.t === 'uint';
const isInt = (i: Item): boolean => i.t === 'uint' || i.t === 'nint';
const intOf = (i: Item): number | undefined => (i.t === 'uint' || i.t === 'nint' ? i.v : undefined);

/** `bstr .cbor RULE`: a byte string holding exactly one item that satisfies `rule`. */
function wrapped(item: Item, path: string, p: Problems, rule: (inner: Item, path: string, p: Problems) => void): void {
  if (item.t !== 'bstr') return void p.push(`${path}: expected bstr .cbor, got ${item.t}`);
  let inner: Item;
  try {
    inner = decodeOne(item.v);
  } catch (error) {
    return void p.push(`${path}: bstr .cbor content is not one CBOR item (${(error as Error).message})`);
  }
  rule(inner, path, p);
}

/** A map with integer keys checked against `members` (key → rule), `required` keys present, nothing else. */
function intMap(item: Item, path: string, p: Problems, members: Record<number, (v: Item, path: string, p: Problems) => void>, required: readonly number[] = []): void {
  if (item.t !== 'map') return void p.push(`${path}: expected a map, got ${item.t}`);
  const seen = new Set<number>();
  for (const [key, value] of item.v) {
    const k = intOf(key);
    if (k === undefined) {
      p.push(`${path}: key of type ${key.t} not allowed`);
      continue;
    }
    if (seen.has(k)) p.push(`${path}: key ${k} twice`);
    seen.add(k);
    const rule = members[k];
    if (rule === undefined) p.push(`${path}: key ${k} not in the CDDL`);
    else rule(value, `${path}/${k}`, p);
  }
  for (const k of required) if (!seen.has(k)) p.push(`${path}: required key ${k} missing`);
}

const COSE_HASH_ALGS = [-16, -18, -43, -44, -45];

// SUIT_Digest = [ suit-digest-algorithm-id: suit-cose-hash-algs, suit-digest-bytes: bstr, * $$SUIT_Digest-extensions ]
function suitDigest(item: Item, path: string, p: Problems): void {
  if (item.t !== 'array' || item.v.length < 2) return void p.push(`${path}: SUIT_Digest is not [alg, bstr, …]`);
  if (!COSE_HASH_ALGS.includes(intOf(item.v[0]!) ?? 0)) p.push(`${path}: digest algorithm is not a suit-cose-hash-alg`);
  if (item.v[1]!.t !== 'bstr') p.push(`${path}: digest bytes are not a bstr`);
}

// COSE_Sign1_Tagged = #6.18([protected: bstr .cbor header_map / bstr .size 0, unprotected: header_map, payload: bstr / nil, signature: bstr])
function authenticationBlock(item: Item, path: string, p: Problems): void {
  if (item.t !== 'tag' || ![18, 98, 17, 97].includes(item.tag)) return void p.push(`${path}: not COSE_Sign1/Sign/Mac0/Mac tagged`);
  const body = item.v;
  if (body.t !== 'array') return void p.push(`${path}: COSE structure is not an array`);
  if (item.tag === 18) {
    if (body.v.length !== 4) return void p.push(`${path}: COSE_Sign1 has ${body.v.length} fields`);
    const [prot, unprot, payload, signature] = body.v as [Item, Item, Item, Item];
    if (prot.t !== 'bstr') p.push(`${path}: protected header is not a bstr`);
    else if (prot.v.length > 0) wrapped(prot, `${path}/protected`, p, (inner, at, q) => void (inner.t !== 'map' && q.push(`${at}: not a header map`)));
    if (unprot.t !== 'map') p.push(`${path}: unprotected header is not a map`);
    if (!(payload.t === 'bstr' || (payload.t === 'simple' && payload.v === null))) p.push(`${path}: payload is not bstr / nil`);
    if (signature.t !== 'bstr') p.push(`${path}: signature is not a bstr`);
  }
}

// SUIT_Authentication = [ bstr .cbor SUIT_Digest, * bstr .cbor SUIT_Authentication_Block ]
function authentication(item: Item, path: string, p: Problems): void {
  if (item.t !== 'array' || item.v.length < 1) return void p.push(`${path}: SUIT_Authentication is not [digest, * block]`);
  wrapped(item.v[0]!, `${path}/0`, p, suitDigest);
  item.v.slice(1).forEach((block, i) => wrapped(block, `${path}/${i + 1}`, p, authenticationBlock));
}

const uuid = (v: Item, path: string, p: Problems): void => void ((v.t !== 'bstr' || v.v.length !== 16) && p.push(`${path}: not RFC4122_UUID (bstr .size 16)`));
const uint = (v: Item, path: string, p: Problems): void => void (!isUint(v) && p.push(`${path}: not a uint`));
const tstr = (v: Item, path: string, p: Problems): void => void (v.t !== 'tstr' && p.push(`${path}: not a tstr`));
const bstr = (v: Item, path: string, p: Problems): void => void (v.t !== 'bstr' && p.push(`${path}: not a bstr`));
const bool = (v: Item, path: string, p: Problems): void => void (!(v.t === 'simple' && typeof v.v === 'boolean') && p.push(`${path}: not a bool`));

// $$SUIT_Parameters
const PARAMETERS: Record<number, (v: Item, path: string, p: Problems) => void> = {
  1: (v, path, p) => (v.t === 'tag' && v.tag === 112 ? bstr(v.v, path, p) : uuid(v, path, p)), // RFC4122_UUID / cbor-pen
  2: uuid,
  3: (v, path, p) => wrapped(v, path, p, suitDigest),
  14: uint,
  5: uint,
  21: tstr,
  25: bstr,
  22: uint,
  23: bstr,
  24: uuid,
  18: bstr,
  12: bool,
  13: bool,
};

function parameters(item: Item, path: string, p: Problems): void {
  if (item.t !== 'map' || item.v.length === 0) return void p.push(`${path}: not {+ $$SUIT_Parameters}`);
  for (const [key, value] of item.v) {
    const k = intOf(key);
    if (k === undefined) p.push(`${path}: parameter key ${key.t}`);
    else if (k < 0) {
      // suit-parameter-custom = nint => int / bool / tstr / bstr
      if (!(isInt(value) || value.t === 'tstr' || value.t === 'bstr' || (value.t === 'simple' && typeof value.v === 'boolean'))) p.push(`${path}/${k}: custom parameter of type ${value.t}`);
    } else if (PARAMETERS[k] === undefined) p.push(`${path}: parameter ${k} not in the CDDL`);
    else PARAMETERS[k]!(value, `${path}/${k}`, p);
  }
}

// SUIT_Rep_Policy = uint .bits suit-reporting-bits (bits 0–3)
const repPolicy = (v: Item, path: string, p: Problems): void => void (!(isUint(v) && (v as { v: number }).v < 16) && p.push(`${path}: not a SUIT_Rep_Policy (uint .bits 0..3)`));

// IndexArg = uint / true / [+uint]
function indexArg(v: Item, path: string, p: Problems): void {
  const ok = isUint(v) || (v.t === 'simple' && v.v === true) || (v.t === 'array' && v.v.length > 0 && v.v.every(isUint));
  if (!ok) p.push(`${path}: not an IndexArg`);
}

const CONDITIONS = [1, 2, 24, 3, 5, 6, 14];
const REP_DIRECTIVES = [18, 21, 22, 31, 23];

/** SUIT_Command_Sequence (shared: false) or SUIT_Shared_Sequence (shared: true). */
function commandSequence(shared: boolean) {
  return function sequence(item: Item, path: string, p: Problems): void {
    if (item.t !== 'array' || item.v.length === 0 || item.v.length % 2 !== 0) return void p.push(`${path}: not [+ (command, argument)]`);
    for (let i = 0; i < item.v.length; i += 2) {
      const code = intOf(item.v[i]!);
      const arg = item.v[i + 1]!;
      const at = `${path}[${i}]`;
      if (code === undefined) p.push(`${at}: command code is not an int`);
      else if (CONDITIONS.includes(code)) repPolicy(arg, at, p);
      else if (code === 12) indexArg(arg, at, p);
      else if (code === 20) parameters(arg, at, p);
      else if (code === 32) wrapped(arg, at, p, commandSequence(shared));
      else if (code === 15) {
        // [2* bstr .cbor sequence, ?nil]
        const options = arg.t === 'array' ? arg.v : [];
        const body = options.length > 0 && options.at(-1)!.t === 'simple' && (options.at(-1) as { v: unknown }).v === null ? options.slice(0, -1) : options;
        if (arg.t !== 'array' || body.length < 2) p.push(`${at}: try-each argument is not [2* bstr .cbor sequence, ?nil]`);
        body.forEach((option, n) => wrapped(option, `${at}/${n}`, p, commandSequence(shared)));
      } else if (!shared && REP_DIRECTIVES.includes(code)) repPolicy(arg, at, p);
      else if (!shared && code < 0) {
        // SUIT_Command_Custom = (suit-command-custom, bstr/tstr/int/nil)
        if (!(arg.t === 'bstr' || arg.t === 'tstr' || isInt(arg) || (arg.t === 'simple' && arg.v === null))) p.push(`${at}: custom command argument of type ${arg.t}`);
      } else p.push(`${at}: command ${code} is not allowed in a ${shared ? 'SUIT_Shared_Sequence' : 'SUIT_Command_Sequence'}`);
    }
  };
}

// SUIT_Component_Identifier = [* bstr]
function componentIdentifier(v: Item, path: string, p: Problems): void {
  if (v.t !== 'array' || !v.v.every((s) => s.t === 'bstr')) p.push(`${path}: not a SUIT_Component_Identifier`);
}

// SUIT_Common = { ? 2: SUIT_Components ([+ SUIT_Component_Identifier]), ? 4: bstr .cbor SUIT_Shared_Sequence }
function common(item: Item, path: string, p: Problems): void {
  intMap(item, path, p, {
    2: (v, at, q) => (v.t === 'array' && v.v.length > 0 ? v.v.forEach((id, i) => componentIdentifier(id, `${at}/${i}`, q)) : void q.push(`${at}: not [+ SUIT_Component_Identifier]`)),
    4: (v, at, q) => wrapped(v, at, q, commandSequence(true)),
  });
}

const LANGUAGE_TAG = /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/;

// SUIT_Text_Map = { + tag38-ltag => { SUIT_Text_Keys (1..4 => tstr), * SUIT_Component_Identifier => { 1..6 => tstr } } }
function textMap(item: Item, path: string, p: Problems): void {
  if (item.t !== 'map' || item.v.length === 0) return void p.push(`${path}: SUIT_Text_Map is not {+ ltag => map}`);
  for (const [tag, language] of item.v) {
    if (tag.t !== 'tstr' || !LANGUAGE_TAG.test(tag.v)) p.push(`${path}: key is not a tag38-ltag`);
    const at = `${path}/${tag.t === 'tstr' ? tag.v : '?'}`;
    if (language.t !== 'map') {
      p.push(`${at}: not a SUIT_Text_LMap`);
      continue;
    }
    for (const [key, value] of language.v) {
      const k = intOf(key);
      if (k !== undefined) {
        if (k < 1 || k > 4) p.push(`${at}: text key ${k} not in SUIT_Text_Keys`);
        tstr(value, `${at}/${k}`, p);
      } else if (key.t === 'array') {
        componentIdentifier(key, `${at}/component`, p);
        intMap(value, `${at}/component`, p, { 1: tstr, 2: tstr, 3: tstr, 4: tstr, 5: tstr, 6: tstr });
      } else p.push(`${at}: key of type ${key.t}`);
    }
  }
}

const commandSeq = (v: Item, at: string, q: Problems): void => wrapped(v, at, q, commandSequence(false));
/** `SUIT_Digest / bstr .cbor RULE` of a severable member in the manifest. */
const severable = (rule: (v: Item, at: string, q: Problems) => void) => (v: Item, at: string, q: Problems): void => (v.t === 'array' ? suitDigest(v, at, q) : wrapped(v, at, q, rule));

// SUIT_Manifest
function manifest(item: Item, path: string, p: Problems): void {
  intMap(
    item,
    path,
    p,
    {
      1: (v, at, q) => void (intOf(v) !== 1 && q.push(`${at}: suit-manifest-version is not 1`)),
      2: uint,
      3: (v, at, q) => wrapped(v, at, q, common),
      4: tstr,
      7: commandSeq,
      8: commandSeq,
      9: commandSeq,
      16: severable(commandSequence(false)),
      20: severable(commandSequence(false)),
      23: severable(textMap),
    },
    [1, 2, 3],
  );
}

/**
 * The places where `bytes` departs from the draft's CDDL for `SUIT_Envelope_Tagged`; empty when it
 * conforms.
 *
 * @example
 * ```ts
 * expect(suitCddlProblems(envelope)).toEqual([])
 * ```
 */
export function suitCddlProblems(bytes: Uint8Array): string[] {
  const p: Problems = [];
  let item: Item;
  try {
    item = decodeOne(bytes);
  } catch (error) {
    return [`not one CBOR item: ${(error as Error).message}`];
  }
  if (item.t !== 'tag' || item.tag !== 107) return ['not SUIT_Envelope_Tagged (#6.107)'];
  const envelope = item.v;
  if (envelope.t !== 'map') return ['SUIT_Envelope is not a map'];
  const seen = new Set<number>();
  for (const [key, value] of envelope.v) {
    if (key.t === 'tstr') {
      // SUIT_Integrated_Payload = (tstr => bstr)
      bstr(value, `envelope/${key.v}`, p);
      continue;
    }
    const k = intOf(key);
    if (k === undefined) {
      p.push(`envelope: key of type ${key.t}`);
      continue;
    }
    seen.add(k);
    const at = `envelope/${k}`;
    if (k === 2) wrapped(value, at, p, authentication);
    else if (k === 3) wrapped(value, at, p, manifest);
    else if (k === 16 || k === 20) wrapped(value, at, p, commandSequence(false));
    else if (k === 23) wrapped(value, at, p, textMap);
    else p.push(`envelope: key ${k} not in the CDDL`);
  }
  for (const k of [2, 3]) if (!seen.has(k)) p.push(`envelope: required key ${k} missing`);
  return p;
}
