/**
 * pressure-transmitter: a 0–10 bar process pressure transmitter (4–20 mA) read through an
 * ADS1115-class 16-bit ADC across a 250 Ω shunt on a Raspberry-Pi-class board. The channel carries
 * the unit's calibration record (two-point, with its id, expanded uncertainty and validity), and the
 * loop current is reported too, so a technician can check the loop without a meter.
 *
 * Run it: `npx sensorkit run examples/pressure-transmitter`.
 */
import { firstOrderLag, gaussianNoise, PhysicalInputs, sine, type EmulatedBoard } from '../../boards/emulated/index.js';
import { Ads1115Peripheral, currentLoopTransmitter, type CurrentLoopFault } from '../../boards/emulated/parts/index.js';
import type { SeededRandom } from '../../sdk/core/index.js';
import { defineDevice, type CalibrationSpec } from '../../sdk/model/index.js';

/** The transmitter's span: 4 mA = 0 Pa, 20 mA = 1 MPa (10 bar). */
const LOOP = { rangeMin: 0, rangeMax: 1_000_000, unit: 'Pa', shuntOhms: 250, adcChannel: 0, dataRate: 128 } as const;
const receiver = { part: 'current-loop', address: 0x48, options: LOOP } as const;

/**
 * The calibration record of this unit: a two-point comparison against a reference gauge at 10 % and
 * 90 % of span, with the expanded uncertainty of the calibrated value (k = 2, GUM).
 */
export const CALIBRATION: CalibrationSpec = {
  id: 'CAL-PT10-2026-0117',
  method: 'two-point',
  low: { raw: 100_900, reference: 100_000 },
  high: { raw: 899_100, reference: 900_000 },
  uncertainty: { expanded: 1_500, coverageFactor: 2 },
  validUntil: '2027-11-30',
  performedBy: 'sensorkit examples calibration lab',
  date: '2026-11-30',
};

export default defineDevice({
  id: 'pressure-transmitter',
  description: '0–10 bar process pressure over 4–20 mA, with calibration record and loop diagnostics',
  board: 'raspberry-pi-4',
  identity: {
    manufacturer: 'sensorkit examples',
    model: 'PT-10 pressure transmitter receiver',
    productCode: 'PT-10-420',
    hardwareRevision: '1.2',
    softwareRevision: '0.1.0',
    serialNumber: { source: 'env' },
  },
  channels: [
    {
      id: 'pressure',
      quantity: 'pressure',
      unit: 'Pa',
      range: { min: 0, max: 1_000_000 },
      resolution: 10,
      accuracy: { mpe: 5_000 },
      sampleRate: 10,
      oversampling: 4,
      driver: { ...receiver, output: 'value' },
      calibration: CALIBRATION,
      filters: [{ type: 'ema', alpha: 0.3 }],
      reporting: { deadbandPercent: 0.1, heartbeat: 10 },
    },
    {
      id: 'loop-current',
      quantity: 'current',
      unit: 'mA',
      range: { min: 4, max: 20 },
      resolution: 0.001,
      accuracy: { mpe: 0.02 },
      sampleRate: 1,
      driver: { ...receiver, output: 'current' },
      reporting: { deadband: 0.01, heartbeat: 10 },
    },
  ],
  alarms: [
    { id: 'overpressure', channel: 'pressure', kind: 'high', limit: 800_000, hysteresis: 20_000, severity: 900, message: 'Process pressure above 8 bar' },
    { id: 'low-pressure', channel: 'pressure', kind: 'low', limit: 150_000, hysteresis: 10_000, severity: 400, message: 'Process pressure below 1.5 bar' },
  ],
});

/**
 * The emulated process: about 4 bar with a slow pump cycle and noise, behind a transmitter with a
 * small zero and span error (what the calibration record corrects). The true process pressure (Pa)
 * is a physical input a test harness may set, and the transmitter's NAMUR NE 43 failure signal
 * (`downscale` 3.5 mA, `upscale` 21.5 mA, `open` wire) a fault it may switch on.
 */
export function emulation(board: EmulatedBoard, random: SeededRandom, inputs: PhysicalInputs = new PhysicalInputs()): void {
  const pressure = inputs.input('pressure', sine({ offset: 400_000, amplitude: 80_000, periodMs: 60_000 }), 'Pa', 'process pressure at the transmitter');
  const process = gaussianNoise(firstOrderLag(pressure, { timeConstantMs: 2_000 }), {
    sigma: 500,
    random: random.fork('process'),
  });
  // The transmitter reads 0.9 kPa high at 100 kPa and 0.9 kPa low at 900 kPa: the calibration's points.
  const { low, high } = CALIBRATION as Extract<CalibrationSpec, { method: 'two-point' }>;
  const gain = (high.raw - low.raw) / (high.reference - low.reference);
  const transmitted = { valueAt: (t: number) => low.raw + (process.valueAt(t) - low.reference) * gain };
  const loop = currentLoopTransmitter(transmitted, { rangeMin: 0, rangeMax: 1_000_000, shuntOhms: 250 });
  inputs.fault('transmitter', ['downscale', 'upscale', 'open'], (kind) => loop.setFault(kind as CurrentLoopFault | undefined), 'NAMUR NE 43 failure signal of the transmitter');
  board.attachI2c(new Ads1115Peripheral({ address: 0x48, inputs: [loop], vdd: 5, random: random.fork('ads1115') }), { bus: 'i2c1' });
}
