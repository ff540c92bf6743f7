/**
 * `defineDevice()`: the one declaration of a device from which everything else is derived. It
 * validates at definition time and fails with the path of the bad field.
 */
import { boardDefinition, BOARD_DEFINITIONS, type BoardDefinition } from '../io/board-definitions.js';
import { ValidationError } from '../core/errors.js';
import {
  describe,
  join,
  rejectUnknownKeys,
  requireArray,
  requireIdentifier,
  requireNumber,
  requireObject,
  requireOneOf,
  requirePlainData,
  requireString,
  requireUnique,
} from '../core/check.js';
import type { AlarmSpec, ChannelSpec, CommandSpec, DeviceSpec, IdentitySpec, PropertySpec, ValueSpec } from './spec.js';
import { senmlUnitProblem } from '../core/units.js';
import { validateAlarm as validateAlarmSpec } from '../pipeline/alarms.js';
import { validateChannel, type ResolvedBinding } from './validate-channel.js';
import { OPERATOR_ROLES } from './roles.js';

/** A channel of a validated model: its declaration plus its resolved driver binding. */
export interface ChannelModel extends ChannelSpec {
  readonly binding: ResolvedBinding;
}

/**
 * A validated, frozen device model. Create it with {@link defineDevice}.
 */
export class DeviceModel {
  /** The declaration as given (deep-frozen, serialisable). */
  readonly spec: DeviceSpec;
  readonly board: BoardDefinition;
  readonly channels: readonly ChannelModel[];

  /** @internal Use `defineDevice()`. */
  constructor(spec: DeviceSpec, board: BoardDefinition, bindings: readonly ResolvedBinding[]) {
    this.spec = spec;
    this.board = board;
    this.channels = Object.freeze(spec.channels.map((channel, i) => Object.freeze({ ...channel, binding: bindings[i]! })));
  }

  get id(): string {
    return this.spec.id;
  }

  get identity(): IdentitySpec {
    return this.spec.identity;
  }

  get properties(): readonly PropertySpec[] {
    return this.spec.properties ?? [];
  }

  get commands(): readonly CommandSpec[] {
    return this.spec.commands ?? [];
  }

  get alarms(): readonly AlarmSpec[] {
    return this.spec.alarms ?? [];
  }

  /** The channel with this id, or undefined. */
  channel(id: string): ChannelModel | undefined {
    return this.channels.find((channel) => channel.id === id);
  }
}

const DEVICE_KEYS = ['id', 'description', 'board', 'identity', 'channels', 'properties', 'commands', 'alarms'] as const;
const IDENTITY_KEYS = [
  'manufacturer', 'model', 'productCode', 'hardwareRevision', 'softwareRevision', 'deviceRevision', 'manufacturerUri', 'serialNumber',
] as const;

/**
 * Validates a device declaration and returns the frozen model. Throws `ValidationError` whose
 * `path` names the bad field (`channels[1].unit`, `alarms[0].channel` …).
 *
 * @example
 * ```ts
 * export default defineDevice({
 *   id: 'env-node',
 *   board: 'raspberry-pi-4',
 *   identity: { manufacturer: 'ACME Sensors', model: 'EN-1', productCode: 'EN-1-A', hardwareRevision: '1.0',
 *               softwareRevision: '0.1.0', serialNumber: { source: 'env' } },
 *   channels: [{ id: 'temperature', quantity: 'temperature', unit: 'Cel', range: { min: -40, max: 85 },
 *                resolution: 0.01, accuracy: { mpe: 1 }, sampleRate: 1,
 *                driver: { part: 'bme280', output: 'temperature', address: 0x76 } }],
 * })
 * ```
 */
export function defineDevice(spec: DeviceSpec): DeviceModel {
  const device = requireObject(spec, '');
  rejectUnknownKeys(device, DEVICE_KEYS, '');
  requireIdentifier(device.id, 'id');
  const boardId = requireString(device.board, 'board');
  const board = boardDefinition(boardId);
  if (board === undefined) {
    throw new ValidationError('board', `unknown board ${describe(boardId)}; known boards: ${Object.keys(BOARD_DEFINITIONS).join(', ')}`);
  }
  validateIdentity(device.identity);

  const channels = requireArray(device.channels, 'channels', { nonEmpty: true });
  const bindings = channels.map((channel, i) => validateChannel(channel, `channels[${i}]`, board));
  requireUnique(channels.map((c) => (c as ChannelSpec).id), (i) => `channels[${i}].id`);
  checkSharedParts(channels as ChannelSpec[], bindings, board);

  const properties = device.properties === undefined ? [] : requireArray(device.properties, 'properties');
  properties.forEach((property, i) => validateProperty(property, `properties[${i}]`));
  requireUnique(properties.map((p) => (p as PropertySpec).id), (i) => `properties[${i}].id`);

  const commands = device.commands === undefined ? [] : requireArray(device.commands, 'commands');
  commands.forEach((command, i) => validateCommand(command, `commands[${i}]`));
  requireUnique(commands.map((c) => (c as CommandSpec).id), (i) => `commands[${i}].id`);

  const alarms = device.alarms === undefined ? [] : requireArray(device.alarms, 'alarms');
  alarms.forEach((alarm, i) => validateAlarm(alarm, `alarms[${i}]`, channels as ChannelSpec[]));
  requireUnique(alarms.map((a) => (a as AlarmSpec).id), (i) => `alarms[${i}].id`);

  // The model is plain data: cloned, frozen and exported (a function or class instance in a free-text
  // field would pass the checks above and then fail to clone).
  requirePlainData(spec, '');
  return new DeviceModel(deepFreeze(structuredClone(spec)), board, bindings);
}

