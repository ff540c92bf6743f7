/**
 * Resident memory of a running device, as a user's board runs it: the compiled package (dist/, a
 * JavaScript device, no TypeScript compiler), beside bare Node in the same run. Prints a table;
 * asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/memory.bench.ts [--seconds=8]
 *
 * The bench builds dist/ (`npm run build`), then lays the package out as npm installs it: a folder
 * with copies of bin/ and package.json, dist/ and node_modules linked in. bin/sensorkit.js finds no
 * sources there and runs dist/, exactly as from node_modules/sensorkit. The device is the default,
 * examples/env-node (three channels at 1 Hz on the emulated board), compiled.
 *
 * Scenarios, each a fresh process in a fresh working directory (its outbox and PKI are new):
 * - bare Node: `node -e "setInterval(() => {}, 1000)"`;
 * - `sensorkit run --no-mqtt --no-opcua`;
 * - `sensorkit run --mqtt URL --no-opcua`, publishing to a broker in another process (Mosquitto
 *   when installed, else aedes), so the broker's memory is not counted;
 * - `sensorkit run --no-opcua`: the embedded aedes broker in the device's process;
 * - `sensorkit run --no-mqtt --opcua-port 0`: the OPC UA server (dev profile).
 * After `--seconds` (default 8) a probe loaded with `--import` reports process.memoryUsage(); the
 * peak (VmHWM) comes from /proc. Targets (issue 12): ≤ 60 MB bare, ≤ 70 MB with MQTT, ≤ 180 MB with
 * OPC UA.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MB = 1024 * 1024;
const seconds = option('seconds', 8);
// V8's memory reducer gives back the start-up garbage's pages some 20 s after start.
const settled = Math.max(option('settled', 40), seconds);

interface Figures {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Peak resident set size (VmHWM), bytes. */
  readonly peak: number;
}

interface Scenario {
  readonly name: string;
  readonly target?: number;
  readonly args: (context: { readonly broker: string }) => readonly string[];
}

const work = mkdtempSync(join(tmpdir(), 'sensorkit-memory-'));
const installed = join(work, 'node_modules', 'sensorkit');
const probe = join(work, 'probe.mjs');

/** The package as npm installs it: no sources beside bin/, so bin/sensorkit.js runs dist/. */
function layOutPackage(): void {
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, 'bin'), join(installed, 'bin'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  symlinkSync(join(ROOT, 'dist'), join(installed, 'dist'), 'dir');
  symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'), 'dir');
  // Answers SIGUSR2 with process.memoryUsage() on fd 3, the figures of the process itself.
  writeFileSync(
    probe,
    "import { writeSync } from 'node:fs';\nprocess.on('SIGUSR2', () => writeSync(3, JSON.stringify(process.memoryUsage()) + '\\n'));\n",
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Mosquitto when it is installed, else aedes, in a process of its own on a free port. */
async function startBroker(): Promise<{ url: string; kind: string; process: ChildProcess }> {
  const port = await freePort();
  const hasMosquitto = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
  const child = hasMosquitto
    ? spawn('mosquitto', ['-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { connect, createServer } from 'node:net'; import { Aedes } from 'aedes';
           const broker = await Aedes.createBroker();
           createServer((socket) => broker.handle(socket)).listen(${port}, '127.0.0.1', () => console.log('listening'));`,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
  // Ready when a client can connect.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const client = connect(port, '127.0.0.1', () => {
        client.destroy();
        resolve(true);
      });
      client.once('error', () => resolve(false));
    });
    if (connected) break;
    if (Date.now() > deadline) throw new Error(`the ${hasMosquitto ? 'Mosquitto' : 'aedes'} broker did not start on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url: `mqtt://127.0.0.1:${port}`, kind: hasMosquitto ? 'Mosquitto' : 'aedes', process: child };
}

function peakOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kilobytes === undefined ? Number.NaN : Number(kilobytes) * 1024;
}

/** A process under measurement: `node --import probe ...args` in a fresh folder. */
class Measured {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #reports: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  #stderr = '';
  #readings = 0;

  constructor(readonly args: readonly string[]) {
    const cwd = mkdtempSync(join(work, 'run-'));
    this.#child = spawn(process.execPath, ['--import', probe, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      this.#readings += chunk.toString().split('\n').filter((line) => line.startsWith('{')).length;
    });
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    let buffered = '';
    (this.#child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (this.#waiting) this.#waiting(line);
        else this.#reports.push(line);
      }
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    void this.#exited.then((code) => {
      if (this.#waiting) this.#stderr += `\n(exited ${String(code)})`;
    });
  }

  /** The process's memory now; throws when it has exited or (for a device) printed no reading. */
  async figures(expectReadings: boolean): Promise<Figures> {
    if (this.#child.exitCode !== null) throw new Error(`${this.args.join(' ')} exited (${this.#child.exitCode}): ${this.#stderr.trim()}`);
    if (expectReadings && this.#readings === 0) throw new Error(`${this.args.join(' ')} printed no reading: ${this.#stderr.trim()}`);
    const line = this.#reports.shift() ?? (await new Promise<string>((resolve) => {
      this.#waiting = (report) => {
        this.#waiting = undefined;
        resolve(report);
      };
      this.#child.kill('SIGUSR2');
    }));
    const usage = JSON.parse(line) as NodeJS.MemoryUsage;
    return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, peak: peakOf(this.#child.pid!) };
  }

  async stop(): Promise<void> {
    this.#child.kill('SIGTERM');
    await this.#exited;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const mb = (bytes: number): string => (bytes / MB).toFixed(1);

layOutPackage();
console.log('building dist/ (npm run build) ...');
const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);

