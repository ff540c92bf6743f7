/**
 * The instrument side of SCPI for sensorkit's simulated instruments: parses program messages,
 * runs them on a simulated DMM, calibrator, supply or chamber, and keeps the error queue
 * (SCPI-99 vol. 2 §21.8: `SYST:ERR?` answers and removes the oldest error, `0,"No error"` when
 * empty; 10 entries, the last replaced by -350 "Queue overflow" when full).
 *
 * Commands besides the IEEE 488.2 common ones (`*IDN?`, `*RST`, `*CLS`, `*OPC?`, `*TST?`) and
 * `SYSTem:ERRor[:NEXT]?`, `SYSTem:VERSion?`:
 * - dmm: `MEASure:VOLTage[:DC]?`, `MEASure:CURRent[:DC]?`, `MEASure:RESistance?`; the signal on its
 *   inputs is set with sensorkit's `SIMulate:INPut:VOLTage|CURRent|RESistance <value>`.
 * - calibrator: `[SOURce]:VOLTage|CURRent|TEMPerature|PRESsure[:LEVel] <value>` and their queries.
 * - supply: `[SOURce]:VOLTage|CURRent[:LEVel] <value>` and queries, `MEASure:VOLTage|CURRent[:DC]?`,
 *   `OUTPut[:STATe] ON|OFF|1|0` and `OUTPut[:STATe]?`, sensorkit's `SIMulate:DIP <depth %>,<ms>`
 *   and `SIMulate:INTerrupt <ms>`.
 * - chamber: `[SOURce]:TEMPerature[:LEVel] <Cel>` and `[SOURce]:HUMidity[:LEVel] <%RH>` and their
 *   queries (the set points), `MEASure:TEMPerature?`, `MEASure:HUMidity?`.
 * Numbers are answered in <NR3> form, e.g. `+1.23450000E+00`; an over-range reading as 9.9E37.
 */
import { SensorkitError } from '../../sdk/core/errors.js';
import { InstrumentError } from './errors.js';
import type { InstrumentQuantity } from './instrument.js';
import { parseScpiNumber } from './scpi-dialect.js';
import { headerPattern, splitMessage, type HeaderPattern } from './scpi-headers.js';
import { SimulatedCalibrator } from './sim-calibrator.js';
import { SimulatedChamber } from './sim-chamber.js';
import type { SimulatedInstrument } from './sim-common.js';
import { SimulatedDmm } from './sim-dmm.js';
import { SimulatedPowerSupply } from './sim-supply.js';

/** The kinds of simulated instruments. */
export type SimulatedKind = 'dmm' | 'calibrator' | 'supply' | 'chamber';

/** The simulated kinds, for validation and help. */
export const SIMULATED_KINDS: readonly SimulatedKind[] = ['dmm', 'calibrator', 'supply', 'chamber'];

const QUEUE_SIZE = 10;

/** A message the simulated instrument refuses: the code and message `SYST:ERR?` will answer. */
class ScpiError extends SensorkitError {
  constructor(
    readonly scpiCode: number,
    readonly scpiMessage: string,
  ) {
    super('ERR_VALIDATION', `${scpiCode},"${scpiMessage}"`);
  }
}

interface Command {
  readonly pattern: HeaderPattern;
  readonly parameters: number;
  run(parameters: readonly string[]): Promise<string | void> | string | void;
}

/**
 * Runs SCPI program messages on one simulated instrument.
 *
 * @example
 * ```ts
 * const engine = new ScpiEngine(new SimulatedDmm({ clock, seed: 1 }))
 * await engine.execute('MEAS:VOLT:DC?') // '+0.00000000E+00'
 * await engine.execute('FOO')           // undefined; SYST:ERR? then answers -113,"Undefined header"
 * ```
 */
export class ScpiEngine {
  readonly instrument: SimulatedInstrument;
  readonly #commands: Command[];
  readonly #errors: { code: number; message: string }[] = [];
  #idn = '';

  constructor(instrument: SimulatedInstrument) {
    this.instrument = instrument;
    this.#commands = [...this.#common(), ...commandsOf(instrument)];
  }

  /** The errors queued and not yet read. */
  get pendingErrors(): readonly { code: number; message: string }[] {
    return this.#errors;
  }

