/**
 * The CDDL (RFC 8610) of every payload one device model sends or accepts, on every topic of
 * `topics.ts`: the SenML-CBOR telemetry pack with this model's channel names and units, the status
 * object, the Thing Description on the model topic, each command's request and reply, each setting's
 * value, and each alarm's event. `sensorkit model --format cddl` prints it.
 *
 * The generic grammar of these payloads is `sensorkit.cddl`; this text is the same grammar narrowed
 * to one model, so a payload can be checked against exactly what this device declares.
 */
import type { DeviceModel } from '../model/define-device.js';
import type { AlarmSpec, ChannelSpec, CommandSpec, PropertySpec, ValueSpec } from '../model/spec.js';
import { SENML_LABELS, SENML_SECONDARY_UNITS_VERSION, SENSORKIT_LABELS, isSecondaryUnit } from './senml.js';
import { TD_CONTEXT } from './wot.js';

/**
 * Types of sensorkit's SenML extension fields (labels in `senml.ts`; RFC 8428 §4.4: text labels
 * outside the registry, not ending in `_`, so a receiver that does not know them still reads `v`).
 */
const EXTENSION_FIELDS: Readonly<Record<keyof typeof SENSORKIT_LABELS, { type: string; comment: string }>> = {
  quality: { type: '"uncertain" / "bad"', comment: 'quality level (IEC 62541-4 §7.39 classes); absent: good' },
  reason: { type: '"out_of_range" / "sensor_fault" / "stale" / "calibration_expired" / "incomplete"', comment: 'why the quality is not good' },
  calibration: { type: 'tstr', comment: 'id of the calibration record applied' },
  uncertainty: { type: 'number .ge 0', comment: 'expanded uncertainty (GUM, k = 2), in the record\'s unit' },
  completeness: { type: '0.0..1.0', comment: 'received / expected samples of an aggregate window that missed some' },
};

/**
 * The CDDL of the payloads of one device model. The first rule, `payload`, is the choice of every
 * payload; each topic's payload has its own rule, introduced by a comment naming the topic (relative
 * to `sensorkit/v1/<deviceId>/`), its content type and its direction.
 *
 * @example
 * ```ts
 * const text = payloadCddl(model)
 * // payload = telemetry / status / thing-description / …
 * // temperature-record = { record-base, n => "temperature", u => "Cel", reading }
 * ```
 */
export function payloadCddl(model: DeviceModel): string {
  const out = new CddlWriter();
  const rules = ['telemetry', 'status', 'thing-description'];
  for (const command of model.commands) rules.push(rule(command.id, 'request'), rule(command.id, 'reply'));
  for (const setting of model.properties) rules.push(rule(setting.id, 'value'), ...(setting.writable === false ? [] : [rule(setting.id, 'set')]));
  for (const alarm of model.alarms) rules.push(rule(alarm.id, 'event'));

  out.comment(`Payloads of the sensorkit device model "${model.id}" (${model.identity.manufacturer} ${model.identity.model}).`);
  out.comment('CDDL, RFC 8610. Topics are relative to sensorkit/v1/<deviceId>/, where <deviceId> = "<model id>-<serial>".');
  out.comment('Generated from the model by `sensorkit model --format cddl`; do not edit.');
  out.blank();
  out.line(`payload = ${rules.join(' / ')}`);

  telemetry(out, model.channels);
  status(out);
  thingDescription(out);
  if (model.commands.length > 0) commands(out, model.commands);
  if (model.properties.length > 0) settings(out, model.properties);
  if (model.alarms.length > 0) alarms(out, model.alarms, model);
  return out.text();
}

