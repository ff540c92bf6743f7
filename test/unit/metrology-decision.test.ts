import { describe, expect, it } from 'vitest';
import { ArgumentError, UnitError } from '../../sdk/core/errors.js';
import { decide, decisionRuleName, type DecisionRule } from '../../hil/metrology/index.js';

const SIMPLE: DecisionRule = { kind: 'simple-acceptance' };
const GUARD: DecisionRule = { kind: 'guard-band' };
const HALF: DecisionRule = { kind: 'guard-band', fraction: 0.5 };

describe('decision rule names', () => {
  it('names the rule as the record writes it', () => {
    expect(decisionRuleName(SIMPLE)).toBe('ILAC-G8:09 simple acceptance');
    expect(decisionRuleName(GUARD)).toBe('ILAC-G8:09 guard band w = U');
    expect(decisionRuleName({ kind: 'guard-band', fraction: 1 })).toBe('ILAC-G8:09 guard band w = U');
    expect(decisionRuleName(HALF)).toBe('ILAC-G8:09 guard band w = 0.5·U');
  });
});

describe('ILAC-G8:09 decisions, two-sided limits −1 … 1, U = 0.2', () => {
  // value, rule, outcome: every boundary and a value on each side of it.
  const table: [number, DecisionRule, string][] = [
    // Simple acceptance (w = 0): only pass and fail; the tolerance limits themselves pass.
    [0, SIMPLE, 'pass'],
    [1, SIMPLE, 'pass'],
    [-1, SIMPLE, 'pass'],
    [1.000001, SIMPLE, 'fail'],
    [-1.000001, SIMPLE, 'fail'],
    [5, SIMPLE, 'fail'],
    // Guard band w = U = 0.2: AL = ±0.8, rejection limits ±1.2.
    [0, GUARD, 'pass'],
    [0.8, GUARD, 'pass'],
    [-0.8, GUARD, 'pass'],
    [0.800001, GUARD, 'conditional-pass'],
    [-0.800001, GUARD, 'conditional-pass'],
    [1, GUARD, 'conditional-pass'],
    [-1, GUARD, 'conditional-pass'],
    [1.000001, GUARD, 'conditional-fail'],
    [-1.000001, GUARD, 'conditional-fail'],
    [1.2, GUARD, 'conditional-fail'],
    [-1.2, GUARD, 'conditional-fail'],
    [1.200001, GUARD, 'fail'],
    [-1.200001, GUARD, 'fail'],
    // w = 0.5·U = 0.1: AL = ±0.9, rejection limits ±1.1.
    [0.9, HALF, 'pass'],
    [0.95, HALF, 'conditional-pass'],
    [1.05, HALF, 'conditional-fail'],
    [1.1000001, HALF, 'fail'],
    [-0.95, HALF, 'conditional-pass'],
  ];
  it.each(table)('%s under %j is %s', (value, rule, outcome) => {
    const decision = decide({ value, unit: 'Cel', expanded: 0.2, limits: { low: -1, high: 1 }, rule });
    expect(decision.outcome).toBe(outcome);
    expect(decision.rule).toBe(decisionRuleName(rule));
    expect(decision.reason === undefined).toBe(outcome === 'pass');
  });

  it('says why in one line, naming the limit, the side and w', () => {
    const reason = (value: number, rule: DecisionRule): string | undefined =>
      decide({ value, unit: 'Cel', expanded: 0.2, limits: { low: -1, high: 1 }, rule }).reason;
    expect(reason(1.5, SIMPLE)).toBe('1.5 Cel is above the high limit 1 Cel');
    expect(reason(-0.9, GUARD)).toBe('-0.9 Cel is within the guard band (w = 0.2 Cel) of the low limit -1 Cel');
    expect(reason(1.1, GUARD)).toBe('1.1 Cel is above the high limit 1 Cel by no more than w = 0.2 Cel');
    expect(reason(-1.3, GUARD)).toBe('-1.3 Cel is below the low limit -1 Cel by more than w = 0.2 Cel');
    expect(decide({ value: 0.1 + 0.2 + 1, unit: 'Cel', limits: { high: 1 }, rule: SIMPLE }).reason).toBe('1.3 Cel is above the high limit 1 Cel');
  });

  it('reports the guard band w', () => {
    expect(decide({ value: 0, unit: 'Cel', expanded: 0.2, limits: { high: 1 }, rule: HALF }).guardBand).toBeCloseTo(0.1, 15);
    expect(decide({ value: 0, unit: 'Cel', expanded: 0.2, limits: { high: 1 }, rule: SIMPLE }).guardBand).toBe(0);
  });
});

describe('one-sided limits', () => {
  const table: [string, number, string][] = [
    ['high', 0.79, 'pass'],
    ['high', 0.9, 'conditional-pass'],
    ['high', 1.1, 'conditional-fail'],
    ['high', 1.3, 'fail'],
    ['high', -1000, 'pass'],
    ['low', 1000, 'pass'],
    ['low', -0.79, 'pass'],
    ['low', -0.9, 'conditional-pass'],
    ['low', -1.1, 'conditional-fail'],
    ['low', -1.3, 'fail'],
  ];
  it.each(table)('a %s limit alone: %s is %s', (side, value, outcome) => {
    const limits = side === 'high' ? { high: 1 } : { low: -1 };
    expect(decide({ value, unit: 'Cel', expanded: 0.2, limits, rule: GUARD }).outcome).toBe(outcome);
  });

  it('without limits the value is recorded', () => {
    expect(decide({ value: 3, unit: 'Cel', limits: {}, rule: SIMPLE })).toEqual({ outcome: 'recorded', rule: 'ILAC-G8:09 simple acceptance', guardBand: 0 });
  });
});

