/**
 * The SCPI driver against the simulated SCPI instrument over real TCP on loopback (free ports):
 * identify, measure, source, the error queue after a bad command, and every way an instrument
 * fails — garbage *IDN?, silence (one timeout error within the timeout, never a hang), late
 * answers, a connection closed mid-command, non-numeric and over-range answers — each one typed
 * error naming the instrument and the command.
 */
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SystemClock, VirtualClock } from '../../sdk/core/clock.js';
import { NotSupportedError } from '../../sdk/core/errors.js';
import {
  InstrumentError,
  ScpiInstrument,
  SimulatedDmm,
  SimulatedPowerSupply,
  connectInstrument,
  startScpiSimulator,
  type ScpiSimulatorOptions,
} from '../../hil/instruments/index.js';
import { trackedCleanups } from '../support/cleanups.js';
import { freePort, waitFor } from '../support/net.js';

const { track } = trackedCleanups();
/** What a timer and the promise chain after it may take beyond a timeout on a busy 2-core machine. */
const SLACK_MS = 400;

async function simulator(options: Partial<ScpiSimulatorOptions> & Pick<ScpiSimulatorOptions, 'kind'>) {
  return track(await startScpiSimulator({ port: 0, seed: 1, ...options }));
}

async function driver(sim: { host: string; port: number }, options: Parameters<typeof ScpiInstrument.tcp>[2] = {}) {
  return track(await ScpiInstrument.tcp(sim.host, sim.port, { id: 'dmm', ...options }));
}

async function failure(promise: Promise<unknown>): Promise<InstrumentError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InstrumentError);
  expect((error as Error).message).not.toContain('\n');
  return error as InstrumentError;
}

