/**
 * sensorkit as its users get it: `npm pack` this repository, install the tarball into a fresh ESM
 * project, and use it from there, in JavaScript and in a strict TypeScript project of its own.
 *
 * npm runs offline-first from its cache (`--prefer-offline`; `npm ci` in the repository fills it
 * with every package the tarball depends on), so the install takes seconds after the first time.
 * The project denies every install script in `allowScripts` (sensorkit's i2c-dev addon,
 * cbor-extract, @serialport/bindings-cpp): a board without a C compiler must still run a device.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED_EXPORTS, specifierOf } from './expected-exports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const version = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
const INSTALL_TIMEOUT = 600_000;

const work = mkdtempSync(join(tmpdir(), 'sensorkit-consumer-'));
const project = join(work, 'project');
const installed = join(project, 'node_modules', 'sensorkit');

/** The environment without the npm_* variables of an enclosing `npm test`, which would steer npm. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: options.cwd ?? project,
    encoding: 'utf8',
    env: { ...cleanEnv, ...options.env },
    timeout: options.timeout ?? 60_000,
  });
}

function mustRun(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${String(result.status ?? result.signal)}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

const progress = (message: string): void => {
  process.stdout.write(`consumer: ${message}\n`);
};

// The device a user writes: its own channels, and an emulated world from sensorkit's parts.
const DEVICE_TS = `import { Bme280Peripheral } from 'sensorkit/boards/emulated/parts';
import { constant, gaussianNoise, type EmulatedBoard } from 'sensorkit/boards/emulated';
import type { SeededRandom } from 'sensorkit/core';
import { defineDevice } from 'sensorkit/model';

const BME280 = { part: 'bme280', address: 0x76 } as const;

export default defineDevice({
  id: 'room-sensor',
  description: 'A room sensor of our own',
  board: 'raspberry-pi-4',
  identity: { manufacturer: 'Example Co', model: 'RS-1', productCode: 'RS-1-B', hardwareRevision: '1.0', softwareRevision: '1.0.0', serialNumber: 'RS1-0001' },
  channels: [
    { id: 'temperature', quantity: 'temperature', unit: 'Cel', range: { min: -40, max: 85 }, resolution: 0.01, accuracy: { mpe: 1 }, sampleRate: 2, driver: { ...BME280, output: 'temperature' } },
    { id: 'pressure', quantity: 'pressure', unit: 'hPa', range: { min: 300, max: 1100 }, resolution: 0.01, accuracy: { mpe: 1 }, sampleRate: 2, driver: { ...BME280, output: 'pressure' } },
  ],
});

export function emulation(board: EmulatedBoard, random: SeededRandom): void {
  const temperature = gaussianNoise(constant(21), { sigma: 0.05, random: random.fork('temperature') });
  board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature, humidity: constant(40), pressure: constant(100_000), random: random.fork('bme280') }), { bus: 'i2c1' });
}
`;

// The same device in plain JavaScript.
const DEVICE_JS = DEVICE_TS.replace("import type { SeededRandom } from 'sensorkit/core';\n", '')
  .replace(', type EmulatedBoard', '')
  .replace(' as const;', ';')
  .replace('(board: EmulatedBoard, random: SeededRandom): void', '(board, random)');

// A type error the published declarations must catch: a unit that is a number.
const BAD_DEVICE_TS = DEVICE_TS.replace("unit: 'Cel'", 'unit: 21');

const TSCONFIG = {
  compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', types: ['node'], noEmit: true },
};

interface Reading {
  readonly channel: string;
  readonly value: number;
  readonly unit: string;
  readonly quality: string;
}

const readingsOf = (stdout: string): Reading[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Reading);

/** What the emulated world above produces: 21 °C with a little noise, 1000 hPa. */
function expectRoomReadings(readings: readonly Reading[]): void {
  const temperature = readings.filter((reading) => reading.channel === 'temperature');
  const pressure = readings.filter((reading) => reading.channel === 'pressure');
  // 3 s at 2 Hz, every reading reported (no deadband).
  expect(temperature.length).toBeGreaterThanOrEqual(4);
  expect(pressure.length).toBeGreaterThanOrEqual(4);
  for (const reading of temperature) {
    expect(reading).toMatchObject({ unit: 'Cel', quality: 'good' });
    expect(reading.value).toBeGreaterThan(20.5);
    expect(reading.value).toBeLessThan(21.5);
  }
  for (const reading of pressure) {
    expect(reading).toMatchObject({ unit: 'hPa', quality: 'good' });
    expect(reading.value).toBeCloseTo(1000, 0);
  }
}

