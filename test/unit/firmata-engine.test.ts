/** The Firmata engine on a virtual clock: handshake answers, reporting cadence, I2C, faults, control commands. */
import { describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataEngine } from '../../boards/emulated/firmata/engine.js';
import { runControlCommand } from '../../boards/emulated/firmata/control.js';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import { constant, settable } from '../../boards/emulated/signals.js';
import { encodeFirmata, FirmataParser, type FirmataMessage } from '../../boards/firmata/protocol/index.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { SeededRandom } from '../../sdk/core/random.js';

function rig() {
  const clock = new VirtualClock();
  const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 5 });
  const a0 = settable(2.5);
  board.attachAnalog('A0', a0);
  board.attachAnalog('A1', constant(5));
  board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(1) }));
  const received: { at: number; message: FirmataMessage }[] = [];
  const host = new FirmataParser({ role: 'host', onMessage: (message) => received.push({ at: clock.now(), message }) });
  const engine = new FirmataEngine({ board, write: (bytes) => host.push(bytes) });
  const send = (...messages: FirmataMessage[]): void => {
    for (const message of messages) engine.receive(encodeFirmata(message));
  };
  const of = <T extends FirmataMessage['type']>(type: T) => received.filter((r) => r.message.type === type).map((r) => r.message as Extract<FirmataMessage, { type: T }>);
  return { clock, board, engine, send, received, of, a0 };
}

