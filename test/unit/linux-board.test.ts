/** LinuxBoard against a fake sysfs tree in a temporary folder. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinuxBoard, NO_I2C_TRANSPORT, loadI2cDevAddon, type I2cDevTransport } from '../../boards/linux/index.js';
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { BusError, NotSupportedError, PinError } from '../../sdk/core/errors.js';

let root: string;
const put = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), `${text}\n`);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sensorkit-sysfs-'));
  // An ADS1015-like IIO device: 12-bit, 3 mV per count, channel 1 with its own scale and an offset.
  put('sys/bus/iio/devices/iio:device0/name', 'ads1015');
  put('sys/bus/iio/devices/iio:device0/in_voltage0_raw', '1100');
  put('sys/bus/iio/devices/iio:device0/in_voltage1_raw', '-20');
  put('sys/bus/iio/devices/iio:device0/in_voltage_scale', '3.000000');
  put('sys/bus/iio/devices/iio:device0/in_voltage1_scale', '0.125');
  put('sys/bus/iio/devices/iio:device0/in_voltage1_offset', '100');
  put('sys/bus/iio/devices/iio:device0/scan_elements/in_voltage0_type', 'be:s12/16>>4');
  put('sys/bus/iio/devices/iio:device0/scan_elements/in_voltage1_type', 'be:s12/16>>4');
  put('sys/bus/iio/devices/iio:device1/name', 'mcp3008');
  put('sys/bus/iio/devices/iio:device1/in_voltage0_raw', '512');
  put('sys/bus/iio/devices/iio:device1/in_voltage_scale', '3.222656250');
  put('sys/class/hwmon/hwmon0/name', 'cpu_thermal');
  put('sys/class/hwmon/hwmon0/temp1_input', '48312');
  put('sys/class/hwmon/hwmon1/name', 'lm75');
  put('sys/class/hwmon/hwmon1/temp1_input', '-5250');
  put('sys/class/hwmon/hwmon1/temp1_label', 'ambient');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const WITH_ANALOG: BoardDefinition = {
  id: 'pi-with-adc',
  name: 'Raspberry Pi with an ADS1015',
  digitalPins: ['GPIO0', 'GPIO1', 'GPIO2', 'GPIO3', 'AIN0', 'AIN1', 'AIN2'],
  analogPins: [
    { name: 'AIN0', pin: 4, channel: 0 },
    { name: 'AIN1', pin: 5, channel: 1 },
    { name: 'AIN2', pin: 6, channel: 2 },
  ],
  adc: { resolution: 12, referenceVoltage: 3.3, maxRateHz: 1000 },
  i2cBuses: [{ name: 'i2c1', sda: 'GPIO2', scl: 'GPIO3', maxHz: 400_000 }],
};

describe('LinuxBoard: IIO', () => {
  it('lists the voltage channels of every IIO device in order, with their bits', () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root });
    expect(board.iioChannels().map((c) => [c.id, c.deviceName, c.bits])).toEqual([
      ['iio:device0/voltage0', 'ads1015', 12],
      ['iio:device0/voltage1', 'ads1015', 12],
      ['iio:device1/voltage0', 'mcp3008', 12],
    ]);
  });

  it('reads (raw + offset) as counts, with scale and offset per channel or per device (IIO ABI)', async () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root });
    const a = board.openAnalogInput({ pin: 'iio:device0/voltage0' });
    expect(await a.read()).toBe(1100);
    // counts / (2^12 − 1) × referenceVoltage = 1100 × 3 mV
    expect(((await a.read()) / 4095) * a.referenceVoltage).toBeCloseTo(3.3, 9);
    const b = board.openAnalogInput({ pin: 'iio:device0/voltage1' }) as import('../../boards/linux/iio.js').IioAnalogInput;
    expect(await b.read()).toBe(80);
    expect(await b.readVolts()).toBeCloseTo(0.01, 12);
  });

  it('maps the definition analog pins onto the IIO channels in order', async () => {
    const board = new LinuxBoard({ definition: WITH_ANALOG, clock: new VirtualClock(), root });
    expect(await board.openAnalogInput({ pin: 'AIN2' }).read()).toBe(512);
    expect(() => board.openAnalogInput({ pin: 'A7' })).toThrow(PinError);
  });

  it('a conversion that fails is a BusError (a data-path fault), not a crash', async () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root });
    const a = board.openAnalogInput({ pin: 'iio:device0/voltage0' });
    put('sys/bus/iio/devices/iio:device0/in_voltage0_raw', 'garbage');
    await expect(a.read()).rejects.toBeInstanceOf(BusError);
    rmSync(join(root, 'sys/bus/iio/devices/iio:device0/in_voltage0_raw'));
    await expect(a.read()).rejects.toThrow(/unreadable/);
  });

  it('analogRead polls at the sampling interval on the clock', async () => {
    const clock = new VirtualClock();
    const board = new LinuxBoard({ definition: WITH_ANALOG, clock, root });
    const seen: number[] = [];
    board.setSamplingInterval(50);
    board.analogRead('AIN0', (value) => seen.push(value));
    await clock.advance(200);
    expect(seen).toEqual([1100, 1100, 1100, 1100]);
    await board.close();
    await clock.advance(200);
    expect(seen).toHaveLength(4);
  });
});

describe('LinuxBoard: hwmon', () => {
  it('lists and reads temperatures in °C', async () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root });
    expect(board.temperatures().map((t) => [t.id, t.label])).toEqual([['cpu_thermal/temp1', undefined], ['lm75/temp1', 'ambient']]);
    expect(await board.readTemperature('cpu_thermal/temp1')).toBe(48.312);
    expect(await board.readTemperature('lm75/temp1')).toBe(-5.25);
    await expect(board.readTemperature('nope/temp1')).rejects.toThrow(/no hwmon temperature "nope\/temp1" \(found: cpu_thermal\/temp1, lm75\/temp1\)/);
  });
});

describe('LinuxBoard: i2c-dev', () => {
  it('without a transport, the default goes to <root>/dev/i2c-N through the addon: a missing node is a PinError', async () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root });
    const error = await board.openI2c({ address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
    // With the addon built (test/unit/linux-i2c-native.test.ts requires it) the node is opened; without it, the build hint.
    if (loadI2cDevAddon().addon === undefined) expect(error).toBeInstanceOf(NotSupportedError);
    else expect(error).toMatchObject({ code: 'ERR_PIN', message: `${join(root, 'dev/i2c-1')}: no such I2C adapter (ENOENT): enable the bus (e.g. dtparam=i2c_arm=on) and load the i2c-dev module` });
    await board.close();
  });

  it('NO_I2C_TRANSPORT explains that ioctl needs a native addon and how to build ours', async () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root, i2c: NO_I2C_TRANSPORT });
    const error = await board.openI2c({ address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect((error as Error).message).toMatch(/\/dev\/i2c-1 needs ioctl\(I2C_SLAVE\/I2C_RDWR\).*native addon: build sensorkit's with `node boards\/linux\/native\/build\.js`/);
  });

  it('goes through an injected transport with the bus number and combined transfers', async () => {
    const calls: unknown[] = [];
    const transport: I2cDevTransport = {
      async transfer(busNumber, address, transfer) {
        calls.push([busNumber, address, transfer.write ? Array.from(transfer.write) : undefined, transfer.readCount]);
        return Uint8Array.from({ length: transfer.readCount ?? 0 }, (_, i) => 0x60 + i);
      },
    };
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root, i2c: transport });
    const device = board.openI2c({ bus: 'i2c1', address: 0x76 });
    expect(Array.from(await device.readRegister(0xd0, 2))).toEqual([0x60, 0x61]);
    await device.writeRegister(0xf4, [0x27]);
    expect(calls).toEqual([[1, 0x76, [0xd0], 2], [1, 0x76, [0xf4, 0x27], undefined]]);
    expect(() => board.openI2c({ bus: 'i2c7', address: 0x76 })).toThrow(PinError);
  });

  it('a value that is not a byte is refused with ArgumentError, nothing reaches the bus (no silent wrap of 256 to 0)', async () => {
    const calls: unknown[] = [];
    const transport: I2cDevTransport = {
      async transfer(_bus, _address, transfer) {
        calls.push(transfer);
        return new Uint8Array(transfer.readCount ?? 0);
      },
    };
    const device = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root, i2c: transport }).openI2c({ address: 0x76 });
    await expect(device.write([0x100])).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringContaining('bytes[0]') });
    await expect(device.writeRegister(0xf4, [1, -1])).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringContaining('bytes[1]') });
    await expect(device.readRegister(0x1d0, 1)).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringContaining('register') });
    await expect(device.write([1.5])).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    expect(calls).toEqual([]);
  });

  it('GPIO calls say why they are not offered', () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root });
    expect(() => board.digitalWrite('GPIO17', 1)).toThrow(NotSupportedError);
    expect(() => board.digitalWrite('GPIO17', 1)).toThrow('digitalWrite: GPIO is not offered on the Linux board');
    expect(() => board.pwmWrite('GPIO18', 10)).toThrow(NotSupportedError);
    expect(() => board.pinMode('GPIO17', board.MODES.OUTPUT)).toThrow(NotSupportedError);
    // The pins list what the board does offer: I2C on the bus pins, no GPIO modes.
    expect(board.pins[2]!.supportedModes).toEqual([board.MODES.I2C]);
    expect(board.pins[17]!.supportedModes).toEqual([]);
  });
});
