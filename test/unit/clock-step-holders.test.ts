/**
 * Holders of times across a wall-time step, each through its public interface: the clocks' step
 * listeners (one that throws), the step threshold, the precise wait of SystemClock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemClock, VirtualClock, type ClockStep } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { Sampler } from '../../sdk/sampling/sampler.js';
import { steadyNow } from '../../sdk/core/wall-clock-watch.js';
import { ARDUINO_UNO } from '../../sdk/io/board-definitions.js';
import { EmulatedBoard, constant } from '../../boards/emulated/index.js';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/index.js';
import { LoginThrottle } from '../../sdk/transport/opcua/login-throttle.js';
import { ScpiInstrument } from '../../hil/instruments/scpi-instrument.js';
import type { ScpiLink } from '../../hil/instruments/scpi-link.js';

const START = Date.UTC(2026, 2, 1, 8);
const TWO_HOURS = 2 * 3600_000;

afterEach(() => vi.restoreAllMocks());

/**
 * Errors thrown from microtasks (how the clocks and samplers surface a consumer's bug, like a
 * throwing timer callback): caught here instead of failing the run as uncaught exceptions.
 */
function catchMicrotaskErrors(): unknown[] {
  const caught: unknown[] = [];
  const queue = globalThis.queueMicrotask.bind(globalThis);
  vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) =>
    queue(() => {
      try {
        callback();
      } catch (error) {
        caught.push(error);
      }
    }),
  );
  return caught;
}

const reading = (clock: { now(): number }) => async () => ({ time: clock.now(), values: { v: 1 }, provenance: { part: 'p', source: 'A0' } });

describe('a step listener that throws', () => {
  it('VirtualClock: every other listener still re-bases (a 50 Hz sampler keeps its cadence); the error surfaces afterwards', async () => {
    const caught = catchMicrotaskErrors();
    const clock = new VirtualClock({ start: START });
    const bug = new Error('a listener bug');
    clock.on('step', () => {
      throw bug;
    });
    const heard: ClockStep[] = [];
    clock.on('step', (step) => heard.push(step));
    const times: number[] = [];
    const sampler = new Sampler({ clock });
    sampler.add({ id: 'g', rateHz: 50, read: reading(clock), onResult: (result) => result.ok && times.push(result.reading.time) });
    sampler.start();
    await clock.advance(200);
    expect(clock.stepWall(-TWO_HOURS)).toEqual({ stepMs: -TWO_HOURS, at: START + 200 - TWO_HOURS });
    const before = times.length;
    await clock.advance(500);
    await sampler.stop();
    expect(heard).toEqual([{ stepMs: -TWO_HOURS, at: START + 200 - TWO_HOURS }]);
    expect(times.length - before).toBe(25);
    expect(times.at(-1)).toBe(START + 700 - TWO_HOURS);
    expect(caught).toEqual([bug]);
  });

  it('SystemClock: the sampler after it re-bases, checkWallClock returns the step; the error surfaces afterwards', async () => {
    const caught = catchMicrotaskErrors();
    let offset = 0;
    const clock = new SystemClock({ precisionWindowMs: 0, wallNow: () => Date.now() + offset });
    const bug = new Error('a listener bug');
    const off = clock.on('step', () => {
      throw bug;
    });
    const times: number[] = [];
    const sampler = new Sampler({ clock });
    sampler.add({ id: 'g', rateHz: 50, read: reading(clock), onResult: (result) => result.ok && times.push(result.reading.time) });
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    offset = -TWO_HOURS;
    const step = clock.checkWallClock();
    expect(Math.round((step?.stepMs ?? 0) / 1000)).toBe(-TWO_HOURS / 1000);
    const before = times.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sampler.stop();
    // 50 Hz for 0.5 s: about 25 readings (a loaded machine may lose a few to overruns), on the new base.
    expect(times.length - before).toBeGreaterThan(15);
    // Stops the clock's periodic comparison, which would otherwise outlive the test.
    off();
    expect(Math.abs(times.at(-1)! - (Date.now() - TWO_HOURS))).toBeLessThan(100);
    expect(caught).toEqual([bug]);
  });

  it('off() removes a listener, once() runs one once', () => {
    const clock = new VirtualClock({ start: START });
    const heard: number[] = [];
    const listener = (step: ClockStep): void => void heard.push(step.stepMs);
    clock.on('step', listener);
    clock.once('step', (step) => heard.push(-step.stepMs));
    clock.stepWall(5000);
    clock.off('step', listener);
    clock.stepWall(6000);
    expect(heard).toEqual([5000, -5000]);
    expect(clock.listenerCount('step')).toBe(0);
  });
});

