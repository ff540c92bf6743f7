/**
 * OPC UA from the command line, as a user runs it (real child processes): `sensorkit run` serves
 * the device on the port given (0: any free one, the URL in the start line) and warns about the
 * dev profile; a busy port is a one-line error; `--no-opcua` turns it off; `sensorkit model
 * --format nodeset` prints NodeSet2 XML; `sensorkit opcua user add` refuses an empty password,
 * and `opcua list`/`opcua trust` manage client certificates.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttributeIds, MessageSecurityMode, SecurityPolicy, StatusCodes, UserTokenType } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsersFile, listCertificates, trustCertificate } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { connect, makeClient, tempDir } from '../support/opcua-rig.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

/** node-opcua's own log lines (its PKCS#1 self-test warning W27 on Node 20): not ours, not counted. */
const ours = (stderr: string): string[] => stderr.split('\n').filter((line) => line !== '' && !/^\d\d:\d\d:\d\d\.\d+Z |^\s+you need to use node flag/.test(line));

interface Child {
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  write(text: string): void;
}

/** A development identity for the default device (the production profile refuses to run without one). */
async function provisionedIdentity(name: string): Promise<string> {
  const folder = join(dir.path, name);
  const init = sensorkit(['identity', 'init', '--dir', folder, '--cn', 'env-node-EMU-1']);
  expect(await init.exited).toBe(0);
  return folder;
}

function sensorkit(args: string[], cwd = ROOT): Child {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, SENSORKIT_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { stdout: () => stdout, stderr: () => stderr, exited, kill: (signal) => child.kill(signal), write: (text) => child.stdin.end(text) };
}

let dir: ReturnType<typeof tempDir>;
beforeAll(() => void (dir = tempDir('sensorkit-opcua-cli-')));
afterAll(() => dir?.remove());

