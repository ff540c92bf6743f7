import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { defineDevice, DeviceModel, type DeviceSpec } from '../../sdk/model/index.js';

const identity = {
  manufacturer: 'ACME Sensors',
  model: 'T-1',
  productCode: 'T1-A',
  hardwareRevision: '1.0',
  softwareRevision: '0.1.0',
  serialNumber: 'SN-0001',
} as const;

const thermistorOptions = { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 };

function spec(overrides: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    id: 'test-device',
    board: 'arduino-uno',
    identity,
    channels: [
      {
        id: 'temperature',
        quantity: 'temperature',
        unit: 'Cel',
        range: { min: -40, max: 85 },
        resolution: 0.01,
        accuracy: { mpe: 1 },
        sampleRate: 1,
        driver: { part: 'bme280', output: 'temperature', address: 0x76 },
      },
      {
        id: 'winding',
        quantity: 'temperature',
        unit: 'K',
        range: { min: 233, max: 398 },
        resolution: 0.1,
        accuracy: { mpe: 2 },
        sampleRate: 10,
        driver: { part: 'thermistor', pin: 'A0', options: thermistorOptions },
      },
    ],
    properties: [{ id: 'interval', type: 'number', unit: 's', range: { min: 1, max: 60 }, default: 5 }],
    commands: [{ id: 'reset', arguments: [{ name: 'hard', type: 'boolean', required: false }] }],
    alarms: [{ id: 'hot', channel: 'temperature', kind: 'high', limit: 60, hysteresis: 2, severity: 700 }],
    ...overrides,
  };
}

/** The ValidationError `defineDevice` throws for this spec. */
function failure(bad: unknown): ValidationError {
  try {
    defineDevice(bad as DeviceSpec);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('defineDevice accepted an invalid declaration');
}

function withChannel(index: number, patch: Record<string, unknown>): DeviceSpec {
  const base = spec();
  return { ...base, channels: base.channels.map((channel, i) => (i === index ? { ...channel, ...patch } : channel)) } as DeviceSpec;
}

describe('defineDevice', () => {
  it('returns a frozen model with resolved driver bindings', () => {
    const model = defineDevice(spec());
    expect(model).toBeInstanceOf(DeviceModel);
    expect(model.id).toBe('test-device');
    expect(model.board.id).toBe('arduino-uno');
    expect(model.channel('temperature')?.binding).toMatchObject({ part: 'bme280', io: 'i2c', bus: 'i2c0', address: 0x76, instanceKey: 'bme280@i2c0:0x76' });
    expect(model.channel('winding')?.binding).toMatchObject({ part: 'thermistor', io: 'analog', pin: 'A0', instanceKey: 'thermistor@A0', readRateHz: 10 });
    expect(Object.isFrozen(model.spec.channels[0])).toBe(true);
    expect(model.alarms[0]?.id).toBe('hot');
  });

  it.each([
    ['an unknown unit', withChannel(0, { unit: '°C' }), 'channels[0].unit', /unknown unit "°C"; did you mean "Cel"/],
    ['a unit of another quantity', withChannel(0, { unit: 'Pa' }), 'channels[0].unit', /does not match the bme280 output "temperature", measured in "Cel"/],
    ['an inverted range', withChannel(1, { range: { min: 398, max: 233 } }), 'channels[1].range', /inverted or empty range/],
    ['a duplicate channel id', withChannel(1, { id: 'temperature' }), 'channels[1].id', /duplicate id "temperature"/],
    ['a rate the driver cannot deliver', withChannel(0, { sampleRate: 5000 }), 'channels[0].sampleRate', /bme280 can deliver at most/],
    ['a pin the board lacks', withChannel(1, { driver: { part: 'thermistor', pin: 'A9', options: thermistorOptions } }), 'channels[1].driver.pin', /board arduino-uno has no analog pin "A9"; analog pins: A0/],
    ['a bus the board lacks', withChannel(0, { driver: { part: 'bme280', output: 'temperature', bus: 'i2c7' } }), 'channels[0].driver.bus', /no I2C bus "i2c7"/],
    ['an address the part cannot have', withChannel(0, { driver: { part: 'bme280', output: 'temperature', address: 0x40 } }), 'channels[0].driver.address', /bme280 answers on 0x76, 0x77, not 0x40/],
    ['an unknown part', withChannel(0, { driver: { part: 'bme680' } }), 'channels[0].driver.part', /unknown part "bme680"; registered parts: .*bme280/],
    ['a missing output of a multi-output part', withChannel(0, { driver: { part: 'bme280' } }), 'channels[0].driver.output', /required: bme280 has outputs/],
    ['a misspelt field', withChannel(0, { sampelRate: 1 }), 'channels[0].sampelRate', /unknown field; did you mean "sampleRate"/],
    ['an alarm on a missing channel', spec({ alarms: [{ id: 'x', channel: 'nope', kind: 'high', limit: 1, severity: 1 }] }), 'alarms[0].channel', /no channel "nope"/],
    ['a property default outside its range', spec({ properties: [{ id: 'p', type: 'number', range: { min: 0, max: 1 }, default: 2 }] }), 'properties[0].default', /outside 0 … 1/],
    ['an unknown board', spec({ board: 'esp32' }), 'board', /unknown board "esp32"; known boards: arduino-uno, raspberry-pi-4/],
    ['a missing identity field', spec({ identity: { ...identity, manufacturer: '' } }), 'identity.manufacturer', /non-empty string/],
    ['an aggregate rate that is not a multiple', withChannel(1, { aggregate: { statistic: 'rms', rawRate: 25 } }), 'channels[1].aggregate.rawRate', /integer multiple/],
  ])('rejects %s with the path of the bad field', (_name, bad, path, reason) => {
    const error = failure(bad);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(reason);
    expect(error.code).toBe('ERR_VALIDATION');
  });

  it('rejects an analog part on a board without an ADC, and suggests an ADC part', () => {
    const error = failure({ ...spec(), board: 'raspberry-pi-4', channels: [spec().channels[1]], alarms: [] });
    expect(error.path).toBe('channels[0].driver.pin');
    expect(error.message).toMatch(/no ADC: use an ADC part on I2C, e.g. ads1115/);
  });

  it('rejects two channels configuring one part differently', () => {
    const base = spec();
    const second = { ...base.channels[1]!, id: 'winding2', driver: { part: 'thermistor', pin: 'A0', options: { ...thermistorOptions, beta: 3435 } } };
    const error = failure({ ...base, channels: [...base.channels, second] });
    expect(error.path).toBe('channels[2].driver.options');
  });

  it('does not accept something that is not an object', () => {
    expect(failure(null).message).toMatch(/expected an object, got null/);
  });
});
