/**
 * Where the `dev` profile may listen. `dev` offers SecurityPolicy None and anonymous login: anyone
 * who reaches the port reads every value, writes settings and calls commands, in clear text. On a
 * loopback address only this computer reaches it; on any other address (`0.0.0.0`, a LAN address,
 * a host name) the whole network does, so that needs an explicit `allowRemoteDev`. No node-opcua
 * here: the runtime's configuration check uses it before node-opcua loads.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ValidationError } from '../../core/errors.js';
import { cut } from '../../core/check.js';

/**
 * Whether `host` is a loopback address: 127.0.0.0/8 (RFC 1122 §3.2.1.3), `::1` and
 * `::ffff:127.x.x.x` (RFC 4291 §2.5.3, §2.5.5.2), or `localhost` (RFC 6761 §6.3).
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1') // true
 * isLoopbackHost('0.0.0.0')   // false: every interface
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIPv4(name)) return name.startsWith('127.');
  if (isIPv6(name)) return name === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(name) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(name);
  return false;
}

/**
 * Refuses a `dev` server on a non-loopback `host` unless `allowRemoteDev`; throws `ValidationError`
 * at `path` (the host setting) naming the option that forces it.
 *
 * @example
 * ```ts
 * checkDevHost('dev', '0.0.0.0', false, 'host')
 * // throws ValidationError: host: "0.0.0.0" is not a loopback address, and the dev profile serves anonymous, unencrypted OPC UA; …
 * checkDevHost('dev', '0.0.0.0', true, 'host') // allowed (see devRemoteWarning)
 * ```
 */
export function checkDevHost(profile: string, host: string | undefined, allowRemoteDev: boolean, path: string): void {
  if (profile !== 'dev' || host === undefined || allowRemoteDev || isLoopbackHost(host)) return;
  throw new ValidationError(
    path,
    `${JSON.stringify(cut(host))} is not a loopback address, and the dev profile serves anonymous, unencrypted OPC UA to whoever reaches it; ` +
      'use the production profile, listen on 127.0.0.1, or force it with allowRemoteDev (sensorkit run --allow-remote-dev)',
  );
}

/**
 * The warning of a `dev` server forced onto a non-loopback host, or undefined.
 *
 * @example
 * ```ts
 * devRemoteWarning('dev', '0.0.0.0') // 'OPC UA profile "dev" on 0.0.0.0 (allowRemoteDev): …'
 * ```
 */
export function devRemoteWarning(profile: string, host: string | undefined): string | undefined {
  if (profile !== 'dev' || host === undefined || isLoopbackHost(host)) return undefined;
  return (
    `OPC UA profile "dev" on ${cut(host)} (allowRemoteDev): ANYONE ON THE NETWORK can connect anonymously and unencrypted, ` +
    'read every value, write settings and call commands; never do this outside an isolated test network'
  );
}