function validateIdentity(raw: unknown): void {
  const identity = requireObject(raw, 'identity');
  rejectUnknownKeys(identity, IDENTITY_KEYS, 'identity');
  for (const key of ['manufacturer', 'model', 'productCode', 'hardwareRevision', 'softwareRevision'] as const) {
    requireString(identity[key], `identity.${key}`);
  }
  if (identity.deviceRevision !== undefined) requireString(identity.deviceRevision, 'identity.deviceRevision');
  if (identity.manufacturerUri !== undefined) requireString(identity.manufacturerUri, 'identity.manufacturerUri');
  const serial = identity.serialNumber;
  if (typeof serial === 'object' && serial !== null) {
    rejectUnknownKeys(serial as Record<string, unknown>, ['source'], 'identity.serialNumber');
    requireOneOf((serial as Record<string, unknown>).source, ['env', 'board'], 'identity.serialNumber.source');
  } else {
    requireString(serial, 'identity.serialNumber');
  }
}

/**
 * Channels that share a part instance must configure it identically, and together ask no more reads
 * per second than it delivers; two parts cannot share an address or pin, and an analog input cannot
 * sit on a pin an I2C bus in use occupies.
 */
function checkSharedParts(channels: readonly ChannelSpec[], bindings: readonly ResolvedBinding[], board: BoardDefinition): void {
  const byInstance = new Map<string, number>();
  const byLocation = new Map<string, number>();
  const groups = new Map<string, Map<string, number>>();
  bindings.forEach((binding, i) => {
    const first = byInstance.get(binding.instanceKey);
    if (first === undefined) byInstance.set(binding.instanceKey, i);
    else if (JSON.stringify(bindings[first]!.options) !== JSON.stringify(binding.options)) {
      throw new ValidationError(
        `channels[${i}].driver.options`,
        `${binding.instanceKey} is also used by channel "${channels[first]!.id}" with other options; one part has one configuration`,
      );
    }
    const location = binding.io === 'i2c' ? `${binding.bus}:${binding.address}` : `${binding.pin}`;
    const other = byLocation.get(location);
    if (other === undefined) byLocation.set(location, i);
    else if (bindings[other]!.part !== binding.part) {
      throw new ValidationError(
        `channels[${i}].driver`,
        `${binding.part} and ${bindings[other]!.part} (channel "${channels[other]!.id}") are bound to the same ${binding.io === 'i2c' ? 'address' : 'pin'}`,
      );
    }
    // Each distinct (rate, oversampling) of one part is its own stream of reads (see Device).
    const reads = groups.get(binding.instanceKey) ?? new Map<string, number>();
    reads.set(`${binding.readGroup.rateHz}x${binding.readGroup.oversampling}`, binding.readRateHz);
    groups.set(binding.instanceKey, reads);
    const total = [...reads.values()].reduce((sum, rate) => sum + rate, 0);
    if (total > binding.maxRateHz) {
      throw new ValidationError(
        `channels[${i}].sampleRate`,
        `${binding.instanceKey} delivers at most ${Math.floor(binding.maxRateHz * 10) / 10} readings/s; its channels together need ${total}/s ` +
          '(channels of one part at the same rate share reads: give them the same sampleRate)',
      );
    }
  });
  const i2cPins = new Set(
    board.i2cBuses.filter((bus) => bindings.some((b) => b.io === 'i2c' && b.bus === bus.name)).flatMap((bus) => [bus.sda, bus.scl]),
  );
  bindings.forEach((binding, i) => {
    if (binding.io === 'analog' && i2cPins.has(binding.pin!)) {
      throw new ValidationError(`channels[${i}].driver.pin`, `${binding.pin} is an I2C line on ${board.id}, and an I2C part is in use`);
    }
  });
  // A data-ready line is one part's, on a pin nothing else uses.
  const readyOwners = new Map<string, string>();
  const readyOf = new Map<string, string>();
  bindings.forEach((binding, i) => {
    const pin = binding.ready;
    if (pin === undefined) return;
    const path = `channels[${i}].driver.ready`;
    if (i2cPins.has(pin)) throw new ValidationError(path, `${pin} is an I2C line on ${board.id}, and an I2C part is in use`);
    if (bindings.some((other) => other.io === 'analog' && other.pin === pin)) throw new ValidationError(path, `${pin} is an analog input of a channel`);
    const owner = readyOwners.get(pin);
    if (owner !== undefined && owner !== binding.instanceKey) throw new ValidationError(path, `${pin} is already the ready line of ${owner}`);
    const wired = readyOf.get(binding.instanceKey);
    if (wired !== undefined && wired !== pin) throw new ValidationError(path, `${binding.instanceKey} has its ready line on ${wired} in another channel; one part has one`);
    readyOwners.set(pin, binding.instanceKey);
    readyOf.set(binding.instanceKey, pin);
  });
}

