/**
 * Counting the edges of a digital input through the board contract (`Board.openEdgeCounter`):
 * from a pin's level reports (what any board with digital reads offers: the emulated board, and a
 * Firmata board over the Firmata protocol), from an emulated part's pulse train wired to a pin
 * (every pulse, however short), and the refusals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataEngine } from '../../boards/emulated/firmata/engine.js';
import { Ads1115Peripheral } from '../../boards/emulated/parts/ads1115.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { streamPair } from '../support/pty.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError, NotSupportedError, PinError } from '../../sdk/core/errors.js';
import { ARDUINO_UNO } from '../../sdk/io/board-definitions.js';
import { MODES } from '../../sdk/io/board.js';
import { IoPluginBoard } from '../../sdk/io/io-plugin-board.js';

const T0 = Date.UTC(2026, 0, 1);

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function uno(): { clock: VirtualClock; board: EmulatedBoard } {
  const clock = new VirtualClock({ start: T0 });
  return { clock, board: new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 }) };
}

describe('Board.openEdgeCounter from level reports', () => {
  it('counts falling edges by default, rising or both on request; the first level is not an edge', async () => {
    const { clock, board } = uno();
    board.setDigitalInput('D2', 1);
    const falling = board.openEdgeCounter({ pin: 'D2' });
    const rising = board.openEdgeCounter({ pin: 'D2', edge: 'rising' });
    const both = board.openEdgeCounter({ pin: 'D2', edge: 'both' });
    expect(falling).toMatchObject({ pin: 'D2', edge: 'falling' });
    expect(board.pins[2]!.mode).toBe(MODES.INPUT);
    await clock.advance(1); // the pin's first report (its level now)
    for (const level of [0, 1, 0, 1, 1, 0]) board.setDigitalInput('D2', level);
    expect([falling.count(), rising.count(), both.count()]).toEqual([3, 2, 5]);
    await board.close();
  });

  it('stops counting once closed and keeps its count', async () => {
    const { clock, board } = uno();
    const counter = board.openEdgeCounter({ pin: 'D3', edge: 'rising' });
    await clock.advance(1);
    board.setDigitalInput('D3', 1);
    counter.close();
    board.setDigitalInput('D3', 0);
    board.setDigitalInput('D3', 1);
    expect(counter.count()).toBe(1);
    await board.close();
  });

  it('refuses a pin that is not there, a bad edge, and a board without GPIO', async () => {
    const { board } = uno();
    expect(() => board.openEdgeCounter({ pin: 'D99' })).toThrow(PinError);
    expect(() => board.openEdgeCounter({ pin: 'D2', edge: 'up' as never })).toThrow(ArgumentError);
    expect(() => board.openEdgeCounter({ pin: 'D2', edge: 'up' as never })).toThrow(/Expected `edge` to be "rising", "falling" or "both", got "up"/);
    await board.close();

    class NoGpioBoard extends IoPluginBoard {
      constructor() {
        super({ definition: ARDUINO_UNO, clock: new VirtualClock(), name: 'bus-only board', reports: 'polled', i2cMaxBytes: 32, noGpio: 'this board exposes no GPIO' });
      }
      openAnalogInput(): never {
        throw new NotSupportedError('no analog');
      }
      protected convertAnalog(): number {
        return 0;
      }
      protected transferI2c(): Promise<Uint8Array> {
        return Promise.resolve(new Uint8Array(0));
      }
      protected closeBoard(): void {}
    }
    const bare = new NoGpioBoard();
    expect(() => bare.openEdgeCounter({ pin: 'D2' })).toThrow(NotSupportedError);
    expect(() => bare.openEdgeCounter({ pin: 'D2' })).toThrow('openEdgeCounter: this board exposes no GPIO');
    await bare.close();
  });
});

describe('Board.openEdgeCounter on a Firmata board', () => {
  it('counts the edges of the digital reports the board sends over the protocol', async () => {
    const clock = new VirtualClock({ start: T0 });
    const emulated = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 2 });
    cleanup.push(() => emulated.close());
    const [host, boardEnd] = streamPair();
    const engine = new FirmataEngine({ board: emulated, write: (bytes) => boardEnd.write(Buffer.from(bytes)) });
    boardEnd.on('data', (chunk: Buffer) => engine.receive(chunk));
    const board = await clock.runUntilSettled(FirmataBoard.open({ clock, reconnect: false, line: () => host, definition: 'arduino-uno' }), 10_000);
    cleanup.push(() => board.close());
    const falling = board.openEdgeCounter({ pin: 'D2' });
    const both = board.openEdgeCounter({ pin: 'D2', edge: 'both' });
    await clock.advance(0); // the first report: the level now
    for (const level of [1, 0, 1, 0]) {
      emulated.setDigitalInput('D2', level);
      await clock.advance(0);
    }
    expect([falling.count(), both.count()]).toEqual([2, 4]);
  });
});

describe('Board.openEdgeCounter on an emulated pulse train', () => {
  it('counts every ALERT/RDY pulse of an emulated ADS1115 in continuous conversion, from the moment it is opened', async () => {
    const { clock, board } = uno();
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: () => 1 }] });
    board.attachI2c(adc).attachPulseTrain('D2', adc.readyLine(clock));
    const i2c = board.openI2c({ address: 0x48, hz: 400_000 });
    await i2c.write([0x02, 0x00, 0x00]); // Lo_thresh MSB 0
    await i2c.write([0x03, 0x80, 0x00]); // Hi_thresh MSB 1
    await i2c.write([0x01, 0x42, 0xe0]); // continuous, 860 SPS, COMP_QUE 00: conversion-ready pulses
    await clock.advance(500);
    const falling = board.openEdgeCounter({ pin: 'D2' });
    const both = board.openEdgeCounter({ pin: 'D2', edge: 'both' });
    await clock.advance(1000);
    // 860 conversions a second: 8 µs pulses no level report would see, all counted.
    expect(falling.count()).toBeGreaterThanOrEqual(859);
    expect(falling.count()).toBeLessThanOrEqual(861);
    expect(both.count()).toBe(2 * falling.count());
    await board.close();
  });

  it('takes one pulse train per pin, on a pin that can be an input', async () => {
    const { clock, board } = uno();
    board.attachPulseTrain('D2', { pulses: () => 0 });
    expect(() => board.attachPulseTrain('D2', { pulses: () => 0 })).toThrow('pin D2 already has a pulse train');
    expect(() => board.attachPulseTrain('D9', {} as never)).toThrow(/expected a pulse train/);
    void clock;
    await board.close();
  });
});
