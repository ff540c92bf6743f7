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
    // The pipeline's validators, run by defineDevice with the model's paths.
    ['an alarm severity out of range', spec({ alarms: [{ id: 'hot', channel: 'temperature', kind: 'high', limit: 60, severity: 0 }] }), 'alarms[0].severity', /^alarms\[0\]\.severity: must be an integer from 1 to 1000, got 0$/],
    ['a misspelt alarm field', spec({ alarms: [{ id: 'hot', channel: 'temperature', kind: 'high', limt: 60, severity: 1 }] as never }), 'alarms[0].limt', /unknown field; expected id, channel, kind, limit/],
    ['two deadbands', withChannel(0, { reporting: { deadband: 1, deadbandPercent: 1 } }), 'channels[0].reporting.deadbandPercent', /cannot be combined with deadband/],
    ['a negative deadband', withChannel(1, { reporting: { deadband: -1 } }), 'channels[1].reporting.deadband', /^channels\[1\]\.reporting\.deadband: must be a finite number from 0 and up, got -1$/],
    ['a bad filter', withChannel(0, { filters: [{ type: 'median', window: 2 }] }), 'channels[0].filters[0].window', /must be an odd integer from 1 to 1001, got 2/],
    ['a zero staleAfter', withChannel(0, { staleAfter: 0 }), 'channels[0].staleAfter', /must be a number of seconds above 0, got 0/],
    ['a zero sample rate', withChannel(0, { sampleRate: 0 }), 'channels[0].sampleRate', /must be above 0 Hz, got 0/],
    ['a sample rate above the sampler\'s', withChannel(1, { sampleRate: 20_000 }), 'channels[1].sampleRate', /must be at most 10000, got 20000/],
    ['an unknown statistic', withChannel(1, { aggregate: { statistic: 'median', rawRate: 100 } }), 'channels[1].aggregate.statistic', /expected one of "mean", "min", "max", "rms", "peak", "peak-to-peak", "crest-factor", got "median"/],
    ['a non-boolean acCoupled', withChannel(1, { aggregate: { statistic: 'rms', rawRate: 100, acCoupled: 'yes' } }), 'channels[1].aggregate.acCoupled', /expected a boolean, got "yes"/],
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

  // BME280 datasheet §9.1: ×16 on all three takes up to 112.8 ms a measurement (plus 0.47 ms of bus).
  const x16 = { oversampling: { temperature: 16, pressure: 16, humidity: 16 } };
  const bme280x16 = { part: 'bme280', output: 'temperature', address: 0x76, options: x16 };

  it('rejects a BME280 channel faster than its oversampling allows, naming the oversampling', () => {
    const error = failure(withChannel(0, { sampleRate: 10, driver: bme280x16 }));
    expect(error.path).toBe('channels[0].sampleRate');
    expect(error.reason).toBe('bme280 with oversampling t×16 p×16 h×16 can deliver at most 8.8 readings/s; this channel needs 10/s');
    // The channel's own oversampling multiplies the reads it needs.
    expect(failure(withChannel(0, { sampleRate: 2, oversampling: 8, driver: bme280x16 })).reason).toMatch(/at most 8\.8 readings\/s; this channel needs 16\/s$/);
  });

  it('accepts a BME280 channel at ×16 oversampling within its rate', () => {
    const model = defineDevice(withChannel(0, { sampleRate: 5, driver: bme280x16 }));
    expect(model.channel('temperature')?.binding).toMatchObject({ part: 'bme280', readRateHz: 5, options: x16 });
    expect(() => defineDevice(withChannel(0, { sampleRate: 8, driver: bme280x16 }))).not.toThrow();
  });

  it('names no options when a part is at its fastest and still too slow', () => {
    expect(failure(withChannel(0, { sampleRate: 200 })).reason).toBe('bme280 can deliver at most 102 readings/s; this channel needs 200/s');
    expect(() => defineDevice(withChannel(0, { sampleRate: 100 }))).not.toThrow();
  });

  const adcChannel = (sampleRate: number, options: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    withChannel(1, {
      id: 'input',
      quantity: 'voltage',
      unit: 'V',
      range: { min: 0, max: 2.048 },
      resolution: 0.001,
      accuracy: { mpe: 0.01 },
      sampleRate,
      driver: { part: 'ads1115', address: 0x48, options },
      ...extra,
    });

  it('rejects an ADS1115 channel read faster than its data rate converts', () => {
    // ADS111x §7.6: the data rate may be 10 % slow, so even one read per nominal conversion is too many.
    const error = failure(adcChannel(8, { dataRate: 8 }));
    expect(error.path).toBe('channels[1].sampleRate');
    expect(error.reason).toBe('ads1115 with dataRate 8 SPS can deliver at most 7.1 readings/s; this channel needs 8/s');
    expect(() => defineDevice(adcChannel(7, { dataRate: 8 }))).not.toThrow();
    // The default 128 SPS delivers about 110 conversions a second.
    expect(failure(adcChannel(1, {}, { aggregate: { statistic: 'rms', rawRate: 200 } })).reason).toBe(
      'ads1115 with dataRate 128 SPS can deliver at most 109 readings/s; this channel needs 200/s',
    );
    expect(() => defineDevice(adcChannel(1, { dataRate: 250 }, { aggregate: { statistic: 'rms', rawRate: 200 } }))).not.toThrow();
  });

  it('rejects a 4–20 mA channel read faster than its ADS1115 data rate converts', () => {
    const loop = (dataRate: number) => ({ part: 'current-loop', output: 'value', address: 0x48, options: { rangeMin: 0, rangeMax: 1e6, unit: 'Pa', dataRate } });
    const pressure = (dataRate: number) =>
      withChannel(1, { id: 'line', quantity: 'pressure', unit: 'Pa', range: { min: 0, max: 1e6 }, resolution: 1, accuracy: { mpe: 5000 }, sampleRate: 10, oversampling: 8, driver: loop(dataRate) });
    const error = failure(pressure(64));
    expect(error.path).toBe('channels[1].sampleRate');
    expect(error.reason).toBe('current-loop with dataRate 64 SPS can deliver at most 56 readings/s; this channel needs 80/s');
    expect(defineDevice(pressure(128)).channel('line')?.binding).toMatchObject({ part: 'current-loop', readRateHz: 80 });
  });

  it('adds up what the channels of one part read, per rate, against what the part delivers', () => {
    const adc = (id: string, sampleRate: number) => ({
      id,
      quantity: 'voltage',
      unit: 'V',
      range: { min: 0, max: 2 },
      resolution: 0.001,
      accuracy: { mpe: 0.01 },
      sampleRate,
      driver: { part: 'ads1115', address: 0x48 },
    });
    const base = spec();
    // 100 + 50 reads/s from one ADS1115 at 128 SPS (≈ 109 conversions/s): too many together.
    const error = failure({ ...base, channels: [base.channels[0]!, adc('a', 100), adc('b', 50)] });
    expect(error.path).toBe('channels[2].sampleRate');
    expect(error.reason).toMatch(/ads1115@i2c0:0x48 delivers at most 109.\d readings\/s; its channels together need 150\/s/);
    // Two channels at the same rate share each read.
    expect(() => defineDevice({ ...base, channels: [base.channels[0]!, adc('a', 100), adc('b', 100)] })).not.toThrow();
  });

  it('rejects an analog input on a pin that an I2C bus in use occupies', () => {
    const base = spec();
    const onA4 = { ...base.channels[1]!, driver: { part: 'thermistor', pin: 'A4', options: thermistorOptions } };
    const error = failure({ ...base, channels: [base.channels[0]!, onA4] });
    expect(error.path).toBe('channels[1].driver.pin');
    expect(error.reason).toBe('A4 is an I2C line on arduino-uno, and an I2C part is in use');
    // Without an I2C part, A4 is an ordinary analog input.
    expect(() => defineDevice({ ...base, channels: [onA4], alarms: [] })).not.toThrow();
  });

  it.each(['toString', '__proto__', 'constructor'])('treats the board id %j as unknown, not as an object property', (board) => {
    expect(failure(spec({ board })).path).toBe('board');
  });
});

