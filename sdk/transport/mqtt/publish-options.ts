/**
 * The PUBLISH options of what the transport sends: telemetry and alarm events from the outbox, and
 * the control plane (status, description, settings, replies), per protocol level.
 */
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import type { Clock } from '../../core/clock.js';

/** User property carrying the outbox seq of a telemetry batch or an alarm event. */
export const SEQ_PROPERTY = 'sensorkit-seq';

/**
 * Options of a record from the outbox: QoS 1; on MQTT 5 its content type (§3.3.2.3.9: the
 * encoder's for telemetry, JSON for an alarm event), its seq as a user property (§3.3.2.3.7) so that
 * a consumer recognises a duplicate, and a message expiry (§3.3.2.3.3) when `expirySeconds` is given.
 *
 * @example
 * ```ts
 * client.publish(topic, payload, recordOptions(5, entry.seq, encoder.contentType, 3600))
 * client.publish(topic, payload, recordOptions(5, entry.seq, 'application/json')) // an alarm event: no expiry
 * ```
 */
export function recordOptions(protocol: 4 | 5, seq: number, contentType: string, expirySeconds?: number): IClientPublishOptions {
  if (protocol === 4) return { qos: 1, retain: false };
  const userProperties = { [SEQ_PROPERTY]: String(seq) };
  return { qos: 1, retain: false, properties: { contentType, ...(expirySeconds === undefined ? {} : { messageExpiryInterval: expirySeconds }), userProperties } };
}

/**
 * Options of a control-plane message: QoS 1, the content type on MQTT 5.
 *
 * @example
 * ```ts
 * client.publish(topics.status, payload, controlOptions(5, 'application/json', true))
 * ```
 */
export function controlOptions(protocol: 4 | 5, contentType: string, retain: boolean): { qos: 1; retain: boolean; properties?: { contentType: string } } {
  return { qos: 1, retain, ...(protocol === 5 ? { properties: { contentType } } : {}) };
}

/**
 * A Buffer over the same bytes (no copy), as mqtt.js wants it.
 *
 * @example
 * ```ts
 * client.publish(topic, bufferOf(entry.payload))
 * ```
 */
export function bufferOf(payload: Uint8Array): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/**
 * Publishes and waits for the acknowledgement, no longer than `waitMs` on `clock` nor past the
 * connection's close: true once acknowledged. For the messages of a shutdown, which a broker that
 * stopped answering must not hold up.
 *
 * @example
 * ```ts
 * const acked = await publishAcknowledged(client, clock, 1000, topics.status, offline, controlOptions(5, 'application/json', true))
 * ```
 */
export function publishAcknowledged(client: MqttClient, clock: Clock, waitMs: number, topic: string, payload: Buffer, options: IClientPublishOptions): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (acked: boolean): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      client.off('close', lost);
      resolve(acked);
    };
    const lost = (): void => finish(false);
    const timer = clock.schedule(clock.now() + waitMs, lost);
    client.once('close', lost);
    client.publish(topic, payload, options, (error) => finish(!error));
  });
}
