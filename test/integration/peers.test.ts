/**
 * The Debian peers work on this machine: each is started and spoken to for real. In CI
 * (SENSORKIT_REQUIRE_PEERS=1) a missing peer fails here; elsewhere the suite falls back to
 * in-process peers (aedes for MQTT) and this file checks only that the fallback is allowed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, closeSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPeer, PEERS_REQUIRED } from '../support/peers.js';
import { freePort, tryConnect, waitFor } from '../support/net.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-peer-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('Debian peers', () => {
  it('mosquitto accepts an MQTT 3.1.1 CONNECT on a free loopback port', async () => {
    const mosquitto = findPeer('mosquitto');
    if (mosquitto === undefined) return expect(PEERS_REQUIRED).toBe(false);
    const port = await freePort();
    const config = join(tempDir(), 'mosquitto.conf');
    writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    const broker = spawn(mosquitto, ['-c', config], { stdio: 'ignore' });
    cleanups.push(() => broker.kill('SIGTERM'));
    const socket = await waitFor(() => tryConnect(port), 5000, `mosquitto on port ${port}`);
    cleanups.push(() => socket.destroy());
    const clientId = Buffer.from('sensorkit-peer-test');
    const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
    const payload = Buffer.concat([Buffer.from([0x00, clientId.length]), clientId]);
    const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]));
    // CONNACK, remaining length 2, no session present, return code 0 (accepted) — MQTT 3.1.1 §3.2.
    expect([...(await connack)]).toEqual([0x20, 0x02, 0x00, 0x00]);
  });

  it('socat links two pseudo-terminals that carry bytes both ways', async () => {
    const socat = findPeer('socat');
    if (socat === undefined) return expect(PEERS_REQUIRED).toBe(false);
    const dir = tempDir();
    const a = join(dir, 'ttyA');
    const b = join(dir, 'ttyB');
    const proc = spawn(socat, [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    cleanups.push(() => proc.kill('SIGTERM'));
    await waitFor(() => existsSync(a) && existsSync(b), 5000, 'socat pseudo-terminals');
    const fdA = openSync(a, 'r+');
    const fdB = openSync(b, 'r+');
    cleanups.push(() => {
      closeSync(fdA);
      closeSync(fdB);
    });
    writeFileSync(fdA, Buffer.from([0xf0, 0x79, 0xf7]));
    const received = Buffer.alloc(3);
    let got = 0;
    await waitFor(() => {
      got += readSync(fdB, received, got, 3 - got, null);
      return got === 3;
    }, 5000, 'bytes through the pty pair');
    expect([...received]).toEqual([0xf0, 0x79, 0xf7]);
  });

  it('headless chromium renders a page', () => {
    const chromium = findPeer('chromium');
    if (chromium === undefined) return expect(PEERS_REQUIRED).toBe(false);
    const result = spawnSync(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', `--user-data-dir=${tempDir()}`, '--dump-dom', 'data:text/html,<p id=probe>sensorkit</p>'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.stdout).toContain('<p id="probe">sensorkit</p>');
  });
});