beforeAll(() => {
  progress(`packing ${ROOT} (npm pack builds dist/)`);
  const output = mustRun('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, timeout: INSTALL_TIMEOUT });
  // The build's own output (prepack) comes first on stdout; npm's JSON report is the last part.
  const packed = JSON.parse(output.slice(output.search(/^\[$/m))) as Array<{ filename: string }>;
  const tarball = join(work, packed[0]?.filename ?? 'missing.tgz');
  mkdirSync(project);
  const manifest = {
    name: 'sensorkit-consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    allowScripts: { sensorkit: false, 'cbor-extract': false, '@serialport/bindings-cpp': false },
  };
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  progress(`installing ${relative(work, tarball)} and ts-node, typescript, @types/node into ${project}`);
  const started = Date.now();
  mustRun(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarball,
      '--save-dev',
      `ts-node@${version('ts-node')}`,
      `typescript@${version('typescript')}`,
      `@types/node@${version('@types/node')}`,
    ],
    { timeout: INSTALL_TIMEOUT },
  );
  progress(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
  writeFileSync(join(project, 'room-sensor.ts'), DEVICE_TS);
  writeFileSync(join(project, 'room-sensor.js'), DEVICE_JS);
  writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify({ ...TSCONFIG, files: ['room-sensor.ts'] }, null, 2)}\n`);
}, INSTALL_TIMEOUT);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('sensorkit installed from its tarball into a fresh project', () => {
  it('ships compiled JavaScript and declarations, no TypeScript sources, and leaves the optional packages out', () => {
    const files = readdirSync(installed, { recursive: true, encoding: 'utf8' });
    expect(files.filter((file) => /\.[mc]?ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files).toContain(join('dist', 'sdk', 'cli', 'main.js'));
    expect(files).toContain(join('dist', 'sdk', 'index.d.ts'));
    expect(files).toContain(join('dist', 'sdk', 'index.js.map'));
    for (const optional of ['aedes', '@electric-sql/pglite', 'pg']) {
      expect(existsSync(join(project, 'node_modules', optional)), `${optional} is not installed`).toBe(false);
    }
  });

  it('imports every entry point from plain JavaScript', () => {
    const script = `const expected = ${JSON.stringify(Object.fromEntries(Object.entries(EXPECTED_EXPORTS).map(([subpath, names]) => [specifierOf(subpath), names])))};
const missing = [];
for (const [specifier, names] of Object.entries(expected)) {
  const module = await import(specifier);
  for (const name of names) if (module[name] === undefined) missing.push(specifier + ' ' + name);
}
console.log(JSON.stringify({ imported: Object.keys(expected).length, missing }));
`;
    writeFileSync(join(project, 'imports.js'), script);
    // node-opcua logs a line about the Node version on import; the report is the line of its own.
    const report = mustRun(process.execPath, ['imports.js']).split('\n').find((line) => line.startsWith('{"imported"'));
    const result = JSON.parse(report ?? '{}') as { imported: number; missing: string[] };
    expect(result).toEqual({ imported: Object.keys(EXPECTED_EXPORTS).length, missing: [] });
  });

  it("typechecks a strict NodeNext TypeScript device against the published declarations with the project's own tsc", () => {
    mustRun('npx', ['--no', '--', 'tsc', '-p', 'tsconfig.json']);
    // The declarations are real types, not `any`: a wrong field fails the check.
    writeFileSync(join(project, 'bad-device.ts'), BAD_DEVICE_TS);
    writeFileSync(join(project, 'tsconfig.bad.json'), JSON.stringify({ ...TSCONFIG, files: ['bad-device.ts'] }));
    const bad = run('npx', ['--no', '--', 'tsc', '-p', 'tsconfig.bad.json']);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/bad-device\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  it('runs the TypeScript device: sensorkit run ./room-sensor.ts --duration 3 --json --no-mqtt --no-opcua', () => {
    const result = run('npx', ['--no', '--', 'sensorkit', 'run', './room-sensor.ts', '--duration', '3', '--json', '--no-mqtt', '--no-opcua']);
    expect(result.stderr).toContain('room-sensor (Example Co RS-1, serial RS1-0001)');
    expect(result.status).toBe(0);
    expectRoomReadings(readingsOf(result.stdout));
  });

  it('runs the JavaScript device without loading the TypeScript compiler', () => {
    // NODE_DEBUG=module traces every CommonJS lookup (typescript and ts-node are CommonJS), on every
    // thread, including module-hook threads: the .ts run above looks both up, this one must not.
    const args = ['--no', '--', 'sensorkit', 'run', './room-sensor.js', '--duration', '3', '--json', '--no-mqtt', '--no-opcua'];
    const result = run('npx', args, { env: { NODE_DEBUG: 'module' } });
    expect(result.status).toBe(0);
    expectRoomReadings(readingsOf(result.stdout));
    expect(result.stderr).toMatch(/MODULE \d+: /);
    expect(result.stderr.split('\n').filter((line) => /typescript|ts-node/.test(line))).toEqual([]);

    const typescriptArgs = ['--no', '--', 'sensorkit', 'run', './room-sensor.ts', '--duration', '1', '--json', '--no-mqtt', '--no-opcua'];
    const typescriptRun = run('npx', typescriptArgs, { env: { NODE_DEBUG: 'module' } });
    expect(typescriptRun.status).toBe(0);
    expect(typescriptRun.stderr).toMatch(/looking for "typescript"/);
  });

  it('runs an application of a few lines on the runtime library (startRuntime from sensorkit/runtime)', () => {
    const app = `import { startRuntime } from 'sensorkit/runtime';
import model, { emulation } from './room-sensor.js';

const runtime = await startRuntime({ device: { model, emulation }, mqtt: false, opcua: false });
const reports = [];
runtime.device.on('report', (sample) => reports.push({ channel: sample.channel, value: sample.value, unit: sample.unit, quality: sample.quality.level }));
await new Promise((resolve) => setTimeout(resolve, 3000));
await runtime.stop();
for (const report of reports) console.log(JSON.stringify(report));
`;
    writeFileSync(join(project, 'app.js'), app);
    const result = run(process.execPath, ['app.js']);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expectRoomReadings(readingsOf(result.stdout));
  });

  it('prints the Thing Description of the TypeScript device: sensorkit model ./room-sensor.ts --format wot', () => {
    const description = JSON.parse(mustRun('npx', ['--no', '--', 'sensorkit', 'model', './room-sensor.ts', '--format', 'wot'])) as {
      '@context': unknown[];
      properties: Record<string, unknown>;
    };
    expect(description['@context']).toContain('https://www.w3.org/2022/wot/td/v1.1');
    expect(Object.keys(description.properties)).toEqual(expect.arrayContaining(['temperature', 'pressure']));
  });

  it('answers --help and --version', () => {
    expect(mustRun('npx', ['--no', '--', 'sensorkit', '--help'])).toMatch(/^Usage: sensorkit <command>/);
    const repository = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(mustRun('npx', ['--no', '--', 'sensorkit', '--version']).trim()).toBe(repository.version);
  });

  it('names the missing package in one line: sensorkit run without aedes and without --mqtt', () => {
    const result = run('npx', ['--no', '--', 'sensorkit', 'run', './room-sensor.js', '--duration', '1', '--no-opcua']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'sensorkit: the embedded MQTT broker needs the package aedes: npm install aedes (or give --mqtt URL, or --no-mqtt)',
    );
  });

  it('names ts-node and typescript in one line when a .ts device is given without them', () => {
    const modules = join(project, 'node_modules');
    renameSync(join(modules, 'ts-node'), join(modules, '.ts-node-hidden'));
    try {
      const result = run('npx', ['--no', '--', 'sensorkit', 'run', './room-sensor.ts', '--duration', '1', '--no-mqtt', '--no-opcua']);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        'sensorkit: loading a TypeScript device file needs ts-node and typescript: npm install --save-dev ts-node typescript',
      );
    } finally {
      renameSync(join(modules, '.ts-node-hidden'), join(modules, 'ts-node'));
    }
  });
});