describe('the step threshold', () => {
  it.each([0.2, 1, 9.99, 0, -5, Number.NaN])('%d ms, at or under the wall clock\'s resolution, is refused by both clocks', (threshold) => {
    expect(() => new SystemClock({ stepThresholdMs: threshold })).toThrow(ArgumentError);
    expect(() => new VirtualClock({ stepThresholdMs: threshold })).toThrow(/stepThresholdMs/);
  });

  it('10 ms, the smallest accepted, reports no step of a wall clock that never stepped (1 ms rounding of Date.now)', async () => {
    const clock = new SystemClock({ stepThresholdMs: 10 });
    const steps: number[] = [];
    clock.on('step', ({ stepMs }) => steps.push(stepMs));
    for (let i = 0; i < 100; i++) {
      clock.checkWallClock();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(steps).toEqual([]);
    expect(new VirtualClock({ stepThresholdMs: 10 }).stepWall(11)).toMatchObject({ stepMs: 11 });
  });
});

describe('the report loop of a polled board across a step', () => {
  it.each([TWO_HOURS, -TWO_HOURS, 600])('%d ms: analog and continuous I2C reports keep their 19 ms cadence (no burst, no pause)', async (stepMs) => {
    const clock = new VirtualClock({ start: START });
    const board = new EmulatedBoard({ definition: ARDUINO_UNO, clock, seed: 1 });
    board.attachAnalog('A0', constant(2.5));
    board.attachI2c(new Mpu6050Peripheral({ address: 0x68, acceleration: { z: constant(9.80665) } }));
    const analog: number[] = [];
    const i2c: number[] = [];
    board.analogRead(0, () => analog.push(steadyNow(clock) - START));
    board.i2cConfig({});
    board.i2cRead(0x68, 0x75, 1, () => i2c.push(steadyNow(clock) - START));
    await clock.advance(1000);
    clock.stepWall(stepMs);
    await clock.advance(1000);
    await board.close();
    const cadence = Array.from({ length: Math.floor(2000 / 19) }, (_, i) => 19 * (i + 1));
    expect(analog).toEqual(cadence);
    expect(i2c).toEqual(cadence);
  });
});

describe('OPC UA login lockouts across a step', () => {
  const attacker = { user: 'operator', address: '192.0.2.7' };
  const options = { lockoutAfter: 3, lockoutMs: 300_000, freeFailures: 0, delayMs: 0, maxDelayMs: 0 };

  it.each([TWO_HOURS, -TWO_HOURS, 600])('%d ms: a 5 min lockout ends 5 min after it began, failures are forgotten 5 min after the last', async (stepMs) => {
    const clock = new VirtualClock({ start: START });
    const throttle = new LoginThrottle({ ...options, clock }, () => undefined);
    for (let i = 0; i < 3; i++) await throttle.failed(attacker, 'wrong password');
    await clock.advance(60_000);
    clock.stepWall(stepMs);
    expect(throttle.gate(attacker)).toEqual({ locked: true, remainingMs: 240_000 });
    await clock.advance(239_999);
    expect(throttle.gate(attacker)).toEqual({ locked: true, remainingMs: 1 });
    await clock.advance(1);
    expect(throttle.gate(attacker)).toEqual({ locked: false });
    // Two failures in a row, a step, then one more within 5 min of the last: the third locks again (for 10 min).
    const other = { user: 'maintenance', address: '192.0.2.8' };
    await throttle.failed(other, 'wrong password');
    await throttle.failed(other, 'wrong password');
    await clock.advance(100_000);
    clock.stepWall(-stepMs);
    await throttle.failed(other, 'wrong password');
    expect(throttle.gate(other)).toEqual({ locked: true, remainingMs: 300_000 });
  });

  it.each([TWO_HOURS, -TWO_HOURS])('%d ms on the default system clock (as the OPC UA server builds it): the lockout keeps its 5 min', async (stepMs) => {
    const wallNow = Date.now.bind(Date);
    let offset = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => wallNow() + offset);
    const throttle = new LoginThrottle({ ...options, lockoutAfter: 1, delayMs: 1, maxDelayMs: 1 }, () => undefined);
    await throttle.failed(attacker, 'wrong password');
    offset = stepMs;
    // Another client's failed login arms its answer delay: the clock compares with the wall clock and re-bases.
    await throttle.failed({ user: 'someone', address: '192.0.2.8' }, 'wrong password');
    const gate = throttle.gate(attacker);
    expect(gate.locked).toBe(true);
    expect(gate.locked && gate.remainingMs).toBeGreaterThan(290_000);
    expect(gate.locked && gate.remainingMs).toBeLessThanOrEqual(300_000);
  });
});

describe('an SCPI query across a step', () => {
  it.each([0, -TWO_HOURS, TWO_HOURS])('%d ms: a query the instrument never answers fails after timeoutMs (the SYST:ERR? probe included)', async (stepMs) => {
    const wallNow = Date.now.bind(Date);
    let offset = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => wallNow() + offset);
    const sent: string[] = [];
    const link: ScpiLink = { send: (message) => void sent.push(message), onLine: () => undefined, onEnd: () => undefined, close: async () => undefined };
    const dmm = new ScpiInstrument({ connection: 'test', link, timeoutMs: 400, models: {}, dialect: {} });
    const started = performance.now();
    const outcome = dmm.query('MEAS:VOLT:DC?').then(
      () => 'answered',
      (error: Error) => ({ afterMs: performance.now() - started, message: error.message }),
    );
    // NTP steps the host's clock during the first wait, before the probe.
    setTimeout(() => (offset = stepMs), 100);
    const result = await Promise.race([outcome, new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000))]);
    expect(result).toMatchObject({ message: expect.stringContaining('no answer within 400 ms') });
    expect((result as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(399);
    expect((result as { afterMs: number }).afterMs).toBeLessThan(1500);
    expect(sent).toEqual(['MEAS:VOLT:DC?', 'SYST:ERR?']);
  });
});