function validateValue(value: Record<string, unknown>, path: string): void {
  const type = requireOneOf(value.type, ['number', 'integer', 'boolean', 'string'], join(path, 'type'));
  if (value.unit !== undefined) {
    const problem = senmlUnitProblem(requireString(value.unit, join(path, 'unit')));
    if (problem) throw new ValidationError(join(path, 'unit'), problem);
  }
  if (value.range !== undefined) {
    if (type !== 'number' && type !== 'integer') throw new ValidationError(join(path, 'range'), `a ${type} has no range`);
    const range = requireObject(value.range, join(path, 'range'));
    const min = requireNumber(range.min, join(path, 'range.min'));
    const max = requireNumber(range.max, join(path, 'range.max'));
    if (!(min <= max)) throw new ValidationError(join(path, 'range'), `inverted range: min ${min} is above max ${max}`);
  }
  if (value.enum !== undefined) {
    if (type !== 'string') throw new ValidationError(join(path, 'enum'), 'only a string can have an enum');
    requireArray(value.enum, join(path, 'enum'), { nonEmpty: true }).forEach((entry, i) => requireString(entry, `${join(path, 'enum')}[${i}]`));
  }
}

/**
 * Checks `value` against a value spec; returns a reason or undefined. Used for property defaults here
 * and for property writes and command arguments at run time.
 */
export function valueProblem(spec: ValueSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected a boolean, got ${describe(value)}`;
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${describe(value)}`;
      return spec.enum && !spec.enum.includes(value) ? `expected one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(value)}` : undefined;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a finite number, got ${describe(value)}`;
      if (spec.type === 'integer' && !Number.isInteger(value)) return `expected an integer, got ${value}`;
      if (spec.range && (value < spec.range.min || value > spec.range.max)) {
        return `${value} is outside ${spec.range.min} … ${spec.range.max}${spec.unit ? ` ${spec.unit}` : ''}`;
      }
      return undefined;
  }
}

const VALUE_KEYS = ['type', 'unit', 'range', 'enum', 'description'] as const;

function validateProperty(raw: unknown, path: string): void {
  const property = requireObject(raw, path);
  rejectUnknownKeys(property, [...VALUE_KEYS, 'id', 'default', 'writable', 'role'], path);
  requireIdentifier(property.id, join(path, 'id'));
  if (property.role !== undefined) requireOneOf(property.role, OPERATOR_ROLES, join(path, 'role'));
  validateValue(property, path);
  const problem = valueProblem(property as unknown as ValueSpec, property.default);
  if (problem) throw new ValidationError(join(path, 'default'), problem);
  if (property.writable !== undefined && typeof property.writable !== 'boolean') {
    throw new ValidationError(join(path, 'writable'), `expected a boolean, got ${describe(property.writable)}`);
  }
}

function validateCommand(raw: unknown, path: string): void {
  const command = requireObject(raw, path);
  rejectUnknownKeys(command, ['id', 'description', 'arguments', 'result', 'role'], path);
  requireIdentifier(command.id, join(path, 'id'));
  if (command.role !== undefined) requireOneOf(command.role, OPERATOR_ROLES, join(path, 'role'));
  const args = command.arguments === undefined ? [] : requireArray(command.arguments, join(path, 'arguments'));
  args.forEach((arg, i) => {
    const argPath = `${join(path, 'arguments')}[${i}]`;
    const argument = requireObject(arg, argPath);
    rejectUnknownKeys(argument, [...VALUE_KEYS, 'name', 'required'], argPath);
    requireString(argument.name, join(argPath, 'name'), /^[a-zA-Z][a-zA-Z0-9_]*$/, 'an identifier');
    validateValue(argument, argPath);
  });
  requireUnique(args.map((a) => (a as { name: string }).name), (i) => `${join(path, 'arguments')}[${i}].name`);
  if (command.result !== undefined) {
    const result = requireObject(command.result, join(path, 'result'));
    rejectUnknownKeys(result, VALUE_KEYS, join(path, 'result'));
    validateValue(result, join(path, 'result'));
  }
}

/** The pipeline's check of an alarm, and that its channel is one of the model's. */
function validateAlarm(raw: unknown, path: string, channels: readonly ChannelSpec[]): void {
  const alarm = validateAlarmSpec(raw, path);
  if (!channels.some((channel) => channel.id === alarm.channel)) {
    throw new ValidationError(join(path, 'channel'), `no channel ${describe(alarm.channel)}; channels: ${channels.map((c) => c.id).join(', ')}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
