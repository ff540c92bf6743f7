/**
 * The model's alarms as OPC UA `NonExclusiveLimitAlarmType` conditions (IEC 62541-9 §5.8.18): one
 * per alarm (ConditionName = the alarm id), with its HighLimit (kind `high`) or LowLimit (kind
 * `low`) and the matching HighState/LowState, the channel variable as InputNode, and the device
 * object as ConditionSource (an event source of the Server, so a client subscribed to the Server's
 * events receives each transition with the model's severity and message).
 *
 * The state follows the device's `alarm` events, which apply the model's hysteresis (IEC 62682
 * deadband) — so node-opcua's own evaluation of the input node, which has no hysteresis, is
 * switched off for these alarms; a value dithering around the limit raises one activation.
 */
import { StatusCodes, type Namespace, type UAObject, type UAVariable } from 'node-opcua';
import { StateError } from '../../core/errors.js';
import type { Device } from '../../device/device.js';
import type { DeviceModel } from '../../model/define-device.js';
import type { AlarmSpec } from '../../model/spec.js';
import type { AlarmEvent } from '../../pipeline/alarms.js';

type LimitStates = { highHigh: 'unset'; high: boolean | 'unset'; low: boolean | 'unset'; lowLow: 'unset' };

/** What this module needs of node-opcua's limit alarm (its state transition, with branches and events). */
interface DrivenAlarm {
  readonly activeState: { getValue(): boolean };
  getEnabledState(): boolean;
  calculateConditionInfo: (...args: unknown[]) => unknown;
  _onInputDataValueChange: (...args: unknown[]) => void;
  _signalNewCondition2(states: LimitStates, isActive: boolean, value: string): void;
}

interface ConditionInfoCtor {
  new (options: { message: string; severity: number; quality: unknown; retain: boolean }): unknown;
}

/** The limit alarms of one device. */
export class LimitAlarms {
  readonly #alarms = new Map<string, { node: DrivenAlarm; spec: AlarmSpec; pending: AlarmEvent | undefined }>();

  /**
   * Adds one limit alarm per model alarm, as components of the device object.
   *
   * @example
   * ```ts
   * const alarms = new LimitAlarms(namespace, deviceObject.object, model, deviceId, (id) => channels.variable(id))
   * const detach = alarms.bind(device)
   * ```
   */
  constructor(namespace: Namespace, parent: UAObject, model: DeviceModel, deviceId: string, channelVariable: (channel: string) => UAVariable | undefined) {
    if (model.alarms.length === 0) return;
    namespace.addressSpace.installAlarmsAndConditionsService();
    for (const spec of model.alarms) {
      const input = channelVariable(spec.channel);
      if (input === undefined) throw new StateError(`alarm ${spec.id}: no variable for channel ${spec.channel}`);
      const limits = spec.kind === 'high' ? { highLimit: spec.limit } : { lowLimit: spec.limit };
      const node = namespace.instantiateNonExclusiveLimitAlarm('NonExclusiveLimitAlarmType', {
        browseName: spec.id,
        conditionName: spec.id,
        nodeId: `s=${deviceId}.${spec.id}`,
        componentOf: parent,
        conditionSource: parent,
        inputNode: input,
        ...limits,
      } as Parameters<Namespace['instantiateNonExclusiveLimitAlarm']>[1]) as unknown as DrivenAlarm;
      // The device's evaluator decides (with hysteresis); node-opcua must not re-decide without it.
      node._onInputDataValueChange = () => undefined;
      const entry = { node, spec, pending: undefined as AlarmEvent | undefined };
      const ConditionInfo = conditionInfoClass(node);
      node.calculateConditionInfo = () => {
        const event = entry.pending;
        const active = event?.state === 'active';
        return new ConditionInfo({
          message: event?.message ?? `${spec.id}: back to normal`,
          severity: active ? spec.severity : 0,
          quality: StatusCodes.Good,
          retain: true,
        });
      };
      this.#alarms.set(spec.id, entry);
    }
  }

  /** Whether an alarm is active now. */
  active(id: string): boolean | undefined {
    return this.#alarms.get(id)?.node.activeState.getValue();
  }

  /** Applies an alarm transition (what `bind` does for each device `alarm` event). */
  apply(event: AlarmEvent): void {
    const entry = this.#alarms.get(event.alarm);
    if (entry === undefined) return;
    const { node, spec } = entry;
    // A disabled condition raises no events (IEC 62541-9 §5.5.2); it is re-evaluated when enabled.
    if (!node.getEnabledState()) return;
    const active = event.state === 'active';
    if (node.activeState.getValue() === active) return;
    entry.pending = event;
    const states: LimitStates = { highHigh: 'unset', high: spec.kind === 'high' ? active : 'unset', low: spec.kind === 'low' ? active : 'unset', lowLow: 'unset' };
    node._signalNewCondition2(states, active, String(event.value));
  }

  /** Follows the device's alarm events; returns a function that stops. */
  bind(device: Pick<Device, 'on'>): () => void {
    return device.on('alarm', (event) => this.apply(event));
  }
}

/** node-opcua's ConditionInfo class, reached through the alarm (it is not exported by name). */
function conditionInfoClass(node: DrivenAlarm): ConditionInfoCtor {
  return (node as unknown as { getCurrentConditionInfo(): object }).getCurrentConditionInfo().constructor as ConditionInfoCtor;
}
