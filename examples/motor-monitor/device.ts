/**
 * motor-monitor: condition monitoring of an electric motor on an Arduino-Uno-class board.
 * An MPU-6050-class accelerometer on the motor housing samples at 1 kHz on its own clock into its
 * FIFO, which the device drains in bursts (no sample depends on a host timer); each second the
 * device reports the vibration RMS, peak and crest factor of that window (gravity removed). A
 * window that lost samples (FIFO overflow) is reported `uncertain`, reason `incomplete`, with its
 * completeness (OPC UA: UncertainDataSubNormal; SenML: `qr` and `cmp`). An NTC
 * thermistor in the winding reports its temperature. Alarms warn of rising vibration and heat.
 *
 * Run it: `npx sensorkit run examples/motor-monitor`.
 */
import { constant, firstOrderLag, gaussianNoise, PhysicalInputs, ramp, sine, step, sum, thermistorDivider, type EmulatedBoard, type Signal } from '../../boards/emulated/index.js';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/index.js';
import type { SeededRandom } from '../../sdk/core/index.js';
import { defineDevice, type ChannelSpec } from '../../sdk/model/index.js';

/** The accelerometer, shared by the three vibration channels (one 1 kHz FIFO stream feeds all three). */
const accelerometer = { part: 'mpu6050', output: 'acceleration-z', address: 0x68, options: { range: 4, acquisition: 'fifo', rateHz: 1000 } } as const;
const vibration = (id: string, statistic: 'rms' | 'peak' | 'crest-factor', unit: string, max: number, description: string): ChannelSpec => ({
  id,
  description,
  quantity: statistic === 'crest-factor' ? 'crest-factor' : 'vibration-acceleration',
  unit,
  range: { min: 0, max },
  resolution: 0.01,
  accuracy: { mpe: statistic === 'crest-factor' ? 0.1 : 0.5 },
  sampleRate: 1,
  aggregate: { statistic, rawRate: 1000, acCoupled: true },
  driver: accelerometer,
});

/** The winding thermistor: 10 kΩ β 3950 NTC against a 10 kΩ resistor on A0, 5 V ratiometric. */
export const WINDING_THERMISTOR = { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 } as const;

export default defineDevice({
  id: 'motor-monitor',
  description: 'Motor condition monitor: vibration RMS / peak / crest factor and winding temperature',
  board: 'arduino-uno',
  identity: {
    manufacturer: 'sensorkit examples',
    model: 'MM-2 motor monitor',
    productCode: 'MM-2-V',
    hardwareRevision: '2.1',
    softwareRevision: '0.1.0',
    serialNumber: { source: 'env' },
  },
  channels: [
    vibration('vibration-rms', 'rms', 'm/s2', 39, 'RMS acceleration over 1 s, gravity removed'),
    vibration('vibration-peak', 'peak', 'm/s2', 39, 'Peak |acceleration| over 1 s, gravity removed'),
    vibration('crest-factor', 'crest-factor', '/', 20, 'Peak / RMS: rises with impacts from bearing damage'),
    {
      id: 'winding-temperature',
      quantity: 'temperature',
      unit: 'Cel',
      range: { min: -40, max: 125 },
      resolution: 0.1,
      accuracy: { mpe: 2 },
      sampleRate: 1,
      oversampling: 8,
      driver: { part: 'thermistor', pin: 'A0', options: WINDING_THERMISTOR },
      filters: [{ type: 'median', window: 3 }],
      reporting: { deadband: 0.2, heartbeat: 30 },
    },
  ],
  properties: [{ id: 'rated-speed', type: 'number', unit: '1/min', range: { min: 0, max: 10_000 }, default: 3000, description: 'Nameplate speed' }],
  commands: [{ id: 'acknowledge', description: 'Acknowledge active alarms', result: { type: 'integer' } }],
  alarms: [
    { id: 'vibration-high', channel: 'vibration-rms', kind: 'high', limit: 4.5, hysteresis: 0.5, severity: 600, message: 'Vibration RMS above 4.5 m/s2' },
    { id: 'winding-hot', channel: 'winding-temperature', kind: 'high', limit: 110, hysteresis: 5, severity: 800, message: 'Winding above 110 °C (class B limit 130 °C)' },
  ],
});

/**
 * The emulated motor: 50 Hz running speed (3000 rpm) with its second harmonic, an imbalance that
 * grows slowly, and sensor noise on the vertical axis; a winding that warms up after start. The
 * imbalance amplitude (m/s2) and the true winding temperature (Cel) are physical inputs a test
 * harness may set.
 */
export function emulation(board: EmulatedBoard, random: SeededRandom, inputs: PhysicalInputs = new PhysicalInputs()): void {
  const t0 = board.clock.now();
  const imbalance: Signal = inputs.input('imbalance', ramp({ from: 2, slopePerSecond: 0.05, start: t0 }), 'm/s2', 'amplitude of the 50 Hz running vibration'); // +0.05 per s
  const running: Signal = { valueAt: (t) => imbalance.valueAt(t) * Math.sin((2 * Math.PI * (t - t0)) / 20) };
  const vertical = gaussianNoise(sum(constant(9.80665), running, sine({ offset: 0, amplitude: 0.6, periodMs: 10 })), {
    sigma: 0.05,
    random: random.fork('vibration'),
  });
  board.attachI2c(new Mpu6050Peripheral({ address: 0x68, acceleration: { z: vertical }, random: random.fork('mpu6050') }));
  const winding = inputs.input(
    'winding-temperature',
    firstOrderLag(step({ before: 25, after: 95, atMs: t0 }), { timeConstantMs: 120_000, initial: 25 }),
    'Cel',
    'true winding temperature at the thermistor',
  );
  board.attachAnalog('A0', thermistorDivider(winding, { ...WINDING_THERMISTOR, supplyVolts: 5 }));
}
