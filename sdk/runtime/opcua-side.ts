/**
 * A device's OPC UA side. node-opcua is loaded only here, when the server starts, so a device
 * without OPC UA never loads it (it takes seconds and most of a device's memory).
 */
import { join, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import type { Device } from '../device/device.js';
import type { AuditSink } from '../../security/audit/event.js';
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
 * Starts the OPC UA server of `device`; node-opcua's own messages and failed logins go to `log`. A port in use is a
 * `ValidationError` with the path `opcua.port`, a `dev` server on a non-loopback host without
 * `allowRemoteDev` one with `opcua.host`; other settings' errors keep the server's paths
 * (`users: the production profile admits no anonymous client …`).
 *
 * @example
 * ```ts
 * const opcua = await startOpcuaSide(device, { port: 0, profile: 'dev' }, (line) => console.error(line))
 * console.log(opcua.endpointUrl)
 * ```
 */
export async function startOpcuaSide(device: Device, config: OpcuaConfig, log: (line: string) => void, audit?: AuditSink): Promise<OpcuaSide> {
  const { OpcuaServer, UsersFile, routeNodeOpcuaLogs } = await import('../transport/opcua/index.js');
  routeNodeOpcuaLogs(log);
  const users = await UsersFile.load(resolve(config.users ?? DEFAULT_USERS_FILE));
  const server = inOpcuaSection(
    () =>
      new OpcuaServer(device, {
        profile: config.profile ?? 'dev',
        port: config.port ?? 4840,
        users,
        x509Users: config.x509Users ?? false,
        allowRemoteDev: config.allowRemoteDev ?? false,
        log,
        ...(config.host === undefined ? {} : { host: config.host }),
        ...(config.pki === undefined ? {} : { pkiDir: config.pki }),
        ...(config.roles === undefined ? {} : { roles: config.roles }),
        // Logins, refused certificates, method calls and writes go to the audit log.
        ...(audit ? { audit } : {}),
      }),
  );
  await inOpcuaSection(() => server.start());
  return { endpointUrl: server.endpointUrl, profile: server.profile, warnings: server.warnings(), stop: () => server.stop() };
}

/** Runs `action`; a `ValidationError` about the port or the host is told as `opcua.port`/`opcua.host`. */
function inOpcuaSection<T>(action: () => T): T {
  const translate = (error: unknown): never => {
    if (error instanceof ValidationError && (error.path === 'port' || error.path === 'host')) throw new ValidationError(`opcua.${error.path}`, error.reason, { cause: error });
    throw error;
  };
  try {
    const result = action();
    return (result instanceof Promise ? result.catch(translate) : result) as T;
  } catch (error) {
    return translate(error);
  }
}
