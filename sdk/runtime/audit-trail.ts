/**
 * What the runtime records in the audit log beside what the transports record themselves
 * (refused and signed requests, OPC UA logins): setting changes, certificate failures at the
 * broker, damaged outbox files (integrity), wall-time steps of the clock (`clock.step`, with
 * `stepMs`, the time it re-based at and whether it was followed), and the publication of every record on
 * `sensorkit/v1/<device id>/audit` for a plant's SIEM (IEC 62443-4-2 CR 6.1, CR 6.2).
 *
 * Published payload (`application/json`, QoS 1, not retained): the record exactly as stored, one
 * JSON object `{ seq, time, source, actor, category, event, result, data, prev, hash }`, so that
 * the SIEM can check the chain itself; and for the log's own alerts (a full disk, memory full,
 * writes back) `{ time, source: "audit", category: "system", event: "audit.alert", result,
 * data: { kind, message, pending, dropped } }`, without `seq`, `prev` or `hash`: it is not in the log.
 */
import type { Clock, ClockStep } from '../core/clock.js';
import type { Device } from '../device/device.js';
import type { Transport } from '../transport/registry.js';
import type { AuditAlert, AuditEntry } from '../../security/audit-log.js';
import type { SecuritySide } from './security-side.js';

/** The media type of published audit records. */
export const AUDIT_CONTENT_TYPE = 'application/json';

/** A transport that can publish a device event (`MqttTransport.publishEvent`, where it exists). */
interface EventPublisher {
  publishEvent?(suffix: 'audit', payload: Uint8Array, contentType: string): boolean;
}

/** Messages of TLS certificate failures (OpenSSL's and Node's codes and wording). */
const CERTIFICATE_FAILURE = /certificate|CERT_|self[- ]signed|unable to (get|verify)|SSL|TLS alert/i;

/**
 * Wires the runtime's audit records and their publication; returns a function that unwires.
 *
 * @example
 * ```ts
 * const unwire = wireAuditTrail({ security, device, transport, setAside: outbox.setAside, clock, publish: true, clockSteps: (listener) => runtime.on('clockStep', listener) })
 * ```
 */
export function wireAuditTrail(options: {
  security: SecuritySide;
  device: Device;
  transport: Transport | undefined;
  setAside: readonly string[];
  clock: Clock;
  publish: boolean;
  /** Subscribes to the runtime's clock steps; returns the unsubscribe. */
  clockSteps?: (listener: (step: ClockStep & { readonly followed: boolean; readonly leadMs?: number }) => void) => () => void;
}): () => void {
  const { security, device, transport, clock } = options;
  const log = security.auditLog;
  if (log === undefined) return () => undefined;
  const offs: (() => void)[] = [];
  offs.push(device.on('property', (id, value) => security.record({ category: 'setting', event: 'property.changed', result: 'success', source: 'device', detail: { property: id, value } })));
  if (options.clockSteps) {
    offs.push(
      options.clockSteps(({ stepMs, at, followed, leadMs }) =>
        security.record({
          category: 'clock',
          event: 'clock.step',
          result: 'success',
          source: 'runtime',
          detail: { stepMs: Math.round(stepMs), at: new Date(at).toISOString(), followed, ...(leadMs === undefined ? {} : { leadMs: Math.round(leadMs) }) },
        }),
      ),
    );
  }
  for (const file of options.setAside) security.record({ category: 'integrity', event: 'outbox.file-damaged', result: 'failure', source: 'outbox', detail: { setAside: file } });
  if (transport) {
    const seen = new Set<string>();
    offs.push(
      transport.on('error', (error) => {
        if (!CERTIFICATE_FAILURE.test(error.message) || seen.has(error.message)) return;
        seen.add(error.message);
        security.record({ category: 'certificate', event: 'mqtt.certificate-rejected', result: 'failure', source: `mqtt ${transport.url}`, detail: { message: error.message } });
      }),
    );
    const publisher = transport as Transport & EventPublisher;
    if (options.publish && typeof publisher.publishEvent === 'function') {
      const publish = (message: unknown): void => void publisher.publishEvent!('audit', Buffer.from(JSON.stringify(message)), AUDIT_CONTENT_TYPE);
      offs.push(log.on('entry', (entry: AuditEntry) => publish(entry)));
      offs.push(
        log.on('alert', (alert: AuditAlert) =>
          publish({ time: new Date(clock.now()).toISOString(), source: 'audit', category: 'system', event: 'audit.alert', result: alert.kind === 'recovered' ? 'success' : 'failure', data: { ...alert } }),
        ),
      );
    }
  }
  return () => {
    for (const off of offs) off();
  };
}
