/** `sensorkit ota …`: keys, signing, verification, the update server, campaigns and the device agent. */
import { UsageError } from '../usage.js';
import { UPDATE_HELP, deviceCommand } from './device-commands.js';
import { CAMPAIGN_HELP, DEVICE_HELP, FLEET_HELP, campaignCommand, deviceGroupCommand, fleetCommand } from './fleet-commands.js';
import { fleetSimulateCommand } from './fleet-simulate.js';
import { SERVE_HELP, TOKEN_HELP, serveCommand, tokenCommand } from './server-commands.js';
import { INSPECT_HELP, KEYGEN_HELP, SIGN_HELP, VERIFY_HELP, inspectCommand, keygenCommand, signCommand, verifyCommand } from './sign-commands.js';

export const OTA_USAGE = `Usage: sensorkit ota keygen|sign|verify|inspect|serve|token|campaign|device|fleet|provision|update [options]

Signed over-the-air updates: SUIT envelopes (RFC 9019, RFC 9124, draft-ietf-suit-manifest-37) with
COSE_Sign1 (Ed25519 or ECDSA P-256), an update server with resumable downloads and rollout
campaigns, and the device agent (A/B images, several components installed together or not at all,
trial boot, confirm or automatic rollback, anti-rollback counter, audit log).

Commands:
  keygen     write a signing key pair
  sign       sign a payload into a SUIT envelope
  verify     verify an envelope (and a payload)
  inspect    print any SUIT envelope: commands, parameters, text, severable members
  serve      the update server: a device API and a management API on one fleet database
  token      administrator tokens of the update server's management API
  campaign   create, inspect, pause, resume, halt or roll back rollout campaigns (PostgreSQL or PGlite)
  device     assign devices to the groups and hardware revisions campaigns target
  fleet      the kill switch (stop|start|status), and simulated devices (simulate)
  provision  install the factory image into a device directory
  update     install an update into a device directory, with a progress bar

Run 'sensorkit ota <command> --help' for a command's options.
`;

const HELPS: Record<string, string> = { keygen: KEYGEN_HELP, sign: SIGN_HELP, verify: VERIFY_HELP, inspect: INSPECT_HELP, serve: SERVE_HELP, token: TOKEN_HELP, campaign: CAMPAIGN_HELP, device: DEVICE_HELP, fleet: FLEET_HELP, provision: UPDATE_HELP, update: UPDATE_HELP };

/**
 * Runs `sensorkit ota <command>`; resolves with the exit code.
 *
 * @example
 * ```ts
 * await runOta(['verify', 'fw.suit', '--key', 'keys/public.pem']) // 0
 * ```
 */
export async function runOta(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stdout.write(OTA_USAGE);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(rest[0] && HELPS[rest[0]] ? HELPS[rest[0]]! : OTA_USAGE);
      return 0;
    case 'keygen':
      return keygenCommand(rest);
    case 'sign':
      return signCommand(rest);
    case 'verify':
      return verifyCommand(rest);
    case 'inspect':
      return inspectCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'token':
      return tokenCommand(rest);
    case 'campaign':
      return campaignCommand(rest);
    case 'device':
      return deviceGroupCommand(rest);
    case 'fleet':
      return rest[0] === 'simulate' ? fleetSimulateCommand(rest.slice(1)) : fleetCommand(rest);
    case 'provision':
    case 'update':
      return deviceCommand(command, rest);
    default:
      throw new UsageError(`ota: unknown command "${command}"; expected keygen, sign, verify, inspect, serve, token, campaign, device, fleet, provision or update`);
  }
}
