/**
 * The CDDL export. No CDDL tool is installed (the npm `cddl` parser rejects valid RFC 8610 such as a
 * top-level choice of maps), so a small checker below verifies the structure — balanced brackets,
 * every rule defined once, every name used defined, every rule reachable from the first — and the
 * telemetry rules are checked against what the SenML-CBOR encoder actually writes.
 */
import { Decoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import envNode from '../../examples/env-node/device.js';
import motorMonitor from '../../examples/motor-monitor/device.js';
import pressureTransmitter from '../../examples/pressure-transmitter/device.js';
import { payloadCddl } from '../../sdk/encoding/cddl.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { isSecondaryUnit } from '../../sdk/encoding/senml.js';
import { ALARM_EVENT_FIELDS, STATUS_FIELDS } from '../../sdk/encoding/wot.js';
import { PayloadWriter } from '../../sdk/transport/mqtt/payloads.js';
import { GOOD, type Sample } from '../../sdk/core/sample.js';
import { defineDevice, type DeviceModel } from '../../sdk/model/index.js';
import { exportModel } from '../support/export-model.js';

// RFC 8610 Appendix D: the standard prelude.
const PRELUDE = new Set(
  ('any uint nint int bstr bytes tstr text tdate time number biguint bignint bigint integer unsigned decfrac bigfloat ' +
    'eb64url eb64legacy eb16 encoded-cbor uri b64url b64legacy regexp mime-message cbor-any float16 float32 float64 ' +
    'float16-32 float32-64 float false true bool nil null undefined').split(' '),
);

interface CddlStructure {
  readonly rules: readonly string[];
  readonly problems: readonly string[];
}

/** Checks the structure of a CDDL text; returns its rule names (in order) and what is wrong. */
function checkCddl(source: string): CddlStructure {
  const problems: string[] = [];
  // Comments run from ";" to the end of the line (RFC 8610 §3.1); strings cannot span lines.
  const code = source
    .split('\n')
    .map((line) => line.replace(/"(?:[^"\\]|\\.)*"|;.*$/g, (match) => (match.startsWith(';') ? '' : '""')))
    .join('\n');
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const char of code) {
    if ('([{'.includes(char)) stack.push(char);
    else if (char in pairs && stack.pop() !== pairs[char]) problems.push(`unbalanced "${char}"`);
  }
  if (stack.length > 0) problems.push(`unclosed ${stack.join('')}`);

  const tokens = code.match(/\.[a-z]+|[A-Za-z@_$](?:[A-Za-z0-9@_$]|[-.](?=[A-Za-z0-9@_$]))*|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|\/\/=|\/=|=>|\.\.\.?|[^\s\w]/g) ?? [];
  const rules: string[] = [];
  const references = new Map<string, Set<string>>();
  let current: string | undefined;
  tokens.forEach((token, i) => {
    if (!/^[A-Za-z@_$]/.test(token)) return;
    const next = tokens[i + 1];
    if (next === '=' || next === '/=' || next === '//=') {
      if (next === '=' && rules.includes(token)) problems.push(`rule "${token}" defined twice`);
      if (!rules.includes(token)) rules.push(token);
      current = token;
      references.set(token, references.get(token) ?? new Set());
    } else if (next !== ':') {
      if (current === undefined) problems.push(`"${token}" outside a rule`);
      else references.get(current)!.add(token);
    }
  });
  for (const [rule, names] of references) {
    for (const name of names) if (!rules.includes(name) && !PRELUDE.has(name)) problems.push(`"${name}" (in ${rule}) is not defined`);
  }
  const reachable = new Set<string>();
  const visit = (rule: string): void => {
    if (reachable.has(rule) || !references.has(rule)) return;
    reachable.add(rule);
    for (const name of references.get(rule)!) visit(name);
  };
  if (rules[0] !== undefined) visit(rules[0]);
  for (const rule of rules) if (!reachable.has(rule)) problems.push(`rule "${rule}" is unreachable from "${rules[0]}"`);
  return { rules, problems };
}

/** The body of one rule, from its name to the next rule (comments kept). */
function ruleText(cddl: string, name: string): string {
  const match = new RegExp(`^${name.replace(/[.-]/g, '\\$&')} = [\\s\\S]*?(?=\\n(?:\\n|[A-Za-z]))`, 'm').exec(`${cddl}\n\n`);
  if (!match) throw new Error(`no rule ${name}`);
  return match[0];
}

/** The entries of a group or map rule written one per line: key (label as written) and type. */
function entries(cddl: string, name: string): { key: string; optional: boolean; type: string }[] {
  return ruleText(cddl, name)
    .split('\n')
    .slice(1)
    .map((line) => /^\s+(\? )?("?[\w@-]+"?)\s*(?::|=>)\s*(.+?),\s*(?:;.*)?$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ key: match[2]!, optional: match[1] !== undefined, type: match[3]! }));
}

