/**
 * The board contract suite run against the three boards: the emulated board on a virtual clock, a
 * Firmata board over the Firmata emulator on a real pseudo-terminal (socat, serialport 13; skipped
 * without socat unless SENSORKIT_REQUIRE_PEERS=1), and the Linux board on a fake sysfs tree with an
 * i2c-dev double that routes to the same emulated BME280.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import type { I2cPeripheral } from '../../boards/emulated/peripheral.js';
import { constant } from '../../boards/emulated/signals.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { serialLine } from '../../boards/firmata/serial-line.js';
import { LinuxBoard, type I2cDevTransport } from '../../boards/linux/index.js';
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';
import { i2cTarget } from '../../sdk/io/board.js';
import { SystemClock, VirtualClock, type Clock } from '../../sdk/core/clock.js';
import { BusError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { findPeer } from '../support/peers.js';
import { startPtyEmulator } from '../support/pty.js';
import { boardContract, type BoardFixture } from './board-contract.js';

function bme280(): Bme280Peripheral {
  return new Bme280Peripheral({ address: 0x76, temperature: constant(21), humidity: constant(40), pressure: constant(101_325), random: new SeededRandom(1) });
}

/** A real clock cannot be advanced: wait for the promise, with a limit so a broken board fails instead of hanging. */
function withinSeconds<T>(promise: Promise<T>, seconds = 5): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

boardContract('EmulatedBoard', async () => {
  const clock = new VirtualClock();
  const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 });
  board.attachAnalog('A0', constant(2.5));
  board.attachI2c(bme280());
  return {
    board,
    settle: (promise) => clock.runUntilSettled(promise, 10_000),
    analogCounts: 512,
    gpio: { peer: board, drive: (pin, level) => board.setDigitalInput(pin, level) },
    dispose: async () => undefined,
  } satisfies BoardFixture;
});

const socat = findPeer('socat');
boardContract(
  'FirmataBoard over the Firmata emulator on a pty',
  async () => {
    const emulator = await startPtyEmulator({
      socat: socat!,
      wire: (b) => {
        b.attachAnalog('A0', constant(2.5));
        b.attachI2c(bme280());
      },
    });
    try {
      const board = await FirmataBoard.open({ line: serialLine(emulator.path), clock: new SystemClock(), definition: 'arduino-uno', describe: emulator.path, reconnect: false });
      return {
        board,
        settle: (promise) => withinSeconds(promise),
        analogCounts: 512,
        gpio: { peer: emulator.board, drive: (pin, level) => emulator.board.setDigitalInput(pin, level) },
        dispose: () => emulator.close(),
      } satisfies BoardFixture;
    } catch (error) {
      await emulator.close();
      throw error;
    }
  },
  { skip: socat === undefined },
);

/** A Raspberry Pi with an ADS1015 on IIO (AIN0 … AIN1) and I2C bus 1, as the fake sysfs tree has it. */
const PI_WITH_ADC: BoardDefinition = {
  id: 'pi-with-adc',
  name: 'Raspberry Pi with an ADS1015',
  digitalPins: ['GPIO0', 'GPIO1', 'GPIO2', 'GPIO3', 'AIN0', 'AIN1'],
  analogPins: [
    { name: 'AIN0', pin: 4, channel: 0 },
    { name: 'AIN1', pin: 5, channel: 1 },
  ],
  adc: { resolution: 12, referenceVoltage: 4.096, maxRateHz: 1600 },
  i2cBuses: [{ name: 'i2c1', sda: 'GPIO2', scl: 'GPIO3', maxHz: 400_000 }],
};

/**
 * An i2c-dev double: each I2C_RDWR goes to the emulated part at its address on bus 1, at the
 * clock's time; no part there is ENXIO, which the real transport maps to a NAK.
 */
function i2cDevDouble(clock: Clock, parts: readonly I2cPeripheral[]): I2cDevTransport {
  return {
    async transfer(busNumber, address, transfer) {
      const part = busNumber === 1 ? parts.find((candidate) => candidate.address === address) : undefined;
      if (part === undefined) throw new BusError('ERR_I2C_NAK', `${i2cTarget(`i2c${busNumber}`, address)}: no device acknowledged (ENXIO)`);
      if (transfer.write !== undefined && transfer.write.length > 0) part.write(transfer.write, clock.now());
      return transfer.readCount === undefined ? new Uint8Array(0) : Uint8Array.from(part.read(transfer.readCount, clock.now()));
    },
  };
}

boardContract('LinuxBoard on a fake sysfs tree', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sensorkit-contract-sysfs-'));
  const put = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  };
  put('sys/bus/iio/devices/iio:device0/name', 'ads1015');
  put('sys/bus/iio/devices/iio:device0/in_voltage0_raw', '1250');
  put('sys/bus/iio/devices/iio:device0/in_voltage1_raw', '0');
  put('sys/bus/iio/devices/iio:device0/in_voltage_scale', '2.000000');
  put('sys/bus/iio/devices/iio:device0/scan_elements/in_voltage0_type', 'be:s12/16>>4');
  const clock = new VirtualClock();
  const board = new LinuxBoard({ definition: PI_WITH_ADC, clock, root, i2c: i2cDevDouble(clock, [bme280()]) });
  return {
    board,
    settle: (promise) => clock.runUntilSettled(promise, 10_000),
    analogCounts: 1250,
    dispose: async () => rmSync(root, { recursive: true, force: true }),
  } satisfies BoardFixture;
});