const broker = await startBroker();
const sensorkit = join(installed, 'bin', 'sensorkit.js');
const scenarios: Scenario[] = [
  { name: 'bare Node (node -e setInterval)', args: () => ['-e', 'setInterval(() => {}, 1000)'] },
  { name: 'sensorkit run --no-mqtt --no-opcua', target: 60, args: () => [sensorkit, 'run', '--json', '--no-mqtt', '--no-opcua'] },
  { name: `sensorkit run --mqtt URL --no-opcua (${broker.kind} apart)`, target: 70, args: ({ broker: url }) => [sensorkit, 'run', '--json', '--mqtt', url, '--no-opcua'] },
  { name: 'sensorkit run --no-opcua (embedded aedes)', args: () => [sensorkit, 'run', '--json', '--no-opcua'] },
  { name: 'sensorkit run --no-mqtt --opcua-port 0', target: 180, args: () => [sensorkit, 'run', '--json', '--no-mqtt', '--opcua-port', '0'] },
];

console.log(`Node ${process.version}, device examples/env-node from dist/ (JavaScript); memory ${seconds} s after start, and settled after ${settled} s\n`);
console.log('| process | RSS MB at start | RSS MB settled | peak RSS MB | heap used MB | heap total MB | target RSS (settled) |');
console.log('|---|---|---|---|---|---|---|');
// All processes run at once (the machine has cores to spare while they idle), each measured alone.
const running = scenarios.map((scenario) => ({ scenario, process: new Measured(scenario.args({ broker: broker.url })) }));
try {
  await sleep(seconds * 1000);
  const early = await Promise.all(running.map(({ scenario, process }) => process.figures(scenario.name.startsWith('sensorkit'))));
  await sleep((settled - seconds) * 1000);
  const late = await Promise.all(running.map(({ scenario, process }) => process.figures(scenario.name.startsWith('sensorkit'))));
  const bare = late[0]!;
  running.forEach(({ scenario }, i) => {
    const first = early[i]!;
    const last = late[i]!;
    const target = scenario.target === undefined ? '' : `≤ ${scenario.target} MB: ${last.rss / MB <= scenario.target ? 'met' : '**missed**'}`;
    const overBare = i === 0 ? '' : ` (+${mb(last.rss - bare.rss)})`;
    console.log(`| ${scenario.name} | ${mb(first.rss)} | ${mb(last.rss)}${overBare} | ${mb(last.peak)} | ${mb(last.heapUsed)} | ${mb(last.heapTotal)} | ${target} |`);
  });
} finally {
  await Promise.all(running.map(({ process }) => process.stop()));
  broker.process.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
