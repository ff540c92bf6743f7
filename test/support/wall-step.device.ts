/**
 * A device for the wall-step CLI test: one voltage channel at 20 Hz on the emulated Arduino Uno,
 * every sample reported, so the readings show the sampler's cadence across a step.
 */
import { sine, type EmulatedBoard } from '../../boards/emulated/index.js';
import { defineDevice } from '../../sdk/model/index.js';

/** Ticks per second of the channel. */
export const RATE_HZ = 20;

export default defineDevice({
  id: 'wall-step-probe',
  board: 'arduino-uno',
  identity: { manufacturer: 'sensorkit tests', model: 'Wall step probe', productCode: 'WS-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: 'WS-0001' },
  channels: [
    {
      id: 'v0',
      quantity: 'voltage',
      unit: 'V',
      range: { min: 0, max: 5 },
      resolution: 0.01,
      accuracy: { mpe: 0.2 },
      sampleRate: RATE_HZ,
      driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0', options: { referenceTolerance: 0 } },
    },
  ],
});

/** A 2.5 V sine on A0. */
export function emulation(board: EmulatedBoard): void {
  board.attachAnalog('A0', sine({ offset: 2.5, amplitude: 1, periodMs: 1000 }));
}
