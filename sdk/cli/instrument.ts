/** `sensorkit instrument simulate`: simulated SCPI instruments for dry runs of test plans. */
import { parseArgs } from 'node:util';
import { SIMULATED_KINDS, startScpiSimulator, type ScpiMisbehaviour, type SimulatedKind } from '../../hil/instruments/index.js';
import { UsageError, parseNumberOption } from './usage.js';

export const INSTRUMENT_HELP = `Usage: sensorkit instrument simulate dmm|calibrator|supply|chamber [options]

Serves a simulated SCPI instrument on a raw TCP socket (the SCPI-RAW port 5025 by default), on the
system clock with seeded noise: a 6½-digit DMM, a calibrator (voltage, current, temperature,
pressure; certificate U at k = 2), a DC power supply (dips and interruptions) or a climatic chamber
(temperature ramp rate and time constant, humidity). The FIRST line of output is the instrument spec a plan or
\`sensorkit hil run --instrument ROLE=SPEC\` reaches it by, e.g. scpi-tcp:127.0.0.1:5025.

Commands: *IDN? *RST *CLS *OPC? *TST? SYST:ERR? SYST:VERS?, and per kind:
  dmm         MEAS:VOLT:DC?  MEAS:CURR:DC?  MEAS:RES?  SIM:INP:VOLT|CURR|RES <value>
  calibrator  SOUR:VOLT|CURR|TEMP|PRES <value>  and their queries (V, A, Cel, Pa)
  supply      SOUR:VOLT|CURR <value>  MEAS:VOLT?  MEAS:CURR?  OUTP ON|OFF  SIM:DIP <depth %>,<ms>  SIM:INT <ms>
  chamber     SOUR:TEMP <Cel>  SOUR:HUM <%RH>  and their queries  MEAS:TEMP?  MEAS:HUM?

Options:
  --port N        TCP port (default 5025; 0 picks a free port)
  --host ADDRESS  address to bind (default 127.0.0.1: this machine only)
  --seed N        seed of the instrument's noise (default 1)
  --idn TEXT      answer *IDN? with TEXT (to test a driver against garbage)
  --silent        answer no query (to test a driver's timeout)
  --delay MS      answer every query MS late
  -h, --help      show this help

Ctrl-C (or SIGTERM) stops it.
`;

/**
 * Runs `sensorkit instrument …` until Ctrl-C or SIGTERM; resolves with the exit code. Throws
 * `UsageError` for a wrong command line, `StateError` when the port cannot be bound.
 *
 * @example
 * ```ts
 * process.exitCode = await instrumentCommand(['simulate', 'dmm', '--port', '5025'])
 * ```
 */
export async function instrumentCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '5025' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: '1' },
      idn: { type: 'string' },
      silent: { type: 'boolean', default: false },
      delay: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(INSTRUMENT_HELP);
    return 0;
  }
  const [action, kind, ...extra] = positionals;
  if (action === undefined) throw new UsageError('instrument: which action? (simulate)');
  if (action !== 'simulate') throw new UsageError(`instrument: unknown action "${action}" (available: simulate)`);
  if (kind === undefined) throw new UsageError(`instrument simulate: which instrument? (${SIMULATED_KINDS.join(', ')})`);
  if (!SIMULATED_KINDS.includes(kind as SimulatedKind)) throw new UsageError(`instrument simulate: unknown instrument "${kind}" (available: ${SIMULATED_KINDS.join(', ')})`);
  if (extra.length > 0) throw new UsageError(`instrument simulate ${kind} takes no further arguments, got: ${extra.join(' ')}`);
  const port = parseNumberOption('--port', values.port, { integer: true, min: 0, max: 65_535 });
  const seed = parseNumberOption('--seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const delayMs = values.delay === undefined ? undefined : parseNumberOption('--delay', values.delay, { min: 0, max: 3_600_000 });
  if (values.host.trim() === '') throw new UsageError('--host: expected an address, got ""');
  const misbehave: ScpiMisbehaviour = {
    ...(values.idn === undefined ? {} : { idn: values.idn }),
    ...(values.silent ? { silent: true } : {}),
    ...(delayMs === undefined ? {} : { delayMs }),
  };

  // Signals are caught before the port opens, so a Ctrl-C at start-up still closes it.
  let stopped = false;
  let wake = (): void => undefined;
  const stop = (): void => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const simulator = await startScpiSimulator({ kind: kind as SimulatedKind, port, host: values.host, seed, misbehave });
    const identity = await simulator.instrument.identify();
    process.stdout.write(`${simulator.spec}\n`);
    const quirks = [values.idn === undefined ? '' : 'garbage *IDN?', values.silent ? 'silent' : '', delayMs === undefined ? '' : `answers ${delayMs} ms late`].filter(Boolean);
    process.stdout.write(`simulating ${identity.model} (${kind}), seed ${seed}, SCPI on ${simulator.host}:${simulator.port}${quirks.length ? ` [${quirks.join(', ')}]` : ''}; Ctrl-C stops it\n`);
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (stopped) resolve();
    });
    await simulator.close();
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