function telemetry(out: CddlWriter, channels: readonly ChannelSpec[]): void {
  out.section('telemetry', 'application/senml+cbor', 'device → broker, QoS 1', 'a SenML pack (RFC 8428 §4, CBOR representation §6): one record per reported sample');
  out.line('telemetry = [+ record]');
  out.line(`record = ${channels.map((channel) => rule(channel.id, 'record')).join(' / ')}`);
  for (const channel of channels) {
    out.blank();
    out.comment(`${channel.id}: ${channel.quantity}, measuring range ${channel.range.min} … ${channel.range.max} ${channel.unit}, ${channel.sampleRate} Hz`);
    out.line(`${rule(channel.id, 'record')} = { record-base, n => ${text(channel.id)}, u => ${text(channel.unit)}, reading }`);
  }
  // RFC 9100 §4: RFC 8798 secondary units in `u` need bver 26, which the encoder then writes.
  const secondary = [...new Set(channels.map((channel) => channel.unit).filter(isSecondaryUnit))];
  out.blank();
  out.comment('The first record of a pack carries the base name "<deviceId>/" and the base time.');
  if (secondary.length > 0) {
    out.comment(`It also carries bver ${SENML_SECONDARY_UNITS_VERSION} when the pack has a record in ${secondary.map((unit) => `"${unit}"`).join(', ')}: RFC 8798 secondary`);
    out.comment(`units, allowed in u only with the "Secondary Units" feature (RFC 9100 §4: 10 + 2^4 = ${SENML_SECONDARY_UNITS_VERSION}).`);
  }
  out.line('record-base = (');
  if (secondary.length > 0) out.line(`  ? bver => ${SENML_SECONDARY_UNITS_VERSION},     ; SenML version with the secondary-units feature (RFC 9100 §4)`);
  out.line('  ? bn => tstr,     ; base name: "<deviceId>/"');
  out.line('  ? bt => number,   ; base time: seconds since the Unix epoch');
  out.line(')');
  out.comment('v is absent when the quality is bad and there is no value worth sending.');
  out.line('reading = (');
  out.line('  t => number,      ; time relative to bt, seconds');
  out.line('  ? v => number,    ; the value, in the record\'s unit');
  for (const [key, field] of Object.entries(EXTENSION_FIELDS)) {
    out.line(`  ? ${text(SENSORKIT_LABELS[key as keyof typeof SENSORKIT_LABELS])} => ${field.type},  ; ${field.comment}`);
  }
  out.line(')');
  out.comment('RFC 8428 §6 Table 4: integer labels in CBOR.');
  for (const name of [...(secondary.length > 0 ? (['bver'] as const) : []), 'bn', 'bt', 'n', 'u', 'v', 't'] as const) out.line(`${name} = ${SENML_LABELS[name]}`);
}

function status(out: CddlWriter): void {
  out.section('status', 'application/json', 'device → broker, retained; "offline" is also the MQTT last will', 'the online state and the outbox counters');
  out.line('status = {');
  out.line('  state: "online" / "offline",');
  out.line('  dropped: uint,    ; telemetry records dropped so far (oldest first) because the outbox was full');
  out.line('  pending: uint,    ; telemetry records not yet acknowledged by the broker');
  out.line('  protocol: 4 / 5,  ; MQTT protocol level of the connection (3.1.1 is 4)');
  out.line('  time: number,     ; when this was written, seconds since the Unix epoch');
  out.line('}');
}

function thingDescription(out: CddlWriter): void {
  out.section('model', 'application/td+json', 'device → broker, retained', 'the W3C WoT Thing Description 1.1 of the device (`sensorkit model --format wot`)');
  out.comment('Only the members TD 1.1 §5.3.1.1 makes mandatory are spelled out; the TD JSON Schema checks the rest.');
  out.line('thing-description = {');
  out.line(`  "@context": ${text(TD_CONTEXT)} / [${text(TD_CONTEXT)}, * (tstr / { * tstr => any })],`);
  out.line('  title: tstr,');
  out.line('  security: tstr / [+ tstr],');
  out.line('  securityDefinitions: { + tstr => { scheme: tstr, * tstr => any } },');
  out.line('  * tstr => any,');
  out.line('}');
}

function commands(out: CddlWriter, list: readonly CommandSpec[]): void {
  for (const command of list) {
    out.section(`cmd/${command.id}`, 'application/json or application/cbor', 'client → device', `request of "${command.id}"${command.description ? ` (${command.description})` : ''}; an empty payload means no arguments`);
    const args = command.arguments ?? [];
    if (args.length === 0) out.line(`${rule(command.id, 'request')} = {}`);
    else {
      out.line(`${rule(command.id, 'request')} = {`);
      for (const argument of args) {
        out.line(`  ${argument.required === false ? '? ' : ''}${argument.name}: ${valueType(argument)},${argument.description ? `  ; ${argument.description}` : ''}`);
      }
      out.line('}');
    }
    out.section(`cmd/${command.id}/result`, 'as the request', 'device → client (or the MQTT 5 Response Topic of the request)', `reply to "${command.id}"`);
    out.line(`${rule(command.id, 'reply')} = { ok: true${command.result ? `, ? result: ${valueType(command.result)}` : ''} } / command-error`);
  }
  out.blank();
  out.comment('Bad arguments, an unknown command or a failing handler; a request the signed-command check refused');
  out.comment('has code "ERR_REFUSED" and its reason (unsigned, wrong-role, replayed, expired …).');
  out.line('command-error = { ok: false, error: { code: tstr, message: tstr, ? reason: tstr } }');
}

