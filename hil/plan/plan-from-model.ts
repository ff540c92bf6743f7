/**
 * A test plan from a device model (`sensorkit hil init DEVICE`): for each channel, test points over
 * its range, limits from its `accuracy` (the MPE), waits from its sample rate and filters, and the
 * methods that fit its quantity. The plan is plain data (JSON), ready to edit and to run.
 */
import { ValidationError } from '../../sdk/core/errors.js';
import { canConvert, converter } from '../../sdk/core/units.js';
import type { ChannelModel, DeviceModel } from '../../sdk/model/define-device.js';
import type { DeviceSource } from '../../sdk/runtime/device-source.js';
import { createEmulatedTarget } from '../targets/emulated.js';
import type { PhysicalInput } from '../targets/target.js';
import type { MethodStep } from './method-spec.js';
import type { PhaseSpec, TestPlanSpec } from './spec.js';

/** Quantities that hold still when the stimulus does (a bath, a chamber, a pressure): hysteresis and drift fit them. */
const STATIC_QUANTITIES = new Set(['temperature', 'relative-humidity', 'humidity', 'pressure', 'current', 'voltage', 'resistance', 'level', 'flow', 'mass', 'force', 'concentration', 'illuminance']);

/** Options of {@link planFromModel}. */
export interface PlanFromModelOptions {
  /** Only this channel; default every channel of the model. */
  readonly channel?: string;
  /** The plan's `device`: the device file path as the plan should name it (relative to the plan file). Default: the model's id as a folder under examples/. */
  readonly device?: string;
  /** Plan id; default `<model id>` or `<model id>-<channel>`. */
  readonly id?: string;
  /**
   * The physical inputs of the target (an emulated target's `inputs()`): a channel with no input
   * named like it is left out (or, with `channel`, needs `input`). Without them every channel is
   * assumed to have an input of its name.
   */
  readonly inputs?: readonly PhysicalInput[];
  /** With `channel`: the input that sets it, e.g. `pressure` for a transmitter's `loop-current` (its points then span the input's range). */
  readonly input?: string;
}

/**
 * The five test points of a range: 10, 30, 50, 70 and 90 % of it, rounded to two digits below the span's.
 *
 * @example
 * ```ts
 * testPoints({ min: -40, max: 85 }) // [-27, -2, 23, 48, 73]
 * ```
 */
export function testPoints(range: { readonly min: number; readonly max: number }): number[] {
  const span = range.max - range.min;
  const quantum = 10 ** (Math.floor(Math.log10(span)) - 2);
  return [0.1, 0.3, 0.5, 0.7, 0.9].map((fraction) => Number((Math.round((range.min + fraction * span) / quantum) * quantum).toPrecision(12)));
}

/**
 * The filter memory of a channel in samples: 1 + the filters' lengths (moving-average and median
 * windows, 3/α of an EMA) + the part's own filter coefficient (a driver option `filter`). Method
 * steps settle for ten memories and space their readings one memory apart.
 *
 * @example
 * ```ts
 * channelMemory(model.channel('temperature')!) // env-node: 1 + moving average 4 + BME280 IIR 4 = 9
 * ```
 */
export function channelMemory(channel: ChannelModel): number {
  let memory = 1;
  for (const filter of channel.filters ?? []) memory += filter.type === 'ema' ? Math.ceil(3 / filter.alpha) : filter.window;
  const options = (channel.driver as { options?: { filter?: unknown } } | undefined)?.options;
  if (typeof options?.filter === 'number' && options.filter > 1) memory += options.filter;
  return memory;
}

/** How a channel's quantity is set: an input named like it (same dimension), or another input (a transducer's process quantity). */
interface Feed {
  /** The input's name when it is not the channel's. */
  readonly input?: string;
  /** The input's unit when it differs from the channel's, and its range in that unit. */
  readonly unit?: string;
  readonly range: { readonly min: number; readonly max: number };
  /** The input is of another dimension (Pa in, mA out): no accuracy, no resolution ramp. */
  readonly across: boolean;
}