describe('properties', () => {
  const severity = { pass: 0, 'conditional-pass': 1, 'conditional-fail': 2, fail: 3, recorded: -1 } as const;

  it('an outcome never improves as the value moves away from the middle; a wider guard band turns passes and fails conditional', () => {
    const limits = { low: -1, high: 1 };
    for (const rule of [SIMPLE, GUARD, HALF]) {
      for (const U of [0, 0.05, 0.2, 0.7, 1.5]) {
        let previous = -1;
        for (let value = 0; value <= 3; value += 0.01) {
          const up = severity[decide({ value, unit: 'V', expanded: U, limits, rule }).outcome];
          const down = severity[decide({ value: -value, unit: 'V', expanded: U, limits, rule }).outcome];
          expect(up).toBe(down); // symmetric limits, symmetric outcomes
          expect(up).toBeGreaterThanOrEqual(previous);
          previous = up;
        }
      }
      for (const value of [0, 0.5, 0.9, 1.1, 2]) {
        let previous = -1;
        for (const U of [0, 0.05, 0.2, 0.7, 1.5]) {
          const outcome = severity[decide({ value, unit: 'V', expanded: U, limits, rule }).outcome];
          // A wider guard band moves pass → conditional pass and fail → conditional fail.
          if (Math.abs(value) <= 1) expect(outcome).toBeGreaterThanOrEqual(previous);
          else expect(previous === -1 || outcome <= previous).toBe(true);
          previous = outcome;
        }
      }
    }
  });

  it('a guard-band pass is a simple-acceptance pass and a guard-band fail a simple-acceptance fail', () => {
    for (let value = -2; value <= 2; value += 0.013) {
      const simple = decide({ value, unit: 'V', limits: { low: -1, high: 1 }, rule: SIMPLE }).outcome;
      const guarded = decide({ value, unit: 'V', expanded: 0.3, limits: { low: -1, high: 1 }, rule: GUARD }).outcome;
      if (guarded === 'pass' || guarded === 'conditional-pass') expect(simple).toBe('pass');
      if (guarded === 'fail' || guarded === 'conditional-fail') expect(simple).toBe('fail');
    }
  });
});

describe('edge cases', () => {
  it('a guard band wider than half the tolerance leaves no pass, only conditional outcomes inside', () => {
    const decide2 = (value: number) => decide({ value, unit: 'Cel', expanded: 1.5, limits: { low: -1, high: 1 }, rule: GUARD }).outcome;
    expect(decide2(0)).toBe('conditional-pass');
    expect(decide2(1.4)).toBe('conditional-fail');
    expect(decide2(2.6)).toBe('fail');
  });

  it('U = 0 under a guard band is simple acceptance', () => {
    expect(decide({ value: 1, unit: 'Cel', expanded: 0, limits: { low: -1, high: 1 }, rule: GUARD }).outcome).toBe('pass');
    expect(decide({ value: 1.0001, unit: 'Cel', expanded: 0, limits: { low: -1, high: 1 }, rule: GUARD }).outcome).toBe('fail');
  });

  it('converts limits given in another unit through the unit registry', () => {
    // Limits 24 … 26 Cel written in K; AL = 25.8 Cel.
    const limits = { low: 297.15, high: 299.15, unit: 'K' };
    expect(decide({ value: 25.9, unit: 'Cel', expanded: 0.2, limits, rule: GUARD }).outcome).toBe('conditional-pass');
    expect(decide({ value: 26.1, unit: 'Cel', expanded: 0.2, limits, rule: GUARD }).outcome).toBe('conditional-fail');
    expect(decide({ value: 25.5, unit: 'Cel', expanded: 0.2, limits, rule: GUARD }).outcome).toBe('pass');
    expect(() => decide({ value: 1, unit: 'Cel', limits: { high: 1, unit: 'Pa' }, rule: SIMPLE })).toThrow(UnitError);
    // A difference (an error) against ±1 K: no offset.
    expect(decide({ value: 0.5, unit: 'Cel', limits: { low: -1, high: 1, unit: 'K' }, rule: SIMPLE, difference: true }).outcome).toBe('pass');
    expect(decide({ value: 0.5, unit: 'Cel', limits: { low: -1, high: 1, unit: 'K' }, rule: SIMPLE }).outcome).toBe('fail');
    expect(decide({ value: 150, unit: 'mV', limits: { high: 0.1, unit: 'V' }, rule: SIMPLE, difference: true }).outcome).toBe('fail');
  });

  it('refuses what it cannot decide', () => {
    expect(() => decide({ value: 0, unit: 'Cel', limits: { high: 1 }, rule: GUARD })).toThrow(/expanded uncertainty U/);
    expect(() => decide({ value: NaN, unit: 'Cel', limits: { high: 1 }, rule: SIMPLE })).toThrow(ArgumentError);
    expect(() => decide({ value: 0, unit: 'Cel', expanded: -1, limits: { high: 1 }, rule: GUARD })).toThrow(ArgumentError);
    expect(() => decide({ value: 0, unit: 'Cel', limits: { low: 2, high: 1 }, rule: SIMPLE })).toThrow(/not to be above/);
    expect(() => decide({ value: 0, unit: 'Cel', expanded: 1, limits: { high: 1 }, rule: { kind: 'guard-band', fraction: -0.5 } })).toThrow(ArgumentError);
  });
});
