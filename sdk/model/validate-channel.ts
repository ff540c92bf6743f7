/**
 * Validation of one channel declaration against the driver registry and the board definition. The
 * fields a pipeline reads (id, unit, range, rate, calibration, filters, reporting …) are checked by
 * the pipeline's own validator; this adds what only a model has: quantity, resolution, accuracy,
 * oversampling, an aggregate, and a driver bound to a pin or bus the board has.
 */
import type { BoardDefinition } from '../io/board-definitions.js';
import { ValidationError } from '../core/errors.js';
import type { DriverDefinition, DriverOutput } from '../drivers/contract.js';
import { driverDefinition, registeredParts } from '../drivers/registry.js';
import { validatePipelineChannel } from '../pipeline/channel-spec.js';
import { AGGREGATE_STATISTICS } from '../sampling/aggregate.js';
import { MAX_RATE_HZ } from '../sampling/sampler.js';
import { describe, join, rejectUnknownKeys, requireNumber, requireObject, requireOneOf, requireString } from '../core/check.js';
import { canConvert } from '../core/units.js';

/** A channel's driver binding after validation: the definition, output and IO resolved. */
export interface ResolvedBinding {
  readonly part: string;
  readonly definition: DriverDefinition;
  readonly output: string;
  /** The output as configured by the options (unit, range, tolerance). */
  readonly outputSpec: DriverOutput;
  readonly io: 'analog' | 'i2c';
  readonly pin?: string;
  readonly bus?: string;
  readonly address?: number;
  /** Digital pin of the part's data-ready line, when its options need one. */
  readonly ready?: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Channels with the same key share one driver instance: `bme280@i2c0:0x76`, `thermistor@A0`. */
  readonly instanceKey: string;
  /** Reads per second this channel needs from the part (rate × oversampling, or the aggregate's raw rate). */
  readonly readRateHz: number;
  /** How the part is read for this channel: channels of one part with the same key share each read. */
  readonly readGroup: { readonly rateHz: number; readonly oversampling: number };
  /** The most reads per second the part delivers with these options (shared by all its channels). */
  readonly maxRateHz: number;
}

const CHANNEL_KEYS = [
  'id', 'description', 'quantity', 'unit', 'dataType', 'range', 'resolution', 'accuracy', 'sampleRate',
  'oversampling', 'aggregate', 'driver', 'calibration', 'filters', 'reporting', 'staleAfter',
] as const;
const BINDING_KEYS = ['part', 'output', 'pin', 'bus', 'address', 'ready', 'options'] as const;

