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
import { StatusCodes, type Namespace, type UANonExclusiveLimitAlarmEx, type UAObject, type UAVariable } from 'node-opcua';
import { StateError } from '../../core/errors.js';
import type { Device } from '../../device/device.js';
import type { DeviceModel } from '../../model/define-device.js';
import type { AlarmSpec } from '../../model/spec.js';
import type { AlarmEvent } from '../../pipeline/alarms.js';
import { stopInputEvaluation } from './limit-alarm-input.js';

/** The limit alarms of one device. */
export class LimitAlarms {
  readonly #alarms = new Map<string, { node: UANonExclusiveLimitAlarmEx; spec: AlarmSpec }>();

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
      } as Parameters<Namespace['instantiateNonExclusiveLimitAlarm']>[1]);
      // The device's evaluator decides (with hysteresis); node-opcua must not re-decide without it.
      stopInputEvaluation(node, spec.id);
      this.#alarms.set(spec.id, { node, spec });
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
    // A disabled condition raises no events (IEC 62541-9 §5.5.2).
    if (!node.getEnabledState()) return;
    const active = event.state === 'active';
    if (node.activeState.getValue() === active) return;
    // NonExclusiveLimitAlarmType: the limit state that was crossed (IEC 62541-9 §5.8.18.3).
    (spec.kind === 'high' ? node.highState : node.lowState)?.setValue(active);
    const trunk = node.currentBranch();
    if (active) {
      node.activateAlarm();
    } else {
      // An activation not yet acknowledged stays on a branch of its own, so a client can still
      // acknowledge it after the trunk returns to normal (IEC 62541-9 §5.5.2, branches).
      if (!trunk.getAckedState() && trunk.getRetain()) node.raiseNewBranchState(node.createBranch());
      trunk.setActiveState(false);
      trunk.setAckedState(true);
    }
    node.raiseNewCondition({ message: event.message, severity: active ? spec.severity : 0, quality: StatusCodes.Good, retain: true });
  }

  /** Follows the device's alarm events; returns a function that stops. */
  bind(device: Pick<Device, 'on'>): () => void {
    return device.on('alarm', (event) => this.apply(event));
  }
}