describe('sensorkit run with OPC UA', () => {
  it('serves on a free port with --opcua-port 0, prints the endpoint in the start line, warns about dev, stops on SIGINT', async () => {
    const run = sensorkit(['run', '--no-mqtt', '--opcua-port', '0', '--pki', join(dir.path, 'pki'), '--seed', '4']);
    try {
      const url = await waitFor(() => /^sensorkit: OPC UA (opc\.tcp:\/\/127\.0\.0\.1:\d+) \(dev\), ready after \d+\.\d s$/m.exec(run.stdout())?.[1], 60_000, 'the ready line');
      // Sampling starts at once; OPC UA announces itself when node-opcua has loaded.
      expect(run.stdout().split('\n')[0]).toMatch(/^sensorkit: env-node .*; MQTT off; OPC UA starting on port \(any free\) \(dev\)$/);
      expect(run.stdout().indexOf('temperature')).toBeLessThan(run.stdout().indexOf('sensorkit: OPC UA opc.tcp'));
      expect(ours(run.stderr())).toEqual([expect.stringMatching(/^sensorkit: warning: OPC UA profile "dev": SecurityPolicy None and anonymous login are enabled/)]);
      const connection = await connect(url, { clientPki: join(dir.path, 'client') });
      try {
        const ns = (await connection.session.readNamespaceArray()).indexOf('urn:sensorkit:env-node');
        const reading = await waitFor(async () => {
          const dv = await connection.session.read({ nodeId: `ns=${ns};s=env-node-EMU-4.temperature`, attributeId: AttributeIds.Value });
          return dv.statusCode.equals(StatusCodes.Good) ? dv : undefined;
        }, 10_000, 'a good temperature');
        expect(reading.value.value).toBeGreaterThan(15);
        expect(reading.sourceTimestamp).toBeInstanceOf(Date);
      } finally {
        await connection.close();
      }
    } finally {
      run.kill('SIGINT');
    }
    expect(await run.exited).toBe(0);
    expect(run.stdout().trimEnd().split('\n').slice(-2)).toEqual(['', 'stopped']);
  }, 90_000);

  it('answers a busy port with one line and exit code 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = sensorkit(['run', '--no-mqtt', '--opcua-port', String(port), '--pki', join(dir.path, 'pki'), '--duration', '5']);
      expect(await run.exited).toBe(1);
      const lines = ours(run.stderr()).filter((line) => !line.startsWith('sensorkit: warning:'));
      expect(lines, run.stderr()).toEqual([`sensorkit: --opcua-port: ${port} is already in use on 127.0.0.1 (another OPC UA server?); choose another port or stop the other server`]);
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('runs without OPC UA with --no-opcua, and refuses OPC UA flags beside it', async () => {
    const run = sensorkit(['run', '--no-mqtt', '--no-opcua', '--duration', '1']);
    expect(await run.exited).toBe(0);
    expect(run.stdout().split('\n')[0]).toMatch(/; MQTT off; OPC UA off$/);
    const both = sensorkit(['run', '--no-opcua', '--opcua-port', '0']);
    expect(await both.exited).toBe(2);
    expect(both.stderr()).toMatch(/--opcua-port and --no-opcua exclude each other/);
    const profile = sensorkit(['run', '--profile', 'lab']);
    expect(await profile.exited).toBe(2);
    expect(profile.stderr()).toMatch(/--profile: unknown profile "lab"; available: dev, production/);
  }, 60_000);

  it('refuses the dev profile on a non-loopback host unless --allow-remote-dev, naming the option', async () => {
    const run = sensorkit(['run', '--no-mqtt', '--opcua-host', '0.0.0.0', '--opcua-port', '0', '--pki', join(dir.path, 'pki'), '--duration', '5']);
    expect(await run.exited).toBe(2);
    expect(run.stdout()).toBe('');
    expect(ours(run.stderr())[0]).toBe(
      'sensorkit: --opcua-host: "0.0.0.0" is not a loopback address, and the dev profile serves anonymous, unencrypted OPC UA to whoever reaches it; ' +
        'use the production profile, listen on 127.0.0.1, or force it with allowRemoteDev (sensorkit run --allow-remote-dev)',
    );
    // The same from a configuration file names the file and the setting.
    const config = join(dir.path, 'remote-dev.json');
    writeFileSync(config, JSON.stringify({ opcua: { host: '192.168.1.20' } }));
    const fromFile = sensorkit(['run', '--no-mqtt', '--config', config, '--duration', '5']);
    expect(await fromFile.exited).toBe(1);
    expect(ours(fromFile.stderr())).toEqual([expect.stringMatching(new RegExp(`^sensorkit: ${config}: opcua\\.host: "192\\.168\\.1\\.20" is not a loopback address.*--allow-remote-dev\\)$`))]);
    const off = sensorkit(['run', '--no-opcua', '--allow-remote-dev']);
    expect(await off.exited).toBe(2);
    expect(off.stderr()).toMatch(/--allow-remote-dev and --no-opcua exclude each other/);
  }, 60_000);

  it('logs each failed login once, naming user and client, never the password, and nothing else', async () => {
    const users = join(dir.path, 'login-users.json');
    const add = sensorkit(['opcua', 'user', 'add', 'operator', '--users', users]);
    add.write('correct horse battery staple\n');
    expect(await add.exited).toBe(0);
    const pki = join(dir.path, 'login-pki');
    // The production profile needs a device identity before it enters operation.
    const identity = await provisionedIdentity('identity-login');
    const run = sensorkit(['run', '--no-mqtt', '--profile', 'production', '--opcua-host', '127.0.0.1', '--opcua-port', '0', '--users', users, '--pki', pki, '--identity', identity, '--audit-log', join(dir.path, 'audit-login.log')]);
    try {
      const url = await waitFor(() => /^sensorkit: OPC UA (opc\.tcp:\/\/127\.0\.0\.1:\d+) \(production\), ready after/m.exec(run.stdout())?.[1], 60_000, 'the ready line');
      const secure = { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256, clientPki: join(dir.path, 'login-client') };
      await connect(url, secure).catch(() => undefined); // refused: the server files the certificate in rejected/
      const rejected = await waitFor(async () => (await listCertificates(pki)).find((c) => c.state === 'rejected'), 15_000, 'the client certificate in rejected/');
      await trustCertificate(pki, rejected.thumbprint);
      const client = await waitFor(async () => {
        const candidate = makeClient(secure);
        try {
          await candidate.connect(url);
          return candidate;
        } catch {
          await candidate.disconnect();
          return undefined;
        }
      }, 60_000, 'a trusted connection'); // each try is an RSA handshake: seconds on a loaded machine
      const before = ours(run.stderr()).length;
      const guesses = ['first wrong guess', 'second wrong guess', 'third wrong guess', 'fourth wrong guess'];
      try {
        for (const password of guesses) {
          await expect(client.createSession({ type: UserTokenType.UserName, userName: 'operator', password })).rejects.toThrow(/BadUserAccessDenied/);
        }
      } finally {
        await client.disconnect();
      }
      const lines = await waitFor(() => (ours(run.stderr()).length - before >= 4 ? ours(run.stderr()).slice(before) : undefined), 10_000, 'four log lines');
      expect(lines).toEqual([
        expect.stringMatching(/^sensorkit: opcua: failed login: user "operator" from 127\.0\.0\.1, client certificate [0-9a-f]{16}: wrong password, failure 1 in a row$/),
        expect.stringMatching(/: wrong password, failure 2 in a row$/),
        expect.stringMatching(/: wrong password, failure 3 in a row$/),
        expect.stringMatching(/: wrong password, failure 4 in a row; answered after 250 ms$/),
      ]);
      for (const password of guesses) expect(run.stderr()).not.toContain(password);
    } finally {
      run.kill('SIGINT');
    }
    expect(await run.exited).toBe(0);
  }, 120_000);

  it('refuses the production profile without users, in one line', async () => {
    const identity = await provisionedIdentity('identity-none');
    const run = sensorkit(['run', '--no-mqtt', '--profile', 'production', '--opcua-port', '0', '--users', join(dir.path, 'none.json'), '--pki', join(dir.path, 'pki'), '--identity', identity, '--audit-log', join(dir.path, 'audit-none.log')]);
    expect(await run.exited).toBe(1);
    expect(ours(run.stderr())).toEqual([expect.stringMatching(/^sensorkit: users: the production profile admits no anonymous client/)]);
  }, 60_000);
});

describe('sensorkit model --format nodeset', () => {
  it('prints NodeSet2 XML of the generated information model', async () => {
    const run = sensorkit(['model', 'examples/motor-monitor', '--format', 'nodeset', '--serial', 'MM-7']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/^<\?xml version="1.0"\?>\n<UANodeSet /);
    expect(run.stdout()).toContain('<Uri>urn:sensorkit:motor-monitor</Uri>');
    expect(run.stdout()).toContain('NodeId="ns=1;s=motor-monitor-MM-7.vibration-rms"');
    expect(run.stdout()).toContain('BrowseName="1:MotorMonitorDeviceType"');
  }, 60_000);
});

describe('sensorkit opcua', () => {
  it('adds a user with a password from standard input, and refuses an empty or default one', async () => {
    const users = join(dir.path, 'users.json');
    const add = sensorkit(['opcua', 'user', 'add', 'operator', '--users', users]);
    add.write('correct horse battery staple\n');
    expect(await add.exited).toBe(0);
    expect(await (await UsersFile.load(users)).verify('operator', 'correct horse battery staple')).toBe(true);
    for (const [password, reason] of [
      ['', 'is empty'],
      ['admin', 'is a well-known default password'],
      ['password1', 'is a common password with digits or symbols around it'],
      ['qwertyui', 'is a keyboard walk'],
      ['aaaaaaaa', 'repeats one character'],
      ['guest1-2024', 'contains the user name'],
    ]) {
      const bad = sensorkit(['opcua', 'user', 'add', 'guest1', '--users', users]);
      bad.write(`${password}\n`);
      expect(await bad.exited).toBe(1);
      expect(bad.stderr().trim()).toBe(`sensorkit: password: ${reason}; choose another`);
    }
    const list = sensorkit(['opcua', 'user', 'list', '--users', users]);
    expect(await list.exited).toBe(0);
    expect(list.stdout()).toBe('operator  engineer (no role set)\n');
  });

  it('gives users roles: user add --role, user role NAME ROLE; an unknown role is one line', async () => {
    const users = join(dir.path, 'users-roles.json');
    const add = sensorkit(['opcua', 'user', 'add', 'vic', '--role', 'viewer', '--users', users]);
    add.write('correct horse battery staple\n');
    expect(await add.exited).toBe(0);
    expect((await UsersFile.load(users)).roleOf('vic')).toBe('viewer');
    const change = sensorkit(['opcua', 'user', 'role', 'vic', 'engineer', '--users', users]);
    expect(await change.exited).toBe(0);
    expect((await UsersFile.load(users)).roleOf('vic')).toBe('engineer');
    const list = sensorkit(['opcua', 'user', 'list', '--users', users]);
    expect(await list.exited).toBe(0);
    expect(list.stdout()).toBe('vic  engineer\n');
    const bad = sensorkit(['opcua', 'user', 'role', 'vic', 'root', '--users', users]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr().split('\n')[0]).toBe('sensorkit: --role: expected one of viewer, operator, engineer, security-admin, got "root"');
  });

  it('lists an empty PKI and refuses to trust an unknown thumbprint', async () => {
    const list = sensorkit(['opcua', 'list', '--pki', join(dir.path, 'empty-pki')]);
    expect(await list.exited).toBe(0);
    expect(list.stdout()).toMatch(/^no client certificates in /);
    const trust = sensorkit(['opcua', 'trust', 'deadbeef00', '--pki', join(dir.path, 'empty-pki')]);
    expect(await trust.exited).toBe(1);
    expect(trust.stderr()).toMatch(/^sensorkit: thumbprint: no rejected certificate deadbeef00 in /);
    const help = sensorkit(['opcua', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/opcua trust THUMBPRINT/);
  });
});
