/**
 * The `sensorkit` command line: one binary, a verb per job. Every verb has `--help`, exits non-zero
 * on failure and prints a one-line reason for a user error (no stack trace unless SENSORKIT_DEBUG=1).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SensorkitError } from '../core/errors.js';
import { UsageError } from './usage.js';

// Beside this file in both trees: examples/env-node/device.ts from the sources, and
// dist/examples/env-node/device.js in the built package.
const DEFAULT_DEVICE = fileURLToPath(new URL('../../examples/env-node', import.meta.url));

/**
 * Each verb's module is imported when the verb runs: a device started with `run` does not load
 * the serial-port, emulator, OPC UA PKI and OTA code of the other verbs (about 10 MB of resident
 * memory, see test/bench/memory.bench.ts).
 */
const VERBS: Readonly<Record<string, { help: () => Promise<string>; run: (args: readonly string[]) => Promise<number> }>> = {
  run: { help: async () => (await import('./run.js')).RUN_HELP, run: async (args) => (await import('./run.js')).runCommand(args, DEFAULT_DEVICE) },
  model: { help: async () => (await import('./model.js')).MODEL_HELP, run: async (args) => (await import('./model.js')).modelCommand(args, DEFAULT_DEVICE) },
  config: { help: async () => (await import('./config.js')).CONFIG_HELP, run: async (args) => (await import('./config.js')).configCommand(args) },
  opcua: { help: async () => (await import('./opcua.js')).OPCUA_HELP, run: async (args) => (await import('./opcua.js')).opcuaCommand(args) },
  emulate: { help: async () => (await import('./emulate.js')).EMULATE_HELP, run: async (args) => (await import('./emulate.js')).emulateCommand(args) },
  boards: { help: async () => (await import('./boards.js')).BOARDS_HELP, run: async (args) => (await import('./boards.js')).boardsCommand(args) },
  ota: { help: async () => (await import('./ota/index.js')).OTA_USAGE, run: async (args) => (await import('./ota/index.js')).runOta(args) },
  hil: { help: async () => (await import('./hil/index.js')).HIL_HELP, run: async (args) => (await import('./hil/index.js')).hilCommand(args) },
  instrument: { help: async () => (await import('./instrument.js')).INSTRUMENT_HELP, run: async (args) => (await import('./instrument.js')).instrumentCommand(args) },
  identity: { help: async () => (await import('./identity.js')).IDENTITY_HELP, run: async (args) => (await import('./identity.js')).identityCommand(args) },
  'audit-log': { help: async () => (await import('./audit-log.js')).AUDIT_LOG_HELP, run: async (args) => (await import('./audit-log.js')).auditLogCommand(args) },
  operator: { help: async () => (await import('./operator.js')).OPERATOR_HELP, run: async (args) => (await import('./operator.js')).operatorCommand(args) },
  cmd: { help: async () => (await import('./cmd.js')).CMD_HELP, run: async (args) => (await import('./cmd.js')).cmdCommand(args) },
  audit: { help: async () => (await import('./audit.js')).AUDIT_HELP, run: async (args) => (await import('./audit.js')).auditCommand(args) },
};

const COMMANDS = `Usage: sensorkit <command> [options]

Commands:
  run [DEVICE]    run a device (default: examples/env-node on the emulated board)
  model [DEVICE]  print the device's W3C WoT Thing Description, CDDL or OPC UA NodeSet2
  config          check a runtime configuration file, or print its JSON Schema
  opcua           the OPC UA server's PKI: trust or list client certificates
  emulate         serve an emulated board over Firmata on a pseudo-terminal
  boards          list serial ports and the boards on them
  ota             signed updates: keygen, sign, verify, inspect, serve
  hil             test plans on a device: run, verify, replay, list, keygen
  instrument      simulated SCPI instruments for dry runs of test plans
  identity        the device's key pair and certificate: init, show, csr
  operator        operator keys and roles for signed commands: keygen, trust, revoke
  cmd             send a signed command to a device
  audit-log       the tamper-evident audit log: verify, show
  audit           hardening audit (IEC 62443-4-2, ETSI EN 303 645): table, JSON or SARIF

Options:
  -h, --help      show help (also: sensorkit <command> --help)
  -v, --version   print the version
`;

/** The overview and the usage line of every verb. */
async function help(): Promise<string> {
  const usages = await Promise.all(Object.values(VERBS).map(async (verb) => (await verb.help()).split('\n')[0]));
  return `${COMMANDS}\n${usages.join('\n')}\n`;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(await help());
        return verb === undefined ? 2 : 0;
      case '-v':
      case '--version':
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      default: {
        const command = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
        if (command === undefined) throw new UsageError(`unknown command "${verb}"`);
        return await command.run(rest);
      }
    }
  } catch (error) {
    return reportError(error, verb);
  }
}

/**
 * sensorkit's version from its package.json, found by walking up from this file: it is two folders
 * up from the sources (sdk/cli) and three from the built package (dist/sdk/cli).
 */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'sensorkit' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No package.json here: keep walking up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

function reportError(error: unknown, verb: string | undefined): number {
  if (process.env.SENSORKIT_DEBUG === '1') console.error(error);
  if (error instanceof UsageError || isParseArgsError(error)) {
    process.stderr.write(`sensorkit: ${(error as Error).message}\nTry 'sensorkit ${verb && verb.startsWith('-') === false ? `${verb} ` : ''}--help'.\n`);
    return 2;
  }
  if (error instanceof SensorkitError) {
    process.stderr.write(`sensorkit: ${error.message}\n`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sensorkit: unexpected error: ${message.split('\n')[0]}\n(run with SENSORKIT_DEBUG=1 for the stack trace)\n`);
  return 1;
}

/** node:util `parseArgs` throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION. */
function isParseArgsError(error: unknown): boolean {
  const code: unknown = error instanceof TypeError ? (error as TypeError & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