  /**
   * Executes one program message; resolves with the answer line of a query (without `\n`), or
   * undefined for a command or a message that failed (its error is queued).
   */
  async execute(message: string): Promise<string | undefined> {
    const { header, parameters } = splitMessage(message);
    if (header === '') return undefined;
    const command = this.#commands.find((c) => c.pattern.matches(header));
    try {
      if (command === undefined) throw new ScpiError(-113, 'Undefined header');
      if (parameters.length < command.parameters) throw new ScpiError(-109, 'Missing parameter');
      if (parameters.length > command.parameters) throw new ScpiError(-108, 'Parameter not allowed');
      const answer = await command.run(parameters);
      return command.pattern.query ? (answer ?? '') : undefined;
    } catch (error) {
      this.#push(toScpiError(error));
      // A query that failed still answers nothing: the controller reads the error queue.
      return undefined;
    }
  }

  /** Queues an error found outside a message's execution, e.g. -223 "Too much data" for an overlong line. */
  queueError(code: number, message: string): void {
    this.#push(new ScpiError(code, message));
  }

  #push(error: ScpiError): void {
    if (this.#errors.length >= QUEUE_SIZE) this.#errors[QUEUE_SIZE - 1] = { code: -350, message: 'Queue overflow' };
    else this.#errors.push({ code: error.scpiCode, message: error.scpiMessage });
  }