function settings(out: CddlWriter, list: readonly PropertySpec[]): void {
  for (const setting of list) {
    const writable = setting.writable !== false;
    out.section(`property/${setting.id}`, 'application/json', 'device → broker, retained', `current value of the setting "${setting.id}"${setting.description ? ` (${setting.description})` : ''}, default ${JSON.stringify(setting.default)}`);
    out.line(`${rule(setting.id, 'value')} = ${valueType(setting)}`);
    if (writable) {
      out.section(`property/${setting.id}/set`, 'application/json', 'client → device', `new value of "${setting.id}"`);
      out.line(`${rule(setting.id, 'set')} = ${rule(setting.id, 'value')}`);
    }
  }
}

function alarms(out: CddlWriter, list: readonly AlarmSpec[], model: DeviceModel): void {
  for (const alarm of list) {
    const unit = model.channel(alarm.channel)?.unit ?? '';
    out.section(`event/${alarm.id}`, 'application/json', 'device → broker', `alarm "${alarm.id}" raised or cleared: ${alarm.channel} ${alarm.kind === 'high' ? 'above' : 'below'} ${alarm.limit} ${unit}, hysteresis ${alarm.hysteresis ?? 0}`);
    out.line(`${rule(alarm.id, 'event')} = {`);
    out.line(`  alarm: ${text(alarm.id)},`);
    out.line(`  channel: ${text(alarm.channel)},`);
    out.line('  state: "active" / "cleared",');
    out.line(`  value: number,    ; the value that caused the transition, ${unit}`);
    out.line(`  limit: ${number(alarm.limit)},`);
    out.line(`  severity: ${alarm.severity},   ; 1 … 1000, as OPC UA event severity`);
    out.line('  message: tstr,');
    out.line('  time: number,     ; time of the sample, seconds since the Unix epoch');
    out.line('}');
  }
}

/**
 * A value spec as a CDDL type. Integer ranges are CDDL ranges (RFC 8610 §3.2, `min..max`);
 * number ranges are `.ge` / `.le` controls (RFC 8610 §3.8.6) joined with `.and` (§3.8.5), so that a
 * whole number sent as a CBOR integer still matches.
 */
function valueType(value: ValueSpec): string {
  switch (value.type) {
    case 'boolean':
      return 'bool';
    case 'string':
      return value.enum ? value.enum.map(text).join(' / ') : 'tstr';
    case 'integer':
      return value.range ? `${Math.ceil(value.range.min)}..${Math.floor(value.range.max)}` : 'int';
    case 'number':
      return value.range ? `(number .ge ${number(value.range.min)}) .and (number .le ${number(value.range.max)})` : 'number';
  }
}

/** A rule name for an id and a kind: ids are `[a-z][a-z0-9_-]*`, already valid CDDL names. */
function rule(id: string, kind: 'record' | 'request' | 'reply' | 'value' | 'set' | 'event'): string {
  return `${id}-${kind}`;
}

/** A CDDL text literal (RFC 8610 Appendix B `text`); ids and SenML units need no escapes. */
function text(value: string): string {
  return JSON.stringify(value);
}

/** A CDDL number literal: JavaScript's shortest round-trip form is valid CDDL (`-40`, `0.5`, `1e+21`). */
function number(value: number): string {
  return String(value);
}

/** Collects lines; sections are separated by a blank line and a comment naming the topic. */
class CddlWriter {
  readonly #lines: string[] = [];

  line(text: string): void {
    this.#lines.push(text);
  }

  blank(): void {
    this.#lines.push('');
  }

  /** A comment line; model texts (descriptions, messages) cannot end it early. */
  comment(text: string): void {
    this.#lines.push(`; ${text.replace(/[\r\n]+/g, ' ')}`);
  }

  section(topic: string, contentType: string, direction: string, what: string): void {
    this.blank();
    this.comment(`--- ${topic} (${contentType}; ${direction}): ${what}`);
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}
