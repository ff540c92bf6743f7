/**
 * The one place that reaches into node-opcua's limit alarm implementation: it stops node-opcua
 * from evaluating the alarm's input node by itself.
 *
 * node-opcua re-evaluates a limit alarm from its InputNode value (when the value changes, when a
 * limit changes and when the condition is enabled) with a bare comparison against the limit and
 * no hysteresis. The model's alarms carry an IEC 62682 deadband applied by the device's alarm
 * evaluator, so that evaluator alone must decide. node-opcua 2.182 has no public switch for it:
 * the option `inputNode` always installs the monitoring, and every evaluation path goes through
 * the protected `_onInputDataValueChange`. The member is checked before it is replaced, so a
 * node-opcua release that renames it fails here, loudly, instead of doubling the alarm events;
 * test/integration/opcua-server.test.ts checks the transitions a subscribed client receives.
 */
import { StateError } from '../../core/errors.js';

/**
 * Makes node-opcua ignore the alarm's input node, leaving its state to explicit transitions.
 *
 * @example
 * ```ts
 * stopInputEvaluation(alarmNode, 'high-voltage')
 * ```
 */
export function stopInputEvaluation(alarm: object, alarmId: string): void {
  const node = alarm as { _onInputDataValueChange?: unknown };
  if (typeof node._onInputDataValueChange !== 'function') {
    throw new StateError(`alarm ${alarmId}: node-opcua limit alarm has no _onInputDataValueChange to switch off (unsupported node-opcua version)`);
  }
  node._onInputDataValueChange = () => undefined;
}
