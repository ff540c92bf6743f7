import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { BusError, SensorError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { driverDefinition } from '../../sdk/drivers/registry.js';
import { AnalogVoltage, analogVoltage } from '../../sdk/drivers/analog-voltage/index.js';
import { Thermistor, thermistor } from '../../sdk/drivers/thermistor/index.js';
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { settable, thermistorDivider } from '../../boards/emulated/signals.js';

const BETA = { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 } as const;

function setup(definition: BoardDefinition | string = 'arduino-uno') {
  const clock = new VirtualClock();
  const board = new EmulatedBoard({ definition, clock, seed: 3 });
  return { clock, board, io: { clock, analog: board.openAnalogInput({ pin: 'A0' }) } };
}

/** A board whose ADC is not the Uno's. */
const THREE_VOLT: BoardDefinition = {
  id: 'test-3v3',
  name: 'Test 3.3 V board',
  digitalPins: ['A0'],
  analogPins: [{ name: 'A0', pin: 0, channel: 0 }],
  adc: { resolution: 12, referenceVoltage: 3.3, maxRateHz: 1000 },
  i2cBuses: [],
};

describe('analog-voltage', () => {
  it('is registered and states the Uno ADC tolerance', () => {
    expect(driverDefinition('analog-voltage')).toBe(analogVoltage);
    expect(analogVoltage.outputs.voltage).toEqual({
      unit: 'V',
      quantity: 'voltage',
      range: { min: 0, max: 5 },
      tolerance: { absolute: 0.0098, relative: 0.02 }, // 2 LSB of 5 V / 1024, ±2 % reference
    });
    expect(analogVoltage.validateOptions({ scale: 11, referenceTolerance: 0 }, 'o').voltage).toMatchObject({
      range: { min: 0, max: 55 },
      tolerance: { absolute: 0.11, relative: 0 },
    });
    expect(analogVoltage.validateOptions({ scale: -2, offset: 1 }, 'o').voltage.range).toEqual({ min: -9, max: 1 });
  });

  it('samples the pin in volts with provenance and the clock time', async () => {
    const { clock, board, io } = setup();
    const volts = settable(1.25);
    board.attachAnalog('A0', volts);
    await clock.advance(1234);
    const driver = new AnalogVoltage(io, {});
    const reading = await driver.sample();
    expect(reading.time).toBe(clock.now());
    expect(reading.values.voltage).toBeCloseTo((256 / 1023) * 5, 12);
    expect(reading.provenance).toEqual({ part: 'analog-voltage', source: 'A0', configuration: 'scale=1 offset=0 adc=10bit/5V' });
    await driver.configure({ scale: 2, offset: -0.5 });
    expect((await driver.sample()).values.voltage).toBeCloseTo((256 / 1023) * 10 - 0.5, 12);
    driver.close();
    await expect(driver.sample()).rejects.toBeInstanceOf(StateError);
  });

  it('rejects bad options with the path of the field', () => {
    expect(() => analogVoltage.validateOptions({ sacle: 2 }, 'channels[0].driver.options')).toThrow(
      'channels[0].driver.options.sacle: unknown field; did you mean "scale"?',
    );
    expect(() => analogVoltage.validateOptions({ scale: 0 }, 'o')).toThrow('o.scale: must not be 0');
    expect(() => analogVoltage.validateOptions({ referenceTolerance: -1 }, 'o')).toThrow(ValidationError);
  });

  it('refuses a board ADC its stated tolerance does not describe', () => {
    const { io } = setup(THREE_VOLT);
    expect(() => new AnalogVoltage(io, {})).toThrow('options.referenceVoltage: the ADC of pin A0 has a 3.3 V reference');
    expect(() => new AnalogVoltage(io, { referenceVoltage: 3.3 })).toThrow('options.resolution: the ADC of pin A0 has 12 bits');
    expect(new AnalogVoltage(io, { referenceVoltage: 3.3, resolution: 12 })).toBeInstanceOf(AnalogVoltage);
    expect(() => new AnalogVoltage({ clock: io.clock }, {})).toThrow(ValidationError);
  });

  it('passes bus errors through for the sampler', async () => {
    const { board, io } = setup();
    board.faults.inject({ target: 'A0', kind: 'dropout' });
    await expect(new AnalogVoltage(io, {}).sample()).rejects.toBeInstanceOf(BusError);
  });
});

describe('thermistor', () => {
  it('is registered and states a tolerance that depends on the range', () => {
    expect(driverDefinition('thermistor')).toBe(thermistor);
    const wide = thermistor.validateOptions(BETA, 'o').temperature;
    const narrow = thermistor.validateOptions({ ...BETA, range: { min: 0, max: 70 } }, 'o').temperature;
    expect(wide).toMatchObject({ unit: 'Cel', range: { min: -40, max: 125 } });
    expect(narrow.range).toEqual({ min: 0, max: 70 });
    expect(narrow.tolerance.absolute).toBeLessThan(wide.tolerance.absolute / 4);
  });

  it('reads mid-range temperatures far better than the stated worst case, on either side of the divider', async () => {
    for (const highSide of [false, true]) {
      const { board, io } = setup();
      const truth = settable(0);
      board.attachAnalog('A0', thermistorDivider(truth, { beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000, supplyVolts: 5, thermistorOnHighSide: highSide }));
      const driver = new Thermistor(io, { ...BETA, thermistorOnHighSide: highSide });
      for (const cel of [0, 10, 25, 40, 50]) {
        truth.set(cel);
        const reading = await driver.sample();
        // From 0 to 50 °C one LSB is 0.09…0.14 K; ½ LSB rounding plus the 1023/1024 gain gap is
        // at most 1.5 LSB, so 0.2 K, against the 2.5 K stated for −40…125 °C.
        expect(Math.abs(reading.values.temperature - cel)).toBeLessThan(0.2);
        expect(reading.provenance).toMatchObject({ part: 'thermistor', source: 'A0' });
      }
    }
  });

  it('converts Steinhart–Hart coefficients', async () => {
    const sh = { a: 1.009249522e-3, b: 2.378405444e-4, c: 2.019202697e-7 };
    const { board, io } = setup();
    board.attachAnalog('A0', thermistorDivider(settable(37), { steinhartHart: sh, seriesOhm: 10_000, supplyVolts: 5 }));
    const reading = await new Thermistor(io, { model: 'steinhart-hart', ...sh, seriesOhm: 10_000 }).sample();
    expect(reading.values.temperature).toBeCloseTo(37, 0);
  });

  it('reports an open or shorted thermistor as a SensorError', async () => {
    const { board, io } = setup();
    board.attachAnalog('A0', thermistorDivider(settable(25), { beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000, supplyVolts: 5 }));
    const driver = new Thermistor(io, BETA);
    const open = board.faults.inject({ target: 'A0', kind: 'open-circuit' });
    await expect(driver.sample()).rejects.toThrow(SensorError);
    await expect(driver.sample()).rejects.toThrow('thermistor on A0 reads full scale (1023 counts): open circuit');
    open.clear();
    board.faults.inject({ target: 'A0', kind: 'open-circuit', wiring: 'pull-down' });
    await expect(driver.sample()).rejects.toThrow('reads 0 (0 counts): short circuit');
  });

  it('rejects missing or invalid coefficients with the path of the field', () => {
    expect(() => thermistor.validateOptions({ ...BETA, beta: undefined }, 'ch[1].driver.options')).toThrow(
      'ch[1].driver.options.beta: expected a finite number, got undefined',
    );
    expect(() => thermistor.validateOptions({ ...BETA, model: 'ntc' }, 'o')).toThrow('o.model: expected one of "beta", "steinhart-hart"');
    expect(() => thermistor.validateOptions({ model: 'steinhart-hart', a: 1e-3, b: 0, c: 1e-7, seriesOhm: 1e4 }, 'o')).toThrow(
      'o.b: must be above 0, got 0',
    );
    expect(() => thermistor.validateOptions({ model: 'steinhart-hart', a: 1e-3, b: 2e-4, c: 1e-7, beta: 3950, seriesOhm: 1e4 }, 'o')).toThrow(
      'o.beta: unknown field',
    );
    expect(() => thermistor.validateOptions({ ...BETA, seriesOhm: -1 }, 'o')).toThrow('o.seriesOhm');
    expect(() => thermistor.validateOptions({ ...BETA, range: { min: 50, max: 10 } }, 'o')).toThrow('o.range.max');
    // 300 °C puts a 10 kΩ NTC against 10 kΩ within 2 LSB of 0 V: no honest tolerance there.
    expect(() => thermistor.validateOptions({ ...BETA, range: { min: 0, max: 300 } }, 'o')).toThrow('o.range:');
  });

  it('closes', async () => {
    const { io } = setup();
    const driver = new Thermistor(io, BETA);
    driver.close();
    await expect(driver.sample()).rejects.toBeInstanceOf(StateError);
    await expect(driver.configure(BETA)).rejects.toBeInstanceOf(StateError);
  });
});
