/**
 * `sensorkit hil` as a user runs it: a real child process through bin/sensorkit.js. The shipped
 * temperature plan on the emulated target, signed; verify (a flipped byte, a wrong key, no
 * signature, no --key); replay; a plan that fails; bad plans, targets and instruments as one-line exit-2
 * errors; a station of two fixtures in parallel.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, BIN, runSensorkit as sensorkit, expectOneLine, temperaturePlanJson } from '../support/cli.js';

const ENV_NODE = join(ROOT, 'examples/env-node');





let dir: string;
let keys: string;
let out: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hil-cli-'));
  keys = join(dir, 'keys');
  out = join(dir, 'run');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each child loads the sources through ts-node (2–7 s apiece on a busy 2-core machine), and a
// test spawns up to three.
describe('sensorkit hil', { timeout: 60_000 }, () => {
  it('prints help and lists the shipped plans', async () => {
    const help = await sensorkit(['hil', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sensorkit hil run\|verify\|replay\|list\|init\|calibrate\|keygen/);
    const runHelp = await sensorkit(['hil', 'run', '--help']);
    expect(runHelp.stdout).toMatch(/--station FILE/);
    const list = await sensorkit(['hil', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^env-node-temperature\s+env-node temperature accuracy/m);
  });

  it('keygen writes a P-256 key pair, the private key 0600, and never overwrites it', async () => {
    const made = await sensorkit(['hil', 'keygen', '--out', keys]);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^ES256 \(P-256\) key sha-256:[0-9a-f]{64}\n/);
    expect((await stat(join(keys, 'private.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(keys, 'public.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await sensorkit(['hil', 'keygen', '--out', keys]);
    expect(again.code).toBe(2);
    expectOneLine(again, /private\.pem: a key already exists; not overwritten$/);
  });

  it('runs the shipped temperature plan on the emulated target, signed: exit 0, and the record verifies', async () => {
    const run = await sensorkit(['hil', 'run', 'env-node-temperature', '--target', 'emulated', '--seed', '4', '--out', out, '--key', join(keys, 'private.pem'), '--operator', 'A. Tester']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Not a terminal: plain lines, one per phase, step and measurement.
    // (The shipped plan's phases and measurements are its own; these lines only check the form.)
    expect(run.stdout).toMatch(/^phase \[1\/\d+\] \S+ {2}virtual 0:00:00\.0 {2}wall \d+\.\d s$/m);
    expect(run.stdout).toMatch(/^ {2}PASS {2}\S+ {2}-?\d+(\.\d+)?(e-?\d+)? \S+ {2}limits /m);
    expect(run.stdout).toMatch(/^PASS env-node-temperature \d+\.\d+\.\d+ on emulated, .*: \d+ passed, 0 failed(, \d+ recorded)?; virtual \d+:\d\d:\d\d\.\d, wall \d+\.\d s$/m);
    const record = JSON.parse(await readFile(join(out, 'record.json'), 'utf8')) as { seed: number; context: { operator: string }; plan: { file: string }; signature: { alg: string } };
    expect(record).toMatchObject({ seed: 4, context: { operator: 'A. Tester' }, plan: { file: 'env-node-temperature' }, signature: { alg: 'ES256' } });
    expect(await readFile(join(out, 'junit.xml'), 'utf8')).toMatch(/<testsuites name="env-node temperature accuracy" tests="\d+" failures="0" errors="0" skipped="0"/);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/i);

    const verified = await sensorkit(['hil', 'verify', join(out, 'record.json'), '--key', join(keys, 'public.pem')]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ok: .*record\.json: signed ES256 by sha-256:[0-9a-f]{64} \(the key given\); env-node-temperature \d+\.\d+\.\d+ on emulated, .* outcome pass\n$/);
    // Without --key the signature is checked against the key the record carries: intact, but
    // anyone could have signed it, so it is not accepted unless --any-key says that is enough.
    const keyless = await sensorkit(['hil', 'verify', out]);
    expect(keyless.code).toBe(1);
    expectOneLine(keyless, /record\.json: signature intact, but the signer was not checked: give --key PUBLIC\.pem \(signed by sha-256:[0-9a-f]{64}\)/);
    const anyKey = await sensorkit(['hil', 'verify', out, '--any-key']);
    expect(anyKey.code).toBe(0);
    expect(anyKey.stdout).toMatch(/\(any key accepted: the signer was not checked\)/);
  });

  it('verify refuses a flipped byte in a measured value, with the reason', async () => {
    const text = await readFile(join(out, 'record.json'), 'utf8');
    // The measured value: the last member of a measurement, after its unit.
    const match = /"unit": "Cel",\n {10}"value": -?\d+\.[0-8]/.exec(text);
    expect(match).not.toBeNull();
    // Raise its first decimal by one (0→1 … 8→9): still valid JSON, a different result. (A 17th
    // significant digit may not change the double; verify then refuses the text as not canonical.)
    const value = match![0];
    const flipped = value.replace(/\d$/, (digit) => String(Number(digit) + 1));
    const tampered = join(dir, 'tampered.json');
    await writeFile(tampered, text.replace(value, flipped));
    for (const args of [[tampered, '--key', join(keys, 'public.pem')], [tampered]]) {
      const result = await sensorkit(['hil', 'verify', ...args]);
      expect(result.code).toBe(1);
      expectOneLine(result, /tampered\.json: the signature does not match the content: a byte of the results changed since it was signed$/);
    }
  });

  it('verify refuses a digit changed in a way the parsed number does not show', async () => {
    const text = await readFile(join(out, 'record.json'), 'utf8');
    const edited = join(dir, 'edited.json');
    await writeFile(edited, text.replace('"seed": 4,', '"seed": 4.0,'));
    const result = await sensorkit(['hil', 'verify', edited, '--key', join(keys, 'public.pem')]);
    expect(result.code).toBe(1);
    expectOneLine(result, /edited\.json: the signed content is intact but the file is not the text that was written/);
  });

  it('verify refuses a wrong key and an unsigned record', async () => {
    const other = join(dir, 'other-keys');
    expect((await sensorkit(['hil', 'keygen', '--out', other])).code).toBe(0);
    const wrong = await sensorkit(['hil', 'verify', join(out, 'record.json'), '--key', join(other, 'public.pem')]);
    expect(wrong.code).toBe(1);
    expectOneLine(wrong, /record\.json: signed by key sha-256:[0-9a-f]{16}, not by the key given \(sha-256:[0-9a-f]{16}\)$/);

    const unsigned = join(dir, 'unsigned');
    expect((await sensorkit(['hil', 'run', 'env-node-temperature', '--out', unsigned])).code).toBe(0);
    const notSigned = await sensorkit(['hil', 'verify', join(unsigned, 'record.json')]);
    expect(notSigned.code).toBe(1);
    expectOneLine(notSigned, /record\.json: not signed \(no signature member\)$/);
  });

  it('replay reruns the record and finds no differences; a changed record shows its difference, a record whose signature fails is refused', async () => {
    const replay = await sensorkit(['hil', 'replay', join(out, 'record.json')]);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/^replay of .*record\.json: no differences \(\d+ phases?, \d+ measurements, seed 4; wall \d+\.\d s\)\n$/);

    // The tampered record of the verify test: its signature no longer holds, so nothing is run.
    const tampered = await sensorkit(['hil', 'replay', join(dir, 'tampered.json')]);
    expect(tampered.code).toBe(2);
    expectOneLine(tampered, /tampered\.json: the record's signature does not verify: the signature does not match the content/);

    // An unsigned record of the shipped plan with one measured value changed by a tenth.
    const text = await readFile(join(dir, 'unsigned', 'record.json'), 'utf8');
    const value = /"unit": "Cel",\n {10}"value": -?\d+\.[0-8]/.exec(text)![0];
    const changed = join(dir, 'changed.json');
    await writeFile(changed, text.replace(value, value.replace(/\d$/, (digit) => String(Number(digit) + 1))));
    const differs = await sensorkit(['hil', 'replay', changed]);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/^replay of .*changed\.json: 1 difference\n {2}\$\.phases\[\d+\]\.measurements\[\d+\]\.value: -?\d+\.\d+ → -?\d+\.\d+\n/);
    expect(differs.stderr).toBe('');
  });

  it('--json prints the summary as the only output on standard output; progress goes to standard error', async () => {
    const jsonOut = join(dir, 'json');
    const run = await sensorkit(['hil', 'run', 'env-node-temperature', '--seed', '2', '--out', jsonOut, '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { format: string; outcome: string; runs: { name: string; outcome: string; dir: string; seed: number }[] };
    expect(summary).toMatchObject({ format: 'sensorkit-hil-summary/1', outcome: 'pass', runs: [{ name: 'emulated', outcome: 'pass', dir: '.', seed: 2 }] });
    expect(run.stderr).toMatch(/^phase \[1\/\d+\] \S+/m);
    const list = await sensorkit(['hil', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((p) => p.id)).toContain('env-node-temperature');
  });

  it('on a terminal, redraws one status line per device in place and keeps the measurement lines', async () => {
    // util-linux script(1) (Debian's essential bsdutils) gives the command a pseudo-terminal.
    const ttyOut = join(dir, 'tty');
    const command = [process.execPath, BIN, 'hil', 'run', 'env-node-temperature', '--target', 'emulated', '--target', 'emulated', '--out', ttyOut].map((arg) => `'${arg}'`).join(' ');
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '', COLUMNS: '200' } });
    expect(run.status).toBe(0);
    const screen = run.stdout.toString().replace(/\r\n/g, '\n');
    // Two status lines, moved over (cursor up 2, erase below) before each line printed above them.
    expect(screen).toMatch(/\x1b\[2A\x1b\[Jemulated-1: {3}PASS {2}\S+ {2}/);
    expect(screen).toMatch(/^emulated-2  \[\d+\/\d+\] \S+ {2}virtual \d:\d\d:\d\d\.\d {2}wall \d+\.\d s {2}› /m);
    // Plain step lines are for logs only.
    expect(screen).not.toMatch(/^ {2}step /m);
    expect(screen).toMatch(/\x1b\[2A\x1b\[JRESULT {2}TARGET/);
    expect(screen).toMatch(/^PASS: 2 of 2 devices passed env-node-temperature \d+\.\d+\.\d+/m);
  });

  it('a failing plan exits 1, and junit.xml carries the failure with the value and the limit', async () => {
    const plan = join(dir, 'impossible.json');
    await writeFile(plan, temperaturePlanJson('impossible', { low: 1000, high: 1001, unit: 'Cel', basis: 'impossible on purpose' }));
    const failing = join(dir, 'failing');
    const run = await sensorkit(['hil', 'run', plan, '--out', failing]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ {2}FAIL {2}temperature@25Cel {2}\S+ Cel {2}limits \[1000, 1001\] Cel \(impossible on purpose\)/m);
    expect(run.stdout).toMatch(/^FAIL impossible 1\.0\.0 on emulated, .*: 0 passed, 1 failed/m);
    const junit = await readFile(join(failing, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="impossible\.at-25" name="temperature@25Cel" time="0\.000">\n {6}<failure message="[^"]*: measured \S+ Cel; limits \[1000, 1001\] Cel \(impossible on purpose\)" type="limit">/);
    // Well-formed for CI (libxml2's xmllint, installed with Debian's libxml2-utils).
    const lint = spawnSync('xmllint', ['--noout', join(failing, 'junit.xml')]);
    expect(lint.stderr.toString()).toBe('');
    expect(lint.status).toBe(0);
  });

  it('a phase that cannot settle is aborted with its reason: exit 1, and junit.xml carries it as an error', async () => {
    const plan = join(dir, 'never-settles.json');
    await writeFile(
      plan,
      JSON.stringify({
        id: 'never-settles',
        name: 'Never settles',
        version: '1.0.0',
        device: ENV_NODE,
        phases: [{ id: 'still', steps: [{ kind: 'settle', channel: 'temperature', tolerance: 1e-9, unit: 'Cel', windowMs: 10_000, timeoutMs: 20_000 }] }],
      }),
    );
    const aborted = join(dir, 'aborted');
    const run = await sensorkit(['hil', 'run', plan, '--out', aborted]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^phase still: aborted \(.+\) {2}virtual/m);
    const junit = await readFile(join(aborted, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="never-settles\.still" name="\(phase still\)" time="\d+\.\d{3}">\n {6}<error message="phase aborted: [^"]+" type="aborted">/);
    expect(spawnSync('xmllint', ['--noout', join(aborted, 'junit.xml')]).status).toBe(0);
  });

  it('a plan file that does not exist or does not parse exits 2 with one line', async () => {
    const missing = await sensorkit(['hil', 'run', join(dir, 'no-such-plan.json')]);
    expect(missing.code).toBe(2);
    expectOneLine(missing, /^sensorkit: hil run: .*no-such-plan\.json: no such plan file, and no shipped plan of that name/);

    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"id": "broken",');
    const syntax = await sensorkit(['hil', 'run', broken]);
    expect(syntax.code).toBe(2);
    expectOneLine(syntax, /^sensorkit: hil run: .*broken\.json: /);
  });

  it('a plan refused by validation, a target that does not exist and a bad option exit 2 with one line', async () => {
    const noUnit = join(dir, 'no-unit.json');
    await writeFile(noUnit, temperaturePlanJson('no-unit', { low: 24, high: 26 }));
    const invalid = await sensorkit(['hil', 'run', noUnit]);
    expect(invalid.code).toBe(2);
    expectOneLine(invalid, /^sensorkit: hil run: .*no-unit\.json: .*limits/);

    const target = await sensorkit(['hil', 'run', 'env-node-temperature', '--target', `firmata:${join(dir, 'no-such-tty')}`]);
    expect(target.code).toBe(2);
    expectOneLine(target, /^sensorkit: hil run: .*no-such-tty/);

    const usage = await sensorkit(['hil', 'run', 'env-node-temperature', '--seed', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^sensorkit: --seed: expected a number, got "x"\nTry 'sensorkit hil --help'\.\n$/);
  });

  it('an instrument that does not identify is a one-line set-up error (exit 2)', async () => {
    // A TCP server that answers every line with garbage: not an SCPI instrument.
    const server: Server = createServer((socket) => socket.on('data', () => socket.write('\u0000\u0001garbage\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const plan = join(dir, 'with-dmm.json');
      await writeFile(plan, temperaturePlanJson('with-dmm', { tolerance: 'mpe' }, { instruments: { dmm: ['voltage-dc'] } }));
      const missingRole = await sensorkit(['hil', 'run', plan]);
      expect(missingRole.code).toBe(2);
      expect(missingRole.stderr).toMatch(/needs the instrument "dmm" \(voltage-dc\): give --instrument dmm=SPEC/);
      const garbage = await sensorkit(['hil', 'run', plan, '--instrument', `dmm=scpi-tcp:127.0.0.1:${port}`, '--out', join(dir, 'garbage')]);
      expect(garbage.code).toBe(2);
      expectOneLine(garbage, /^sensorkit: hil run: .*did not identify/);
      const shared = await sensorkit(['hil', 'run', plan, '--target', 'emulated', '--target', 'emulated', '--instrument', `dmm=scpi-tcp:127.0.0.1:${port}`]);
      expect(shared.code).toBe(2);
      expect(shared.stderr).toMatch(/^sensorkit: instrument scpi-tcp:127\.0\.0\.1:\d+ is given to both emulated-1 and emulated-2 \(dmm\); parallel runs need one instrument each/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a simulated instrument is recorded with its connection, and its run replays', async () => {
    const plan = join(dir, 'with-dmm.json');
    const simulated = await sensorkit(['hil', 'run', plan, '--instrument', 'dmm=sim:dmm', '--out', join(dir, 'sim-dmm')]);
    expect(simulated.code).toBe(0);
    const record = JSON.parse(await readFile(join(dir, 'sim-dmm', 'record.json'), 'utf8')) as { instruments: { id: string; connection: string; simulated: boolean }[] };
    expect(record.instruments).toMatchObject([{ id: 'dmm', connection: 'sim:dmm', simulated: true }]);
    // Unsigned, and its plan is a file: replayed only with the plan file given by the user.
    const untrusted = await sensorkit(['hil', 'replay', join(dir, 'sim-dmm', 'record.json')]);
    expect(untrusted.code).toBe(2);
    expectOneLine(untrusted, /names the plan file .*with-dmm\.json, which runs code, but it is not signed: give the plan file with --plan FILE/);
    const replay = await sensorkit(['hil', 'replay', join(dir, 'sim-dmm', 'record.json'), '--plan', plan]);
    expect(replay.stdout).toMatch(/no differences/);
    expect(replay.code).toBe(0);
  });

  it('runs a station of two fixtures in parallel: one folder per device and one summary', async () => {
    const station = join(dir, 'station.json');
    await writeFile(station, JSON.stringify({ name: 'line-3', targets: [{ name: 'fixture-1', target: 'emulated', seed: 1 }, { name: 'fixture-2', target: 'emulated', seed: 2 }] }));
    const stationOut = join(dir, 'station');
    const run = await sensorkit(['hil', 'run', 'env-node-temperature', '--station', station, '--out', stationOut, '--key', join(keys, 'private.pem')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^fixture-1: phase \[1\/\d+\] \S+/m);
    expect(run.stdout).toMatch(/^fixture-2: {3}PASS {2}\S+/m);
    expect(run.stdout).toMatch(/^RESULT\s+TARGET\s+DEVICE\s+MEASUREMENTS\s+TIME\s+OUTPUT$/m);
    expect(run.stdout).toMatch(/^PASS: 2 of 2 devices passed env-node-temperature \d+\.\d+\.\d+; summary in .*summary\.json$/m);
    const summary = JSON.parse(await readFile(join(stationOut, 'summary.json'), 'utf8')) as { outcome: string; runs: { name: string; seed: number; outcome: string; dir: string }[] };
    expect(summary.outcome).toBe('pass');
    expect(summary.runs.map((r) => [r.name, r.seed, r.outcome, r.dir])).toEqual([['fixture-1', 1, 'pass', 'fixture-1'], ['fixture-2', 2, 'pass', 'fixture-2']]);
    const serials: string[] = [];
    for (const fixture of ['fixture-1', 'fixture-2']) {
      const record = JSON.parse(await readFile(join(stationOut, fixture, 'record.json'), 'utf8')) as { context: { station: string }; device: { serialNumber: string } };
      expect(record.context.station).toBe('line-3');
      serials.push(record.device.serialNumber);
    }
    // Two fixtures are two devices: each record names its own serial number.
    expect(serials).toEqual(['EMU-1-1', 'EMU-2-2']);
    // The station's folder stands for every device's record.
    const verified = await sensorkit(['hil', 'verify', stationOut, '--key', join(keys, 'public.pem')]);
    expect(verified.code).toBe(0);
    expect(verified.stdout.match(/^ok: .*fixture-\d\/record\.json: signed ES256/gm)).toHaveLength(2);
    expect(await readFile(join(stationOut, 'summary.html'), 'utf8')).toMatch(/fixture-1\/report\.html/);
  });

  it('a station with one fixture that cannot be set up runs the others and exits 2', async () => {
    const station = join(dir, 'station-bad.json');
    await writeFile(station, JSON.stringify({ targets: [{ name: 'good', target: 'emulated' }, { name: 'bad', target: `serial:${join(dir, 'no-such-tty')}` }] }));
    const stationOut = join(dir, 'station-bad');
    const run = await sensorkit(['hil', 'run', 'env-node-temperature', '--station', station, '--out', stationOut]);
    expect(run.code).toBe(2);
    const summary = JSON.parse(await readFile(join(stationOut, 'summary.json'), 'utf8')) as { outcome: string; runs: { name: string; outcome: string; reason?: string }[] };
    expect(summary.outcome).toBe('error');
    expect(summary.runs[0]).toMatchObject({ name: 'good', outcome: 'pass' });
    expect(summary.runs[1]).toMatchObject({ name: 'bad', outcome: 'error' });
    expect(summary.runs[1]!.reason).toMatch(/no-such-tty/);
  });
});