describe('the CDDL checker of this test', () => {
  it('finds unbalanced brackets, undefined names, double definitions and unreachable rules', () => {
    expect(checkCddl('a = { b: c }\nc = [* d]\nd = int\n').problems).toEqual([]);
    expect(checkCddl('a = { b: int \n').problems).toEqual(['unclosed {']);
    expect(checkCddl('a = [ int }\n').problems).toContain('unbalanced "}"');
    expect(checkCddl('a = { b: missing }\n').problems).toEqual(['"missing" (in a) is not defined']);
    expect(checkCddl('a = int\na = tstr\n').problems).toContain('rule "a" defined twice');
    expect(checkCddl('a = int\norphan = tstr\n').problems).toEqual(['rule "orphan" is unreachable from "a"']);
    expect(checkCddl('a = "x;y" ; c is not a reference here\n').problems).toEqual([]);
    expect(checkCddl('a = (number .ge 0) .and (number .le 1)\n').problems).toEqual([]);
  });
});

describe.each([
  ['env-node', envNode],
  ['motor-monitor', motorMonitor],
  ['pressure-transmitter', pressureTransmitter],
  ['export fixture', exportModel],
] as [string, DeviceModel][])('payloadCddl() of %s', (_name, model) => {
  const cddl = payloadCddl(model);
  const { rules, problems } = checkCddl(cddl);

  it('is structurally sound CDDL: balanced, every name defined, every rule reachable from `payload`', () => {
    expect(problems).toEqual([]);
    expect(rules[0]).toBe('payload');
  });

  it('has a rule for every topic payload of the model', () => {
    const expected = [
      'telemetry', 'status', 'thing-description',
      ...model.commands.flatMap((c) => [`${c.id}-request`, `${c.id}-reply`]),
      ...model.properties.flatMap((p) => (p.writable === false ? [`${p.id}-value`] : [`${p.id}-value`, `${p.id}-set`])),
      ...model.alarms.map((a) => `${a.id}-event`),
    ];
    expect(ruleText(cddl, 'payload')).toBe(`payload = ${expected.join(' / ')}`);
    for (const rule of expected) expect(rules).toContain(rule);
  });

  it('restricts telemetry records to the channel names, each with its own unit', () => {
    expect(ruleText(cddl, 'record')).toBe(`record = ${model.channels.map((c) => `${c.id}-record`).join(' / ')}`);
    for (const channel of model.channels) {
      expect(cddl).toContain(`\n${channel.id}-record = { record-base, n => ${JSON.stringify(channel.id)}, u => ${JSON.stringify(channel.unit)}, reading }\n`);
    }
  });

  it('uses the integer labels of RFC 8428 §6', () => {
    for (const [label, key] of Object.entries({ bn: -2, bt: -3, n: 0, u: 1, v: 2, t: 6 })) expect(cddl).toContain(`\n${label} = ${key}\n`);
  });

  it('allows bver 26 in the first record exactly when a channel has an RFC 8798 secondary unit (RFC 9100 §4)', () => {
    const secondary = model.channels.some((channel) => isSecondaryUnit(channel.unit));
    const bver = entries(cddl, 'record-base').find((entry) => entry.key === 'bver');
    if (secondary) {
      expect(bver).toEqual({ key: 'bver', optional: true, type: '26' });
      expect(cddl).toContain('\nbver = -1\n');
    } else {
      expect(bver).toBeUndefined();
      expect(cddl).not.toContain('bver');
    }
  });

  it('describes the status object the MQTT transport writes', () => {
    expect(entries(cddl, 'status').map((entry) => entry.key)).toEqual([...STATUS_FIELDS]);
    const written = new PayloadWriter().status({ state: 'online', dropped: 0, pending: 3, protocol: 5, time: 1767225600 });
    expect(Object.keys(JSON.parse(new TextDecoder().decode(written)) as object)).toEqual([...STATUS_FIELDS]);
  });
});

