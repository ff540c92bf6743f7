/**
 * The ADS1115 in continuous conversion with ALERT/RDY as conversion-ready pulses: the emulated part
 * at register level, the driver's acquisition, and the StreamSampler reading every conversion once.
 */
import { describe, expect, it } from 'vitest';
import { Ads1115Peripheral } from '../../boards/emulated/parts/ads1115.js';
import type { I2cPeripheral } from '../../boards/emulated/peripheral.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { AcquisitionBatch, SensorClockedAcquisition } from '../../sdk/drivers/contract.js';
import { Ads1115Driver, ads1115Driver } from '../../sdk/drivers/ads1115/index.js';
import type { SamplingResult } from '../../sdk/sampling/sampler.js';
import { StreamSampler } from '../../sdk/sampling/stream-sampler.js';
import { i2cRig } from '../support/i2c-rig.js';

const T0 = Date.UTC(2026, 0, 1);
const put = (p: I2cPeripheral, pointer: number, word: number, t: number) => p.write(Uint8Array.of(pointer, word >> 8, word & 0xff), t);
const get = (p: I2cPeripheral, pointer: number, t: number) => {
  p.write(Uint8Array.of(pointer), t);
  const [msb, lsb] = p.read(2, t);
  return (msb! << 8) | lsb!;
};

/** Notes when the config register last started a continuous train (the truth of each conversion's time). */
function spied(adc: Ads1115Peripheral): I2cPeripheral & { trainStart: number } {
  const spy = {
    address: adc.address,
    name: adc.name,
    trainStart: Number.NaN,
    read: (count: number, t: number) => adc.read(count, t),
    write: (bytes: Uint8Array, t: number) => {
      if (bytes[0] === 0x01 && bytes.length === 3 && (bytes[1]! & 0x01) === 0) spy.trainStart = t;
      adc.write(bytes, t);
    },
  };
  return spy;
}

describe('Ads1115Peripheral conversion-ready pin', () => {
  it('pulses once per continuous conversion only with Hi_thresh MSB 1, Lo_thresh MSB 0 and the comparator on', () => {
    let now = T0;
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: () => 1 }] });
    const ready = adc.readyLine({ now: () => now });
    put(adc, 0x01, 0x42e3, now); // continuous, 860 SPS, COMP_QUE 11: the pin is off
    now += 100;
    expect(ready.pulses()).toBe(0);
    put(adc, 0x02, 0x0000, now);
    put(adc, 0x03, 0x8000, now);
    put(adc, 0x01, 0x42e0, now); // COMP_QUE 00: a pulse per conversion
    now += 1000;
    expect(ready.pulses()).toBe(859); // ⌊(1000 − 0.025) × 0.86⌋
    expect(get(adc, 0x00, now)).toBe(8000); // 1 V at ±4.096 V
  });

  it('converts on its own clock: −3000 ppm is 3 conversions fewer in a second at 1 kSPS-class rates', () => {
    let now = T0;
    const adc = new Ads1115Peripheral({ inputs: [], clockPpm: -3000 });
    const ready = adc.readyLine({ now: () => now });
    put(adc, 0x02, 0x0000, now);
    put(adc, 0x03, 0x8000, now);
    put(adc, 0x01, 0x42e0, now);
    now += 10_000;
    expect(ready.pulses()).toBe(8574); // ⌊(10000 − 0.025) × 0.86 × 0.997⌋
  });
});

