/** `sensorkit ota …`: keys, signing, verification, the update server, campaigns and the device agent. */
import { UsageError } from '../usage.js';
import { UPDATE_HELP, deviceCommand } from './device-commands.js';
import { CAMPAIGN_HELP, DEVICE_HELP, SERVE_HELP, TOKEN_HELP, campaignCommand, deviceGroupCommand, serveCommand, tokenCommand } from './server-commands.js';
import { INSPECT_HELP, KEYGEN_HELP, SIGN_HELP, VERIFY_HELP, inspectCommand, keygenCommand, signCommand, verifyCommand } from './sign-commands.js';

export const OTA_USAGE = `Usage: sensorkit ota keygen|sign|verify|inspect|serve|token|campaign|device|provision|update [options]

Signed over-the-air updates: SUIT envelopes (RFC 9019, RFC 9124, draft-ietf-suit-manifest-37) with
COSE_Sign1 (Ed25519 or ECDSA P-256), an update server with resumable downloads and rollout
campaigns, and the device agent (A/B images, several components installed together or not at all,
trial boot, confirm or automatic rollback, anti-rollback counter, audit log).

Commands:
  keygen     write a signing key pair
  sign       sign a payload into a SUIT envelope
  verify     verify an envelope (and a payload)
  inspect    print any SUIT envelope: commands, parameters, text, severable members
  serve      serve images over HTTP with Range/ETag, and the campaign API
  token      administrator tokens of the update server's campaign API
  campaign   create, inspect, widen or halt rollout campaigns (SQLite)
  device     assign devices to the groups campaigns target
  provision  install the factory image into a device directory
  update     install an update into a device directory, with a progress bar

Run 'sensorkit ota <command> --help' for a command's options.
`;

const HELPS: Record<string, string> = { keygen: KEYGEN_HELP, sign: SIGN_HELP, verify: VERIFY_HELP, inspect: INSPECT_HELP, serve: SERVE_HELP, token: TOKEN_HELP, campaign: CAMPAIGN_HELP, device: DEVICE_HELP, provision: UPDATE_HELP, update: UPDATE_HELP };

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
    case 'provision':
    case 'update':
      return deviceCommand(command, rest);
    default:
      throw new UsageError(`ota: unknown command "${command}"; expected keygen, sign, verify, inspect, serve, token, campaign, device, provision or update`);
  }
}
