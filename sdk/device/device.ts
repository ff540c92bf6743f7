/**
 * `Device`: builds the chain board IO → driver → sampler → pipeline from a model and a
 * configuration, and owns the lifecycle. Downstream stages (encoders, transports, the CLI table)
 * listen to its events; nothing downstream reaches back into the board.
 */
import type { Board, EdgeCounter } from '../io/board.js';
import type { Clock } from '../core/clock.js';
import { onClockStep } from '../core/wall-clock-watch.js';
import { StateError, ValidationError } from '../core/errors.js';
import { TypedEmitter } from '../core/events.js';
import type { SensorDriver } from '../drivers/contract.js';
import { valueProblem, type DeviceModel } from '../model/define-device.js';
import type { Sample } from '../core/sample.js';
import type { CalibrationSpec } from '../model/spec.js';
import { ChannelPipeline, validateCalibration, type AlarmEvent, type FaultEvent } from '../pipeline/index.js';
import { Sampler, StreamSampler, type SamplingResult, type SamplingStats, type StreamStats, type WindowCompleteness } from '../sampling/index.js';
import type { Quality } from '../core/sample.js';
import { ChannelInput, type ChannelUpdate } from './channel-runner.js';

/** Lifecycle states; one union instead of flags. */
export type DeviceState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Events a `Device` emits. */
export interface DeviceEvents {
  /** Every processed sample (for live displays). */
  sample: [sample: Sample];
  /** Samples that pass report-by-exception: what encoders and transports send. */
  report: [sample: Sample];
  alarm: [event: AlarmEvent];
  /** A channel's fault, once when raised and once when cleared. */
  fault: [event: FaultEvent];
  state: [state: DeviceState];
  property: [id: string, value: number | boolean | string];
}

/** A command handler: receives validated arguments, returns the result. */
export type CommandHandler = (args: Readonly<Record<string, unknown>>) => unknown;

/** Options of {@link Device}. */
export interface DeviceOptions {
  /** The board the device runs on; its definition must be the model's board. */
  board: Board;
  /** Clock of the data path; default: the board's clock. */
  clock?: Clock;
  /** This unit's calibration records by channel id, overriding the model's (its certificate). */
  calibrations?: Readonly<Record<string, CalibrationSpec>>;
  /** Serial number when the model takes it from the environment or the board. */
  serialNumber?: string;
}

/**
 * A running device.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock()
 * const board = new EmulatedBoard({ definition: model.board, clock, seed: 1 })
 * const device = new Device(model, { board })
 * device.on('report', (sample) => console.log(sample.channel, sample.value, sample.unit))
 * await device.start()
 * await clock.advance(10_000)
 * await device.stop()
 * ```
 */
export class Device extends TypedEmitter<DeviceEvents> {
  readonly model: DeviceModel;
  readonly board: Board;
  readonly clock: Clock;
  readonly serialNumber: string;
  #state: DeviceState = 'idle';
  readonly #calibrations: Readonly<Record<string, CalibrationSpec>>;
  readonly #latest = new Map<string, Sample>();
  readonly #properties = new Map<string, number | boolean | string>();
  readonly #commands = new Map<string, CommandHandler>();
  #drivers = new Map<string, SensorDriver>();
  /** Edge counters of the parts' data-ready lines. */
  #readyLines: EdgeCounter[] = [];
  #sampler: Sampler | undefined;
  #streams: StreamSampler | undefined;
  /** What keeps times measured from (a last good value, a last report, a last shown failure). */
  #rebasers: { rebase(stepMs: number): void }[] = [];
  #offStep: (() => void) | undefined;

