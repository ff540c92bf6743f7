/**
 * A device's OPC UA side. node-opcua is loaded only here, when the server starts, so a device
 * without OPC UA never loads it (it takes seconds and most of a device's memory).
 */
import { join, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import type { Device } from '../device/device.js';
import type { OpcuaConfig } from './config.js';

/** A serving OPC UA server. */
export interface OpcuaSide {
  readonly endpointUrl: string;
  readonly profile: 'dev' | 'production';
  /** What an operator should know about this configuration (the `dev` profile's openness). */
  readonly warnings: readonly string[];
  stop(): Promise<void>;
}

/** The default users file, relative to the working directory. */
export const DEFAULT_USERS_FILE = join('.sensorkit', 'opcua-users.json');

/**
 * Starts the OPC UA server of `device`; node-opcua's own messages go to `log`. A port in use is a
 * `ValidationError` with the path `opcua.port`; other settings' errors keep the server's paths
 * (`users: the production profile admits no anonymous client …`).
 *
 * @example
 * ```ts
 * const opcua = await startOpcuaSide(device, { port: 0, profile: 'dev' }, (line) => console.error(line))
 * console.log(opcua.endpointUrl)
 * ```
 */
export async function startOpcuaSide(device: Device, config: OpcuaConfig, log: (line: string) => void): Promise<OpcuaSide> {
  const { OpcuaServer, UsersFile, routeNodeOpcuaLogs } = await import('../transport/opcua/index.js');
  routeNodeOpcuaLogs(log);
  const users = await UsersFile.load(resolve(config.users ?? DEFAULT_USERS_FILE));
  const server = new OpcuaServer(device, {
    profile: config.profile ?? 'dev',
    port: config.port ?? 4840,
    users,
    x509Users: config.x509Users ?? false,
    ...(config.host === undefined ? {} : { host: config.host }),
    ...(config.pki === undefined ? {} : { pkiDir: config.pki }),
  });
  try {
    await server.start();
  } catch (error) {
    if (error instanceof ValidationError && error.path === 'port') throw new ValidationError('opcua.port', error.reason, { cause: error });
    throw error;
  }
  return { endpointUrl: server.endpointUrl, profile: server.profile, warnings: server.warnings(), stop: () => server.stop() };
}