describe('FirmataEngine', () => {
  it('announces version and firmware, and answers the handshake queries from the board pin map', () => {
    const { engine, send, of } = rig();
    engine.announce();
    expect(of('version')).toEqual([{ type: 'version', major: 2, minor: 5 }]);
    expect(of('firmware')[0]!.name).toBe('sensorkit-emulated-firmata.ino');
    send({ type: 'capability-query' }, { type: 'analog-mapping-query' }, { type: 'pin-state-query', pin: 14 }, { type: 'query-version' });
    const pins = of('capability-response')[0]!.pins;
    expect(pins).toHaveLength(20);
    expect(pins[14]).toContainEqual({ mode: 0x02, resolution: 10 });
    expect(pins[3]).toContainEqual({ mode: 0x03, resolution: 8 });
    expect(pins[18]).toContainEqual({ mode: 0x06, resolution: 1 });
    expect(of('analog-mapping-response')[0]!.channels).toEqual([...Array(14).fill(127), 0, 1, 2, 3, 4, 5]);
    expect(of('pin-state-response')[0]).toEqual({ type: 'pin-state-response', pin: 14, mode: 0x02, state: 0 });
    expect(of('version')).toHaveLength(2);
  });

  it('reports analog channels at the requested sampling interval, and stops on request', async () => {
    const { clock, send, received, of, a0 } = rig();
    const start = clock.now();
    send({ type: 'sampling-interval', ms: 100 }, { type: 'report-analog', channel: 0, enable: true }, { type: 'report-analog', channel: 1, enable: true });
    await clock.advance(500);
    const reports = received.filter((r) => r.message.type === 'analog');
    expect(reports.map((r) => r.at - start)).toEqual([100, 100, 200, 200, 300, 300, 400, 400, 500, 500]);
    expect(of('analog').slice(0, 2)).toEqual([{ type: 'analog', channel: 0, value: 512 }, { type: 'analog', channel: 1, value: 1023 }]);
    a0.set(1);
    send({ type: 'report-analog', channel: 1, enable: false });
    await clock.advance(100);
    expect(of('analog').slice(10)).toEqual([{ type: 'analog', channel: 0, value: 205 }]);
  });

  it('serves I2C reads (once and continuous) and writes against the emulated parts', async () => {
    const { clock, send, of } = rig();
    send({ type: 'i2c-config', delayUs: 0 }, { type: 'i2c-request', address: 0x76, mode: 'read', tenBit: false, restart: false, data: [0xd0, 1] });
    await clock.advance(0);
    expect(of('i2c-reply')).toEqual([{ type: 'i2c-reply', address: 0x76, register: 0xd0, bytes: [0x60] }]);
    send({ type: 'i2c-request', address: 0x76, mode: 'write', tenBit: false, restart: false, data: [0xf4, 0x27] });
    send({ type: 'sampling-interval', ms: 50 }, { type: 'i2c-request', address: 0x76, mode: 'continuous', tenBit: false, restart: false, data: [0xf4, 1] });
    await clock.advance(200);
    expect(of('i2c-reply').slice(1).map((m) => m.bytes)).toEqual([[0x27], [0x27], [0x27], [0x27]]);
    send({ type: 'i2c-request', address: 0x76, mode: 'stop', tenBit: false, restart: false, data: [] });
    await clock.advance(200);
    expect(of('i2c-reply')).toHaveLength(5);
  });

  it('answers a NAK fault and a refused pin mode with STRING_DATA, and keeps serving', async () => {
    const { clock, board, engine, send, of } = rig();
    expect(runControlCommand('fault i2c0@0x76 nak 1000', { faults: board.faults, stats: () => engine.stats, drop: () => undefined })).toMatch(/^ok: fault \d+ nak on i2c0@0x76 for 1000 ms/);
    send({ type: 'i2c-request', address: 0x76, mode: 'read', tenBit: false, restart: false, data: [0xd0, 1] }, { type: 'set-pin-mode', pin: 2, mode: 0x02 });
    await clock.advance(0);
    // The refusal is synchronous; the NAK comes when the transfer settles.
    expect(of('string').map((m) => m.text)).toEqual([expect.stringContaining('"D2" is not an analog input'), expect.stringContaining('i2c0@0x76 did not acknowledge')]);
    expect(engine.stats.refused).toBe(1);
    await clock.advance(1000);
    send({ type: 'i2c-request', address: 0x76, mode: 'read', tenBit: false, restart: false, data: [0xd0, 1] });
    await clock.advance(0);
    expect(of('i2c-reply')).toHaveLength(1);
  });

  it('reports a digital port on request and on each change', async () => {
    const { clock, board, send, of } = rig();
    send({ type: 'set-pin-mode', pin: 2, mode: 0x00 }, { type: 'report-digital', port: 0, enable: true });
    await clock.advance(0);
    expect(of('digital')).toEqual([{ type: 'digital', port: 0, mask: 0 }]);
    board.setDigitalInput(2, 1);
    expect(of('digital').at(-1)).toEqual({ type: 'digital', port: 0, mask: 0b100 });
    send({ type: 'set-pin-mode', pin: 13, mode: 0x01 }, { type: 'set-digital-pin', pin: 13, value: 1 });
    expect(board.pins[13]!.value).toBe(1);
  });

  it('a board closed before its engine: closing the engine does not throw; requests after it are refused with a string', async () => {
    const { board, engine, send, of } = rig();
    await board.close();
    send({ type: 'report-analog', channel: 0, enable: true });
    expect(of('string').map((m) => m.text)).toEqual(['the board is closed']);
    expect(() => engine.close()).not.toThrow();
  });

  it('control commands: bad ones answer "error:", never throw', () => {
    const { board, engine } = rig();
    const target = { faults: board.faults, stats: () => engine.stats, drop: () => undefined };
    expect(runControlCommand('fault A0 melt', target)).toMatch(/^error: fault.kind/);
    expect(runControlCommand('fault', target)).toMatch(/^error: usage/);
    expect(runControlCommand('fault A0 stuck x', target)).toMatch(/^error: DURATION_MS/);
    expect(runControlCommand('bogus', target)).toMatch(/^error: unknown command/);
    expect(runControlCommand('faults', target)).toBe('no active faults');
    expect(runControlCommand('fault A0 noise-burst sigma=0.1', target)).toMatch(/^ok/);
    expect(runControlCommand('faults', target)).toMatch(/noise-burst on A0/);
    expect(JSON.parse(runControlCommand('stats', target))).toMatchObject({ refused: 0 });
    expect(runControlCommand('clear', target)).toBe('ok: faults cleared');
  });
});