/** Validates `channels[index]`; returns its resolved binding. */
export function validateChannel(raw: unknown, path: string, board: BoardDefinition): ResolvedBinding {
  const channel = requireObject(raw, path);
  rejectUnknownKeys(channel, CHANNEL_KEYS, path);
  const { unit, sampleRate } = validatePipelineChannel(channel, path);
  requireString(channel.quantity, join(path, 'quantity'));
  requireNumber(channel.resolution, join(path, 'resolution'), { above: 0 });
  const accuracy = requireObject(channel.accuracy, join(path, 'accuracy'));
  rejectUnknownKeys(accuracy, ['mpe'], join(path, 'accuracy'));
  requireNumber(accuracy.mpe, join(path, 'accuracy.mpe'), { above: 0 });

  // The sampler's limit: beyond it a timer-driven loop is not honest.
  requireNumber(sampleRate, join(path, 'sampleRate'), { max: MAX_RATE_HZ });
  const oversampling = channel.oversampling === undefined ? 1 : requireNumber(channel.oversampling, join(path, 'oversampling'), { integer: true, min: 1, max: 256 });
  let readGroup = { rateHz: sampleRate, oversampling };
  if (channel.aggregate !== undefined) {
    const aggregatePath = join(path, 'aggregate');
    const aggregate = requireObject(channel.aggregate, aggregatePath);
    rejectUnknownKeys(aggregate, ['statistic', 'rawRate', 'acCoupled'], aggregatePath);
    requireOneOf(aggregate.statistic, AGGREGATE_STATISTICS, join(aggregatePath, 'statistic'));
    const rawRate = requireNumber(aggregate.rawRate, join(aggregatePath, 'rawRate'), { above: 0, max: MAX_RATE_HZ });
    if (aggregate.acCoupled !== undefined && typeof aggregate.acCoupled !== 'boolean') {
      throw new ValidationError(join(aggregatePath, 'acCoupled'), `expected a boolean, got ${describe(aggregate.acCoupled)}`);
    }
    const windowSize = rawRate / sampleRate;
    if (!Number.isInteger(windowSize) || windowSize < 2) {
      throw new ValidationError(join(aggregatePath, 'rawRate'), `must be an integer multiple (≥ 2) of sampleRate ${sampleRate} Hz, got ${rawRate} Hz`);
    }
    if (oversampling !== 1) throw new ValidationError(join(path, 'oversampling'), 'cannot be combined with aggregate');
    readGroup = { rateHz: rawRate, oversampling: 1 };
  }

  const binding = resolveBinding(channel.driver, join(path, 'driver'), board, readGroup, path);
  const dimensionless = (channel.aggregate as { statistic?: unknown } | undefined)?.statistic === 'crest-factor';
  if (dimensionless) {
    // A crest factor is peak / RMS: a ratio, whatever the part measures.
    if (unit !== '/') throw new ValidationError(join(path, 'unit'), `a crest factor is a ratio: use "/", got ${describe(unit)}`);
  } else if (!canConvert(binding.outputSpec.unit, unit)) {
    throw new ValidationError(
      join(path, 'unit'),
      `${describe(unit)} does not match the ${binding.part} output "${binding.output}", measured in "${binding.outputSpec.unit}" (${binding.outputSpec.quantity})`,
    );
  }
  return binding;
}