describe('Ads1115Driver continuous acquisition', () => {
  it('needs the ALERT/RDY line, and is off by default', () => {
    const adc = new Ads1115Peripheral({ inputs: [] });
    const { io } = i2cRig(adc);
    expect(() => new Ads1115Driver(io, { acquisition: 'continuous' })).toThrow(/io\.ready: continuous acquisition needs the ALERT\/RDY line/);
    expect(new Ads1115Driver(io).acquisition).toBeUndefined();
    expect(ads1115Driver.acquisitionFor!({ acquisition: 'continuous' })).toBe('continuous');
    expect(ads1115Driver.maxRateFor!({ acquisition: 'continuous', dataRate: 475 })).toBe(475);
    expect(() => ads1115Driver.validateOptions({ acquisition: 'burst' }, 'o')).toThrow(/o\.acquisition: Expected `acquisition` to be one of "single-shot", "continuous", got "burst"/);
  });

  it('sets the thresholds and continuous mode, reads each conversion once and counts those it missed', async () => {
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: () => 0.5 }] });
    const { clock, io } = i2cRig(adc, { start: T0 });
    const driver = new Ads1115Driver({ ...io, ready: adc.readyLine(clock) }, { acquisition: 'continuous', dataRate: 250, fullScaleVolts: 4.096 });
    const acquisition = driver.acquisition!;
    expect(acquisition).toMatchObject({ mode: 'continuous', outputRateHz: 250, capacityFrames: 1 });
    await clock.runUntilSettled(acquisition.start());
    expect([get(adc, 0x02, clock.now()), get(adc, 0x03, clock.now()), get(adc, 0x01, clock.now()) & 0x01ff]).toEqual([0x0000, 0x8000, 0x00a0]);
    await clock.advance(4.5);
    const first = await clock.runUntilSettled(acquisition.drain());
    expect(first.frames).toEqual([{ voltage: 0.5 }]);
    expect(first.missed).toBeUndefined();
    expect((await clock.runUntilSettled(acquisition.drain())).frames).toEqual([]); // no new conversion yet: nothing twice
    await clock.advance(13);
    const late = await clock.runUntilSettled(acquisition.drain());
    expect(late).toMatchObject({ frames: [{ voltage: 0.5 }], missed: 2 });
    expect(late.provenance.configuration).toBe('mux=AIN0-GND fsr=±4.096V dr=250SPS mode=continuous');
    // sample() reads the newest conversion instead of stopping the train with a single shot.
    expect((await clock.runUntilSettled(driver.sample())).values.voltage).toBe(0.5);
    expect(get(adc, 0x01, clock.now()) & 0x0100).toBe(0);
    await clock.runUntilSettled(acquisition.stop());
    expect(get(adc, 0x01, clock.now()) & 0x0100).toBe(0x0100);
    driver.close();
  });
});

