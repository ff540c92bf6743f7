/**
 * Broker credentials for `sensorkit run`: from the URL (which works, but warns that `ps` shows it),
 * from `--mqtt-user` with `--mqtt-password-file` or `$SENSORKIT_MQTT_PASSWORD`, or from the
 * configuration file (`mqtt.username`, `mqtt.passwordFile`). The password is never printed: not in
 * the banner, not in an error line, not in the retained Thing Description.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import { subscriber } from '../fixtures/mqtt-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'S3cret-pw';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** aedes accepting `admin`/PASSWORD (and a `watcher` without one); records each CONNECT's credentials. */
async function authBroker(): Promise<{ url: string; logins: { username: string | undefined; password: string | undefined; accepted: boolean }[] }> {
  const logins: { username: string | undefined; password: string | undefined; accepted: boolean }[] = [];
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      const accepted = username === 'watcher' || (username === 'admin' && password?.toString() === PASSWORD);
      logins.push({ username, password: password?.toString(), accepted });
      if (accepted) return done(null, true);
      done(Object.assign(new Error('bad user name or password'), { returnCode: 4 as const }), false);
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `mqtt://127.0.0.1:${address.port}`, logins };
}

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-credentials-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [`${ROOT}bin/sensorkit.js`, 'run', '--no-opcua', '--duration', '2', '--seed', '31', ...args], { cwd, env: { ...process.env, SENSORKIT_DEBUG: '', SENSORKIT_MQTT_PASSWORD: '', ...env } });
  cleanups.push(() => void child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

const WARNING = 'the password in --mqtt is visible to other users of this machine';

describe('sensorkit run with broker credentials', () => {
  it('takes them from the URL, warns that ps shows them, and prints the URL without the password (banner, Thing Description)', async () => {
    const broker = await authBroker();
    const watcher = await subscriber(broker.url, 4, [topics('env-node-EMU-31').model], { username: 'watcher' });
    cleanups.push(() => watcher.close());
    const outbox = folder();
    const withPassword = broker.url.replace('mqtt://', `mqtt://admin:${PASSWORD}@`);
    const { code, output } = await run(['--mqtt', withPassword, '--outbox', outbox]);
    expect(code, output).toBe(0);
    expect(output).toContain(`MQTT ${broker.url};`);
    expect(output).toContain(WARNING);
    expect(output).not.toContain(PASSWORD);
    expect(broker.logins).toContainEqual({ username: 'admin', password: PASSWORD, accepted: true });
    const td = (await watcher.next(topics('env-node-EMU-31').model)).payload.toString();
    expect(td).toContain('basic_sc');
    expect(td).not.toContain(PASSWORD);
  }, 30_000);

  it('takes them from --mqtt-user and --mqtt-password-file, without a warning', async () => {
    const broker = await authBroker();
    const dir = folder();
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
    const { code, output } = await run(['--mqtt', broker.url, '--mqtt-user', 'admin', '--mqtt-password-file', join(dir, 'password'), '--outbox', join(dir, 'outbox')]);
    expect(code, output).toBe(0);
    expect(output).not.toContain(WARNING);
    expect(output).not.toContain(PASSWORD);
    expect(broker.logins).toEqual([{ username: 'admin', password: PASSWORD, accepted: true }]);
  }, 30_000);

  it('takes the password from $SENSORKIT_MQTT_PASSWORD', async () => {
    const broker = await authBroker();
    const dir = folder();
    const { code, output } = await run(['--mqtt', broker.url, '--mqtt-user', 'admin', '--outbox', join(dir, 'outbox')], { SENSORKIT_MQTT_PASSWORD: PASSWORD });
    expect(code, output).toBe(0);
    expect(output).not.toContain(PASSWORD);
    expect(broker.logins).toEqual([{ username: 'admin', password: PASSWORD, accepted: true }]);
  }, 30_000);

  it('takes them from the configuration file (mqtt.username, mqtt.passwordFile relative to the file)', async () => {
    const broker = await authBroker();
    const dir = folder();
    writeFileSync(join(dir, 'mqtt-password'), PASSWORD);
    writeFileSync(join(dir, 'sensorkit.config.json'), JSON.stringify({ mqtt: { url: broker.url, username: 'admin', passwordFile: 'mqtt-password' }, outbox: { dir: 'outbox' } }));
    const { code, output } = await run(['--config', join(dir, 'sensorkit.config.json')]);
    expect(code, output).toBe(0);
    expect(output).not.toContain(PASSWORD);
    expect(broker.logins).toEqual([{ username: 'admin', password: PASSWORD, accepted: true }]);
  }, 30_000);

  it('names --mqtt-password-file when it cannot be read, and prints no password when the broker refuses one', async () => {
    const broker = await authBroker();
    const dir = folder();
    const missing = await run(['--mqtt', broker.url, '--mqtt-user', 'admin', '--mqtt-password-file', join(dir, 'nope'), '--outbox', join(dir, 'outbox')]);
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain(`--mqtt-password-file: cannot read ${join(dir, 'nope')}: ENOENT`);
    const wrong = await run(['--mqtt', broker.url.replace('mqtt://', 'mqtt://admin:Wr0ng-pw@'), '--outbox', join(dir, 'outbox')]);
    expect(wrong.code, wrong.output).toBe(0);
    expect(wrong.output).toMatch(/! mqtt: .*(Bad username or password|Not authorized)/i);
    expect(wrong.output).not.toContain('Wr0ng-pw');
  }, 30_000);
});