  constructor(model: DeviceModel, options: DeviceOptions) {
    super();
    if (options.board.definition.id !== model.board.id) {
      throw new ValidationError('board', `device "${model.id}" is declared for ${model.board.id}, but the board is ${options.board.definition.id}`);
    }
    this.model = model;
    this.board = options.board;
    this.clock = options.clock ?? options.board.clock;
    this.#calibrations = options.calibrations ?? {};
    for (const [channelId, calibration] of Object.entries(this.#calibrations)) {
      if (!model.channel(channelId)) throw new ValidationError(`calibrations.${channelId}`, `no channel "${channelId}" in ${model.id}`);
      // A configuration error throws here, at construction, not when start() builds the pipelines.
      validateCalibration(calibration, `calibrations.${channelId}`);
    }
    this.serialNumber = resolveSerialNumber(model, options.serialNumber);
    for (const property of model.properties) this.#properties.set(property.id, property.default);
  }

  /** Current lifecycle state. */
  get state(): DeviceState {
    return this.#state;
  }

  /** The last processed sample of a channel. */
  latest(channelId: string): Sample | undefined {
    return this.#latest.get(channelId);
  }

  /**
   * Opens the drivers and starts sampling. Rejects (and leaves the device `failed`, with every
   * opened driver closed) when a bus cannot be opened.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new StateError(`cannot start a device that is ${this.#state}`);
    this.#setState('starting');
    try {
      // Drivers initialise their parts on the first sample: a part that is absent or faulty at
      // start becomes a bad-quality sample, and the device keeps running.
      this.#openDrivers();
      [this.#sampler, this.#streams] = this.#buildSamplers();
      this.#sampler.start();
      this.#streams.start();
      // A wall-time step the clock follows moves the times ages are measured from with it: a step
      // back is not a value getting younger (a dead sensor repeated as stale for 2 h), nor a step
      // forward one aging at once.
      this.#offStep = onClockStep(this.clock, ({ stepMs }) => {
        for (const holder of this.#rebasers) holder.rebase(stepMs);
      });
      this.#setState('running');
    } catch (error) {
      this.#offStep?.();
      this.#offStep = undefined;
      this.#closeDrivers();
      this.#setState('failed');
      throw error;
    }
  }

  /**
   * Stops sampling and closes the drivers. A read in flight is cut short (its conversion wait is
   * cancelled), so `stop()` resolves without the clock moving on — on a virtual clock too. Nothing
   * is emitted once stopping has begun. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#setState('stopping');
    this.#offStep?.();
    this.#offStep = undefined;
    const sampling = Promise.all([this.#sampler?.stop(), this.#streams?.stop()]);
    this.#closeDrivers();
    await sampling;
    this.#setState('stopped');
  }

  /**
   * Counters of every read group by group id: timed groups (`ticks`, `overruns` …) and
   * sensor-clocked ones (`delivered`, `lost`, `overflows`, `driftPpm` …). Empty before `start()`.
   *
   * @example
   * ```ts
   * device.samplingStats()['mpu6050@i2c0:0x68/1000Hz/x1'] // { delivered: 99870, lost: 0, overflows: 0, driftPpm: 0.4, … }
   * ```
   */
  samplingStats(): Record<string, SamplingStats | StreamStats> {
    return { ...this.#sampler?.stats(), ...this.#streams?.stats() };
  }

  /** Reads a property. */
  readProperty(id: string): number | boolean | string {
    const value = this.#properties.get(id);
    if (value === undefined) throw new ValidationError(`properties.${id}`, `no property "${id}" in ${this.model.id}`);
    return value;
  }

  /** Writes a property after checking its type and range; throws `ValidationError` otherwise. */
  writeProperty(id: string, value: unknown): void {
    const spec = this.model.properties.find((property) => property.id === id);
    if (spec === undefined) throw new ValidationError(`properties.${id}`, `no property "${id}" in ${this.model.id}`);
    if (spec.writable === false) throw new ValidationError(`properties.${id}`, 'is read-only');
    const problem = valueProblem(spec, value);
    if (problem) throw new ValidationError(`properties.${id}`, problem);
    this.#properties.set(id, value as number | boolean | string);
    this.emit('property', id, value as number | boolean | string);
  }

  /** Implements a command of the model. */
  handleCommand(id: string, handler: CommandHandler): void {
    if (!this.model.commands.some((command) => command.id === id)) {
      throw new ValidationError(`commands.${id}`, `no command "${id}" in ${this.model.id}`);
    }
    this.#commands.set(id, handler);
  }

  /** Invokes a command with arguments checked against the model; throws `ValidationError` on bad ones. */
  async invoke(id: string, args: Readonly<Record<string, unknown>> = {}): Promise<unknown> {
    const spec = this.model.commands.find((command) => command.id === id);
    if (spec === undefined) throw new ValidationError(`commands.${id}`, `no command "${id}" in ${this.model.id}`);
    const declared = spec.arguments ?? [];
    for (const name of Object.keys(args)) {
      if (!declared.some((argument) => argument.name === name)) throw new ValidationError(`commands.${id}.${name}`, 'unknown argument');
    }
    for (const argument of declared) {
      const value = args[argument.name];
      if (value === undefined) {
        if (argument.required !== false) throw new ValidationError(`commands.${id}.${argument.name}`, 'required');
        continue;
      }
      const problem = valueProblem(argument, value);
      if (problem) throw new ValidationError(`commands.${id}.${argument.name}`, problem);
    }
    const handler = this.#commands.get(id);
    if (handler === undefined) throw new StateError(`command "${id}" has no handler on this device`);
    return handler(args);
  }

  #openDrivers(): void {
    for (const channel of this.model.channels) {
      const { binding } = channel;
      if (this.#drivers.has(binding.instanceKey)) continue;
      const io =
        binding.io === 'analog'
          ? { clock: this.clock, analog: this.board.openAnalogInput({ pin: binding.pin! }) }
          : { clock: this.clock, i2c: this.board.openI2c({ bus: binding.bus!, address: binding.address!, hz: this.#busHz(binding.bus!) }) };
      // The part's data-ready line (e.g. ADS1115 ALERT/RDY, active low): its falling edges counted.
      const counter = binding.ready === undefined ? undefined : this.board.openEdgeCounter({ pin: binding.ready, edge: 'falling' });
      if (counter !== undefined) this.#readyLines.push(counter);
      const ready = counter === undefined ? {} : { ready: { pulses: () => counter.count() } };
      this.#drivers.set(binding.instanceKey, binding.definition.create({ ...io, ...ready }, binding.options));
    }
  }

  #closeDrivers(): void {
    for (const driver of this.#drivers.values()) driver.close();
    this.#drivers.clear();
    for (const line of this.#readyLines) line.close();
    this.#readyLines = [];
  }

  /**
   * I2C buses run at the board's fastest rate (fast mode, 400 kHz, on the built-in boards): the
   * parts' stated rates (`maxRateFor`) count their transfers at that speed.
   */
  #busHz(bus: string): number {
    return this.model.board.i2cBuses.find((candidate) => candidate.name === bus)?.maxHz ?? 100_000;
  }

  /**
   * The timed sampler and the sensor-clocked one. A read group whose driver offers sensor-clocked
   * acquisition is drained by the second; its rate must be the part's output rate, since each frame
   * is one raw sample.
   */
  #buildSamplers(): [Sampler, StreamSampler] {
    const sampler = new Sampler({ clock: this.clock });
    const streams = new StreamSampler({ clock: this.clock });
    // Channels reading the same part at the same rate share one read per tick.
    const groups = new Map<string, { rateHz: number; oversampling: number; inputs: ChannelInput[]; key: string }>();
    for (const channel of this.model.channels) {
      const { rateHz, oversampling } = channel.binding.readGroup;
      const key = `${channel.binding.instanceKey}/${rateHz}Hz/x${oversampling}`;
      const group = groups.get(key) ?? { rateHz, oversampling, inputs: [], key };
      const sensorClocked = this.#drivers.get(channel.binding.instanceKey)?.acquisition !== undefined;
      group.inputs.push(new ChannelInput(channel, sensorClocked));
      groups.set(key, group);
    }
    const streamed = new Map<string, string>();
    this.#rebasers = [];
    for (const group of groups.values()) {
      const binding = group.inputs[0]!.channel.binding;
      const driver = this.#drivers.get(binding.instanceKey)!;
      const pipelines = group.inputs.map(
        (input) =>
          new ChannelPipeline({
            channel: input.channel,
            alarms: this.model.alarms.filter((alarm) => alarm.channel === input.channel.id),
            ...(this.#calibrations[input.channel.id] ? { calibration: this.#calibrations[input.channel.id]! } : {}),
          }),
      );
      this.#rebasers.push(...pipelines, ...group.inputs);
      const onResult = (result: SamplingResult): void => this.#deliver(result, group.inputs, pipelines);
      const acquisition = driver.acquisition;
      if (acquisition === undefined) {
        sampler.add({ id: group.key, rateHz: group.rateHz, oversampling: group.oversampling, read: () => driver.sample(), onResult });
        continue;
      }
      const channelId = group.inputs[0]!.channel.id;
      const other = streamed.get(binding.instanceKey);
      if (other !== undefined) {
        throw new ValidationError(`channels.${channelId}.sampleRate`, `${binding.instanceKey} streams its FIFO to one rate; channel "${other}" reads it at another`);
      }
      if (group.rateHz !== acquisition.outputRateHz || group.oversampling !== 1) {
        throw new ValidationError(
          `channels.${channelId}.sampleRate`,
          `${binding.instanceKey} samples on its own clock at ${acquisition.outputRateHz} Hz (${acquisition.mode}); the channel must take every sample (raw rate ${acquisition.outputRateHz} Hz, no oversampling), not ${group.rateHz} Hz ×${group.oversampling}`,
        );
      }
      streamed.set(binding.instanceKey, channelId);
      streams.add({ id: group.key, acquisition, onResult });
    }
    return [sampler, streams];
  }

  #deliver(result: SamplingResult, inputs: readonly ChannelInput[], pipelines: readonly ChannelPipeline[]): void {
    // A read cut short by stop() is not a sensor fault.
    if (this.#state !== 'running') return;
    for (let i = 0; i < inputs.length; i++) {
      const updates = inputs[i]!.accept(result);
      for (let j = 0; j < updates.length; j++) this.#process(updates[j]!, pipelines[i]!);
    }
  }

  #process(update: ChannelUpdate, pipeline: ChannelPipeline): void {
    const output = pipeline.process(update.input);
    const sample = withAcquisitionQuality(output.sample, update);
    this.#latest.set(sample.channel, sample);
    this.emit('sample', sample);
    if (output.fault) this.emit('fault', output.fault);
    for (const alarm of output.alarms) this.emit('alarm', alarm);
    if (output.report) this.emit('report', sample);
  }

  #setState(state: DeviceState): void {
    this.#state = state;
    this.emit('state', state);
  }
}

const SEVERITY: Readonly<Record<Quality['level'], number>> = { good: 0, uncertain: 1, bad: 2 };

/**
 * The sample with what the acquisition knows and the pipeline cannot: the worse of the two
 * qualities (the pipeline's when equal), and an incomplete window's completeness.
 */
function withAcquisitionQuality(sample: Sample, update: ChannelUpdate): Sample {
  const quality = update.quality;
  const incomplete = update.completeness !== undefined && update.completeness.received < update.completeness.expected ? update.completeness : undefined;
  if (quality === undefined && incomplete === undefined) return sample;
  const worse = quality !== undefined && SEVERITY[quality.level] > SEVERITY[sample.quality.level] ? quality : sample.quality;
  if (incomplete === undefined) return { ...sample, quality: worse };
  const windowed: Sample & { readonly completeness: WindowCompleteness } = { ...sample, quality: worse, completeness: incomplete };
  return windowed;
}

function resolveSerialNumber(model: DeviceModel, given: string | undefined): string {
  const source = model.identity.serialNumber;
  if (typeof source === 'string') return source;
  const serial = given ?? (source.source === 'env' ? process.env.SENSORKIT_SERIAL : undefined);
  if (serial === undefined || serial === '') {
    throw new ValidationError(
      'serialNumber',
      source.source === 'env' ? 'the model takes the serial number from SENSORKIT_SERIAL, which is not set' : 'the model takes the serial number from the board; pass `serialNumber`',
    );
  }
  return serial;
}
