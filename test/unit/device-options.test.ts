import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/index.js';
import { Device } from '../../sdk/device/index.js';
import type { Board } from '../../sdk/io/board.js';
import { defineDevice } from '../../sdk/model/index.js';

const model = defineDevice({
  id: 'probe',
  board: 'arduino-uno',
  identity: { manufacturer: 'ACME', model: 'P-1', productCode: 'P1', hardwareRevision: '1', softwareRevision: '0.1.0', serialNumber: 'SN-1' },
  channels: [
    {
      id: 'temperature',
      quantity: 'temperature',
      unit: 'Cel',
      range: { min: -40, max: 125 },
      resolution: 0.1,
      accuracy: { mpe: 1 },
      sampleRate: 1,
      driver: { part: 'thermistor', pin: 'A0', options: { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 } },
    },
  ],
});

describe('Device options', () => {
  // The constructor reads only the board's definition id and clock; nothing is opened before start().
  const board = { definition: { id: 'arduino-uno' }, clock: new VirtualClock() } as unknown as Board;

  it('validates a unit calibration at construction, under calibrations.<channel>', () => {
    const bad = { id: 'UNIT-7', method: 'two-point', low: { raw: 1, reference: 0 }, high: { raw: 1, reference: 10 } } as const;
    expect(() => new Device(model, { board, calibrations: { temperature: bad } })).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        code: 'ERR_VALIDATION',
        path: 'calibrations.temperature.high.raw',
        message: 'calibrations.temperature.high.raw: equals low.raw (1); two points need different raw values',
      }),
    );
    expect(() => new Device(model, { board, calibrations: { temperature: { id: 'UNIT-7', method: 'offset', offset: -0.2 } } })).not.toThrow();
  });
});