describe('defineDevice: holes, spans and long values', () => {
  it.each([
    ['channels [, c]', (base: DeviceSpec) => ({ ...base, channels: [, base.channels[1]!] }), 'channels[0]'],
    ['channels new Array(3)', (base: DeviceSpec) => ({ ...base, channels: new Array(3) }), 'channels[0]'],
    ['channels [c, , c]', (base: DeviceSpec) => ({ ...base, channels: [base.channels[0]!, , base.channels[1]!] }), 'channels[1]'],
    ['properties [, p]', (base: DeviceSpec) => ({ ...base, properties: [, base.properties![0]!] }), 'properties[0]'],
    ['commands [, c]', (base: DeviceSpec) => ({ ...base, commands: [, base.commands![0]!] }), 'commands[0]'],
    ['command arguments [, a]', (base: DeviceSpec) => ({ ...base, commands: [{ id: 'reset', arguments: [, { name: 'hard', type: 'boolean' }] }] }), 'commands[0].arguments[0]'],
    ['alarms [, a]', (base: DeviceSpec) => ({ ...base, alarms: [, base.alarms![0]!] }), 'alarms[0]'],
    ['enum [, e]', (base: DeviceSpec) => ({ ...base, properties: [{ id: 'mode', type: 'string', enum: [, 'auto'], default: 'auto' }] }), 'properties[0].enum[0]'],
    ['filters [, f]', (base: DeviceSpec) => ({ ...base, channels: [{ ...base.channels[0]!, filters: [, { type: 'median', window: 3 }] }] }), 'channels[0].filters[0]'],
    [
      'calibration coefficients [1, , 2]',
      (base: DeviceSpec) => ({ ...base, channels: [{ ...base.channels[0]!, calibration: { id: 'c', method: 'polynomial', coefficients: [1, , 2] } }] }),
      'channels[0].calibration.coefficients[1]',
    ],
  ])('refuses an array with a hole (%s) at the hole, in one line', (_name, make, path) => {
    const error = failure(make(spec()));
    expect(error.path).toBe(path);
    expect(error.message).toBe(`${path}: missing (an array with a hole)`);
  });

  it('refuses a range whose span is not finite (±1e308), with or without a percent deadband', () => {
    const base = spec();
    const huge = { ...base.channels[0]!, range: { min: -1e308, max: 1e308 } };
    for (const channel of [huge, { ...huge, reporting: { deadbandPercent: 1 } }]) {
      const error = failure({ ...base, channels: [channel], alarms: [] });
      expect(error.path).toBe('channels[0].range');
      expect(error.reason).toMatch(/span max − min .* is not a finite number/);
    }
    // A wide but finite span passes, and its percent deadband is finite.
    expect(() => defineDevice({ ...base, channels: [{ ...huge, range: { min: -1e307, max: 1e307 }, reporting: { deadbandPercent: 1 } }], alarms: [] })).not.toThrow();
  });

  it('cuts a long value in the message to 60 characters and its length', () => {
    const error = failure(spec({ id: 'x'.repeat(100_000) }));
    expect(error.path).toBe('id');
    expect(error.message).toBe(`id: "${'x'.repeat(60)}"… (100000 characters) must be lower case letters, digits, "_" or "-", starting with a letter`);
    const unknownBoard = failure(spec({ board: 'b'.repeat(5000) }));
    expect(unknownBoard.message.length).toBeLessThan(400);
    expect(unknownBoard.message).toMatch(/… \(5000 characters\)/);
    const base = spec();
    const longUnit = failure({ ...base, channels: [{ ...base.channels[0]!, unit: 'u'.repeat(100_000) }] });
    expect(longUnit.message).toBe(`channels[0].unit: unknown unit "${'u'.repeat(60)}"… (100000 characters) (see RFC 8428 §12.1 and RFC 8798)`);
    const longKey = failure({ ...spec(), ['k'.repeat(10_000)]: 1 });
    expect(longKey.message.length).toBeLessThan(200);
    expect(longKey.path).toBe(`${'k'.repeat(60)}… (10000 characters)`);
  });

  it('refuses what is not plain data (a function, a symbol, a class instance) with its path, not a clone error', () => {
    expect(failure(spec({ description: (() => 'x') as unknown as string })).message).toBe(
      'description: must be plain data (a string, number, boolean, array or object), got a function',
    );
    const base = spec();
    const symbol = failure({ ...base, channels: [{ ...base.channels[0]!, description: Symbol('x') }] });
    expect(symbol.path).toBe('channels[0].description');
    expect(symbol.reason).toMatch(/got a symbol$/);
    const instance = failure({ ...base, channels: [{ ...base.channels[0]!, driver: { ...base.channels[0]!.driver, options: new Map() } }] });
    expect(instance.path).toBe('channels[0].driver.options');
    expect(instance.reason).toBe('must be plain data, got an instance of Map');
  });
});

