/**
 * `OpcuaServer`: a device as an OPC UA server (IEC 62541) on node-opcua. The address space is the
 * device's information model (see information-model.ts) beside the OPC UA base and DI nodesets;
 * security follows the profile (see options.ts); the application certificate is the device
 * identity's when `identity` is given (an RSA identity whose subjectAltName carries the
 * application URI; its key stays in memory, never written decrypted), else the PKI folder's own
 * (see pki.ts), created on first start. Trusted and rejected client certificates live in the PKI
 * folder either way.
 */
import { OPCUACertificateManager, OPCUAServer, ResolvedCertificateKeyPairProvider, UAUserManagerBase, UserTokenType, WellKnownRoles, resolveNodeId, type NodeId } from 'node-opcua';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { StateError, ValidationError } from '../../core/errors.js';
import type { Device } from '../../device/device.js';
import { deviceIdFor } from '../../encoding/topics.js';
import type { AuditSink } from '../../../security/audit/event.js';
import { opcuaApplicationCertificate, opcuaApplicationUri, type OpcuaApplicationCertificate } from '../../../security/identity/opcua-certificate.js';
import { OpcuaAccess } from './access.js';
import { attachDevice, buildInformationModel, type InformationModel } from './information-model.js';
import { devRemoteWarning } from './dev-host.js';
import { LoginThrottle, type LoginAttempt } from './login-throttle.js';
import { PasswordChecks, type PasswordCheckStats } from './password-checks.js';
import { BASE_NODESETS } from './nodeset.js';
import { checkOptions, profileSecurity, type OpcuaProfile, type OpcuaServerOptions } from './options.js';
import { DEFAULT_PKI_DIR, pkiPaths, protectPrivateKey } from './pki.js';
import type { UsersFile } from './users.js';

/** Server states, one union. */
export type OpcuaServerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * User names checked against the users file (scrypt), behind a login throttle (see
 * login-throttle.ts) and a cap on checks at once (password-checks.ts); every user is an
 * AuthenticatedUser (roles on calls and writes: access.ts). An unknown user and a wrong password
 * get the same answer (BadUserAccessDenied) after the same work: one scrypt, one comparison, the
 * same throttle delay; a login beyond the cap gets that answer too, after the time of a check, and
 * counts as a failure. Each login is recorded in the audit sink.
 */
class UsersFileManager extends UAUserManagerBase {
  readonly #users: UsersFile | undefined;
  readonly #throttle: LoginThrottle;
  readonly #audit: AuditSink | undefined;
  readonly #checks: PasswordChecks;

  constructor(users: UsersFile | undefined, throttle: LoginThrottle, checks: PasswordChecks, audit: AuditSink | undefined) {
    super();
    this.#users = users;
    this.#throttle = throttle;
    this.#checks = checks;
    this.#audit = audit;
  }

  override async isValidUser(session: { channel?: { remoteAddress?: string; clientCertificate?: Buffer | null } | undefined }, username: string, password: string): Promise<boolean> {
    const attempt = attemptOf(session, username);
    if (this.#throttle.gate(attempt).locked) {
      this.#record(attempt, 'denied', 'locked out');
      await this.#throttle.refuseLocked(attempt);
      return false;
    }
    const users = this.#users;
    const outcome = users === undefined ? false : await this.#checks.run(() => users.verify(username, password));
    if (outcome === true) {
      this.#throttle.succeeded(attempt);
      this.#record(attempt, 'success');
      return true;
    }
    if (outcome === 'busy') await this.#checks.waitLikeACheck();
    const reason = outcome === 'busy' ? 'not checked (password checks busy)' : users?.has(username) ? 'wrong password' : 'unknown user';
    this.#record(attempt, 'failure', reason);
    await this.#throttle.failed(attempt, reason);
    return false;
  }

  #record(attempt: LoginAttempt, result: 'success' | 'failure' | 'denied', reason?: string): void {
    if (this.#audit === undefined) return;
    try {
      const pending = this.#audit.record({
        category: 'login',
        event: 'opcua.session',
        result,
        source: attempt.address === undefined ? 'opcua' : `opcua ${attempt.address}`.slice(0, 200),
        actor: attempt.user.slice(0, 64) || 'unnamed',
        detail: { ...(reason === undefined ? {} : { reason }), ...(attempt.certificate === undefined ? {} : { certificate: attempt.certificate }) },
      });
      if (pending instanceof Promise) pending.catch(() => undefined);
    } catch {
      // The sink's own failure must not decide a login; the sink reports it.
    }
  }

  override getUserRoles(): NodeId[] {
    return [resolveNodeId(WellKnownRoles.AuthenticatedUser)];
  }
}