function resolveBinding(
  raw: unknown,
  path: string,
  board: BoardDefinition,
  readGroup: ResolvedBinding['readGroup'],
  channelPath: string,
): ResolvedBinding {
  const readRateHz = readGroup.rateHz * readGroup.oversampling;
  const binding = requireObject(raw, path);
  rejectUnknownKeys(binding, BINDING_KEYS, path);
  const part = requireString(binding.part, join(path, 'part'));
  const definition = driverDefinition(part);
  if (definition === undefined) {
    throw new ValidationError(join(path, 'part'), `unknown part ${describe(part)}; registered parts: ${registeredParts().join(', ')}`);
  }
  const options = binding.options === undefined ? {} : requireObject(binding.options, join(path, 'options'));
  const outputs = definition.validateOptions(options, join(path, 'options'));
  const outputNames = Object.keys(outputs);
  let output: string;
  if (binding.output === undefined) {
    if (outputNames.length !== 1) {
      throw new ValidationError(join(path, 'output'), `required: ${part} has outputs ${outputNames.map((o) => `"${o}"`).join(', ')}`);
    }
    output = outputNames[0]!;
  } else {
    output = requireString(binding.output, join(path, 'output'));
    if (!outputNames.includes(output)) {
      throw new ValidationError(join(path, 'output'), `${part} has no output ${describe(output)}; it has ${outputNames.map((o) => `"${o}"`).join(', ')}`);
    }
  }
  const outputSpec = outputs[output]!;

  const maxRateHz = definition.maxRateFor?.(options) ?? definition.maxRateHz;
  if (readRateHz > maxRateHz) {
    // Name the options only when they are what holds the part below its best rate.
    const limitedBy = maxRateHz < definition.maxRateHz ? definition.describeRateOptions?.(options) : undefined;
    throw new ValidationError(
      join(channelPath, 'sampleRate'),
      `${part}${limitedBy === undefined ? '' : ` with ${limitedBy}`} can deliver at most ${formatRate(maxRateHz)} readings/s; this channel needs ${readRateHz}/s`,
    );
  }

  const ready = readyPin(binding.ready, definition.readyLineFor?.(options), part, board, join(path, 'ready'));

  if (definition.io === 'analog') {
    if (binding.bus !== undefined || binding.address !== undefined) {
      throw new ValidationError(path, `${part} is read through an analog pin: give "pin", not "bus"/"address"`);
    }
    const pin = requireString(binding.pin, join(path, 'pin'));
    const analogPin = board.analogPins.find((candidate) => candidate.name === pin);
    if (analogPin === undefined) {
      const available = board.analogPins.map((p) => p.name);
      throw new ValidationError(
        join(path, 'pin'),
        `board ${board.id} has no analog pin ${describe(pin)}` +
          (available.length ? `; analog pins: ${available.join(', ')}` : ' (it has no ADC: use an ADC part on I2C, e.g. ads1115)'),
      );
    }
    if (board.adc && readRateHz > board.adc.maxRateHz) {
      throw new ValidationError(join(channelPath, 'sampleRate'), `the ${board.id} ADC converts at most ${board.adc.maxRateHz}/s; this channel needs ${readRateHz}/s`);
    }
    return { part, definition, output, outputSpec, io: 'analog', pin, ...(ready === undefined ? {} : { ready }), options, instanceKey: `${part}@${pin}`, readRateHz, readGroup, maxRateHz };
  }

  if (binding.pin !== undefined) throw new ValidationError(join(path, 'pin'), `${part} is an I2C part: give "bus" and "address", not "pin"`);
  const firstBus = board.i2cBuses[0];
  if (firstBus === undefined) throw new ValidationError(path, `board ${board.id} has no I2C bus`);
  const bus = binding.bus === undefined ? firstBus.name : requireString(binding.bus, join(path, 'bus'));
  if (!board.i2cBuses.some((candidate) => candidate.name === bus)) {
    throw new ValidationError(join(path, 'bus'), `board ${board.id} has no I2C bus ${describe(bus)}; buses: ${board.i2cBuses.map((b) => b.name).join(', ')}`);
  }
  const addresses = definition.addresses ?? [];
  const address = binding.address === undefined ? addresses[0] : requireNumber(binding.address, join(path, 'address'), { integer: true, min: 0x08, max: 0x77 });
  if (address === undefined) throw new ValidationError(join(path, 'address'), `required for ${part}`);
  if (addresses.length > 0 && !addresses.includes(address)) {
    throw new ValidationError(join(path, 'address'), `${part} answers on ${addresses.map(hex).join(', ')}, not ${hex(address)}`);
  }
  return {
    part, definition, output, outputSpec, io: 'i2c', bus, address, ...(ready === undefined ? {} : { ready }), options,
    instanceKey: `${part}@${bus}:${hex(address)}`, readRateHz, readGroup, maxRateHz,
  };
}

/** The binding's `ready` pin: required exactly when the part's options use a data-ready line, and a digital pin of the board. */
function readyPin(raw: unknown, needs: string | undefined, part: string, board: BoardDefinition, path: string): string | undefined {
  if (needs === undefined) {
    if (raw !== undefined) throw new ValidationError(path, `${part} uses no data-ready line with these options`);
    return undefined;
  }
  if (raw === undefined) throw new ValidationError(path, `required: ${part} with ${needs}; give the digital pin it is wired to, e.g. "${board.digitalPins[2] ?? board.digitalPins[0]}"`);
  const pin = requireString(raw, path);
  if (!board.digitalPins.includes(pin)) throw new ValidationError(path, `board ${board.id} has no digital pin ${describe(pin)}; digital pins: ${board.digitalPins.join(', ')}`);
  return pin;
}

/** A rate for messages, rounded down (it is a maximum) to two significant digits, or to 1 Hz: 8.8, 102. */
function formatRate(hz: number): string {
  if (!(hz > 0 && Number.isFinite(hz))) return String(hz);
  const scale = 10 ** Math.max(0, 1 - Math.floor(Math.log10(hz)));
  return String(Math.floor(hz * scale) / scale);
}

function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}
