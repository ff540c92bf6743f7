/**
 * SCPI without a socket: answers parsed (numbers, *IDN?, SYST:ERR?), headers in short and long
 * form, the dialect and its overrides per model, instrument specs, and the simulated instruments'
 * SCPI engine with its error queue.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import {
  DEFAULT_SCPI_DIALECT,
  ScpiEngine,
  SimulatedCalibrator,
  SimulatedDmm,
  SimulatedPowerSupply,
  createSimulatedInstrument,
  headerPattern,
  nr3,
  parseIdn,
  parseInstrumentSpec,
  parseScpiNumber,
  parseSystemError,
  resolveDialect,
} from '../../hil/instruments/index.js';

describe('SCPI answers', () => {
  it('numbers: NR1, NR2, NR3 with surrounding whitespace; 9.9E37 is an overload; the rest is garbled, quoted and cut', () => {
    expect(parseScpiNumber('42')).toEqual({ kind: 'number', value: 42 });
    expect(parseScpiNumber('  -0.5\r\n')).toEqual({ kind: 'number', value: -0.5 });
    expect(parseScpiNumber('+1.23450000E+00')).toEqual({ kind: 'number', value: 1.2345 });
    expect(parseScpiNumber('.5e-3')).toEqual({ kind: 'number', value: 0.0005 });
    expect(parseScpiNumber('+9.90000000E+37')).toEqual({ kind: 'overload' });
    expect(parseScpiNumber('-9.9E37')).toEqual({ kind: 'overload' });
    expect(parseScpiNumber('OVLD')).toEqual({ kind: 'garbled', detail: 'expected a number, got "OVLD"' });
    expect(parseScpiNumber('')).toMatchObject({ kind: 'garbled' });
    expect(parseScpiNumber('1.2 V')).toMatchObject({ kind: 'garbled' });
    expect(parseScpiNumber('0x10')).toMatchObject({ kind: 'garbled' });
    const long = parseScpiNumber('x'.repeat(500));
    expect(long.kind === 'garbled' && long.detail).toBe(`expected a number, got "${'x'.repeat(60)}"… (500 characters)`);
  });

  it('*IDN?: four fields trimmed; anything else is refused with the answer quoted', () => {
    expect(parseIdn(' Keysight Technologies,34465A, MY54500123 ,A.02.17-02.40\r')).toEqual({
      manufacturer: 'Keysight Technologies',
      model: '34465A',
      serialNumber: 'MY54500123',
      firmware: 'A.02.17-02.40',
    });
    expect(parseIdn('sensorkit,SIM-DMM,0,')).toMatchObject({ firmware: '' });
    expect(parseIdn('%%garbage')).toBe('expected four comma-separated fields (manufacturer,model,serial,firmware), got "%%garbage"');
    expect(typeof parseIdn('a,b,c,d,e')).toBe('string');
    expect(typeof parseIdn(',b,c,d')).toBe('string');
    expect(parseIdn('a,b\u0000,c,d')).toMatch(/got "a,b\\u0000,c,d"/);
  });

  it('SYST:ERR?: code and message, quoted or not', () => {
    expect(parseSystemError('0,"No error"')).toEqual({ code: 0, message: 'No error' });
    expect(parseSystemError('+0,"No error"')).toEqual({ code: 0, message: 'No error' });
    expect(parseSystemError('-113,"Undefined header"\r')).toEqual({ code: -113, message: 'Undefined header' });
    expect(parseSystemError('-222, Data out of range')).toEqual({ code: -222, message: 'Data out of range' });
    expect(parseSystemError('what?')).toBe('expected <code>,"<message>", got "what?"');
  });

  it('NR3 answers round-trip through the parser', () => {
    for (const value of [0, 1.2345, -0.000123456789, 12_345_678.9, 1e-12]) {
      const text = nr3(value);
      expect(text).toMatch(/^[+-]\d\.\d{8}E[+-]\d{2}$/);
      const parsed = parseScpiNumber(text);
      expect(parsed.kind === 'number' && parsed.value).toBeCloseTo(value, 8 - Math.max(0, Math.floor(Math.log10(Math.abs(value) || 1))));
    }
    expect(nr3(1.2345)).toBe('+1.23450000E+00');
    expect(nr3(-0.0125)).toBe('-1.25000000E-02');
  });
});

describe('SCPI headers', () => {
  it('short and long forms in any case, optional nodes, a leading colon; nothing in between', () => {
    const pattern = headerPattern('MEASure:VOLTage[:DC]?');
    for (const header of ['MEAS:VOLT:DC?', 'meas:volt?', ':MEASURE:VOLTAGE:DC?', 'Measure:Volt:dc?']) expect(pattern.matches(header)).toBe(true);
    for (const header of ['MEAS:VOLT:DC', 'MEASU:VOLT?', 'MEAS:VOLT:AC?', 'MEAS?', 'MEAS:VOLT:DC:X?']) expect(pattern.matches(header)).toBe(false);
    const source = headerPattern('[SOURce]:TEMPerature[:LEVel]');
    expect(source.matches('TEMP')).toBe(true);
    expect(source.matches('SOUR:TEMP:LEV')).toBe(true);
    expect(source.matches('SOUR:TEMP?')).toBe(false);
    expect(headerPattern('*IDN?').matches('*idn?')).toBe(true);
    expect(headerPattern('*IDN?').matches('*IDN')).toBe(false);
    expect(headerPattern('*RST').matches('*RST?')).toBe(false);
  });
});

describe('the SCPI dialect', () => {
  it('maps every quantity by default, takes the built-in and the caller’s overrides per model, and the caller’s own', () => {
    expect(DEFAULT_SCPI_DIALECT['voltage-dc']).toEqual({ measure: 'MEAS:VOLT:DC?', source: 'SOUR:VOLT', unit: 'V' });
    expect(resolveDialect('SIM-CAL')['voltage-dc']?.measure).toBe('SOUR:VOLT?');
    expect(resolveDialect('34465A')['voltage-dc']?.measure).toBe('MEAS:VOLT:DC?');
    const models = { CHAMBER9: { temperature: { measure: 'TEMP:ACT?', source: 'TEMP:SET', unit: 'Cel' } } };
    const chamber = resolveDialect('CHAMBER9', models);
    expect(chamber.temperature).toEqual(models.CHAMBER9.temperature);
    expect(chamber.pressure).toEqual(DEFAULT_SCPI_DIALECT.pressure);
    expect(resolveDialect('CHAMBER9', models, { temperature: { measure: 'X?', unit: 'K' } }).temperature).toEqual({ measure: 'X?', unit: 'K' });
  });
});

describe('instrument specs', () => {
  it('parses sim:, scpi-tcp: and scpi-serial: with their defaults', () => {
    expect(parseInstrumentSpec('sim:chamber')).toEqual({ kind: 'sim', simulated: 'chamber' });
    expect(parseInstrumentSpec('scpi-tcp:10.0.0.7')).toEqual({ kind: 'scpi-tcp', host: '10.0.0.7', port: 5025 });
    expect(parseInstrumentSpec('scpi-tcp:lab-dmm.local:5555')).toEqual({ kind: 'scpi-tcp', host: 'lab-dmm.local', port: 5555 });
    expect(parseInstrumentSpec('scpi-tcp:[::1]:5025')).toEqual({ kind: 'scpi-tcp', host: '::1', port: 5025 });
    expect(parseInstrumentSpec('scpi-tcp:10.0.0.7:5025?timeout=10000')).toEqual({ kind: 'scpi-tcp', host: '10.0.0.7', port: 5025, timeoutMs: 10_000 });
    expect(parseInstrumentSpec('scpi-tcp:[::1]?timeout=500')).toEqual({ kind: 'scpi-tcp', host: '::1', port: 5025, timeoutMs: 500 });
    expect(parseInstrumentSpec('scpi-serial:/dev/ttyUSB0@19200?timeout=5000')).toEqual({ kind: 'scpi-serial', path: '/dev/ttyUSB0', baudRate: 19_200, timeoutMs: 5000 });
    for (const bad of ['scpi-tcp:h?timeout=0', 'scpi-tcp:h?timeout=abc', 'scpi-tcp:h?timeout=', 'scpi-tcp:h?speed=9', 'scpi-tcp:h?timeout=99999999', 'sim:dmm?timeout=10']) {
      expect(() => parseInstrumentSpec(bad), bad).toThrow(ValidationError);
    }
    expect(parseInstrumentSpec('scpi-serial:/dev/ttyUSB0')).toEqual({ kind: 'scpi-serial', path: '/dev/ttyUSB0', baudRate: 9600 });
    expect(parseInstrumentSpec('scpi-serial:/dev/serial/by-id/usb-Chamber@115200')).toEqual({ kind: 'scpi-serial', path: '/dev/serial/by-id/usb-Chamber', baudRate: 115_200 });
  });

  it('refuses malformed specs with one line naming the forms', () => {
    for (const spec of ['sim:oscilloscope', 'scpi-tcp:', 'scpi-tcp:host:99999', 'scpi-serial:', 'scpi-serial:/dev/x@1', 'visa:GPIB0::22', 'dmm']) {
      const error = (() => {
        try {
          parseInstrumentSpec(spec, 'instruments.dmm');
        } catch (e) {
          return e;
        }
      })();
      expect(error, spec).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe('instruments.dmm');
      expect((error as Error).message).toContain('expected sim:dmm|calibrator|supply|chamber, scpi-tcp:HOST[:PORT][?timeout=MS] or scpi-serial:PATH[@BAUD][?timeout=MS]');
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('ScpiEngine (the simulated instruments’ SCPI)', () => {
  const clock = () => new VirtualClock({ start: Date.UTC(2026, 0, 1) });

  it('answers *IDN?, queues errors in order and answers 0,"No error" when empty; *CLS clears the queue', async () => {
    const engine = new ScpiEngine(new SimulatedDmm({ clock: clock(), seed: 4 }));
    expect(await engine.execute('*IDN?')).toBe('sensorkit,SIM-DMM,SIM-4,1.0');
    expect(await engine.execute('*OPC?')).toBe('1');
    expect(await engine.execute('FOO:BAR')).toBeUndefined();
    expect(await engine.execute('MEAS:VOLT:DC? 1')).toBeUndefined();
    expect(await engine.execute('SIM:INP:VOLT')).toBeUndefined();
    expect(await engine.execute('SIM:INP:VOLT abc')).toBeUndefined();
    expect(await engine.execute('SYST:ERR?')).toBe('-113,"Undefined header"');
    expect(await engine.execute('SYSTEM:ERROR:NEXT?')).toBe('-108,"Parameter not allowed"');
    expect(await engine.execute('syst:err?')).toBe('-109,"Missing parameter"');
    expect(await engine.execute('SYST:ERR?')).toBe('-104,"Data type error"');
    expect(await engine.execute('SYST:ERR?')).toBe('0,"No error"');
    await engine.execute('NOPE');
    await engine.execute('*CLS');
    expect(await engine.execute('SYST:ERR?')).toBe('0,"No error"');
  });

  it('a full queue keeps 10 entries, the last replaced by -350 Queue overflow', async () => {
    const engine = new ScpiEngine(new SimulatedDmm({ clock: clock(), seed: 1 }));
    for (let i = 0; i < 15; i++) await engine.execute('NOPE');
    const answers: string[] = [];
    for (let i = 0; i < 11; i++) answers.push((await engine.execute('SYST:ERR?'))!);
    expect(answers.slice(0, 9).every((a) => a === '-113,"Undefined header"')).toBe(true);
    expect(answers[9]).toBe('-350,"Queue overflow"');
    expect(answers[10]).toBe('0,"No error"');
  });

  it('the DMM measures what SIM:INP sets, in NR3; over range is 9.9E37', async () => {
    const engine = new ScpiEngine(new SimulatedDmm({ clock: clock(), seed: 1, noiseCounts: 0 }));
    await engine.execute('SIM:INP:VOLT 1.2345');
    expect(await engine.execute('MEAS:VOLT:DC?')).toBe('+1.23450000E+00');
    expect(await engine.execute('MEAS:RES?')).toBe('+9.90000000E+37');
    await engine.execute('SIM:INP:CURR 0.004');
    expect(await engine.execute('MEASURE:CURRENT?')).toBe('+4.00000000E-03');
  });

  it('the calibrator sources and answers its set values; out of range is -222', async () => {
    const engine = new ScpiEngine(new SimulatedCalibrator({ clock: clock(), seed: 1 }));
    await engine.execute('SOUR:TEMP 37.5');
    expect(await engine.execute('SOUR:TEMP?')).toBe('+3.75000000E+01');
    expect(await engine.execute('TEMP?')).toBe('+3.75000000E+01');
    await engine.execute('SOUR:VOLT 1e6');
    expect(await engine.execute('SYST:ERR?')).toBe('-222,"Data out of range"');
    await engine.execute('*RST');
    expect(await engine.execute('SOUR:TEMP?')).toBe('+0.00000000E+00');
  });

  it('the supply switches its output, dips, and *RST brings it to 0 V with the output on', async () => {
    const c = clock();
    const supply = new SimulatedPowerSupply({ clock: c, seed: 1 });
    const engine = new ScpiEngine(supply);
    await engine.execute('VOLT 12');
    expect(await engine.execute('SOUR:VOLT?')).toBe('+1.20000000E+01');
    await engine.execute('OUTP OFF');
    expect(await engine.execute('OUTP?')).toBe('0');
    await engine.execute('OUTP maybe');
    expect(await engine.execute('SYST:ERR?')).toBe('-104,"Data type error"');
    await engine.execute('OUTPUT:STATE ON');
    await engine.execute('SIM:DIP 60,200');
    expect(supply.output().valueAt(c.now())).toBeCloseTo(4.8, 12);
    await engine.execute('SIM:INT 0');
    expect(await engine.execute('SYST:ERR?')).toBe('-224,"Illegal parameter value"');
    await engine.execute('*RST');
    expect(supply.setting).toEqual({ voltage: 0, currentLimit: 1, on: true });
  });

  it('the chamber takes a set point and measures its air', async () => {
    const c = clock();
    const engine = new ScpiEngine(createSimulatedInstrument('chamber', { clock: c, seed: 1 }));
    await engine.execute('SOUR:TEMP 60');
    expect(await engine.execute('SOUR:TEMP?')).toBe('+6.00000000E+01');
    await c.advance(3 * 3600_000);
    const answer = parseScpiNumber((await engine.execute('MEAS:TEMP?'))!);
    expect(answer.kind === 'number' && answer.value).toBeCloseTo(60, 0);
    await engine.execute('SOURCE:HUMIDITY 75');
    expect(await engine.execute('HUM?')).toBe('+7.50000000E+01');
    await c.advance(3 * 3600_000);
    const humidity = parseScpiNumber((await engine.execute('MEAS:HUM?'))!);
    expect(humidity.kind === 'number' && humidity.value).toBeCloseTo(75, 0);
  });
});
