/**
 * HIL targets on real board kinds: `firmata:PATH` and `serial:PATH` against the emulated Firmata
 * board on a real pseudo-terminal (socat, serialport), `linux:ROOT` on a fake sysfs tree; and the
 * `--target` specs that are refused before anything runs.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotSupportedError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { Sample } from '../../sdk/core/sample.js';
import { defineDevice } from '../../sdk/model/index.js';
import { loadDeviceFile } from '../../sdk/runtime/device-file.js';
import { createTarget } from '../../hil/targets/create-target.js';
import { parseInjection } from '../../hil/targets/emulated.js';
import { communicationsOf } from '../../hil/targets/communications.js';
import { canInjectFaults } from '../../hil/targets/emulated-faults.js';
import { RuntimeTarget } from '../../hil/targets/runtime-target.js';
import { checkTargetSpec, parseTargetSpec } from '../../hil/targets/target-spec.js';
import { qualityOfStatus, senmlUnitOf } from '../../hil/targets/opcua-samples.js';
import { engineeringUnits } from '../../sdk/transport/opcua/opcua-units.js';
import type { Target } from '../../hil/targets/target.js';
import { trackedCleanups } from '../support/cleanups.js';
import { waitFor } from '../support/net.js';
import { PEERS } from '../support/peers.js';
import { startPtyEmulator } from '../support/pty.js';

const { cleanups, track } = trackedCleanups();

/** socat is installed here and in CI: without it this fails, it does not skip. */
function socat(): string {
  const found = PEERS.socat.find((path) => existsSync(path));
  if (found === undefined) throw new Error('socat is required for the Firmata pty tests: apt-get install -y socat');
  return found;
}

async function envNodeOnPty(): Promise<string> {
  const loaded = await loadDeviceFile('examples/env-node');
  const emulator = await startPtyEmulator({ socat: socat(), definition: loaded.model.board, wire: (board) => void loaded.emulation!(board, new SeededRandom(1).fork('emulation')) });
  cleanups.push(() => emulator.close());
  return emulator.path;
}

function collect(target: Target): Sample[] {
  const samples: Sample[] = [];
  target.onSample((sample) => samples.push(sample));
  return samples;
}

