/**
 * env-node: an environmental node on a Raspberry-Pi-class board with a BME280-class sensor on I2C —
 * air temperature, relative humidity and barometric pressure. The `npm start` default.
 *
 * Run it: `npx sensorkit run examples/env-node` (emulated board, seed 1).
 */
import { Bme280Peripheral } from '../../boards/emulated/parts/index.js';
import { constant, drift, gaussianNoise, PhysicalInputs, sine, type EmulatedBoard } from '../../boards/emulated/index.js';
import type { SeededRandom } from '../../sdk/core/index.js';
import { defineDevice } from '../../sdk/model/index.js';

/** The one BME280 at 0x76 that the three channels share (one forced conversion feeds all three). */
const BME280 = { part: 'bme280', address: 0x76, options: { oversampling: { temperature: 2, pressure: 4, humidity: 1 }, filter: 4 } } as const;

export default defineDevice({
  id: 'env-node',
  description: 'Environmental node: air temperature, relative humidity and barometric pressure',
  board: 'raspberry-pi-4',
  identity: {
    manufacturer: 'sensorkit examples',
    model: 'EN-1 environmental node',
    productCode: 'EN-1-BME',
    hardwareRevision: '1.0',
    softwareRevision: '0.1.0',
    serialNumber: { source: 'env' },
  },
  channels: [
    {
      id: 'temperature',
      quantity: 'temperature',
      unit: 'Cel',
      range: { min: -40, max: 85 },
      resolution: 0.01,
      accuracy: { mpe: 1 },
      sampleRate: 1,
      driver: { ...BME280, output: 'temperature' },
      filters: [{ type: 'moving-average', window: 4 }],
      reporting: { deadband: 0.05, heartbeat: 60 },
    },
    {
      id: 'humidity',
      quantity: 'relative-humidity',
      unit: '%RH',
      range: { min: 0, max: 100 },
      resolution: 0.1,
      accuracy: { mpe: 3 },
      sampleRate: 1,
      driver: { ...BME280, output: 'humidity' },
      reporting: { deadband: 0.2, heartbeat: 60 },
    },
    {
      id: 'pressure',
      quantity: 'pressure',
      // The part measures Pa; the channel reports hPa (RFC 8798), converted on the way.
      unit: 'hPa',
      range: { min: 300, max: 1100 },
      resolution: 0.01,
      accuracy: { mpe: 1 },
      sampleRate: 1,
      driver: { ...BME280, output: 'pressure' },
      reporting: { deadband: 0.05, heartbeat: 60 },
    },
  ],
  properties: [{ id: 'location', type: 'string', default: 'hall 1', description: 'Where the node is mounted' }],
  alarms: [
    { id: 'overheat', channel: 'temperature', kind: 'high', limit: 40, hysteresis: 1, severity: 700, message: 'Air temperature above 40 °C' },
    { id: 'condensation-risk', channel: 'humidity', kind: 'high', limit: 85, hysteresis: 3, severity: 500, message: 'Relative humidity above 85 %RH' },
  ],
});

/**
 * The emulated world: a room whose temperature swings slowly through the day, humidity moving
 * against it, and pressure drifting with the weather, all with sensor-like noise. The true air
 * temperature (Cel), humidity (%RH) and pressure (Pa) are physical inputs a test harness may set;
 * the noise stays the sensor's.
 */
export function emulation(board: EmulatedBoard, random: SeededRandom, inputs: PhysicalInputs = new PhysicalInputs()): void {
  const start = board.clock.now();
  const air = inputs.input('temperature', sine({ offset: 22.5, amplitude: 1.5, periodMs: 10 * 60_000 }), 'Cel', 'air temperature at the BME280');
  const moisture = inputs.input('humidity', sine({ offset: 45, amplitude: 5, periodMs: 10 * 60_000, phase: Math.PI }), '%RH', 'relative humidity at the BME280');
  const barometric = inputs.input('pressure', drift(constant(101_325), { ratePerHour: -60, start }), 'Pa', 'barometric pressure at the BME280');
  const temperature = gaussianNoise(air, { sigma: 0.02, random: random.fork('temperature') });
  const humidity = gaussianNoise(moisture, { sigma: 0.1, random: random.fork('humidity') });
  const pressure = gaussianNoise(barometric, { sigma: 1.5, random: random.fork('pressure') });
  board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature, humidity, pressure, random: random.fork('bme280') }), { bus: 'i2c1' });
}
