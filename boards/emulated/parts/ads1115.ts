/**
 * An ADS1115-class 16-bit delta-sigma ADC at register level (TI ADS111x datasheet §9.6 "Register
 * map", §9.4 "Device functional modes"), for the emulated I2C bus.
 *
 * Four analog inputs are `Signal`s in volts. The multiplexer picks a pair (or one input against
 * GND), the PGA sets the full-scale range, and a conversion takes 1/DR of clock time. Results are
 * big-endian two's complement, clipped at full scale (0x7FFF / 0x8000).
 */
import { ArgumentError } from '../../../sdk/core/errors.js';
import type { SeededRandom } from '../../../sdk/core/random.js';
import { expectNumber } from '../expect.js';
import type { I2cPeripheral, Signal } from '../peripheral.js';

/** Options of {@link Ads1115Peripheral}. */
export interface Ads1115PeripheralOptions {
  /** 0x48 (ADDR to GND, default), 0x49 (VDD), 0x4A (SDA) or 0x4B (SCL). */
  address?: number;
  /** AIN0…AIN3 in volts; an input left out is tied to GND. */
  inputs: readonly (Signal | undefined)[];
  /** Supply voltage, 2.0…5.5 V (default 3.3). Inputs are clamped to GND − 0.3 V … VDD + 0.3 V. */
  vdd?: number;
  /**
   * Seeds this part's offset (within ±3 LSB), gain error (within ±0.15 %), data-rate error (within
   * ±10 %) and noise. Without it the converter is ideal.
   */
  random?: SeededRandom;
  /**
   * How many ppm the conversion clock runs fast against the bus clock (negative: slow), on top of
   * the seeded data-rate error; −100 000…100 000, default 0.
   */
  clockPpm?: number;
}

// §9.6.1 pointer register values.
const POINTER = { conversion: 0b00, config: 0b01, loThresh: 0b10, hiThresh: 0b11 } as const;
/** §9.6.3 config register reset value: OS=1, AIN0−AIN1, ±2.048 V, single-shot, 128 SPS, comparator off. */
const CONFIG_RESET = 0x8583;
const OS = 0x8000;
const MODE_SINGLE_SHOT = 0x0100;
/** Full-scale range per PGA code, V. */
const FSR = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256] as const;
/** Data rate per DR code, samples per second. */
const DATA_RATE = [8, 16, 32, 64, 128, 250, 475, 860] as const;
/** Positive and negative input per MUX code; −1 is GND. */
const MUX: readonly (readonly [number, number])[] = [[0, 1], [0, 3], [1, 3], [2, 3], [0, -1], [1, -1], [2, -1], [3, -1]];
/** §7.6: the part powers up from its single-shot power-down state in about 25 µs. */
const WAKE_MS = 0.025;

/**
 * Register-level ADS1115 model: pointer, conversion, config (OS, MUX, PGA, MODE, DR) and the two
 * threshold registers; single-shot and continuous conversions timed on the bus clock. The
 * ALERT/RDY pin in conversion-ready mode (§9.3.8: Hi_thresh MSB 1, Lo_thresh MSB 0, COMP_QUE not
 * 11) pulses once per continuous conversion; {@link Ads1115Peripheral.readyLine} counts the pulses
 * as a host's edge-counting interrupt input would.
 *
 * @example
 * ```ts
 * const adc = new Ads1115Peripheral({ inputs: [constant(1.25)] })
 * board.attachI2c(adc)                       // 0x48
 * ```
 */
export class Ads1115Peripheral implements I2cPeripheral {
  readonly address: number;
  readonly name = 'ADS1115';

  readonly #inputs: readonly (Signal | undefined)[];
  readonly #vdd: number;
  readonly #random: SeededRandom | undefined;
  readonly #offsetLsb: number;
  readonly #gain: number;
  readonly #rateFactor: number;
  /** ALERT/RDY pulses so far (conversion-ready mode only). */
  #pulses = 0;

  #pointer: number = POINTER.conversion;
  #config = CONFIG_RESET;
  #loThresh = 0x8000;
  #hiThresh = 0x7fff;
  #conversion = 0;
  /** A single-shot conversion in progress, with the config it was started with. */
  #single: { readonly end: number; readonly config: number } | undefined;
  /** Continuous mode: when the conversion train started and the index of the last result (−1: none). */
  #continuous: { readonly start: number; readonly config: number; latest: number } | undefined;

