/**
 * The shape of an audit event (IEC 62443-4-2 CR 2.8 auditable events, CR 2.11 timestamps): what
 * happened (`category`, `event`, `result`), who did it (`actor`), through what (`source`), with
 * what details (`detail`), and when (`time`, stamped by the log from its clock). Every security
 * control records through an {@link AuditSink}; `AuditLog` is the one sink that writes them,
 * hash-chained, to disk.
 */
import { describe } from '../../sdk/core/check.js';
import { ArgumentError } from '../../sdk/core/errors.js';

/** What kind of event: the categories of IEC 62443-4-2 CR 2.8 as sensorkit meets them. */
export const AUDIT_CATEGORIES = ['login', 'setting', 'command', 'ota', 'certificate', 'integrity', 'clock', 'system'] as const;

/**
 * - `login`: a session opened or refused (OPC UA, update server);
 * - `setting`: a configurable property written; `command`: a command called;
 * - `ota`: a step of a firmware update; `certificate`: a certificate refused or trusted;
 * - `integrity`: a signature, digest or chain that did not verify;
 * - `clock`: the wall clock stepped; `system`: start, stop, provisioning, the audit log itself.
 */
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/** The outcome: done, failed, or refused by an access control. */
export const AUDIT_RESULTS = ['success', 'failure', 'denied'] as const;

export type AuditResult = (typeof AUDIT_RESULTS)[number];

/** An event as a control reports it; the log adds the time, the sequence number and the chain. */
export interface AuditEvent {
  readonly category: AuditCategory;
  /** What happened, dotted: `opcua.session`, `mqtt.command`, `ota.confirmed`, `clock.step`. */
  readonly event: string;
  readonly result: AuditResult;
  /** The component that saw it, and where from: `opcua`, `mqtt`, `ota`, `runtime`, `opcua 10.0.0.7:51234`. */
  readonly source?: string;
  /** Who: a user name, an operator key id, a certificate thumbprint, `anonymous`, `device`. */
  readonly actor?: string;
  /** Anything else worth keeping, JSON-serialisable (never a password or a key). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * Where a control records its events: `AuditLog`, or anything with `record` (a test's array, a
 * forwarder). `record` may return a promise that settles once the event is stored; a control on
 * the data path does not wait for it.
 *
 * @example
 * ```ts
 * const events: AuditEvent[] = []
 * const sink: AuditSink = { record: (event) => void events.push(event) }
 * ```
 */
export interface AuditSink {
  record(event: AuditEvent): unknown;
}

/** Longest `event`, `source` or `actor`, characters. */
const MAX_TEXT = 200;

/**
 * Checks an event's shape; throws `ArgumentError` naming the bad field.
 *
 * @example
 * ```ts
 * checkAuditEvent({ category: 'login', event: 'opcua.session', result: 'denied', actor: 'alice' })
 * ```
 */
export function checkAuditEvent(event: AuditEvent): AuditEvent {
  if (typeof event !== 'object' || event === null) throw new ArgumentError(`Expected an audit event object, got ${describe(event)}`);
  if (!(AUDIT_CATEGORIES as readonly string[]).includes(event.category)) {
    throw new ArgumentError(`Expected \`category\` to be one of ${AUDIT_CATEGORIES.join(', ')}, got ${describe(event.category)}`);
  }
  if (!(AUDIT_RESULTS as readonly string[]).includes(event.result)) throw new ArgumentError(`Expected \`result\` to be one of ${AUDIT_RESULTS.join(', ')}, got ${describe(event.result)}`);
  for (const name of ['event', 'source', 'actor'] as const) {
    const value = event[name];
    if (value === undefined && name !== 'event') continue;
    if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT) {
      throw new ArgumentError(`Expected \`${name}\` to be a string of 1 to ${MAX_TEXT} characters, got ${describe(value)}`);
    }
  }
  if (event.detail !== undefined && (typeof event.detail !== 'object' || event.detail === null || Array.isArray(event.detail))) {
    throw new ArgumentError(`Expected \`detail\` to be an object, got ${describe(event.detail)}`);
  }
  return event;
}

/** Events written through the older `append(event, data)` whose result is a failure. */
const FAILED_EVENTS = new Set(['ota.failed', 'ota.image-invalid', 'ota.boot-state-damaged', 'ota.counter-damaged', 'ota.rolled-back', 'ota.trial-abandoned', 'audit.head-missing', 'audit.torn-tail-dropped']);

/**
 * The category and result of an event named only (`append('ota.confirmed', …)`): `ota.*` is `ota`,
 * anything else `system`; a failure for the names that report one, else success.
 *
 * @example
 * ```ts
 * classifyNamedEvent('ota.rolled-back') // { category: 'ota', result: 'failure' }
 * ```
 */
export function classifyNamedEvent(event: string): { category: AuditCategory; result: AuditResult } {
  return { category: event.startsWith('ota.') ? 'ota' : 'system', result: FAILED_EVENTS.has(event) ? 'failure' : 'success' };
}
