/**
 * A device model selects the ADS1115's continuous conversion and names the pin its ALERT/RDY line
 * is wired to (`driver.ready`); the device counts that pin's edges through the board contract and
 * the driver reads each conversion once. On the emulated Arduino Uno, on virtual time.
 */
import { describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { Ads1115Peripheral } from '../../boards/emulated/parts/ads1115.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { Device } from '../../sdk/device/index.js';
import { defineDevice, type ChannelSpec, type Sample } from '../../sdk/model/index.js';
import type { StreamStats } from '../../sdk/sampling/stream-sampler.js';

const T0 = Date.UTC(2026, 0, 1);

function channel(driver: Record<string, unknown>, sampleRate = 860): ChannelSpec {
  return {
    id: 'bridge',
    quantity: 'voltage',
    unit: 'V',
    range: { min: -2.048, max: 2.048 },
    resolution: 0.0001,
    accuracy: { mpe: 0.01 },
    sampleRate,
    driver: { part: 'ads1115', address: 0x48, ...driver } as ChannelSpec['driver'],
  };
}

function model(driver: Record<string, unknown>, sampleRate?: number) {
  return defineDevice({
    id: 'ready-probe',
    board: 'arduino-uno',
    identity: { manufacturer: 'sensorkit tests', model: 'RDY probe', productCode: 'RP-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'board' } },
    channels: [channel(driver, sampleRate)],
  });
}

const CONTINUOUS = { acquisition: 'continuous', dataRate: 860, fullScaleVolts: 2.048 };

describe('ADS1115 continuous conversion from a device model', () => {
  it('reads every conversion once for a minute, counted on the ALERT/RDY pin the model names, with the part clock 3000 ppm slow', async () => {
    const clock = new VirtualClock({ start: T0 });
    const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 2 });
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: (t) => 1 + 0.5 * Math.sin(t / 50) }], clockPpm: -3000 });
    board.attachI2c(adc).attachPulseTrain('D2', adc.readyLine(clock));
    const device = new Device(model({ ready: 'D2', options: CONTINUOUS }), { board, serialNumber: 'RP-1' });
    const samples: Sample[] = [];
    device.on('sample', (sample) => samples.push(sample));
    await device.start();
    await clock.advance(60_000);
    const stats = device.samplingStats()['ads1115@i2c0:0x48/860Hz/x1'] as StreamStats;
    await device.stop();
    await board.close();

    expect(stats).toMatchObject({ lost: 0, gaps: 0, duplicates: 0, overflows: 0, failures: 0 });
    // 860 × 0.997 conversions a second, every one delivered (the last few after the last drain).
    const expected = 60 * 860 * 0.997;
    expect(stats.delivered).toBeGreaterThan(expected - 5);
    expect(stats.delivered).toBeLessThanOrEqual(Math.ceil(expected));
    expect(stats.driftPpm).toBeGreaterThan(-3100);
    expect(stats.driftPpm).toBeLessThan(-2900);
    expect(samples).toHaveLength(stats.delivered);
    expect(samples.every((sample) => sample.quality.level === 'good')).toBe(true);
    // Each conversion once: once the part's clock is fitted (10 s), one conversion period apart.
    const settled = samples.filter((sample) => sample.time >= samples[0]!.time + 10_000);
    const steps = settled.slice(1).map((sample, i) => sample.time - settled[i]!.time);
    const period = 1000 / (860 * 0.997);
    expect(Math.min(...steps)).toBeGreaterThan(period * 0.99);
    expect(Math.max(...steps)).toBeLessThan(period * 1.01);
    expect(samples[0]!.provenance?.configuration).toContain('continuous');
  });

  it('needs the ready pin exactly when the options use the ALERT/RDY line, on a digital pin nothing else uses', () => {
    expect(() => model({ options: CONTINUOUS })).toThrow(
      'channels[0].driver.ready: required: ads1115 with acquisition "continuous" counts conversions on its ALERT/RDY line; give the digital pin it is wired to, e.g. "D2"',
    );
    expect(() => model({ ready: 'D2', options: { dataRate: 860 } }, 10)).toThrow('channels[0].driver.ready: ads1115 uses no data-ready line with these options');
    expect(() => model({ ready: 'D20', options: CONTINUOUS })).toThrow(/channels\[0\]\.driver\.ready: board arduino-uno has no digital pin "D20"; digital pins: D0, D1/);
    expect(() => model({ ready: 'A4', options: CONTINUOUS })).toThrow('channels[0].driver.ready: A4 is an I2C line on arduino-uno, and an I2C part is in use');
    expect(model({ ready: 'D2', options: CONTINUOUS }).channels[0]!.binding.ready).toBe('D2');
  });
});
