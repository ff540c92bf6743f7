/**
 * A device model that uses every feature the model exports (WoT TD, CDDL) translate: an integer
 * channel, read-only and writable settings of each type, commands with required and optional typed
 * arguments, ranges and enums, and alarms. Shared by the export tests.
 */
import { defineDevice } from '../../sdk/model/index.js';

export const exportModel = defineDevice({
  id: 'export-probe',
  description: 'Fixture for the model exports',
  board: 'raspberry-pi-4',
  identity: {
    manufacturer: 'ACME Sensors',
    model: 'XP-1 probe',
    productCode: 'XP-1',
    hardwareRevision: '2.0',
    softwareRevision: '1.4.2',
    manufacturerUri: 'https://acme.example/support',
    serialNumber: 'SN 0042/b',
  },
  channels: [
    {
      id: 'air_temperature',
      description: 'Air temperature in the cabinet',
      quantity: 'temperature',
      unit: 'Cel',
      range: { min: -40.5, max: 85 },
      resolution: 0.01,
      accuracy: { mpe: 0.5 },
      sampleRate: 1,
      driver: { part: 'bme280', output: 'temperature', address: 0x76 },
    },
    {
      id: 'pressure',
      quantity: 'pressure',
      unit: 'Pa',
      dataType: 'integer',
      range: { min: 30_000, max: 110_000 },
      resolution: 1,
      accuracy: { mpe: 100 },
      sampleRate: 1,
      driver: { part: 'bme280', output: 'pressure', address: 0x76 },
    },
  ],
  properties: [
    { id: 'location', type: 'string', default: 'hall 1', description: 'Where it is mounted' },
    { id: 'mode', type: 'string', enum: ['normal', 'eco'], default: 'normal' },
    { id: 'interval', type: 'integer', unit: 's', range: { min: 1, max: 3600 }, default: 60 },
    { id: 'gain', type: 'number', range: { min: 0.5, max: 2.5 }, default: 1 },
    { id: 'firmware-locked', type: 'boolean', default: true, writable: false },
  ],
  commands: [
    {
      id: 'zero',
      description: 'Set the zero offset',
      arguments: [
        { name: 'offset', type: 'number', unit: 'Pa', range: { min: -500, max: 500 } },
        { name: 'samples', type: 'integer', range: { min: 1, max: 100 }, required: false },
        { name: 'method', type: 'string', enum: ['mean', 'median'] },
        { name: 'persist', type: 'boolean', required: false },
        { name: 'note', type: 'string', required: false },
      ],
      result: { type: 'number', unit: 'Pa' },
    },
    { id: 'reboot' },
  ],
  alarms: [
    { id: 'too-hot', channel: 'air_temperature', kind: 'high', limit: 60.5, hysteresis: 2, severity: 800, message: 'Cabinet above 60.5 °C' },
    { id: 'vacuum', channel: 'pressure', kind: 'low', limit: 50_000, severity: 300 },
  ],
});