/** The user name and the client of a login: its address and certificate thumbprint (SHA-1, as `opcua list` shows). */
function attemptOf(session: { channel?: { remoteAddress?: string; clientCertificate?: Buffer | null } | undefined }, user: string): LoginAttempt {
  const channel = session.channel;
  const address = channel?.remoteAddress;
  const certificate = channel?.clientCertificate;
  return {
    user,
    ...(address ? { address } : {}),
    ...(certificate && certificate.length > 0 ? { certificate: createHash('sha1').update(certificate).digest('hex') } : {}),
  };
}

/**
 * @example
 * ```ts
 * const users = await UsersFile.load('.sensorkit/opcua-users.json')
 * const server = new OpcuaServer(device, { profile: 'production', users })
 * await server.start()
 * console.log(server.endpointUrl) // opc.tcp://plant-pc:4840
 * // …
 * await server.stop()
 * ```
 */
export class OpcuaServer {
  readonly device: Device;
  readonly profile: OpcuaProfile;
  readonly deviceId: string;
  readonly pkiDir: string;
  readonly #options: OpcuaServerOptions;
  readonly #checked: ReturnType<typeof checkOptions>;
  #state: OpcuaServerState = 'idle';
  #server: OPCUAServer | undefined;
  #info: InformationModel | undefined;
  #detach: (() => void) | undefined;
  #certificateManagers: OPCUACertificateManager[] = [];
  readonly #throttle: LoginThrottle;
  readonly #checks: PasswordChecks;
  readonly #own: OpcuaApplicationCertificate | undefined;

  constructor(device: Device, options: OpcuaServerOptions = {}) {
    this.#checked = checkOptions(options);
    this.device = device;
    this.profile = this.#checked.profile;
    this.#options = options;
    this.deviceId = options.deviceId ?? deviceIdFor(device.model, device.serialNumber);
    this.pkiDir = resolve(options.pkiDir ?? DEFAULT_PKI_DIR);
    this.#throttle = new LoginThrottle(options.loginThrottle ?? {}, options.log ?? ((line) => void process.stderr.write(`${line}\n`)));
    this.#checks = new PasswordChecks(options.passwordChecks ?? {});
    this.#own = options.identity === undefined ? undefined : opcuaApplicationCertificate(options.identity, this.applicationUri);
  }

  /** The server's application URI, `urn:sensorkit:<device id>` (the certificate's subjectAltName URI). */
  get applicationUri(): string {
    return opcuaApplicationUri(this.deviceId);
  }

  /** Where the application instance certificate comes from: the device identity, or the PKI folder's own. */
  get certificateSource(): 'identity' | 'pki' {
    return this.#own === undefined ? 'pki' : 'identity';
  }

  /** Password checks so far: running, waiting, the most at once, refused unchecked (see password-checks.ts). */
  passwordCheckStats(): PasswordCheckStats {
    return this.#checks.stats();
  }

  get state(): OpcuaServerState {
    return this.#state;
  }

  /** The information model (once started). */
  get informationModel(): InformationModel | undefined {
    return this.#info;
  }

