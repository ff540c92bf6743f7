/**
 * `sensorkit config`: checks a configuration file without starting anything (`check`), or prints
 * its JSON Schema for editors (`schema`).
 */
import { parseArgs } from 'node:util';
import { ConfigFileError, CONFIG_FILE_NAMES, findConfigFile, loadConfigFile } from '../runtime/config-file.js';
import { configJsonSchema, type RuntimeConfig } from '../runtime/config.js';
import { loadDeviceFile } from '../runtime/device-file.js';
import { redactCredentials } from '../transport/mqtt/credentials.js';
import { UsageError } from './usage.js';

export const CONFIG_HELP = `Usage: sensorkit config <check|schema> [FILE] [options]

Checks a runtime configuration file (sensorkit.config.json, or a .ts/.js module exporting
defineConfig({ … })) without starting anything: every setting, the board, and the device file
it names. Prints a one-line summary (exit 0) or the first error with the path of its field (exit 1).

  config check [FILE]    check FILE (default: ./sensorkit.config.{json,ts,js,mjs})
  config schema          print the JSON Schema of sensorkit.config.json, for editors
                         ("$schema": "./sensorkit.config.schema.json")

Options:
  -h, --help             show this help

Examples:
  sensorkit config check /opt/sensor/sensorkit.config.json
  sensorkit config schema > sensorkit.config.schema.json
`;

/** Runs the `config` verb; resolves with the exit code. */
export async function configCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(CONFIG_HELP);
    return 0;
  }
  const [action, ...rest] = positionals;
  switch (action) {
    case 'check': {
      if (rest.length > 1) throw new UsageError(`config check takes one FILE, got ${rest.length}: ${rest.join(' ')}`);
      const file = rest[0] ?? findConfigFile('.');
      if (file === undefined) throw new UsageError(`config check: no ${CONFIG_FILE_NAMES.join(', ')} here; give FILE`);
      const { config } = await loadConfigFile(file);
      let device = 'no device (sensorkit run takes DEVICE)';
      if (config.device !== undefined) {
        try {
          const { model } = await loadDeviceFile(config.device);
          device = `device ${model.id} (${config.device})`;
        } catch (error) {
          throw new ConfigFileError(file, 'device', error instanceof Error ? error.message : String(error), { cause: error });
        }
      }
      process.stdout.write(`${file}: ok: ${summary(config, device)}\n`);
      return 0;
    }
    case 'schema':
      if (rest.length > 0) throw new UsageError(`config schema takes no arguments, got ${rest.join(' ')}`);
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      return 0;
    case undefined:
      throw new UsageError('config: expected check or schema');
    default:
      throw new UsageError(`config: unknown action "${action}"; expected check or schema`);
  }
}

/** One line on what the configuration runs: device, board, MQTT, outbox, OPC UA, and the security settings given. */
function summary(config: RuntimeConfig, device: string): string {
  const mqtt = config.mqtt;
  const tls = mqtt ? Object.keys(mqtt.tls ?? {}) : [];
  const opcua = config.opcua;
  return [
    `${device} on ${config.board ?? 'emulated'}${config.board === undefined || config.board === 'emulated' ? `, seed ${config.seed ?? 1}` : ''}`,
    mqtt === false ? 'MQTT off' : `MQTT ${mqtt?.url === undefined ? 'embedded broker' : redactCredentials(mqtt.url)}${tls.length > 0 ? ` (TLS: ${tls.join(', ')})` : ''}`,
    mqtt === false ? undefined : `outbox ${config.outbox?.dir ?? '.sensorkit/outbox/<device id>'}`,
    opcua === false ? 'OPC UA off' : `OPC UA port ${opcua?.port ?? 4840} (${opcua?.profile ?? config.profile ?? 'dev'})`,
    config.profile === undefined ? undefined : `profile ${config.profile}`,
    config.security?.identity?.dir === undefined ? undefined : `identity ${config.security.identity.dir}`,
    config.security?.auditLog === undefined ? undefined : config.security.auditLog === false ? 'audit log off' : `audit log ${config.security.auditLog.file ?? '.sensorkit/audit/<device id>.log'}`,
    config.security?.operators === undefined ? undefined : `operators ${config.security.operators}`,
  ]
    .filter((part) => part !== undefined)
    .join('; ');
}