describe('ScpiInstrument over TCP against the simulated instrument', () => {
  it('identifies the instrument from *IDN? and binds to 127.0.0.1 by default', async () => {
    const sim = await simulator({ kind: 'dmm', seed: 12 });
    expect(sim.host).toBe('127.0.0.1');
    expect(sim.spec).toBe(`scpi-tcp:127.0.0.1:${sim.port}`);
    const dmm = await driver(sim);
    expect(dmm.connection).toBe(`scpi-tcp:127.0.0.1:${sim.port}`);
    expect(await dmm.identify()).toEqual({ manufacturer: 'sensorkit', model: 'SIM-DMM', serialNumber: 'SIM-12', firmware: '1.0', simulated: true });
    // Asked once: later calls answer from the first.
    await dmm.identify();
    expect(sim.received.filter((m) => m === '*IDN?')).toHaveLength(1);
    // SYST:ERR? follows every command.
    expect(sim.received).toEqual(['*IDN?', 'SYST:ERR?']);
  });

  it('measures DC voltage, current and resistance with the default dialect, on the harness’s clock', async () => {
    const sim = await simulator({ kind: 'dmm' });
    const clock = new VirtualClock({ start: Date.UTC(2026, 2, 1) });
    const dmm = await driver(sim, { clock });
    await dmm.write('SIM:INP:VOLT 2.5');
    await dmm.write('SIM:INP:CURR 0.012');
    await dmm.write('SIM:INP:RES 100');
    const volts = await dmm.measure('voltage-dc');
    expect(volts).toMatchObject({ quantity: 'voltage-dc', unit: 'V', time: Date.UTC(2026, 2, 1) });
    expect(volts.value).toBeCloseTo(2.5, 4);
    expect((await dmm.measure('current-dc')).value).toBeCloseTo(0.012, 6);
    expect((await dmm.measure('resistance')).value).toBeCloseTo(100, 2);
    expect(sim.received).toContain('MEAS:VOLT:DC?');
    expect(sim.received).toContain('MEAS:CURR:DC?');
    expect(sim.received).toContain('MEAS:RES?');
  });

  it('the same seed gives the same readings over SCPI as in process', async () => {
    const clock = new SystemClock();
    const local = new SimulatedDmm({ clock, seed: 77 });
    local.connect('voltage-dc', { valueAt: () => 0 });
    const sim = await simulator({ kind: 'dmm', seed: 77 });
    const dmm = await driver(sim);
    for (let i = 0; i < 5; i++) expect((await dmm.measure('voltage-dc')).value).toBe((await local.measure('voltage-dc')).value);
  });

  it('sources on a supply, a calibrator (its own dialect: SOUR:…? reads the set value) and a chamber', async () => {
    const supplySim = await simulator({ kind: 'supply' });
    const supply = await driver(supplySim, { id: 'supply' });
    await supply.source('voltage-dc', 12_000, 'mV');
    expect(await supply.query('SOUR:VOLT?')).toBe('+1.20000000E+01');
    expect((await supply.measure('voltage-dc')).value).toBeCloseTo(12, 2);
    expect(supplySim.received).toContain('SOUR:VOLT 12');

    const calibratorSim = await simulator({ kind: 'calibrator' });
    const reference = await driver(calibratorSim, { id: 'reference' });
    await reference.source('temperature', 77, 'degF');
    const stated = await reference.measure('temperature');
    expect(stated.value).toBeCloseTo(25, 9);
    // The simulated calibrator's certificate, as in process: U = 0.04 K at k = 2.
    expect(stated.uncertainty).toEqual({ expanded: 0.04, coverageFactor: 2 });
    expect((await reference.identify()).certificate?.id).toBe('SK-CAL-SIM-1');
    expect(calibratorSim.received).toContain('SOUR:TEMP?');

    const chamberSim = await simulator({ kind: 'chamber' });
    const chamber = await driver(chamberSim, { id: 'chamber' });
    await chamber.source('temperature', 40, 'Cel');
    expect(await chamber.query('SOUR:TEMP?')).toBe('+4.00000000E+01');
    expect((await chamber.measure('temperature')).unit).toBe('Cel');
  });

  it('a bad command fails with the instrument’s error code and message; the queue is drained and the next command works', async () => {
    const sim = await simulator({ kind: 'dmm' });
    const dmm = await driver(sim);
    const error = await failure(dmm.write('MEAS:FREQ?X'));
    expect(error).toMatchObject({ reason: 'instrument-error', code: 'ERR_SENSOR', instrument: 'dmm', command: 'MEAS:FREQ?X', instrumentCode: -113, instrumentMessage: 'Undefined header' });
    expect(error.message).toBe(`dmm (scpi-tcp:127.0.0.1:${sim.port}): MEAS:FREQ?X: the instrument reported -113,"Undefined header"`);
    expect(sim.engine.pendingErrors).toHaveLength(0);
    await dmm.write('SIM:INP:VOLT 1');
    expect((await dmm.measure('voltage-dc')).value).toBeCloseTo(1, 4);
  });

  it('several queued errors are all read, the first reported with the count of the others', async () => {
    const sim = await simulator({ kind: 'supply' });
    const supply = await driver(sim, { id: 'supply', checkErrors: false });
    await supply.write('NOPE');
    await supply.write('SOUR:VOLT 99');
    const checked = track(await ScpiInstrument.tcp(sim.host, sim.port, { id: 'supply' }));
    const error = await failure(checked.write('OUTP ON'));
    expect(error.message).toContain('-113,"Undefined header" (and 1 more: -222)');
  });

  it('a value out of the instrument’s range is its -222 error', async () => {
    const sim = await simulator({ kind: 'supply', instrument: new SimulatedPowerSupply({ clock: new SystemClock(), seed: 1, maxVoltage: 20 }) });
    const supply = await driver(sim, { id: 'supply' });
    const error = await failure(supply.source('voltage-dc', 24, 'V'));
    expect(error).toMatchObject({ reason: 'instrument-error', instrumentCode: -222, command: 'SOUR:VOLT 24' });
  });

  it('garbage *IDN? is refused quoting the answer; connectInstrument rejects with one line', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { idn: 'HELLO WORLD' } });
    const dmm = await driver(sim);
    const error = await failure(dmm.identify());
    expect(error).toMatchObject({ reason: 'garbled', code: 'ERR_DECODE', command: '*IDN?' });
    expect(error.message).toContain('expected four comma-separated fields (manufacturer,model,serial,firmware), got "HELLO WORLD"');
    const refused = await failure(connectInstrument(sim.spec, { clock: new SystemClock(), seed: 1, role: 'dmm' }));
    expect(refused.reason).toBe('not-identified');
    expect(refused.message).toBe(`dmm (${sim.spec}): *IDN?: the instrument did not identify: expected four comma-separated fields (manufacturer,model,serial,firmware), got "HELLO WORLD"`);
  });

  it('garbage in answer to SYST:ERR? names SYST:ERR? and what it answered, also through connectInstrument', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { answers: { 'SYSTem:ERRor[:NEXT]?': 'HELLO WORLD' } } });
    const dmm = await driver(sim);
    const error = await failure(dmm.identify());
    expect(error).toMatchObject({ reason: 'garbled', command: '*IDN?: SYST:ERR?' });
    expect(error.message).toBe(`dmm (${sim.spec}): *IDN?: SYST:ERR?: answered "HELLO WORLD" (expected <code>,"<message>")`);
    const refused = await failure(connectInstrument(sim.spec, { clock: new SystemClock(), seed: 1, role: 'dmm' }));
    expect(refused).toMatchObject({ reason: 'not-identified', command: '*IDN?: SYST:ERR?' });
    expect(refused.message).toBe(`dmm (${sim.spec}): *IDN?: SYST:ERR?: the instrument did not identify: answered "HELLO WORLD" (expected <code>,"<message>")`);
  });

  it('connectInstrument takes the answer timeout from the spec (`?timeout=MS`): a slow instrument within it identifies', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { delayMs: 300 } });
    const hasty = await failure(connectInstrument(`${sim.spec}?timeout=100`, { clock: new SystemClock(), seed: 1, role: 'dmm' }));
    expect(hasty.message).toBe(`dmm (${sim.spec}): *IDN?: the instrument did not identify: no answer within 100 ms`);
    // The spec's timeout wins over the option's.
    const patient = track((await connectInstrument(`${sim.spec}?timeout=3000`, { clock: new SystemClock(), seed: 1, role: 'dmm', timeoutMs: 100 })).instrument as ScpiInstrument);
    expect(patient.timeoutMs).toBe(3000);
    expect((await patient.identify()).model).toBe('SIM-DMM');
  });

  it('silence to one query: one timeout error within the timeout; the error queue answering keeps the line usable', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { silent: ['MEASure:VOLTage[:DC]?'] } });
    const dmm = await driver(sim, { timeoutMs: 300 });
    await dmm.identify();
    const started = performance.now();
    const error = await failure(dmm.measure('voltage-dc'));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ reason: 'timeout', code: 'ERR_TIMEOUT', command: 'MEAS:VOLT:DC?' });
    expect(error.message).toBe(`dmm (${sim.spec}): MEAS:VOLT:DC?: no answer within 300 ms (the instrument answers SYST:ERR? with no error)`);
    expect(elapsed).toBeLessThan(300 + SLACK_MS);
    await dmm.write('SIM:INP:CURR 0.001');
    expect((await dmm.measure('current-dc')).value).toBeCloseTo(0.001, 6);
  });

  it('silence to everything: one timeout error within the timeout, then the driver refuses further commands at once', async () => {
    const silent = await simulator({ kind: 'dmm', misbehave: { silent: true } });
    const mute = await driver(silent, { timeoutMs: 300 });
    const started = performance.now();
    const error = await failure(mute.measure('voltage-dc'));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ reason: 'timeout', code: 'ERR_TIMEOUT', command: '*IDN?' });
    expect(error.message).toBe(`dmm (${silent.spec}): *IDN?: no answer within 300 ms`);
    expect(elapsed).toBeGreaterThanOrEqual(299);
    expect(elapsed).toBeLessThan(300 + SLACK_MS);
    const after = performance.now();
    const next = await failure(mute.measure('current-dc'));
    expect(next.reason).toBe('closed');
    expect(next.message).toContain('unusable after "*IDN?" got no answer within 300 ms; connect again');
    expect(performance.now() - after).toBeLessThan(SLACK_MS);
  });

  it('a query the instrument refuses (no answer, an error queued) fails with its error within the timeout, and the line stays usable', async () => {
    const sim = await simulator({ kind: 'dmm' });
    const dmm = await driver(sim, { timeoutMs: 400 });
    const started = performance.now();
    const error = await failure(dmm.query('MEAS:FREQ?'));
    expect(performance.now() - started).toBeLessThan(400 + SLACK_MS);
    expect(error).toMatchObject({ reason: 'instrument-error', command: 'MEAS:FREQ?', instrumentCode: -113 });
    expect(error.message).toBe(`dmm (${sim.spec}): MEAS:FREQ?: the instrument answered nothing and reported -113,"Undefined header"`);
    expect(sim.engine.pendingErrors).toHaveLength(0);
    expect((await dmm.identify()).model).toBe('SIM-DMM');
  });

  it('an answer later than the probe but within the timeout is the answer; the probe’s reply is the error check', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { delayMs: 800 } });
    const dmm = await driver(sim, { timeoutMs: 1000 });
    expect((await dmm.identify()).model).toBe('SIM-DMM');
    expect(sim.received).toEqual(['*IDN?', 'SYST:ERR?']);
    expect(sim.engine.pendingErrors).toHaveLength(0);
  });

  it('an instrument that says nothing at all is refused by connectInstrument within its timeout', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { silent: true } });
    const started = performance.now();
    const error = await failure(connectInstrument(sim.spec, { clock: new SystemClock(), seed: 1, role: 'dmm', timeoutMs: 200 }));
    expect(performance.now() - started).toBeLessThan(200 + SLACK_MS);
    expect(error.reason).toBe('not-identified');
    expect(error.message).toBe(`dmm (${sim.spec}): *IDN?: the instrument did not identify: no answer within 200 ms`);
  });

  it('late answers within the timeout are fine; later than it are a timeout', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { delayMs: 120 } });
    const patient = await driver(sim, { timeoutMs: 1000 });
    expect((await patient.identify()).model).toBe('SIM-DMM');
    const hasty = await driver(sim, { timeoutMs: 60 });
    expect((await failure(hasty.identify())).reason).toBe('timeout');
  });

  it('the instrument closing the connection mid-command fails that command at once, and the ones after it', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { closeOn: 'MEASure:RESistance?' } });
    const dmm = await driver(sim, { timeoutMs: 5000 });
    await dmm.identify();
    const started = performance.now();
    const pending = [dmm.measure('resistance'), dmm.measure('voltage-dc')];
    const [first, second] = await Promise.all(pending.map(failure));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(first).toMatchObject({ reason: 'closed', code: 'ERR_STATE', command: 'MEAS:RES?' });
    expect(first!.message).toMatch(/MEAS:RES\?: .*(closed|ECONNRESET).* while waiting for the answer$/);
    expect(second).toMatchObject({ reason: 'closed', command: 'MEAS:VOLT:DC?' });
  });

  it('a non-numeric answer is refused quoting it (cut); extra whitespace is tolerated; 9.9E37 is an overload', async () => {
    const sim = await simulator({
      kind: 'dmm',
      misbehave: { answers: { 'MEASure:VOLTage[:DC]?': `  +1.5E+00 \r`, 'MEASure:CURRent[:DC]?': `ERR ${'#'.repeat(200)}`, 'MEASure:RESistance?': '+9.9E+37' } },
    });
    const dmm = await driver(sim);
    expect((await dmm.measure('voltage-dc')).value).toBe(1.5);
    const garbled = await failure(dmm.measure('current-dc'));
    expect(garbled).toMatchObject({ reason: 'garbled', command: 'MEAS:CURR:DC?' });
    expect(garbled.message).toContain(`expected a number, got "ERR ${'#'.repeat(56)}"… (204 characters)`);
    const overload = await failure(dmm.measure('resistance'));
    expect(overload).toMatchObject({ reason: 'overload', command: 'MEAS:RES?' });
  });

  it('an answer line without end is cut off at 64 KiB instead of buffered', async () => {
    const port = await freePort();
    const sockets: Socket[] = [];
    const flood = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('7'.repeat(100_000)));
    });
    await new Promise<void>((resolve) => flood.listen(port, '127.0.0.1', resolve));
    track({ close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), flood.close(() => resolve()))) });
    const dmm = await driver({ host: '127.0.0.1', port }, { timeoutMs: 2000 });
    const error = await failure(dmm.identify());
    expect(error).toMatchObject({ reason: 'garbled', command: '*IDN?' });
    expect(error.message).toContain('longer than 64 KiB');
  });

  it('the simulator cuts off a message line without end at 64 KiB and queues -223 Too much data', async () => {
    const sim = await simulator({ kind: 'dmm' });
    const { connect } = await import('node:net');
    const socket = connect(sim.port, '127.0.0.1');
    track({ close: () => void socket.destroy() });
    const lines: string[] = [];
    let buffer = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        lines.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
    });
    socket.write('A'.repeat(70_000));
    socket.write('\nSYST:ERR?\n*IDN?\n');
    await waitFor(() => lines.length >= 2, 5000, 'two answers');
    expect(lines[0]).toBe('-223,"Too much data"');
    expect(lines[1]).toBe('sensorkit,SIM-DMM,SIM-1,1.0');
  });

  it('the mapping is overridable per model: another query, another unit, a stated accuracy', async () => {
    const sim = await simulator({ kind: 'dmm', misbehave: { answers: { 'MEASure:VOLTage?': '1234.5' } } });
    const dmm = await driver(sim, { models: { 'SIM-DMM': { 'voltage-dc': { measure: 'MEAS:VOLT?', unit: 'mV', accuracy: { percentOfReading: 0.1, absolute: 0.5 } } } } });
    const reading = await dmm.measure('voltage-dc');
    expect(reading.unit).toBe('V');
    expect(reading.value).toBeCloseTo(1.2345, 12);
    expect(reading.accuracy).toBeCloseTo((1234.5 * 0.001 + 0.5) / 1000, 12);
    await expect(dmm.source('voltage-dc', 1, 'V')).rejects.toBeInstanceOf(NotSupportedError);
  });

  it('commands sent at once run one after the other, each with its own answer', async () => {
    const sim = await simulator({ kind: 'calibrator' });
    const reference = await driver(sim, { id: 'reference' });
    await Promise.all([reference.source('voltage-dc', 1, 'V'), reference.source('current-dc', 0.002, 'A'), reference.source('pressure', 1e5, 'Pa')]);
    const [v, i, p] = await Promise.all([reference.measure('voltage-dc'), reference.measure('current-dc'), reference.measure('pressure')]);
    expect([v.value, i.value, p.value]).toEqual([1, 0.002, 100_000]);
  });

  it('sends CR LF when told to; answers ending in CR LF are read alike', async () => {
    const sim = await simulator({ kind: 'dmm' });
    const dmm = await driver(sim, { terminator: '\r\n' });
    expect((await dmm.identify()).model).toBe('SIM-DMM');
    expect(sim.received).toEqual(['*IDN?', 'SYST:ERR?']);
    const crlf = await simulator({ kind: 'dmm', misbehave: { answers: { '*IDN?': 'ACME,DMM-9,42,1.0\r' } } });
    expect((await (await driver(crlf)).identify()).serialNumber).toBe('42');
  });

  it('*RST and *CLS', async () => {
    const sim = await simulator({ kind: 'supply' });
    const supply = await driver(sim, { id: 'supply' });
    await supply.source('voltage-dc', 5, 'V');
    await supply.reset();
    expect(await supply.query('SOUR:VOLT?')).toBe('+0.00000000E+00');
    await supply.clear();
    expect(sim.received.slice(-6)).toEqual(['*RST', 'SYST:ERR?', 'SOUR:VOLT?', 'SYST:ERR?', '*CLS', 'SYST:ERR?']);
  });

  it('connectInstrument: a refused connection, a simulated instrument, and close() is idempotent', async () => {
    const port = await freePort();
    const refused = await failure(connectInstrument(`scpi-tcp:127.0.0.1:${port}`, { clock: new SystemClock(), seed: 1, role: 'dmm' }));
    expect(refused).toMatchObject({ reason: 'connect', command: 'connect' });
    expect(refused.message).toContain(`dmm (scpi-tcp:127.0.0.1:${port}): connect: connect ECONNREFUSED`);

    const sim = await connectInstrument('sim:supply', { clock: new VirtualClock(), seed: 3, role: 'mains' });
    expect(sim.connection).toBe('sim:supply');
    expect(sim.instrument.id).toBe('mains');
    expect(sim.instrument).toBeInstanceOf(SimulatedPowerSupply);

    const server = await simulator({ kind: 'chamber' });
    const { instrument, connection } = await connectInstrument(server.spec, { clock: new SystemClock(), seed: 1, role: 'chamber' });
    expect(connection).toBe(server.spec);
    expect((await instrument.identify()).model).toBe('SIM-CHAMBER');
    await instrument.close();
    await instrument.close();
    expect((await failure(instrument.measure('temperature'))).reason).toBe('closed');
  });
});
