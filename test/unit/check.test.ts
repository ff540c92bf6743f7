/**
 * The field checks of sdk/core/check.ts: values are cut in messages, arrays with holes are refused
 * at the hole.
 */
import { describe as suite, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { cut, describe, rejectUnknownKeys, requireArray, requireString, requireUnique } from '../../sdk/core/check.js';

suite('describe and cut', () => {
  it('shows short strings whole and cuts long ones to 60 characters and their length', () => {
    expect(describe('abc')).toBe('"abc"');
    expect(describe('a'.repeat(60))).toBe(`"${'a'.repeat(60)}"`);
    expect(describe('a'.repeat(61))).toBe(`"${'a'.repeat(60)}"… (61 characters)`);
    expect(describe('x'.repeat(100_000)).length).toBeLessThan(90);
    expect(cut('short')).toBe('short');
    expect(cut('y'.repeat(100_000))).toBe(`${'y'.repeat(60)}… (100000 characters)`);
  });

  it('keeps the messages of checks one short line for a huge value', () => {
    const huge = 'Z'.repeat(100_000);
    for (const check of [
      () => requireString(huge, 'id', /^[a-z]+$/, 'lower case'),
      () => rejectUnknownKeys({ [huge]: 1 }, ['id'], 'channels[0]'),
      () => rejectUnknownKeys({ [huge]: 1 }, ['id'], 'channels[0]', { list: true }),
      () => requireUnique([huge, huge], (i) => `ids[${i}]`),
    ]) {
      expect(check).toThrow(ValidationError);
      try {
        check();
      } catch (error) {
        expect((error as Error).message.length).toBeLessThan(200);
        expect((error as Error).message).toContain('… (100000 characters)');
      }
    }
  });
});

suite('requireArray', () => {
  it.each([
    ['[, 1]', [, 1], 'list[0]'],
    ['[1, , 3]', [1, , 3], 'list[1]'],
    ['new Array(3)', new Array(3), 'list[0]'],
  ])('refuses %s at its first hole', (_name, value, path) => {
    expect(() => requireArray(value, 'list')).toThrow(new ValidationError(path, 'missing (an array with a hole)'));
  });

  it('accepts dense arrays, an explicit undefined included (a later check names it)', () => {
    expect(requireArray([1, 2], 'list')).toEqual([1, 2]);
    expect(requireArray([undefined], 'list')).toEqual([undefined]);
    expect(requireArray([], 'list')).toEqual([]);
    expect(() => requireArray([], 'list', { nonEmpty: true })).toThrow('list: expected at least one entry');
  });
});
