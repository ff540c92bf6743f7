/**
 * Options and security profiles of the OPC UA server.
 *
 * | profile      | endpoints                                                        | user tokens |
 * |--------------|------------------------------------------------------------------|-------------|
 * | `production` | SignAndEncrypt only: Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss | user name (scrypt users file); X.509 when enabled; never anonymous |
 * | `dev`        | the same, plus SecurityPolicy None                               | the same, plus anonymous |
 *
 * `dev` listens on 127.0.0.1 unless a host is given, and on a non-loopback host only with
 * `allowRemoteDev` (see dev-host.ts); `production` on every interface.
 */
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua';
import { ValidationError } from '../../core/errors.js';
import { checkDevHost } from './dev-host.js';
import type { AuditSink } from '../../../security/audit/event.js';
import type { DeviceIdentity } from '../../../security/identity/identity.js';
import type { OpcuaRoleOptions } from './access.js';
import type { LoginThrottleOptions } from './login-throttle.js';
import type { PasswordCheckOptions } from './password-checks.js';
import type { UsersFile } from './users.js';

/** The security profiles. */
export type OpcuaProfile = 'dev' | 'production';
export const OPCUA_PROFILES: readonly OpcuaProfile[] = ['dev', 'production'];

/** The IANA port of OPC UA over TCP (opc.tcp). */
export const OPCUA_DEFAULT_PORT = 4840;

/** The secure policies both profiles offer (IEC 62541-7 security policies that are not deprecated). */
export const SECURE_POLICIES: readonly SecurityPolicy[] = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss];

/** Options of `OpcuaServer`. */
export interface OpcuaServerOptions {
  /** Default `production`. */
  readonly profile?: OpcuaProfile;
  /** TCP port; 0 picks a free one (see `endpointUrl` once started). Default 4840. */
  readonly port?: number;
  /**
   * Address to listen on. Default: 127.0.0.1 for `dev`, every interface for `production`. `dev`
   * refuses a non-loopback address unless `allowRemoteDev` is set.
   */
  readonly host?: string;
  /**
   * Let the `dev` profile (anonymous, unencrypted) listen on a non-loopback `host`, with a loud
   * warning (see `warnings()`). Default false: such a server is refused at construction.
   */
  readonly allowRemoteDev?: boolean;
  /** PKI folder (application certificate, trusted and rejected clients). Default `.sensorkit/pki`. */
  readonly pkiDir?: string;
  /**
   * The device identity as the application instance certificate, instead of the PKI folder's own:
   * it must be RSA (the security policies are RSA only) and its certificate's subjectAltName must
   * carry the application URI `urn:sensorkit:<device id>`; otherwise the constructor throws
   * `ValidationError` (path `identity`) naming what does not fit. Default: the PKI folder's own.
   */
  readonly identity?: DeviceIdentity;
  /** Users who may log in with a user name and password. */
  readonly users?: UsersFile;
  /** Accept X.509 user-identity certificates trusted in `<pkiDir>/users`. Default false. */
  readonly x509Users?: boolean;
  /** Node ids and the application URI use it; default `<model id>-<serial>` (see `deviceIdFor`). */
  readonly deviceId?: string;
  /** Sessions at once. Default 10. */
  readonly maxSessions?: number;
  /**
   * Delays and lockouts after failed user-name logins, per user name and per client (see
   * `LoginThrottleOptions`). Default: 3 failures free, then 250 ms doubling up to 4 s, locked out
   * for 5 minutes after 10 failures in a row.
   */
  readonly loginThrottle?: LoginThrottleOptions;
  /**
   * Password checks (scrypt, on libuv's thread pool) at once and waiting (see password-checks.ts):
   * logins beyond are refused as a wrong password is, so that a burst cannot take the pool from
   * file I/O. Default 1 at once, 8 waiting.
   */
  readonly passwordChecks?: PasswordCheckOptions;
  /**
   * Roles of sessions for method calls and setting writes (see access.ts): a user's role comes
   * from the users file; these are the defaults (engineer for a user without a role and for
   * anonymous `dev` sessions) and the roles of X.509 users by common name.
   */
  readonly roles?: OpcuaRoleOptions;
  /**
   * Where logins (success, failure, lockout), method calls and setting writes (granted, refused)
   * are recorded: an `AuditLog`. Default none.
   */
  readonly audit?: AuditSink;
  /**
   * Security events, one line each: every failed login (user name, client address and certificate
   * thumbprint, count; never the password). Default: standard error.
   */
  readonly log?: (line: string) => void;
}

/** The endpoint security of a profile. */
export function profileSecurity(profile: OpcuaProfile): { securityPolicies: SecurityPolicy[]; securityModes: MessageSecurityMode[]; allowAnonymous: boolean } {
  return profile === 'production'
    ? { securityPolicies: [...SECURE_POLICIES], securityModes: [MessageSecurityMode.SignAndEncrypt], allowAnonymous: false }
    : { securityPolicies: [SecurityPolicy.None, ...SECURE_POLICIES], securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt], allowAnonymous: true };
}

/** Checks the options together; throws `ValidationError` naming the option. */
export function checkOptions(options: OpcuaServerOptions): Required<Pick<OpcuaServerOptions, 'profile' | 'port' | 'maxSessions' | 'x509Users'>> {
  const profile = options.profile ?? 'production';
  if (!OPCUA_PROFILES.includes(profile)) throw new ValidationError('profile', `expected ${OPCUA_PROFILES.join(' or ')}, got ${JSON.stringify(profile)}`);
  const port = options.port ?? OPCUA_DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ValidationError('port', `expected an integer from 0 to 65535, got ${String(options.port)}`);
  const maxSessions = options.maxSessions ?? 10;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new ValidationError('maxSessions', `expected an integer from 1 and up, got ${String(options.maxSessions)}`);
  const x509Users = options.x509Users ?? false;
  checkDevHost(profile, options.host, options.allowRemoteDev === true, 'host');
  if (profile === 'production' && (options.users?.size ?? 0) === 0 && !x509Users) {
    throw new ValidationError(
      'users',
      'the production profile admits no anonymous client: add a user (`sensorkit opcua user add NAME`) or accept X.509 user certificates',
    );
  }
  return { profile, port, maxSessions, x509Users };
}
