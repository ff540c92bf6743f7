/**
 * A device's OPC UA side. node-opcua is loaded only here, when the server starts, so a device
 * without OPC UA never loads it (it takes seconds and most of a device's memory).
 */
import { X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import type { Device } from '../device/device.js';
import type { AuditSink } from '../../security/audit/event.js';
import type { DeviceIdentity } from '../../security/identity/identity.js';
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
export async function startOpcuaSide(device: Device, config: OpcuaConfig, log: (line: string) => void, audit?: AuditSink, identity?: DeviceIdentity): Promise<OpcuaSide> {
  if (config.identity === true && identity === undefined) throw new ValidationError('opcua.identity', 'needs the device identity (security.identity; sensorkit identity init --key-type rsa)');
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
        // The identity as the application certificate; one that cannot be (not RSA, no application URI) is refused, named.
        ...(config.identity === true && identity ? { identity } : {}),
        // Logins, refused certificates, method calls and writes go to the audit log.
        ...(audit ? { audit } : {}),
      }),
  );
  await inOpcuaSection(() => server.start());
  const watcher = audit ? await watchRejected(resolve(config.pki ?? DEFAULT_PKI_DIR), audit) : undefined;
  return {
    endpointUrl: server.endpointUrl,
    profile: server.profile,
    warnings: server.warnings(),
    async stop() {
      watcher?.close();
      await server.stop();
    },
  };
}

/** node-opcua's default PKI folder as the server uses it (sdk/transport/opcua/pki.ts). */
const DEFAULT_PKI_DIR = join('.sensorkit', 'pki');

/**
 * Records each client certificate the server files in `<pki>/rejected/` (a client it refused:
 * untrusted, expired, or not matching its application URI) as a `certificate` audit record, once
 * per file. Certificates already there when the server starts were recorded by an earlier run.
 */
async function watchRejected(pki: string, audit: AuditSink): Promise<FSWatcher | undefined> {
  const folder = join(pki, 'rejected');
  try {
    await mkdir(folder, { recursive: true });
    const seen = new Set<string>();
    const watcher = watch(folder, (_event, name) => {
      if (typeof name !== 'string' || !/\.(pem|der)$/i.test(name) || seen.has(name)) return;
      seen.add(name);
      void readFile(join(folder, name)).then(
        (bytes) => {
          const certificate = new X509Certificate(bytes);
          audit.record({
            category: 'certificate',
            event: 'opcua.certificate-rejected',
            result: 'denied',
            source: 'opcua',
            actor: certificate.fingerprint.replace(/:/g, '').toLowerCase(),
            detail: { subject: certificate.subject.replace(/\n/g, ', '), notAfter: certificate.validTo, file: name },
          });
        },
        () => seen.delete(name),
      );
    });
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    // No watch (a file system without inotify): the rejected/ folder still holds them.
    return undefined;
  }
}

/** Runs `action`; a `ValidationError` about the port, the host or the identity is told as `opcua.port`/`opcua.host`/`opcua.identity`. */
function inOpcuaSection<T>(action: () => T): T {
  const translate = (error: unknown): never => {
    if (error instanceof ValidationError && (error.path === 'port' || error.path === 'host' || error.path === 'identity')) throw new ValidationError(`opcua.${error.path}`, error.reason, { cause: error });
    throw error;
  };
  try {
    const result = action();
    return (result instanceof Promise ? result.catch(translate) : result) as T;
  } catch (error) {
    return translate(error);
  }
}