  constructor(options: Ads1115PeripheralOptions) {
    const address = options.address ?? 0x48;
    if (!Number.isInteger(address) || address < 0x48 || address > 0x4b) {
      throw new ArgumentError(`Expected \`address\` to be 0x48, 0x49, 0x4A or 0x4B, got ${String(address)}`);
    }
    if (!Array.isArray(options.inputs) || options.inputs.length > 4) {
      throw new ArgumentError(`Expected \`inputs\` to be an array of up to 4 signals, got ${String(options.inputs)}`);
    }
    this.address = address;
    this.#inputs = options.inputs;
    this.#vdd = expectNumber('vdd', options.vdd ?? 3.3, { min: 2, max: 5.5 });
    this.#random = options.random?.fork('ads1115');
    const spread = (halfWidth: number): number => (this.#random === undefined ? 0 : (this.#random.next() * 2 - 1) * halfWidth);
    // Electrical characteristics: offset ±3 LSB, gain error 0.15 % max, data rate −10 %…+10 %.
    this.#offsetLsb = spread(2);
    this.#gain = 1 + spread(0.001);
    this.#rateFactor = 1 + spread(0.05);
    const ppm = options.clockPpm ?? 0;
    if (typeof ppm !== 'number' || !(ppm >= -100_000 && ppm <= 100_000)) {
      throw new ArgumentError(`Expected \`clockPpm\` to be a number from -100000 to 100000, got ${String(ppm)}`);
    }
    this.#rateFactor *= 1 + ppm * 1e-6;
  }

  /**
   * The ALERT/RDY line as a host counts it: pulses up to the clock's time. The line pulses at the
   * end of each continuous conversion while the comparator is in conversion-ready mode. The part's
   * time is the clock's steady time (`now()` less the wall-time steps it followed), as on the bus.
   *
   * @example
   * ```ts
   * const ready = adc.readyLine(clock)
   * new Ads1115Driver({ clock, i2c, ready }, { acquisition: 'continuous', dataRate: 860 })
   * ```
   */
  readyLine(clock: { now(): number; readonly steppedMs?: number }): { pulses(): number } {
    return {
      pulses: () => {
        this.#settle(clock.now() - (clock.steppedMs ?? 0));
        return this.#pulses;
      },
    };
  }

  write(bytes: Uint8Array, timeMs: number): void {
    const pointer = bytes[0];
    if (pointer === undefined) return;
    this.#settle(timeMs);
    // §9.6.1: bits 7:2 of the pointer byte must be 0; the register address is bits 1:0.
    this.#pointer = pointer & 0x03;
    if (bytes.length < 3) return;
    const word = (bytes[1]! << 8) | bytes[2]!;
    if (this.#pointer === POINTER.loThresh) this.#loThresh = word;
    else if (this.#pointer === POINTER.hiThresh) this.#hiThresh = word;
    else if (this.#pointer === POINTER.config) this.#writeConfig(word, timeMs);
    // The conversion register is read-only.
  }

  read(count: number, timeMs: number): Uint8Array {
    this.#settle(timeMs);
    const word = this.#registerValue(timeMs);
    const out = new Uint8Array(count);
    // MSB first; a longer read repeats the register.
    for (let i = 0; i < count; i++) out[i] = i % 2 === 0 ? word >> 8 : word & 0xff;
    return out;
  }

  #registerValue(timeMs: number): number {
    switch (this.#pointer) {
      case POINTER.conversion:
        return this.#conversion & 0xffff;
      case POINTER.config: {
        // OS reads 0 while a conversion runs (always in continuous mode), 1 otherwise.
        const busy = this.#continuous !== undefined || (this.#single !== undefined && timeMs < this.#single.end);
        return (this.#config & ~OS) | (busy ? 0 : OS);
      }
      case POINTER.loThresh:
        return this.#loThresh;
      default:
        return this.#hiThresh;
    }
  }

  #writeConfig(word: number, timeMs: number): void {
    this.#config = word & ~OS;
    if ((word & MODE_SINGLE_SHOT) === 0) {
      // Continuous: a config write restarts the conversion train with the new settings.
      this.#single = undefined;
      this.#continuous = { start: timeMs, config: word, latest: -1 };
      return;
    }
    this.#continuous = undefined;
    // §9.4.1: OS=1 starts a single conversion from power-down; it has no effect while converting.
    if ((word & OS) !== 0 && this.#single === undefined) {
      this.#single = { end: timeMs + WAKE_MS + this.#conversionMs(word), config: word };
    }
  }

  #conversionMs(config: number): number {
    return 1000 / (DATA_RATE[(config >> 5) & 0x07]! * this.#rateFactor);
  }

  /** Latches the results due by `timeMs`. */
  #settle(timeMs: number): void {
    if (this.#single !== undefined && timeMs >= this.#single.end) {
      this.#conversion = this.#convert(this.#single.config, this.#single.end);
      this.#single = undefined;
    }
    const continuous = this.#continuous;
    if (continuous === undefined) return;
    const period = this.#conversionMs(continuous.config);
    // Conversion k (from 0) completes at start + wake-up + (k + 1) periods; only the newest counts.
    const due = Math.floor((timeMs - continuous.start - WAKE_MS) / period) - 1;
    if (due > continuous.latest) {
      if (this.#readyMode()) this.#pulses += due - continuous.latest;
      continuous.latest = due;
      this.#conversion = this.#convert(continuous.config, continuous.start + WAKE_MS + (due + 1) * period);
    }
  }

  /** §9.3.8: conversion-ready mode of ALERT/RDY. */
  #readyMode(): boolean {
    return (this.#hiThresh & 0x8000) !== 0 && (this.#loThresh & 0x8000) === 0 && (this.#config & 0x0003) !== 0x0003;
  }

  /** One conversion: the multiplexed input difference at `atMs`, scaled by the PGA and clipped. */
  #convert(config: number, atMs: number): number {
    const [positive, negative] = MUX[(config >> 12) & 0x07]!;
    const fsr = FSR[(config >> 9) & 0x07]!;
    const volts = this.#input(positive, atMs) - this.#input(negative, atMs);
    const rate = DATA_RATE[(config >> 5) & 0x07]!;
    // Noise below 1 LSB rms up to 128 SPS, growing with the data rate (datasheet Tables 1–2).
    const noiseLsb = this.#random === undefined ? 0 : this.#random.gaussian(0, 0.2 * Math.sqrt(Math.max(1, rate / 128)));
    const code = Math.round((volts / fsr) * 32768 * this.#gain + this.#offsetLsb + noiseLsb);
    return Math.min(0x7fff, Math.max(-0x8000, code));
  }

  #input(index: number, atMs: number): number {
    if (index < 0) return 0;
    const volts = this.#inputs[index]?.valueAt(atMs) ?? 0;
    // The ESD diodes clamp an input beyond the supply rails (§7.1 absolute maximum ratings).
    return Math.min(this.#vdd + 0.3, Math.max(-0.3, volts));
  }
}
