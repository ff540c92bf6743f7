/**
 * `sensorkit model [DEVICE]`: prints an export of a device model — its W3C WoT Thing Description or
 * the CDDL of its payloads — derived from the model alone (nothing runs, no board is opened).
 */
import { parseArgs } from 'node:util';
import { ValidationError } from '../core/errors.js';
import { loadConfigFile } from '../runtime/config-file.js';
import { loadDeviceFile } from '../runtime/device-file.js';
import type { DeviceModel } from '../model/define-device.js';
import { payloadCddl } from '../encoding/cddl.js';
import { deviceIdFor } from '../encoding/topics.js';
import { DEFAULT_BROKER_URL, thingDescription, type SecurityHint } from '../encoding/wot.js';
import { UsageError } from './usage.js';

export const MODEL_HELP = `Usage: sensorkit model [DEVICE] [options]

Prints an export of a device model: its W3C WoT Thing Description (TD 1.1, JSON) with MQTT forms
for its topics, the CDDL (RFC 8610) of the payloads on those topics, or its OPC UA information
model as NodeSet2 XML (OPC UA for Devices; needs the OPC UA base and DI nodesets to load).

  DEVICE                 a device file (.ts or .js) or a folder with device.ts/device.js
                         (default: the configuration's device, else examples/env-node)

Options:
  --config FILE          take the device, serial number and broker URL from this runtime
                         configuration (sensorkit.config.json, .ts or .js); flags override them
  --format FORMAT        what to print: wot, cddl or nodeset (default: wot)
  --serial TEXT          serial number, when the model takes it from the board or environment
                         (default: SENSORKIT_SERIAL, else EMU-1 as \`sensorkit run\` uses)
  --broker URL           the broker in the TD's forms, mqtt://host:port or mqtts://host:port
                         (default: ${DEFAULT_BROKER_URL}, the embedded development broker)
  --security SCHEME      what clients present to the broker: nosec, basic or psk (default: nosec)
  -h, --help             show this help

Examples:
  sensorkit model examples/motor-monitor --serial MM-0042 > motor-monitor.td.json
  sensorkit model --format cddl > env-node.cddl
  sensorkit model examples/env-node --format nodeset > env-node.NodeSet2.xml
`;

const FORMATS = ['wot', 'cddl', 'nodeset'] as const;
const SECURITY: readonly SecurityHint[] = ['nosec', 'basic', 'psk'];

/** Serial number of the emulated device `sensorkit run` starts with its default seed. */
export const DEFAULT_SERIAL = 'EMU-1';

/** Runs the `model` verb; resolves with the exit code. */
export async function modelCommand(argv: readonly string[], defaultDevice: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      format: { type: 'string', default: 'wot' },
      serial: { type: 'string' },
      broker: { type: 'string' },
      security: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(MODEL_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`model takes one DEVICE, got ${positionals.length}: ${positionals.join(' ')}`);
  const format = values.format;
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: unknown format "${format}"; available: ${FORMATS.join(', ')}`);
  if (format === 'cddl') {
    for (const option of ['serial', 'broker', 'security'] as const) {
      if (values[option] !== undefined) throw new UsageError(`--${option} applies to --format wot only`);
    }
  }
  if (format === 'nodeset') {
    for (const option of ['broker', 'security'] as const) {
      if (values[option] !== undefined) throw new UsageError(`--${option} applies to --format wot only`);
    }
  }
  const security = values.security;
  if (security !== undefined && !(SECURITY as readonly string[]).includes(security)) {
    throw new UsageError(`--security: unknown scheme "${security}"; available: ${SECURITY.join(', ')}`);
  }
  if (values.serial !== undefined && values.serial.trim() === '') throw new UsageError('--serial: expected a non-empty serial number');

  const config = values.config === undefined ? {} : (await loadConfigFile(values.config)).config;
  const { model } = await loadDeviceFile(positionals[0] ?? config.device ?? defaultDevice);
  if (format === 'cddl') {
    process.stdout.write(payloadCddl(model));
    return 0;
  }
  const serialNumber = serialFor(model, values.serial ?? config.serialNumber);
  const brokerUrl = values.broker ?? (config.mqtt ? config.mqtt.url : undefined);
  if (format === 'nodeset') {
    // node-opcua loads only for this format.
    const { exportNodeset2, routeNodeOpcuaLogs } = await import('../transport/opcua/index.js');
    routeNodeOpcuaLogs((line) => process.stderr.write(`sensorkit: ${line}\n`));
    process.stdout.write(await exportNodeset2(model, { deviceId: deviceIdFor(model, serialNumber), serialNumber }));
    return 0;
  }
  let td: object;
  try {
    td = thingDescription(model, {
      deviceId: deviceIdFor(model, serialNumber),
      serialNumber,
      ...(brokerUrl === undefined ? {} : { brokerUrl }),
      ...(security === undefined ? {} : { security: security as SecurityHint }),
    });
  } catch (error) {
    if (error instanceof ValidationError && error.path === 'brokerUrl') throw new UsageError(`--broker: ${error.reason}`);
    throw error;
  }
  process.stdout.write(`${JSON.stringify(td, null, 2)}\n`);
  return 0;
}

/**
 * The serial number as a device would resolve it: the model's fixed serial, else `--serial`, else
 * `SENSORKIT_SERIAL` for models that read it from the environment, else {@link DEFAULT_SERIAL}.
 */
function serialFor(model: DeviceModel, given: string | undefined): string {
  const source = model.identity.serialNumber;
  if (typeof source === 'string') return source;
  const fromEnv = source.source === 'env' ? process.env.SENSORKIT_SERIAL : undefined;
  return given ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_SERIAL : fromEnv);
}