  #common(): Command[] {
    return [
      cmd('*IDN?', 0, async () => (this.#idn ||= await idnOf(this.instrument))),
      cmd('*RST', 0, () => reset(this.instrument)),
      cmd('*CLS', 0, () => void this.#errors.splice(0)),
      cmd('*OPC?', 0, () => '1'),
      cmd('*TST?', 0, () => '0'),
      cmd('SYSTem:ERRor[:NEXT]?', 0, () => {
        const next = this.#errors.shift();
        return next === undefined ? '0,"No error"' : `${next.code},"${next.message}"`;
      }),
      cmd('SYSTem:VERSion?', 0, () => '1999.0'),
    ];
  }
}

function cmd(pattern: string, parameters: number, run: Command['run']): Command {
  return { pattern: headerPattern(pattern), parameters, run };
}

async function idnOf(instrument: SimulatedInstrument): Promise<string> {
  const identity = await instrument.identify();
  return [identity.manufacturer, identity.model, identity.serialNumber, identity.firmware].join(',');
}

/** A numeric parameter; -104 for anything else. */
function numberParameter(text: string): number {
  const parsed = parseScpiNumber(text);
  if (parsed.kind !== 'number') throw new ScpiError(-104, 'Data type error');
  return parsed.value;
}

/**
 * A number in SCPI's <NR3> form with 9 significant digits, as instruments answer readings.
 *
 * @example
 * ```ts
 * nr3(1.2345)  // '+1.23450000E+00'
 * nr3(-0.0125) // '-1.25000000E-02'
 * ```
 */
export function nr3(value: number): string {
  const [mantissa, exponent] = value.toExponential(8).split('e') as [string, string];
  const sign = value < 0 || Object.is(value, -0) ? '' : '+';
  const e = Number(exponent);
  return `${sign}${mantissa}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** A reading as an answer: <NR3>, or 9.9E37 when the instrument is over range. */
async function answerReading(instrument: SimulatedInstrument, quantity: InstrumentQuantity): Promise<string> {
  try {
    return nr3((await instrument.measure(quantity)).value);
  } catch (error) {
    if (error instanceof InstrumentError && error.reason === 'overload') return '+9.90000000E+37';
    throw error;
  }
}

async function reset(instrument: SimulatedInstrument): Promise<void> {
  if (instrument instanceof SimulatedPowerSupply) {
    await instrument.source('voltage-dc', 0, 'V');
    await instrument.source('current-dc', Math.min(1, instrument.maxCurrent), 'A');
    instrument.setOutput(true);
  } else if (instrument instanceof SimulatedCalibrator) {
    for (const quantity of instrument.sources) if (instrument.output(quantity).valueAt(instrument.clock.now()) !== 0) await instrument.source(quantity, 0, instrument.output(quantity).unit);
  }
  // The DMM has no state to reset; the chamber keeps its set point (a chamber never drops its load
  // to a default temperature on a reset).
}

function sourceCommands(instrument: SimulatedInstrument, mnemonic: string, quantity: InstrumentQuantity, unit: string, setting: () => number): Command[] {
  return [
    cmd(`[SOURce]:${mnemonic}[:LEVel]`, 1, ([value]) => instrument.source(quantity, numberParameter(value!), unit)),
    cmd(`[SOURce]:${mnemonic}[:LEVel]?`, 0, () => nr3(setting())),
  ];
}

function commandsOf(instrument: SimulatedInstrument): Command[] {
  if (instrument instanceof SimulatedDmm) {
    const input = (quantity: 'voltage-dc' | 'current-dc' | 'resistance') => ([value]: readonly string[]) => {
      const constant = numberParameter(value!);
      instrument.connect(quantity, { valueAt: () => constant });
    };
    return [
      cmd('MEASure:VOLTage[:DC]?', 0, () => answerReading(instrument, 'voltage-dc')),
      cmd('MEASure:CURRent[:DC]?', 0, () => answerReading(instrument, 'current-dc')),
      cmd('MEASure:RESistance?', 0, () => answerReading(instrument, 'resistance')),
      cmd('SIMulate:INPut:VOLTage', 1, input('voltage-dc')),
      cmd('SIMulate:INPut:CURRent', 1, input('current-dc')),
      cmd('SIMulate:INPut:RESistance', 1, input('resistance')),
    ];
  }
  if (instrument instanceof SimulatedCalibrator) {
    const nominal = (quantity: InstrumentQuantity) => async () => nr3((await instrument.measure(quantity)).value);
    return [
      cmd('[SOURce]:VOLTage[:LEVel]', 1, ([v]) => instrument.source('voltage-dc', numberParameter(v!), 'V')),
      cmd('[SOURce]:VOLTage[:LEVel]?', 0, nominal('voltage-dc')),
      cmd('[SOURce]:CURRent[:LEVel]', 1, ([v]) => instrument.source('current-dc', numberParameter(v!), 'A')),
      cmd('[SOURce]:CURRent[:LEVel]?', 0, nominal('current-dc')),
      cmd('[SOURce]:TEMPerature[:LEVel]', 1, ([v]) => instrument.source('temperature', numberParameter(v!), 'Cel')),
      cmd('[SOURce]:TEMPerature[:LEVel]?', 0, nominal('temperature')),
      cmd('[SOURce]:PRESsure[:LEVel]', 1, ([v]) => instrument.source('pressure', numberParameter(v!), 'Pa')),
      cmd('[SOURce]:PRESsure[:LEVel]?', 0, nominal('pressure')),
    ];
  }
  if (instrument instanceof SimulatedPowerSupply) {
    return [
      cmd('[SOURce]:VOLTage[:LEVel]', 1, ([v]) => instrument.source('voltage-dc', numberParameter(v!), 'V')),
      cmd('[SOURce]:VOLTage[:LEVel]?', 0, () => nr3(instrument.setting.voltage)),
      cmd('[SOURce]:CURRent[:LEVel]', 1, ([v]) => instrument.source('current-dc', numberParameter(v!), 'A')),
      cmd('[SOURce]:CURRent[:LEVel]?', 0, () => nr3(instrument.setting.currentLimit)),
      cmd('MEASure:VOLTage[:DC]?', 0, () => answerReading(instrument, 'voltage-dc')),
      cmd('MEASure:CURRent[:DC]?', 0, () => answerReading(instrument, 'current-dc')),
      cmd('OUTPut[:STATe]', 1, ([state]) => {
        const s = state!.toUpperCase();
        if (!['ON', 'OFF', '1', '0'].includes(s)) throw new ScpiError(-104, 'Data type error');
        instrument.setOutput(s === 'ON' || s === '1');
      }),
      cmd('OUTPut[:STATe]?', 0, () => (instrument.setting.on ? '1' : '0')),
      cmd('SIMulate:DIP', 2, ([depth, duration]) => void instrument.dip({ depthPercent: numberParameter(depth!), durationMs: numberParameter(duration!) })),
      cmd('SIMulate:INTerrupt', 1, ([duration]) => void instrument.interrupt({ durationMs: numberParameter(duration!) })),
    ];
  }
  if (instrument instanceof SimulatedChamber) {
    return [
      ...sourceCommands(instrument, 'TEMPerature', 'temperature', 'Cel', () => instrument.setPoint),
      cmd('MEASure:TEMPerature?', 0, () => answerReading(instrument, 'temperature')),
      ...sourceCommands(instrument, 'HUMidity', 'relative-humidity', '%RH', () => instrument.humiditySetPoint),
      cmd('MEASure:HUMidity?', 0, () => answerReading(instrument, 'relative-humidity')),
    ];
  }
  return [];
}

function toScpiError(error: unknown): ScpiError {
  if (error instanceof ScpiError) return error;
  if (error instanceof InstrumentError && error.instrumentCode !== undefined) return new ScpiError(error.instrumentCode, error.instrumentMessage ?? 'Execution error');
  if (error instanceof SensorkitError && error.code === 'ERR_ARGUMENT') return new ScpiError(-224, 'Illegal parameter value');
  return new ScpiError(-200, 'Execution error');
}
