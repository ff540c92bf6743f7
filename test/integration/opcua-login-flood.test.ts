/**
 * 100 wrong logins at once over real TCP (node-opcua's client in its own process, standing for
 * another machine; one secure channel, 100 sessions activated together): the password checks run
 * one at a time (scrypt on libuv's thread pool), so file I/O on the pool keeps answering within
 * milliseconds (measured from a worker thread, whose event loop the server's work does not hold)
 * and the device keeps its sampling cadence; logins beyond the queue get the reply of a wrong
 * password; lockout and back-off hold as for logins one by one (the right password is refused
 * while locked out, unchecked).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MessageSecurityMode, SecurityPolicy, UserTokenType, type OPCUAClient } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCertificates, trustCertificate } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { standInForAnotherMachine } from '../support/stand-in.js';
import { RIG_USER, makeClient, rigUsers, startRig, tempDir, type OpcuaRig } from '../support/opcua-rig.js';

const LOGINS = 100;
const secure = { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 };
const lines: string[] = [];
let dir: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
let client: OPCUAClient;
let clientPki: string;
const REGISTER = new URL('../../bin/register-ts.js', import.meta.url).href;
const FLOODER = fileURLToPath(new URL('./opcua-login-flooder.ts', import.meta.url));
const PERIOD_MS = 100;

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-flood-');
  const pkiDir = join(dir.path, 'server-pki');
  rig = await startRig({
    profile: 'production',
    pkiDir,
    users: await rigUsers(dir.path),
    maxSessions: LOGINS + 10,
    loginThrottle: { freeFailures: 3, delayMs: 50, maxDelayMs: 200, lockoutAfter: 10, lockoutMs: 60_000 },
    log: (line) => lines.push(line),
  });
  clientPki = join(dir.path, 'client-pki');
  const first = makeClient({ ...secure, clientPki });
  await first.connect(rig.server.endpointUrl).catch(() => undefined);
  await first.disconnect();
  const rejected = await waitFor(async () => (await listCertificates(pkiDir)).find((c) => c.state === 'rejected'), 15_000, 'the client certificate in rejected/');
  await trustCertificate(pkiDir, rejected.thumbprint);
  await rig.server.reloadCertificates();
  client = makeClient({ ...secure, clientPki });
  await client.connect(rig.server.endpointUrl);
}, 120_000);

afterAll(async () => {
  await client?.disconnect();
  await rig?.close();
  dir?.remove();
});

function login(userName: string, password: string): Promise<string> {
  return client.createSession({ type: UserTokenType.UserName, userName, password }).then(
    async (session) => {
      await session.close();
      return 'ok';
    },
    (error: Error) => (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/.exec(error.message)?.[0] ?? error.message),
  );
}

/** A worker thread that reads `file` every 20 ms on libuv's pool and reports each read's latency. */
function poolProbe(file: string): { stop: () => Promise<number[]> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { readFile } = require('node:fs/promises');
     const latencies = [];
     let on = true;
     parentPort.on('message', () => { on = false; });
     (async () => {
       while (on) {
         const started = performance.now();
         await readFile(workerData);
         latencies.push(performance.now() - started);
         await new Promise((resolve) => setTimeout(resolve, 20));
       }
       parentPort.postMessage(latencies);
     })();`,
    { eval: true, workerData: file },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        worker.once('message', (latencies: number[]) => void worker.terminate().then(() => resolve(latencies)));
        worker.postMessage('stop');
      }),
  };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

describe('100 wrong OPC UA logins at once', () => {
  it('check one password at a time; file I/O and sampling keep their pace; lockout and back-off hold', async () => {
    const times: number[] = [];
    rig.device.on('sample', (sample) => {
      if (sample.channel === 'voltage') times.push(sample.time);
    });
    const file = join(dir.path, 'probe.txt');
    writeFileSync(file, 'x'.repeat(4096));
    await waitFor(() => times.length >= 20, 10_000, '2 s of samples before the flood');
    const probe = poolProbe(file);

    const floodStart = Date.now();
    const flooder = spawn(process.execPath, ['--import', REGISTER, FLOODER, rig.server.endpointUrl, clientPki, RIG_USER.name, String(LOGINS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (flooder.pid !== undefined) standInForAnotherMachine(flooder.pid);
    let out = '';
    flooder.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => flooder.once('exit', resolve));
    const floodEnd = Date.now();
    const ioLatencies = await probe.stop();
    await waitFor(() => times.at(-1)! > floodEnd + 500, 10_000, 'samples after the flood');
    expect(code).toBe(0);
    const outcomes = JSON.parse(out.split('\n').filter((line) => line.startsWith('[')).at(-1)!) as string[];

    const stats = rig.server.passwordCheckStats();
    /** |Δt − 100 ms| of the sampling intervals within [from, to]. */
    const deviation = (from: number, to: number): number[] => {
      const found: number[] = [];
      for (let i = 1; i < times.length; i++) if (times[i - 1]! >= from && times[i]! <= to) found.push(Math.abs(times[i]! - times[i - 1]! - PERIOD_MS));
      return found;
    };
    const deviations = deviation(floodStart, floodEnd);
    const normal = [...deviation(floodStart - 2000, floodStart), ...deviation(floodEnd, floodEnd + 500)];
    console.log(
      `100 wrong OPC UA logins at once: ${floodEnd - floodStart} ms from spawn to exit; ${stats.checked} checked, ${stats.refused} refused busy, the rest refused locked out (typical check ${stats.typicalMs.toFixed(0)} ms); ` +
        `pool file read p50/p95/max ${[50, 95, 100].map((p) => percentile(ioLatencies, p).toFixed(1)).join('/')} ms (${ioLatencies.length} reads); ` +
        `cadence |Δt − 100 ms| p50/p95/max flood ${[50, 95, 100].map((p) => percentile(deviations, p).toFixed(1)).join('/')} ms (${deviations.length}), normal ${[50, 95, 100].map((p) => percentile(normal, p).toFixed(1)).join('/')} ms (${normal.length})`,
    );
    // Every login got the one reply of a wrong password.
    expect(outcomes).toHaveLength(LOGINS);
    expect(outcomes.filter((o) => o !== 'BadUserAccessDenied')).toEqual([]);
    expect(stats.maxRunning).toBe(1);
    expect(stats.checked).toBeGreaterThanOrEqual(1);
    // Busy refusals are failed logins like the others: one line each, counted toward the lockout.
    const failures = lines.filter((line) => line.startsWith('opcua: failed login: user "operator"'));
    expect(failures).toHaveLength(LOGINS);
    expect(failures.filter((line) => /not checked \(password checks busy\)/.test(line))).toHaveLength(stats.refused);
    expect(failures.filter((line) => /: (wrong password|not checked \(password checks busy\)), failure/.test(line))).toHaveLength(stats.checked + stats.refused);
    expect(failures.some((line) => /failure 10 in a row; locked out for 60 s after 10 failures/.test(line))).toBe(true);
    // Back-off: past the free failures each answer waits, doubling up to 200 ms.
    expect(failures.some((line) => /failure 4 in a row; answered after 50 ms$/.test(line))).toBe(true);

    // File I/O never waited behind the checks: one scrypt at most holds one of the pool's 4
    // threads. (Uncapped, on the same host, the slowest read waited 0.56 s and 1.8 s in two runs,
    // behind 11 and 20 checks at once; capped, p95 3–24 ms and the slowest 50–120 ms, the host's
    // CPU shared with the server's RSA work and other processes.)
    // What is left is CPU contention, so the slowest read is bounded by a few checks' time.
    expect(ioLatencies.length).toBeGreaterThan(10);
    expect(percentile(ioLatencies, 95)).toBeLessThan(50);
    expect(percentile(ioLatencies, 100)).toBeLessThan(Math.max(300, 3 * stats.typicalMs));
    // Sampling went on at its rate: at least 9 in 10 ticks, none held back by three periods. The
    // burst of 100 CreateSession/ActivateSession requests costs the server's event loop RSA work of
    // its own (a signature and a decryption each), whatever the cap: single ticks late by tens of
    // ms, up to 210 ms on the shared host with other test files running (measured; the host's own
    // noise in the same runs reached 116 ms).
    expect(deviations.length).toBeGreaterThan(((floodEnd - floodStart) / PERIOD_MS) * 0.9 - 2);
    expect(percentile(deviations, 100)).toBeLessThan(3 * PERIOD_MS);

    // Lockout as before: the right password is refused while locked out, without a check.
    const checkedBefore = rig.server.passwordCheckStats().checked;
    expect(await login(RIG_USER.name, RIG_USER.password)).toBe('BadUserAccessDenied');
    expect(lines.at(-1)).toMatch(/^opcua: failed login: user "operator" from 127\.0\.0\.1.*: refused unchecked, locked out for another \d+ s; answered after 200 ms$/);
    expect(rig.server.passwordCheckStats().checked).toBe(checkedBefore);
  }, 120_000);
});