function methodsFor(channel: ChannelModel, feed: Feed): MethodStep[] {
  const points = testPoints(feed.range);
  const middle = points[2]!;
  const base = { channel: channel.id, ...(feed.input === undefined ? {} : { input: feed.input }), ...(feed.unit === undefined ? {} : { unit: feed.unit }) } as const;
  const settleS = Math.max(10, (10 * channelMemory(channel)) / channel.sampleRate);
  const steps: MethodStep[] = [];
  if (!feed.across) steps.push({ kind: 'accuracy', ...base, points, readings: 5, limits: { tolerance: 'mpe' } });
  steps.push({ kind: 'linearity', ...base, points, readings: 3, limits: { tolerance: 'mpe' } });
  const isStatic = STATIC_QUANTITIES.has(channel.quantity);
  if (isStatic) steps.push({ kind: 'hysteresis', ...base, points: [points[1]!, middle, points[3]!], cycles: 3, limits: { tolerance: 'mpe' } });
  steps.push({ kind: 'repeatability', ...base, point: middle, readings: 10 });
  steps.push({
    kind: 'step-response',
    ...base,
    from: points[1]!,
    to: points[3]!,
    // Settled within the wait every other step takes after a change.
    limits: { t63: round(settleS / 4), t90: round(settleS / 2), settlingTime: round(settleS), overshoot: 5 },
  });
  steps.push({ kind: 'noise', ...base, point: middle, readings: 30 });
  if (channel.resolution !== undefined && !feed.across) steps.push({ kind: 'resolution', ...base, point: middle });
  if (isStatic) steps.push({ kind: 'drift', ...base, point: middle, durationMs: 3_600_000, limits: { tolerance: 'mpe' } });
  return steps;
}

/**
 * The input that sets `channel`: `named` or an input named like the channel. Without the target's
 * inputs, the one named like the channel is assumed, in the channel's unit. Undefined when the
 * target has no such input.
 */
function feedOf(model: DeviceModel, channel: ChannelModel, named: string | undefined, inputs: readonly PhysicalInput[] | undefined): Feed | undefined {
  const name = named ?? channel.id;
  if (inputs === undefined) return { ...(name === channel.id ? {} : { input: name }), range: channel.range, across: false };
  const input = inputs.find((candidate) => candidate.name === name);
  if (input === undefined) return undefined;
  if (canConvert(input.unit, channel.unit)) return { ...(name === channel.id ? {} : { input: name }), range: channel.range, across: false };
  // Another dimension: the input's range from the model's channel of that name (the process value a transmitter reports).
  const process = model.channel(name);
  if (process === undefined || !canConvert(process.unit, input.unit)) {
    throw new ValidationError('input', `input "${name}" (${input.unit}) does not convert to channel ${channel.id}'s unit ${channel.unit}, and no channel "${name}" states its range`);
  }
  const toInput = converter(process.unit, input.unit);
  return { input: name, unit: input.unit, range: { min: toInput(process.range.min), max: toInput(process.range.max) }, across: true };
}

function round(x: number): number {
  return Number(x.toPrecision(3));
}

const TITLES: Record<MethodStep['kind'], string> = {
  accuracy: 'Accuracy at 5 points of the range',
  linearity: 'Linearity (best fit and terminal)',
  hysteresis: 'Hysteresis over 3 up/down cycles',
  repeatability: 'Repeatability at mid-range',
  'step-response': 'Step response 30 -> 70 % of the range',
  drift: 'Drift over 1 h',
  resolution: 'Resolution',
  noise: 'Noise at mid-range',
  'supply-variation': 'Supply variation',
};

