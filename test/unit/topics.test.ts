import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { deviceIdFor, MAX_DEVICE_ID_BYTES, topics } from '../../sdk/encoding/topics.js';

describe('topics()', () => {
  it('names every topic of the wire contract below sensorkit/v1/<deviceId>', () => {
    const t = topics('env-node-EMU-1');
    expect(t.deviceId).toBe('env-node-EMU-1');
    expect(t.root).toBe('sensorkit/v1/env-node-EMU-1');
    expect(t.telemetry).toBe('sensorkit/v1/env-node-EMU-1/telemetry');
    expect(t.status).toBe('sensorkit/v1/env-node-EMU-1/status');
    expect(t.model).toBe('sensorkit/v1/env-node-EMU-1/model');
    expect(t.command('zero')).toBe('sensorkit/v1/env-node-EMU-1/cmd/zero');
    expect(t.commandResult('zero')).toBe('sensorkit/v1/env-node-EMU-1/cmd/zero/result');
    expect(t.commandWildcard).toBe('sensorkit/v1/env-node-EMU-1/cmd/+');
    expect(t.ota).toBe('sensorkit/v1/env-node-EMU-1/ota');
  });

  it('names the setting and event topics the Thing Description announces', () => {
    const t = topics('d-1');
    expect(t.property('location')).toBe('sensorkit/v1/d-1/property/location');
    expect(t.propertySet('location')).toBe('sensorkit/v1/d-1/property/location/set');
    expect(t.propertySetWildcard).toBe('sensorkit/v1/d-1/property/+/set');
    expect(t.event('overheat')).toBe('sensorkit/v1/d-1/event/overheat');
  });

  it('the command wildcard matches requests but not replies (MQTT "+" is one level)', () => {
    const t = topics('d-1');
    const matches = (filter: string, topic: string): boolean => {
      const f = filter.split('/');
      const n = topic.split('/');
      return f.length === n.length && f.every((level, i) => level === '+' || level === n[i]);
    };
    expect(matches(t.commandWildcard, t.command('zero'))).toBe(true);
    expect(matches(t.commandWildcard, t.commandResult('zero'))).toBe(false);
    expect(matches(t.propertySetWildcard, t.propertySet('gain'))).toBe(true);
    expect(matches(t.propertySetWildcard, t.property('gain'))).toBe(false);
  });

  it.each([
    ['', 'non-empty'],
    ['a/b', '"/"'],
    ['a+b', '"+"'],
    ['a#', '"#"'],
    ['a\u0000b', 'U+0000'],
    ['a\nb', 'U+000A'],
    ['a\u0085', 'U+0085'],
  ])('rejects the device id %j (%s) with a ValidationError', (id, why) => {
    const error = captured(() => topics(id));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe('deviceId');
    expect((error as ValidationError).message).toContain(why);
  });

  it('rejects a device id longer than the limit, counted in UTF-8 bytes', () => {
    expect(() => topics('x'.repeat(MAX_DEVICE_ID_BYTES))).not.toThrow();
    expect(() => topics('é'.repeat(MAX_DEVICE_ID_BYTES / 2 + 1))).toThrow(/longer than 256 bytes/);
  });

  it('rejects command, property and event names that are not one topic level', () => {
    const t = topics('d-1');
    expect(() => t.command('a/b')).toThrow(ValidationError);
    expect(() => t.commandResult('#')).toThrow(ValidationError);
    expect(() => t.property('+')).toThrow(ValidationError);
    expect(() => t.propertySet('')).toThrow(ValidationError);
    expect(() => t.event('x/y')).toThrow(/command|property|event/);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(topics('d-1'))).toBe(true);
  });
});

describe('deviceIdFor()', () => {
  const model = { id: 'env-node' };

  it('is "<model id>-<serial>"', () => {
    expect(deviceIdFor(model, 'EMU-1')).toBe('env-node-EMU-1');
    expect(deviceIdFor(model, 'A1.b_c-9')).toBe('env-node-A1.b_c-9');
  });

  it('replaces everything outside [A-Za-z0-9._-] with "_", so the result is always a valid topic level', () => {
    const id = deviceIdFor(model, 'SN 42/b+#ü\u0000');
    expect(id).toBe('env-node-SN_42_b____');
    expect(() => topics(id)).not.toThrow();
  });

  it('rejects an empty serial number and one that makes the id too long', () => {
    expect(() => deviceIdFor(model, '')).toThrow(ValidationError);
    expect(() => deviceIdFor(model, '   ')).toThrow(/serial number/);
    expect(() => deviceIdFor(model, 'x'.repeat(MAX_DEVICE_ID_BYTES))).toThrow(/longer than 256/);
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