describe('StreamSampler on the emulated ADS1115', () => {
  it('reads every conversion at 860 SPS once for 2 minutes, on a part clock 3000 ppm slow, stamped within 0.05 ms after 5 s', async () => {
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: (t) => ((t - T0) % 1000) / 1000 }], clockPpm: -3000 });
    const spy = spied(adc);
    const { clock, io } = i2cRig(spy, { start: T0 });
    const driver = new Ads1115Driver({ ...io, ready: adc.readyLine(clock) }, { acquisition: 'continuous', dataRate: 860, fullScaleVolts: 1.024 });
    const sampler = new StreamSampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'adc', acquisition: driver.acquisition!, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(120_000);
    await sampler.stop();
    const stats = sampler.stats().adc!;
    expect(stats).toMatchObject({ lost: 0, gaps: 0, overflows: 0, duplicates: 0 });
    expect(stats.driftPpm).toBeGreaterThan(-3100);
    expect(stats.driftPpm).toBeLessThan(-2900);
    const period = 1000 / (860 * 0.997);
    // Conversion k completes 25 µs (wake-up) + (k + 1) periods after the train started.
    const truth = (k: number) => spy.trainStart + 0.025 + (k + 1) * period;
    expect(results.length).toBe(stats.delivered);
    expect(results.length).toBeGreaterThan(Math.floor((120_000 - 1) / period) - 2);
    let worst = 0;
    results.forEach((r, k) => {
      expect(r.ok).toBe(true);
      if (r.ok && r.reading.time - T0 > 5000) worst = Math.max(worst, Math.abs(r.reading.time - truth(k)));
    });
    expect(worst).toBeLessThan(0.05);
  });

  it('follows a part whose data rate is percent off (seeded, up to ±5 %) without a false gap', async () => {
    for (const seed of [1, 2, 3]) {
      const adc = new Ads1115Peripheral({ inputs: [], random: new SeededRandom(seed) });
      const { clock, io } = i2cRig(adc, { start: T0 });
      const driver = new Ads1115Driver({ ...io, ready: adc.readyLine(clock) }, { acquisition: 'continuous', dataRate: 475 });
      const sampler = new StreamSampler({ clock });
      sampler.add({ id: 'adc', acquisition: driver.acquisition!, onResult: () => {} });
      sampler.start();
      await clock.advance(30_000);
      await sampler.stop();
      const stats = sampler.stats().adc!;
      expect(stats).toMatchObject({ lost: 0, gaps: 0, duplicates: 0 });
      expect(Math.abs(stats.driftPpm)).toBeGreaterThan(100); // the seeded parts are off by 0.1–5 %
      expect(stats.delivered).toBeGreaterThan(30 * 475 * 0.94);
    }
  });

  it('counts and flags conversions missed when the host reads slower than the part converts', async () => {
    const adc = new Ads1115Peripheral({ inputs: [] });
    const { clock, io } = i2cRig(adc, { start: T0 });
    const driver = new Ads1115Driver({ ...io, ready: adc.readyLine(clock) }, { acquisition: 'continuous', dataRate: 128 });
    const sampler = new StreamSampler({ clock, drainIntervalMs: 20 }); // 7.8 ms conversions, read every 20 ms
    const results: SamplingResult[] = [];
    sampler.add({ id: 'adc', acquisition: driver.acquisition!, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(10_000);
    await sampler.stop();
    const stats = sampler.stats().adc!;
    expect(stats.delivered).toBe(500);
    expect(stats.lost).toBeGreaterThan(770);
    expect(stats.delivered + stats.lost).toBeLessThanOrEqual(1280);
    const flagged = results.filter((r) => r.ok && r.missedBefore !== undefined);
    expect(flagged.length).toBeGreaterThan(400);
    expect(flagged[0]!.ok && flagged[0]!.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: `missed: ${flagged[0]!.ok && flagged[0]!.missedBefore} conversions overwritten before they were read` });
  });
  it('drops and flags a conversion read more than once from its single result register', async () => {
    const adc = new Ads1115Peripheral({ inputs: [] });
    const { clock, io } = i2cRig(adc, { start: T0 });
    const driver = new Ads1115Driver({ ...io, ready: adc.readyLine(clock) }, { acquisition: 'continuous', dataRate: 250 });
    const inner = driver.acquisition!;
    let drains = 0;
    let doubled = false;
    const twice: SensorClockedAcquisition = {
      mode: inner.mode,
      outputRateHz: inner.outputRateHz,
      capacityFrames: inner.capacityFrames,
      start: () => inner.start(),
      stop: () => inner.stop(),
      drain: async (): Promise<AcquisitionBatch> => {
        const batch = await inner.drain();
        if (++drains < 1000 || doubled || batch.frames.length === 0) return batch;
        doubled = true;
        return { ...batch, frames: [...batch.frames, ...batch.frames, ...batch.frames, ...batch.frames] }; // read four times
      },
    };
    const sampler = new StreamSampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'adc', acquisition: twice, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(10_000);
    await sampler.stop();
    expect(inner.mode).toBe('continuous');
    expect(doubled).toBe(true);
    expect(sampler.stats().adc).toMatchObject({ duplicates: 3, lost: 0, gaps: 0 });
    const flagged = results.filter((r) => r.ok && r.quality !== undefined);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]!.ok && flagged[0]!.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: "3 frames more than the part's clock allows were dropped" });
  });
});

