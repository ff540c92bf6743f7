/**
 * stopInputEvaluation: the one use of node-opcua internals for limit alarms fails loudly when the
 * member it replaces is missing (a node-opcua release that renamed it), instead of leaving
 * node-opcua's hysteresis-free evaluation on. The behaviour on a real server is checked by
 * test/integration/opcua-server.test.ts (hysteresis, Disable/Enable, events).
 */
import { describe, expect, it } from 'vitest';
import { StateError } from '../../sdk/core/errors.js';
import { stopInputEvaluation } from '../../sdk/transport/opcua/limit-alarm-input.js';

describe('stopInputEvaluation', () => {
  it('replaces the input-node evaluation with one that does nothing', () => {
    const calls: unknown[] = [];
    const alarm = { _onInputDataValueChange: (value: unknown) => void calls.push(value) };
    stopInputEvaluation(alarm, 'high-voltage');
    alarm._onInputDataValueChange(4.5);
    expect(calls).toEqual([]);
  });

  it('throws a StateError naming the alarm when node-opcua has no such member', () => {
    expect(() => stopInputEvaluation({}, 'high-voltage')).toThrow(StateError);
    expect(() => stopInputEvaluation({ _onInputDataValueChange: 1 }, 'high-voltage')).toThrow(/^alarm high-voltage: node-opcua limit alarm has no _onInputDataValueChange/);
  });
});