describe('payloadCddl() commands, settings and alarms', () => {
  const cddl = payloadCddl(exportModel);

  it('writes each command request with typed, ranged, optional arguments and its reply', () => {
    expect(entries(cddl, 'zero-request')).toEqual([
      { key: 'offset', optional: false, type: '(number .ge -500) .and (number .le 500)' },
      { key: 'samples', optional: true, type: '1..100' },
      { key: 'method', optional: false, type: '"mean" / "median"' },
      { key: 'persist', optional: true, type: 'bool' },
      { key: 'note', optional: true, type: 'tstr' },
    ]);
    expect(ruleText(cddl, 'zero-reply')).toBe('zero-reply = { ok: true, ? result: number } / command-error');
    expect(ruleText(cddl, 'reboot-request')).toBe('reboot-request = {}');
    expect(ruleText(cddl, 'reboot-reply')).toBe('reboot-reply = { ok: true } / command-error');
    expect(ruleText(cddl, 'command-error')).toBe('command-error = { ok: false, error: { code: tstr, message: tstr, ? reason: tstr } }');
    expect(cddl).toContain('; --- cmd/zero (application/json or application/cbor; client → device)');
    expect(cddl).toContain('; --- cmd/zero/result (');
  });

  it('writes each setting\'s value, and a set payload only for writable ones', () => {
    expect(ruleText(cddl, 'interval-value')).toBe('interval-value = 1..3600');
    expect(ruleText(cddl, 'gain-value')).toBe('gain-value = (number .ge 0.5) .and (number .le 2.5)');
    expect(ruleText(cddl, 'mode-value')).toBe('mode-value = "normal" / "eco"');
    expect(ruleText(cddl, 'location-value')).toBe('location-value = tstr');
    expect(ruleText(cddl, 'gain-set')).toBe('gain-set = gain-value');
    expect(ruleText(cddl, 'firmware-locked-value')).toBe('firmware-locked-value = bool');
    expect(cddl).not.toContain('firmware-locked-set');
  });

  it('writes each alarm event with the fields of the Thing Description, its limit and severity', () => {
    const fields = entries(cddl, 'too-hot-event');
    expect(fields.map((entry) => entry.key)).toEqual([...ALARM_EVENT_FIELDS]);
    expect(Object.fromEntries(fields.map((entry) => [entry.key, entry.type]))).toMatchObject({
      alarm: '"too-hot"',
      channel: '"air_temperature"',
      state: '"active" / "cleared"',
      limit: '60.5',
      severity: '800',
    });
    expect(Object.fromEntries(entries(cddl, 'vacuum-event').map((entry) => [entry.key, entry.type]))).toMatchObject({ limit: '50000', severity: '300' });
  });

  it('keeps model texts inside comments', () => {
    const odd = payloadCddl(defineDevice({ ...exportModel.spec, commands: [{ id: 'odd', description: 'line one\nline two' }] }));
    expect(checkCddl(odd).problems).toEqual([]);
    expect(odd).toContain('(line one line two)');
  });
});

describe('payloadCddl() telemetry against the SenML-CBOR encoder', () => {
  const model = pressureTransmitter;
  const cddl = payloadCddl(model);
  const labels = new Map([...cddl.matchAll(/^([a-z]+) = (-?\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  const keyOf = (written: string): string | number => (written.startsWith('"') ? (JSON.parse(written) as string) : labels.get(written)!);
  const fields = [...entries(cddl, 'record-base'), ...entries(cddl, 'reading'), { key: 'n', optional: false, type: 'tstr' }, { key: 'u', optional: false, type: 'tstr' }];
  const allowed = new Map(fields.map((field) => [keyOf(field.key), field]));
  const units = new Map([...cddl.matchAll(/^([\w-]+)-record = \{ record-base, n => ("[^"]+"), u => ("[^"]+"), reading \}$/gm)].map((m) => [JSON.parse(m[2]!) as string, JSON.parse(m[3]!) as string]));

  it('every record the encoder writes has only the fields the CDDL allows, the required ones, and a declared name and unit', () => {
    const t0 = 1_767_225_600_000;
    const samples: Sample[] = [
      { channel: 'pressure', time: t0, value: 400_123.5, unit: 'Pa', quality: GOOD, calibrationId: 'CAL-PT10-2026-0117', uncertainty: 1500 },
      { channel: 'loop-current', time: t0 + 100, value: 10.4, unit: 'mA', quality: GOOD },
      { channel: 'pressure', time: t0 + 200, value: 1_100_000, unit: 'Pa', quality: { level: 'uncertain', reason: 'out_of_range' } },
      { channel: 'loop-current', time: t0 + 300, value: null, unit: 'mA', quality: { level: 'bad', reason: 'sensor_fault', detail: 'open loop' } },
    ];
    const pack = new Decoder({ mapsAsObjects: false, useRecords: false }).decode(new SenmlCborEncoder().encode('pressure-transmitter-EMU-1', samples)) as Map<string | number, unknown>[];
    expect(pack).toHaveLength(samples.length);
    pack.forEach((record, i) => {
      for (const key of record.keys()) expect(allowed.has(key), `record ${i} key ${String(key)}`).toBe(true);
      for (const field of fields.filter((f) => !f.optional)) expect(record.has(keyOf(field.key)), `record ${i} lacks ${field.key}`).toBe(true);
      const name = record.get(labels.get('n')!) as string;
      expect(units.get(name)).toBe(record.get(labels.get('u')!));
      const quality = record.get('q');
      if (quality !== undefined) expect(allowed.get('q')!.type.split(' / ')).toContain(JSON.stringify(quality));
      const reason = record.get('qr');
      if (reason !== undefined) expect(allowed.get('qr')!.type.split(' / ')).toContain(JSON.stringify(reason));
    });
    expect(pack[0]!.get(labels.get('bn')!)).toBe('pressure-transmitter-EMU-1/');
    expect(pack[0]!.get('cal')).toBe('CAL-PT10-2026-0117');
    expect(pack[3]!.has(labels.get('v')!)).toBe(false);
  });
});