/**
 * A plan for `model`: one phase per method and channel, every result judged with its U under a
 * guard band w = U (ILAC-G8:09). The reference is the physical input named like the channel (the
 * emulated target's true value); on a real station give each step a `source` instrument and the
 * reference standard's certificate as `standard`.
 *
 * @example
 * ```ts
 * const { model } = await resolveDevice('examples/env-node')
 * const spec = planFromModel(model, { channel: 'temperature', device: '../examples/env-node' })
 * await writeFile('plans/env-node-temperature.json', JSON.stringify(spec, null, 2) + '\n')
 * // accuracy at -27, -2, 23, 48, 73 Cel within ±1 Cel; linearity; hysteresis; repeatability; step response …
 * ```
 */
export function planFromModel(model: DeviceModel, options: PlanFromModelOptions = {}): TestPlanSpec & { readonly device: string } {
  const channels = options.channel === undefined ? [...model.channels] : [model.channel(options.channel)].filter((c): c is ChannelModel => c !== undefined);
  if (channels.length === 0) {
    throw new ValidationError('channel', `no channel "${options.channel}" in ${model.id} (channels: ${model.channels.map((c) => c.id).join(', ')})`);
  }
  if (options.input !== undefined && options.channel === undefined) throw new ValidationError('input', 'an input names what sets one channel: give `channel` too');
  const phases: PhaseSpec[] = [];
  for (const channel of channels) {
    const feed = feedOf(model, channel, options.input, options.inputs);
    if (feed === undefined) {
      if (options.channel === undefined) continue;
      const known = options.inputs!.map((input) => input.name);
      throw new ValidationError('input', `no physical input "${options.input ?? channel.id}" sets channel ${channel.id} on this target (inputs: ${known.length === 0 ? 'none' : known.join(', ')}); name the one that does`);
    }
    for (const step of methodsFor(channel, feed)) {
      phases.push({ id: `${channel.id}-${step.kind}`, name: `${channel.id}: ${TITLES[step.kind]}`, steps: [step] });
    }
  }
  const id = options.id ?? (options.channel === undefined ? model.id : `${model.id}-${options.channel}`);
  return {
    id,
    name: `${model.id}${options.channel === undefined ? '' : ` ${options.channel}`} metrology`,
    version: '1.0.0',
    description: `Generated from the ${model.id} model: accuracy, linearity, ${channels.some((c) => STATIC_QUANTITIES.has(c.quantity)) ? 'hysteresis, ' : ''}repeatability, step response, noise${channels.some((c) => c.resolution !== undefined) ? ', resolution' : ''} per channel; limits from the MPE, decisions by guard band w = U`,
    device: options.device ?? `examples/${model.id}`,
    phases,
    metadata: { procedure: `generated from the ${model.id} device model`, decisionRule: 'ILAC-G8:09 guard band w = U' },
  };
}

/**
 * {@link planFromModel} for a device file or source: loads it, learns the physical inputs its
 * emulation declares (an emulated target opened for a moment), and leaves out the channels no input
 * sets. What `sensorkit hil init DEVICE` writes.
 *
 * @example
 * ```ts
 * const spec = await planFromDevice('examples/pressure-transmitter', { channel: 'loop-current', input: 'pressure', device: '../examples/pressure-transmitter' })
 * // linearity, hysteresis, repeatability, step response, noise and drift of the loop current over 100 000 … 900 000 Pa
 * ```
 */
export async function planFromDevice(source: DeviceSource, options: PlanFromModelOptions = {}): Promise<TestPlanSpec & { readonly device: string }> {
  const target = createEmulatedTarget({ device: source, seed: 1 });
  try {
    await target.open();
    // A device without an emulation declares no inputs: then every channel is assumed settable by its name.
    const inputs = options.inputs ?? (target.inputs().length === 0 ? undefined : target.inputs());
    return planFromModel(target.model, { ...(typeof source === 'string' && options.device === undefined ? { device: source } : {}), ...options, ...(inputs === undefined ? {} : { inputs }) });
  } finally {
    await target.close();
  }
}