describe('--target specs', () => {
  it('parses each form', () => {
    expect(parseTargetSpec('emulated')).toEqual({ kind: 'emulated', text: 'emulated' });
    expect(parseTargetSpec('firmata:/dev/ttyACM0@115200')).toEqual({ kind: 'firmata', text: 'firmata:/dev/ttyACM0@115200', path: '/dev/ttyACM0', baud: 115200 });
    expect(parseTargetSpec('serial:/dev/ttyUSB0')).toEqual({ kind: 'serial', text: 'serial:/dev/ttyUSB0', path: '/dev/ttyUSB0' });
    expect(parseTargetSpec('linux')).toEqual({ kind: 'linux', text: 'linux' });
    expect(parseTargetSpec('linux:/tmp/root')).toEqual({ kind: 'linux', text: 'linux:/tmp/root', root: '/tmp/root' });
  });

  it.each([
    ['esp32', 'target: unknown target "esp32"; expected emulated, firmata:PATH[@BAUD], serial:PATH[@BAUD], linux[:ROOT]'],
    ['', 'target: expected one of emulated, firmata:PATH[@BAUD], serial:PATH[@BAUD], linux[:ROOT], got ""'],
    ['emulated:3', 'target emulated:3: emulated takes no arguments (the seed is set with --seed)'],
    ['firmata:', 'target firmata:: the serial port path is missing (e.g. firmata:/dev/ttyACM0)'],
    ['serial:/dev/ttyS0@12', 'target serial:/dev/ttyS0@12: baud rate must be from 300 to 4000000'],
    ['linux:', 'target linux:: ROOT is empty'],
  ])('refuses %j with one line', (spec, message) => {
    expect(() => parseTargetSpec(spec)).toThrow(ValidationError);
    expect(() => parseTargetSpec(spec)).toThrow(message);
  });

  it('emulated with in-process observation is the in-process emulated target on a virtual clock; with mqtt or opcua the runtime-backed one', () => {
    const inProcess = createTarget('emulated', { device: 'examples/env-node', seed: 1 });
    expect(inProcess).toMatchObject({ kind: 'emulated', observation: 'in-process', virtualTime: true });
    const overMqtt = createTarget('emulated', { device: 'examples/env-node', seed: 1, observation: 'mqtt' });
    expect(overMqtt).toBeInstanceOf(RuntimeTarget);
    expect(overMqtt).toMatchObject({ kind: 'emulated', observation: 'mqtt', virtualTime: false });
    expect(createTarget('linux', { device: 'examples/env-node', seed: 1 })).toMatchObject({ kind: 'linux', observation: 'in-process', virtualTime: false });
    expect(canInjectFaults(createTarget('firmata:/dev/null', { device: 'examples/env-node', seed: 1 }))).toBe(false);
  });

  it('declared truths and calibration records go to the in-process emulated target, and are refused before the run elsewhere', () => {
    const inject = parseInjection('temperature:offset=0.5');
    expect(createTarget('emulated', { device: 'examples/env-node', seed: 1, inject })).toMatchObject({ kind: 'emulated', virtualTime: true });
    expect(() => createTarget('emulated', { device: 'examples/env-node', seed: 1, observation: 'mqtt', inject })).toThrow(
      'inject: declared truths are injected on the in-process emulated target (--target emulated, observed in process), not on emulated observed over MQTT',
    );
    expect(() => createTarget('linux', { device: 'examples/env-node', seed: 1, calibrations: { temperature: { id: 'CAL-1', offset: 0.1 } as never } })).toThrow(/^calibrations: calibration records are handed to the in-process emulated target only, not to linux observed in process/);
    expect(createTarget('linux', { device: 'examples/env-node', seed: 1, inject: [] })).toBeInstanceOf(RuntimeTarget);
  });

  it('a path that does not exist is refused by createTarget before anything opens', () => {
    const options = { device: 'examples/env-node', seed: 1, observation: 'mqtt' as const };
    expect(() => createTarget('firmata:/dev/ttyHIL-none', options)).toThrow('target firmata:/dev/ttyHIL-none: /dev/ttyHIL-none does not exist');
    expect(() => createTarget('serial:/dev/ttyHIL-none@9600', options)).toThrow('target serial:/dev/ttyHIL-none@9600: /dev/ttyHIL-none does not exist');
    expect(() => createTarget('linux:/nonexistent/sysroot', options)).toThrow('target linux:/nonexistent/sysroot: /nonexistent/sysroot does not exist');
    expect(() => checkTargetSpec('firmata:/tmp')).toThrow('target firmata:/tmp: /tmp is a folder, not a serial device');
    const error = (() => {
      try {
        createTarget('firmata:/dev/ttyHIL-none', options);
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.message).not.toContain('\n');
  });
});

describe('OPC UA back to samples', () => {
  it('status codes back to qualities, UNECE unit ids back to SenML units', () => {
    expect(qualityOfStatus(0)).toEqual({ level: 'good' });
    expect(qualityOfStatus(0x808c0000)).toEqual({ level: 'bad', reason: 'sensor_fault' });
    expect(qualityOfStatus(0x40940200)).toEqual({ level: 'uncertain', reason: 'out_of_range' });
    expect(qualityOfStatus(0x80000000)).toEqual({ level: 'bad' });
    expect(qualityOfStatus(0x40000000)).toEqual({ level: 'uncertain' });
    expect(senmlUnitOf(engineeringUnits('Cel').unitId, 'Cel')).toBe('Cel');
    expect(senmlUnitOf(engineeringUnits('hPa').unitId)).toBe('hPa');
    expect(senmlUnitOf(1)).toBeUndefined();
  });
});

describe('firmata:PATH over a real pty', () => {
  it('runs the device through the runtime on the Firmata board and observes its MQTT telemetry; stimulus needs an instrument', async () => {
    const path = await envNodeOnPty();
    const target = track(createTarget(`firmata:${path}`, { device: 'examples/env-node', seed: 1, observation: 'mqtt', opcua: false }));
    const samples = collect(target);
    expect(target.kind).toBe('firmata');
    expect(target.description).toBe(`firmata:${path}`);
    const device = await target.open();
    expect(device.id).toBe('env-node');
    expect(target.virtualTime).toBe(false);
    expect(target.inputs()).toEqual([]);
    await waitFor(() => ['temperature', 'humidity', 'pressure'].every((channel) => samples.some((s) => s.channel === channel && s.quality.level === 'good')), 20_000, 'a good sample of each channel over Firmata and MQTT');
    const temperature = samples.find((s) => s.channel === 'temperature' && s.quality.level === 'good')!;
    expect(temperature.value).toBeGreaterThan(15);
    expect(temperature.value).toBeLessThan(30);
    const error = await target.stimulate('temperature', 25, 'Cel').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect((error as Error).message).toBe(`target firmata:${path} has no physical input "temperature" it can set (a real board): source it with an instrument in the plan`);
    expect(communicationsOf(target)!.pendingTelemetry()).toBeGreaterThanOrEqual(0);
  }, 40_000);

  it('serial:PATH is the Firmata board on that serial line, recorded as a serial target', async () => {
    const path = await envNodeOnPty();
    const target = track(createTarget(`serial:${path}@57600`, { device: 'examples/env-node', seed: 1, observation: 'in-process', opcua: false }));
    const samples = collect(target);
    expect(target.kind).toBe('serial');
    await target.open();
    await waitFor(() => samples.some((s) => s.channel === 'pressure' && s.quality.level === 'good'), 20_000, 'a good pressure over the serial line');
    expect(samples.find((s) => s.channel === 'pressure' && s.quality.level === 'good')!.unit).toBe('hPa');
  }, 40_000);
});

describe('linux:ROOT on a fake sysfs tree', () => {
  it('reads an IIO channel, (raw + offset) × scale, observed over MQTT', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sensorkit-hil-linux-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const put = (path: string, text: string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), `${text}\n`);
    };
    put('sys/bus/iio/devices/iio:device0/name', 'ads1015');
    put('sys/bus/iio/devices/iio:device0/in_voltage0_raw', '1100');
    put('sys/bus/iio/devices/iio:device0/in_voltage_scale', '2.000000');
    put('sys/bus/iio/devices/iio:device0/scan_elements/in_voltage0_type', 'be:u12/16>>4');
    // 12 bits × 2 mV full scale = 8.19 V.
    const model = defineDevice({
      id: 'iio-probe',
      board: 'arduino-uno',
      identity: { manufacturer: 't', model: 'IIO probe', productCode: 'IP-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'env' } },
      channels: [
        { id: 'v', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.001, accuracy: { mpe: 0.1 }, sampleRate: 5, driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0', options: { referenceVoltage: 8.19, resolution: 12 } } },
      ],
    });
    const target = track(createTarget(`linux:${root}`, { device: model, seed: 1, observation: 'mqtt', opcua: false, serialNumber: 'PI-1' }));
    const samples = collect(target);
    expect(target.kind).toBe('linux');
    expect(target.model.id).toBe('iio-probe');
    expect((await target.open()).serialNumber).toBe('PI-1');
    await waitFor(() => samples.length >= 2, 15_000, 'two IIO samples over MQTT');
    expect(samples[0]).toMatchObject({ channel: 'v', unit: 'V', quality: { level: 'good' } });
    expect(samples[0]!.value).toBeCloseTo(2.2, 9);
    expect(communicationsOf(target)!.deviceId).toBe('iio-probe-PI-1');
    await expect(target.stimulate('v', 1, 'V')).rejects.toBeInstanceOf(NotSupportedError);
  }, 30_000);
});
