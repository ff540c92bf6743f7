/**
 * FirmataBoard against the emulator over a real pseudo-terminal (socat) with the real serialport 13
 * bindings: reading, a dropped and reopened line (reconnect, sampling resumes, quality marks the
 * gap), and garbage on the line (counted, no crash).
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import { constant } from '../../boards/emulated/signals.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { serialLine } from '../../boards/firmata/serial-line.js';
import { FirmataParser, type FirmataMessage } from '../../boards/firmata/protocol/index.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { BusError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { Device } from '../../sdk/device/device.js';
import { loadDeviceFile } from '../../sdk/runtime/device-file.js';
import type { Sample } from '../../sdk/core/sample.js';
import { findPeer } from '../support/peers.js';
import { startPtyEmulator } from '../support/pty.js';
import { waitFor } from '../support/net.js';

const socat = findPeer('socat');
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function uno() {
  const emulator = await startPtyEmulator({
    socat: socat!,
    wire: (b) => {
      b.attachAnalog('A0', constant(2.5));
      b.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(1) }));
    },
  });
  cleanup.push(() => emulator.close());
  return emulator;
}

describe.skipIf(socat === undefined)('FirmataBoard over a real pty', () => {
  it('loads the serialport native binding (not the mock) and opens the pty with it', async () => {
    const emulator = await uno();
    const port = new SerialPort({ path: emulator.path, baudRate: 57_600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    cleanup.push(() => new Promise<void>((resolve) => port.close(() => resolve())));
    expect(port.port?.constructor.name).toBe('LinuxPortBinding');
    expect(port.port?.fd).toBeGreaterThan(2);
  });

  it('hands sensorkit drivers bus objects: analog counts and I2C registers', async () => {
    const emulator = await uno();
    const clock = new SystemClock();
    const board = await FirmataBoard.open({ line: serialLine(emulator.path), clock, definition: 'arduino-uno', describe: emulator.path });
    cleanup.push(() => board.close());
    expect(board.definition.id).toBe('arduino-uno');
    expect(board.identity.protocol).toEqual({ major: 2, minor: 5 });
    expect(await board.openAnalogInput({ pin: 'A0' }).read()).toBe(512);
    const bme = board.openI2c({ address: 0x76 });
    expect(Array.from(await bme.readRegister(0xd0, 1))).toEqual([0x60]);
    await bme.writeRegister(0xf4, [0x25]);
    expect(Array.from(await bme.readRegister(0xf4, 1))).toEqual([0x25]);
  });

  it('an injected NAK rejects the read with ERR_I2C_NAK, named after the target', async () => {
    const emulator = await uno();
    const board = await FirmataBoard.open({ line: serialLine(emulator.path), clock: new SystemClock(), definition: 'arduino-uno' });
    cleanup.push(() => board.close());
    emulator.board.faults.inject({ target: 'i2c0@0x76', kind: 'nak' });
    const error = await board.openI2c({ address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe('ERR_I2C_NAK');
    expect((error as BusError).message).toContain('i2c0@0x76');
  });

  it('a dropped line: reads fail as BusError, the board reopens it, sampling resumes and quality marks the gap', async () => {
    const loaded = await loadDeviceFile('examples/env-node');
    const clock = new SystemClock();
    const emulator = await startPtyEmulator({
      socat: socat!,
      definition: loaded.model.board,
      clock,
      wire: (b) => loaded.emulation!(b, new SeededRandom(1).fork('emulation')),
    });
    cleanup.push(() => emulator.close());
    const board = await FirmataBoard.open({ line: serialLine(emulator.path), clock, definition: loaded.model.board, reconnectDelayMs: 2500 });
    cleanup.push(() => board.close());
    const device = new Device(loaded.model, { board, serialNumber: 'SN' });
    const samples: Sample[] = [];
    device.on('sample', (sample) => samples.push(sample));
    await device.start();
    cleanup.push(() => device.stop());
    await waitFor(() => samples.filter((s) => s.channel === 'temperature' && s.quality.level === 'good').length >= 2, 10_000, 'two good temperatures');

    const disconnected = new Promise<void>((resolve) => board.once('disconnect', () => resolve()));
    const reconnected = new Promise<void>((resolve) => board.once('reconnect', () => resolve()));
    emulator.server.drop();
    await disconnected;
    const lostAt = samples.length;
    expect(board.isReady).toBe(false);
    await expect(board.openI2c({ bus: 'i2c1', address: 0x76 }).readRegister(0xd0, 1)).rejects.toMatchObject({ code: 'ERR_BUS_TIMEOUT' });
    await reconnected;
    const restoredAt = samples.length;
    await waitFor(() => samples.slice(restoredAt).filter((s) => s.channel === 'temperature' && s.quality.level === 'good').length >= 2, 10_000, 'two good temperatures after the reconnect');

    const gap = samples.slice(lostAt, restoredAt).filter((s) => s.channel === 'temperature');
    expect(gap.length).toBeGreaterThan(0);
    expect(gap.every((s) => s.quality.level !== 'good')).toBe(true);
    expect(board.gaps).toHaveLength(1);
    expect(board.gaps[0]!.restoredAt).toBeGreaterThan(board.gaps[0]!.lostAt);
    expect(emulator.server.stats.sessions).toBe(2);
  }, 30_000);

  it('garbage, truncated frames and an unknown sysex on the line are skipped and counted; the engine keeps answering', async () => {
    const emulator = await uno();
    const port = new SerialPort({ path: emulator.path, baudRate: 57_600 });
    cleanup.push(() => new Promise<void>((resolve) => port.close(() => resolve())));
    const messages: FirmataMessage[] = [];
    const parser = new FirmataParser({ role: 'host', onMessage: (m) => messages.push(m) });
    port.on('data', (chunk: Buffer) => parser.push(chunk));
    await waitFor(() => messages.some((m) => m.type === 'firmware'), 5000, 'the announced firmware');
    port.write(Buffer.from([0x01, 0x02, 0xe0, 0x05, 0xf0, 0x42, 0x01, 0x02, 0xf7, 0xf0, 0x7a, 0x01, 0xf7, 0xf0, 0x6b, 0xf9]));
    await waitFor(() => messages.filter((m) => m.type === 'version').length >= 2, 5000, 'the answer to the version query');
    const stats = emulator.server.stats.parser;
    expect(stats.stray).toBe(2);
    expect(stats.truncated).toBe(2); // the analog message and the capability query cut short
    expect(stats.unknown).toBe(1);
    expect(stats.malformed).toBe(1);
    // And a well-formed query still gets its answer.
    port.write(Buffer.from([0xf0, 0x69, 0xf7]));
    await waitFor(() => messages.some((m) => m.type === 'analog-mapping-response'), 5000, 'the analog mapping');
  });
});
