/**
 * Device files (`defineDevice`): a valid declaration with random structural edits (values replaced
 * by JSON values, float64 edges, long strings, arrays with holes, `undefined`, functions; keys
 * deleted, added or duplicated). Property: a model or a `SensorkitError` (a `ValidationError` for
 * a bad declaration) whose message stays under 1,000 characters, never another exception, within
 * the time limit.
 */
import { SensorkitError } from '../../../sdk/core/errors.js';
import { defineDevice, type DeviceSpec } from '../../../sdk/model/index.js';
import { mutatedTree } from '../mutate.js';
import { FuzzViolation, Outcomes, timed, type FuzzTarget } from '../target.js';

const thermistor = { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 };
const bme280 = { part: 'bme280', address: 0x76, options: { oversampling: { temperature: 2, pressure: 4, humidity: 1 }, filter: 4 } };

/** Every section a device file can have, each used once: channels with filters, reporting, oversampling and aggregates; settings, commands, alarms. */
export const VALID_SPEC = {
  id: 'fuzz-device',
  description: 'A device with one of everything',
  board: 'arduino-uno',
  identity: { manufacturer: 'ACME Sensors', model: 'T-1', productCode: 'T1-A', hardwareRevision: '1.0', softwareRevision: '0.1.0', serialNumber: 'SN-0001' },
  channels: [
    {
      id: 'temperature',
      quantity: 'temperature',
      unit: 'Cel',
      range: { min: -40, max: 85 },
      resolution: 0.01,
      accuracy: { mpe: 1 },
      sampleRate: 1,
      driver: { ...bme280, output: 'temperature' },
      filters: [{ type: 'moving-average', window: 4 }],
      reporting: { deadband: 0.05, heartbeat: 60 },
    },
    {
      id: 'winding',
      quantity: 'temperature',
      unit: 'K',
      range: { min: 233, max: 398 },
      resolution: 0.1,
      accuracy: { mpe: 2 },
      sampleRate: 10,
      oversampling: 8,
      driver: { part: 'thermistor', pin: 'A0', options: thermistor },
      filters: [{ type: 'median', window: 3 }],
      reporting: { deadband: 0.2, heartbeat: 30 },
    },
  ],
  properties: [
    { id: 'interval', type: 'number', unit: 's', range: { min: 1, max: 60 }, default: 5 },
    { id: 'location', type: 'string', default: 'hall 1', description: 'Where the node is mounted' },
  ],
  commands: [{ id: 'reset', arguments: [{ name: 'hard', type: 'boolean', required: false }] }, { id: 'acknowledge', result: { type: 'integer' } }],
  alarms: [{ id: 'hot', channel: 'temperature', kind: 'high', limit: 60, hysteresis: 2, severity: 700, message: 'Too hot' }],
};

const outcomes = new Outcomes();
/** Longest error message accepted: a path, a reason and values cut to 60 characters fit well within. */
const MAX_MESSAGE = 1000;

export const deviceFileTarget: FuzzTarget<unknown> = {
  name: 'device-file',
  property: 'defineDevice returns a model or throws a SensorkitError (ValidationError) of at most 1,000 characters, never anything else',
  arbitrary: mutatedTree(VALID_SPEC),
  shortRuns: 3000,
  check(spec) {
    timed('defineDevice', () => {
      try {
        defineDevice(spec as DeviceSpec);
        outcomes.add('accepted');
      } catch (error) {
        if (!(error instanceof SensorkitError)) throw error; // anything else is a crash
        outcomes.add(error.constructor.name);
        // One line that names the field, with echoed values cut: never the 100,000-character string.
        if (error.message.length > MAX_MESSAGE) throw new FuzzViolation(`a ${error.message.length}-character message: ${error.message.slice(0, 200)}…`);
      }
    });
  },
  outcomes: () => outcomes.snapshot(),
  async setup() {
    defineDevice(VALID_SPEC as DeviceSpec);
  },
};
