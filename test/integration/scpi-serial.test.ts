/**
 * The SCPI driver over a serial line: a real pseudo-terminal made by socat, whose other end is the
 * simulated SCPI instrument on TCP (socat relays the bytes), opened with serialport's native
 * binding. These tests need socat; without it they fail and say so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../sdk/core/clock.js';
import { InstrumentError, ScpiInstrument, connectInstrument, startScpiSimulator, type ScpiMisbehaviour } from '../../hil/instruments/index.js';
import { trackedCleanups } from '../support/cleanups.js';
import { waitFor } from '../support/net.js';
import { findPeer } from '../support/peers.js';

const { cleanups, track } = trackedCleanups();
const socat = findPeer('socat');
/** What a timer and the promise chain after it may take beyond a timeout on a busy 2-core machine. */
const SLACK_MS = 400;

/** A pty at a fresh path whose bytes socat relays to a simulated instrument of `kind`. */
async function serialInstrument(kind: 'dmm' | 'supply', misbehave: ScpiMisbehaviour = {}): Promise<{ path: string; received: readonly string[] }> {
  if (socat === undefined) throw new Error('socat is not installed, and these tests need a real pseudo-terminal: apt-get install -y socat');
  const simulator = track(await startScpiSimulator({ kind, port: 0, seed: 5, misbehave }));
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-scpi-pty-'));
  const path = join(dir, 'ttySCPI');
  const child: ChildProcess = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${path}`, `tcp:127.0.0.1:${simulator.port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // socat has made the pty and reached the simulator once it logs the transfer loop.
  await waitFor(() => existsSync(path) && /starting data transfer loop/.test(stderr), 10_000, `socat's pty at ${path} (socat said: ${stderr.trim() || 'nothing'})`);
  return { path, received: simulator.received };
}

describe('ScpiInstrument over a serial line (a real pty)', () => {
  it('identifies, measures and reports the error queue over the pty', async () => {
    const { path, received } = await serialInstrument('dmm');
    const dmm = track(await ScpiInstrument.serial(path, 115_200, { id: 'dmm' }));
    expect(dmm.connection).toBe(`scpi-serial:${path}@115200`);
    expect(await dmm.identify()).toEqual({ manufacturer: 'sensorkit', model: 'SIM-DMM', serialNumber: 'SIM-5', firmware: '1.0', simulated: true });
    await dmm.write('SIM:INP:VOLT 3.3');
    expect((await dmm.measure('voltage-dc')).value).toBeCloseTo(3.3, 4);
    const error = await dmm.write('VOLT:AC 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstrumentError);
    expect(error).toMatchObject({ reason: 'instrument-error', instrumentCode: -113, command: 'VOLT:AC 1' });
    expect(received).toContain('MEAS:VOLT:DC?');
  });

  it('connectInstrument takes scpi-serial:PATH@BAUD; a supply is sourced through it', async () => {
    const { path } = await serialInstrument('supply');
    const { instrument, connection } = await connectInstrument(`scpi-serial:${path}@9600`, { clock: new SystemClock(), seed: 1, role: 'supply' });
    track(instrument);
    expect(connection).toBe(`scpi-serial:${path}@9600`);
    await instrument.source('voltage-dc', 24, 'V');
    expect((await instrument.measure('voltage-dc')).value).toBeCloseTo(24, 1);
  });

  it('silence on the line is one timeout error within the timeout', async () => {
    const { path } = await serialInstrument('dmm', { silent: true });
    const started = performance.now();
    const error = await connectInstrument(`scpi-serial:${path}`, { clock: new SystemClock(), seed: 1, role: 'dmm', timeoutMs: 300 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(300 + SLACK_MS);
    expect(error).toBeInstanceOf(InstrumentError);
    expect((error as Error).message).toBe(`dmm (scpi-serial:${path}@9600): *IDN?: the instrument did not identify: no answer within 300 ms`);
  });

  it('a serial port that does not exist is a connect error naming it', async () => {
    const error = await connectInstrument('scpi-serial:/dev/sensorkit-no-such-tty@9600', { clock: new SystemClock(), seed: 1, role: 'chamber' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstrumentError);
    expect(error).toMatchObject({ reason: 'connect', command: 'connect' });
    expect((error as Error).message).toMatch(/^chamber \(scpi-serial:\/dev\/sensorkit-no-such-tty@9600\): connect: cannot open the serial port: .*(No such file|ENOENT)/);
    expect((error as Error).message).not.toContain('\n');
  });
});
