/**
 * Observes a device as a black box through its OPC UA server: a node-opcua client subscribes to
 * each channel's `AnalogItemType` variable (`ns=<urn:sensorkit:<model id>>;s=<deviceId>.<channel>`)
 * and turns every data change into a sample: the source timestamp is the sample time, the value
 * the value, the unit the SenML unit of its `EngineeringUnits` (UNECE Rec 20, IEC 62541-8 §5.6.3),
 * the status code the quality (IEC 62541-4 §7.39, the mapping of opcua-status.ts read backwards).
 * node-opcua loads with this module (a second and a console line): import it when it is used.
 *
 * Monitored items sample continuously (interval 0) with a data-change trigger on value, status and
 * timestamp (IEC 62541-4 §7.22.2), so a repeated value at a new time is a new sample.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttributeIds,
  ClientMonitoredItem,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  makeBrowsePath,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
} from 'node-opcua';
import { NotSupportedError, StateError, TimeoutError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { modelNamespaceUri } from '../../sdk/transport/opcua/device-object.js';
import { qualityOfStatus, senmlUnitOf, type OpcuaObserverOptions, type OpcuaReading } from './opcua-samples.js';
import type { SampleListener } from './target.js';

export type { OpcuaObserverOptions, OpcuaReading } from './opcua-samples.js';

/**
 * A client subscribed to a device's channel variables.
 *
 * @example
 * ```ts
 * const observer = await OpcuaObserver.connect({ endpointUrl, model, deviceId: 'env-node-EMU-1', pkiDir: '/tmp/pki' })
 * observer.onSample((sample) => console.log(sample.channel, sample.value))
 * await observer.close()
 * ```
 */
export class OpcuaObserver {
  readonly endpointUrl: string;
  readonly #client: OPCUAClient;
  readonly #session: ClientSession;
  readonly #subscription: ClientSubscription;
  /** Channel id → node id and SenML unit read from its EngineeringUnits. */
  readonly #channels: ReadonlyMap<string, { nodeId: string; unit: string }>;
  readonly #listeners = new Set<SampleListener>();
  #closing: Promise<void> | undefined;

  private constructor(endpointUrl: string, client: OPCUAClient, session: ClientSession, subscription: ClientSubscription, channels: ReadonlyMap<string, { nodeId: string; unit: string }>) {
    this.endpointUrl = endpointUrl;
    this.#client = client;
    this.#session = session;
    this.#subscription = subscription;
    this.#channels = channels;
  }

  /**
   * Connects, opens an anonymous session, reads each channel's engineering units and subscribes to
   * its value. Throws `TimeoutError` when the server does not answer in `timeoutMs`, `StateError`
   * when the device's namespace or a channel's variable is missing.
   */
  static async connect(options: OpcuaObserverOptions): Promise<OpcuaObserver> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    mkdirSync(options.pkiDir, { recursive: true });
    const client = OPCUAClient.create({
      applicationName: 'sensorkit-hil-observer',
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 2, initialDelay: 200, maxDelay: 1000 },
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      clientCertificateManager: new OPCUACertificateManager({ rootFolder: join(options.pkiDir, 'client'), automaticallyAcceptUnknownCertificate: true }),
    });
    const bounded = <T>(promise: Promise<T>, what: string): Promise<T> => withTimeout(promise, timeoutMs, `${what} at ${options.endpointUrl}: no answer within ${timeoutMs} ms`);
    try {
      await bounded(client.connect(options.endpointUrl), 'connecting to the OPC UA server');
      const session = await bounded(client.createSession(), 'opening an OPC UA session');
      const namespaces = await bounded(session.readNamespaceArray(), 'reading the namespace array');
      const ns = namespaces.indexOf(modelNamespaceUri(options.model));
      if (ns < 0) throw new StateError(`the OPC UA server at ${options.endpointUrl} has no namespace ${modelNamespaceUri(options.model)}`);
      const channels = new Map<string, { nodeId: string; unit: string }>();
      for (const channel of options.model.channels) {
        const nodeId = `ns=${ns};s=${options.deviceId}.${channel.id}`;
        channels.set(channel.id, { nodeId, unit: await readUnit(session, nodeId, channel.unit, bounded) });
      }
      const subscription = await bounded(
        session.createSubscription2({ requestedPublishingInterval: options.publishingIntervalMs ?? 100, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 10 }),
        'creating an OPC UA subscription',
      );
      const observer = new OpcuaObserver(options.endpointUrl, client, session, subscription, channels);
      for (const [channel, { nodeId, unit }] of channels) {
        const item = ClientMonitoredItem.create(
          subscription,
          { nodeId, attributeId: AttributeIds.Value },
          { samplingInterval: 0, discardOldest: true, queueSize: 1000, filter: new DataChangeFilter({ trigger: DataChangeTrigger.StatusValueTimestamp }) },
          TimestampsToReturn.Both,
        );
        item.on('changed', (value: DataValue) => observer.#changed(channel, unit, value));
      }
      return observer;
    } catch (error) {
      await client.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /** Subscribes to observed samples (initial values without a source timestamp are skipped). */
  onSample(listener: SampleListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Reads a channel's variable once (an OPC UA Read, IEC 62541-4 §5.10.2).
   *
   * @example
   * ```ts
   * const { sample } = await observer.read('temperature')
   * ```
   */
  async read(channel: string): Promise<OpcuaReading> {
    const entry = this.#channels.get(channel);
    if (entry === undefined) throw new NotSupportedError(`the device has no channel "${channel}"`);
    const value = await this.#session.read({ nodeId: entry.nodeId, attributeId: AttributeIds.Value }, 0);
    return { sample: toSample(channel, entry.unit, value), statusCode: value.statusCode.value };
  }

  /** Ends the subscription, the session and the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      await withTimeout(this.#subscription.terminate(), 3000, 'terminate').catch(() => undefined);
      await withTimeout(this.#session.close(), 3000, 'close session').catch(() => undefined);
      await this.#client.disconnect().catch(() => undefined);
    })();
    return this.#closing;
  }

  #changed(channel: string, unit: string, value: DataValue): void {
    // BadWaitingForInitialData before the first sample: not a sample.
    if (value.sourceTimestamp === null || value.value.dataType === DataType.Null && value.statusCode.value === 0x80320000) return;
    const sample = toSample(channel, unit, value);
    for (const listener of this.#listeners) listener(sample);
  }
}

function toSample(channel: string, unit: string, value: DataValue): Sample {
  const number = value.value.dataType === DataType.Double && typeof value.value.value === 'number' ? (value.value.value as number) : null;
  return { channel, time: value.sourceTimestamp?.getTime() ?? Number.NaN, value: number, unit, quality: qualityOfStatus(value.statusCode.value) };
}

async function readUnit(session: ClientSession, nodeId: string, expected: string, bounded: <T>(promise: Promise<T>, what: string) => Promise<T>): Promise<string> {
  const path = await bounded(session.translateBrowsePath(makeBrowsePath(nodeId, '.EngineeringUnits')), 'finding EngineeringUnits');
  const target = path.targets?.[0]?.targetId;
  if (target === undefined) throw new StateError(`the OPC UA variable ${nodeId} has no EngineeringUnits`);
  const eu = await bounded(session.read({ nodeId: target, attributeId: AttributeIds.Value }), 'reading EngineeringUnits');
  const unitId = (eu.value.value as { unitId?: number } | null)?.unitId;
  return (unitId === undefined ? undefined : senmlUnitOf(unitId, expected)) ?? `unece:${String(unitId)}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
