/**
 * A test plan from a device model (`sensorkit hil init DEVICE`): for each channel, test points over
 * its range, limits from its `accuracy` (the MPE), waits from its sample rate and filters, and the
 * methods that fit its quantity. The plan is plain data (JSON), ready to edit and to run.
 */
import { ValidationError } from '../../sdk/core/errors.js';
import type { ChannelModel, DeviceModel } from '../../sdk/model/define-device.js';
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

function methodsFor(channel: ChannelModel): MethodStep[] {
  const points = testPoints(channel.range);
  const middle = points[2]!;
  const base = { channel: channel.id } as const;
  const settleS = Math.max(10, (10 * channelMemory(channel)) / channel.sampleRate);
  const steps: MethodStep[] = [
    { kind: 'accuracy', ...base, points, readings: 5, limits: { tolerance: 'mpe' } },
    { kind: 'linearity', ...base, points, readings: 3, limits: { tolerance: 'mpe' } },
  ];
  const isStatic = STATIC_QUANTITIES.has(channel.quantity);
  if (isStatic) steps.push({ kind: 'hysteresis', ...base, points: [points[1]!, middle, points[3]!], cycles: 3, limits: { tolerance: 'mpe' } });
  steps.push({ kind: 'repeatability', ...base, point: middle, readings: 10 });
  steps.push({
    kind: 'step-response',
    ...base,
    from: points[1]!,
    to: points[3]!,
    // Settled within the wait every other step takes after a change.
    limits: { t90: round(settleS / 2), settlingTime: round(settleS), overshoot: 5 },
  });
  steps.push({ kind: 'noise', ...base, point: middle, readings: 30 });
  if (channel.resolution !== undefined) steps.push({ kind: 'resolution', ...base, point: middle });
  if (isStatic) steps.push({ kind: 'drift', ...base, point: middle, durationMs: 3_600_000, limits: { tolerance: 'mpe' } });
  return steps;
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
  const phases: PhaseSpec[] = [];
  for (const channel of channels) {
    for (const step of methodsFor(channel)) {
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
