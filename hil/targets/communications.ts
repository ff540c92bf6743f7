/**
 * An optional capability of a target, beside the `Target` contract: the device's communication
 * paths, for plans that test them (a broker outage, OPC UA against telemetry, malformed commands).
 * Targets that run the device through the runtime (`emulated` observed over MQTT or OPC UA,
 * `firmata:`, `linux`) have it; the in-process emulated target and `serial:` do not.
 */
import type { CommandReplyMessage, MqttObserverStats } from './mqtt-observer.js';
import type { OpcuaObserver } from './opcua-observer.js';
import type { SampleListener, Target } from './target.js';

/** What a broker outage did, in target time (ms since the Unix epoch). */
export interface OutageReport {
  /** When the broker stopped. */
  readonly stoppedAt: number;
  /** When it listened again. */
  readonly restartedAt: number;
}

/** How long an outage lasts beyond its minimum. */
export interface OutageOptions {
  /** The broker comes back once this is true (e.g. the device reported a sample meanwhile). */
  readonly until?: () => boolean;
  /** Longest outage with `until`, ms. Default: `ms`. */
  readonly maxMs?: number;
}

/** The communication paths of a running device. */
export interface TargetCommunications {
  /** The device id: `<model id>-<serial number>`, the root of its topics and OPC UA node ids. */
  readonly deviceId: string;
  /** The broker the device publishes to (no credentials). */
  readonly brokerUrl: string;
  /** The device's OPC UA endpoint, undefined when its server is off. */
  readonly opcuaEndpointUrl: string | undefined;
  /** True when {@link outage} can take the broker down (the target owns it, or was given its control). */
  readonly canInterruptBroker: boolean;
  /**
   * Subscribes to the samples the device reported to its transport, before any network: the
   * reference against which observed telemetry is complete or not.
   */
  onReported(listener: SampleListener): () => void;
  /**
   * Stops the broker, lets `ms` pass on the target's clock and starts it again on the same port;
   * with `until`, the broker stays down past `ms` until `until()` is true (checked every 100 ms),
   * `maxMs` at most. Rejects with `NotSupportedError` when the target cannot control the broker.
   */
  outage(ms: number, options?: OutageOptions): Promise<OutageReport>;
  /** The counters of the target's telemetry subscriber (duplicates, decode errors); undefined unless observed over MQTT. */
  telemetryStats(): MqttObserverStats | undefined;
  /** Telemetry records in the device's outbox not yet acknowledged by the broker. */
  pendingTelemetry(): number;
  /**
   * Publishes a raw request on the device's `cmd/<command>` topic and resolves with the reply on
   * `cmd/<command>/result`; rejects with `TimeoutError` after `timeoutMs` without one.
   */
  command(command: string, payload: Uint8Array, timeoutMs: number): Promise<CommandReplyMessage>;
  /**
   * Opens a new OPC UA client subscribed to the device's channel variables (reads too); the caller
   * closes it. Rejects with `NotSupportedError` when the device serves no OPC UA.
   */
  openOpcua(): Promise<OpcuaObserver>;
}

/** A target with its communication paths. */
export interface CommunicatingTarget extends Target {
  readonly communications: TargetCommunications;
}

/**
 * The communication paths of `target`, or undefined when it has none.
 *
 * @example
 * ```ts
 * const comms = communicationsOf(ctx.target)
 * if (comms === undefined) ctx.abort('this target does not expose its MQTT and OPC UA paths')
 * await comms.outage(5000)
 * ```
 */
export function communicationsOf(target: Target): TargetCommunications | undefined {
  const candidate = (target as Partial<CommunicatingTarget>).communications;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.outage === 'function' ? candidate : undefined;
}
