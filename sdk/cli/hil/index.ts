/**
 * `sensorkit hil`: run test plans on devices, verify and replay their records, list the shipped
 * plans, make a signing key. A usage error is one line with a hint to `--help`; a set-up error
 * (a plan that does not load, a target that does not answer, an instrument that does not identify,
 * a file that cannot be read) is one line too, and both exit 2.
 */
import { SensorkitError } from '../../core/errors.js';
import { UsageError } from '../usage.js';

export const HIL_HELP = `Usage: sensorkit hil run|verify|replay|list|init|calibrate|keygen [options]

Hardware-in-the-loop tests: runs a test plan on a device (emulated on virtual time, or a real board
over Firmata, serial or Linux), with simulated or SCPI instruments, and writes a signed, replayable
record.json, junit.xml and a self-contained report.html.

Commands:
  run PLAN       run a plan on one or several devices (--target, --station)
  verify FILE    check a record's signature against --key (exit 1 when a byte of the results
                 changed or the signer was not checked)
  replay FILE    rerun an emulated record and print any difference (a plan file runs only when
                 the record is signed by a --key given, or when you give it with --plan)
  list           the shipped plans
  init DEVICE    write a test plan from a device model
  calibrate DEVICE
                 calibrate a channel on the emulated target, or on a real board with --target,
                 --instrument reference=SPEC and --standard FILE.json; writes a signed calibration record
  keygen         write a P-256 key pair that signs records

Exit status: 0 every test passed, 1 a test failed (or verify/replay found a difference),
2 a usage or set-up error.

Run 'sensorkit hil <command> --help' for a command's options.
`;

interface Command {
  readonly help: string;
  readonly run: (argv: readonly string[]) => Promise<number>;
}

/**
 * Each command's module is imported when it runs: `verify`, `list` and `keygen` do not load the
 * targets, the runtime and their network stacks.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => import('./run.js').then((m) => ({ help: m.RUN_HELP, run: m.runCommand })),
  verify: async () => import('./verify.js').then((m) => ({ help: m.VERIFY_HELP, run: m.verifyCommand })),
  replay: async () => import('./replay.js').then((m) => ({ help: m.REPLAY_HELP, run: m.replayCommand })),
  list: async () => import('./list.js').then((m) => ({ help: m.LIST_HELP, run: m.listCommand })),
  init: async () => import('./init.js').then((m) => ({ help: m.INIT_HELP, run: m.initCommand })),
  calibrate: async () => import('./calibrate.js').then((m) => ({ help: m.CALIBRATE_HELP, run: m.calibrateCommand })),
  keygen: async () => import('./keygen.js').then((m) => ({ help: m.KEYGEN_HELP, run: m.keygenCommand })),
};

/**
 * Runs `sensorkit hil …`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await hilCommand(['run', 'env-node-temperature', '--out', 'out'])
 * ```
 */
export async function hilCommand(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stdout.write(HIL_HELP);
      return 2;
    case '-h':
    case '--help':
    case 'help': {
      const topic = rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? (await COMMANDS[rest[0]]!()).help : HIL_HELP;
      process.stdout.write(topic);
      return 0;
    }
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (load === undefined) throw new UsageError(`hil: unknown command "${command}"; expected run, verify, replay, list, init, calibrate or keygen`);
  const entry = await load();
  try {
    return await entry.run(rest);
  } catch (error) {
    // Usage errors get their hint to --help from the top level; a set-up error is one line, exit 2.
    if (error instanceof UsageError || !(error instanceof SensorkitError)) throw error;
    if (process.env.SENSORKIT_DEBUG === '1') console.error(error);
    process.stderr.write(`sensorkit: hil ${command}: ${error.message.split('\n')[0]}\n`);
    return 2;
  }
}