  /** `opc.tcp://host:port` of the server, with the port it actually listens on (once started). */
  get endpointUrl(): string {
    const server = this.#server;
    if (server === undefined || this.#state !== 'running') throw new StateError(`the OPC UA server is ${this.#state}`);
    return server.getEndpointUrl();
  }

  /** The TCP port listened on (once started). */
  get port(): number {
    return Number(new URL(this.endpointUrl.replace(/^opc\.tcp:/, 'http:')).port);
  }

  /** What an operator should know about this configuration (the `dev` profile's openness). */
  warnings(): string[] {
    if (this.profile !== 'dev') return [];
    const remote = devRemoteWarning(this.profile, this.#options.host);
    return [
      'OPC UA profile "dev": SecurityPolicy None and anonymous login are enabled; for development only (use --profile production in the field)',
      ...(remote === undefined ? [] : [remote]),
    ];
  }

  /**
   * Loads the nodesets, creates the application certificate on first start, builds the device's
   * information model and listens. Rejects with `ValidationError` (path `port`) when the port is
   * taken.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new StateError(`cannot start an OPC UA server that is ${this.#state}`);
    this.#state = 'starting';
    const { port, maxSessions, x509Users } = this.#checked;
    const paths = pkiPaths(this.pkiDir, this.deviceId);
    const host = this.#options.host ?? (this.profile === 'dev' ? '127.0.0.1' : undefined);
    const identity = this.device.model.identity;
    const own = this.#own;
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: paths.root, automaticallyAcceptUnknownCertificate: false });
    const userCertificateManager = new OPCUACertificateManager({ rootFolder: paths.users, automaticallyAcceptUnknownCertificate: false });
    this.#certificateManagers = [serverCertificateManager, userCertificateManager];
    const server = new OPCUAServer({
      port,
      ...(host === undefined ? {} : { host }),
      ...(host === undefined || host === '0.0.0.0' || host === '::' ? {} : { hostname: host }),
      nodeset_filename: [...BASE_NODESETS],
      ...profileSecurity(this.profile),
      serverCertificateManager,
      userCertificateManager,
      ...(own === undefined
        ? { certificateFile: paths.certificateFile, privateKeyFile: paths.privateKeyFile }
        : {
            // The identity's certificate file, its key from memory (an encrypted key is never
            // written decrypted); node-opcua reads neither key file.
            certificateFile: own.certificateFile,
            privateKeyFile: own.keyFile,
            certificateKeyPairProvider: new ResolvedCertificateKeyPairProvider(own.certificateFile, own.keyFile, { hidden: own.privateKey }),
          }),
      userManager: new UsersFileManager(this.#options.users, this.#throttle, this.#checks, this.#options.audit),
      maxConnectionsPerEndpoint: maxSessions,
      serverCapabilities: { maxSessions },
      serverInfo: {
        applicationUri: this.applicationUri,
        productUri: `urn:sensorkit:${this.device.model.id}`,
        applicationName: { text: `${identity.manufacturer} ${identity.model} ${this.device.serialNumber}`, locale: 'en' },
      },
      buildInfo: { productName: identity.model, manufacturerName: identity.manufacturer, softwareVersion: identity.softwareRevision },
    });
    this.#server = server;
    try {
      await server.initialize();
      await protectPrivateKey(this.pkiDir);
      this.#info = buildInformationModel(server.engine.addressSpace!, this.device.model, { deviceId: this.deviceId, serialNumber: this.device.serialNumber });
      const users = this.#options.users;
      const access = new OpcuaAccess({
        model: this.device.model,
        ...(users === undefined ? {} : { roleOfUser: (name: string) => users.roleOf(name) }),
        ...(this.#options.roles === undefined ? {} : { roles: this.#options.roles }),
        ...(this.#options.audit === undefined ? {} : { audit: this.#options.audit }),
      });
      this.#detach = attachDevice(this.#info, this.device, access);
      if (!x509Users) withoutCertificateUserTokens(server);
      await server.start();
    } catch (error) {
      this.#state = 'failed';
      this.#detach?.();
      await server.shutdown(0).catch(() => undefined);
      throw portInUse(error) ? new ValidationError('port', `${port} is already in use${host ? ` on ${host}` : ''} (another OPC UA server?); choose another port or stop the other server`) : error;
    }
    this.#state = 'running';
  }

  /**
   * Re-reads the trusted and rejected certificates of the PKI folder now. The server also notices
   * changes by itself (a folder watcher), a moment later; this is for a caller that has just
   * trusted a certificate in-process and wants it in force at once.
   */
  async reloadCertificates(): Promise<void> {
    for (const manager of this.#certificateManagers) await manager.reloadCertificates();
  }

  /** Closes every session and stops listening. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#detach?.();
    await this.#server?.shutdown(0);
    this.#state = 'stopped';
  }
}

/** X.509 user tokens off: no endpoint offers them (node-opcua offers them on every endpoint). */
function withoutCertificateUserTokens(server: OPCUAServer): void {
  for (const endpoint of server.endpoints) {
    for (const description of endpoint.endpointDescriptions()) {
      description.userIdentityTokens = (description.userIdentityTokens ?? []).filter((token) => token.tokenType !== UserTokenType.Certificate);
    }
  }
}

function portInUse(error: unknown): boolean {
  const text = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}` : String(error);
  return /EADDRINUSE/.test(text);
}
