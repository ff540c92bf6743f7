#!/usr/bin/env node
/**
 * Builds the i2c-dev addon (i2c_dev.c) with node-gyp into boards/linux/native/build/.
 * Never fails an install: when it cannot build (not Linux, no python3/make/cc, no node headers,
 * SENSORKIT_NO_NATIVE=1) it prints one warning line and exits 0; LinuxBoard then explains how to
 * build it when I2C is used. The addon is also copied beside the compiled board
 * (dist/boards/linux/native/build/Release/), where the built package loads it from.
 *
 *   node boards/linux/native/build.js
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const warn = (reason) => {
  console.warn(`sensorkit: i2c-dev addon not built (${reason}); /dev/i2c-N needs it, build later with: node boards/linux/native/build.js`);
  process.exit(0);
};

try {
  if (process.env.SENSORKIT_NO_NATIVE === '1') warn('SENSORKIT_NO_NATIVE=1');
  if (process.platform !== 'linux') warn(`i2c-dev is Linux only, this is ${process.platform}`);

  // node-gyp is on PATH inside npm lifecycle scripts; otherwise use the copy bundled with npm.
  const bundled = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  const onPath = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' }).status === 0;
  const command = onPath ? ['node-gyp'] : existsSync(bundled) ? [process.execPath, bundled] : undefined;
  if (command === undefined) warn('node-gyp not found');

  const args = ['rebuild', '--release'];
  // Headers installed beside node (/usr/include/node) avoid a download; else node-gyp fetches them.
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);

  const run = spawnSync(command[0], [...command.slice(1), ...args], { cwd: here, encoding: 'utf8', timeout: 300_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error !== undefined) warn(`${command.join(' ')}: ${run.error.message}`);
  if (run.status !== 0) {
    const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
    // The most telling line: a compiler error, else node-gyp's first "stack Error:" line.
    const cause =
      lines.find((line) => /\berror:/.test(line) && !line.startsWith('gyp')) ??
      lines.find((line) => /^gyp ERR! stack \w*Error:/.test(line)) ??
      lines.find((line) => /^gyp ERR! (?!stack|System|command|cwd|node -v|node-gyp -v|not ok|build error|configure error)/.test(line)) ??
      `exit ${String(run.status)}`;
    warn(cause.replace(/^gyp ERR! (stack )?/, '').slice(0, 200));
  }
  const built = join(here, 'build/Release/i2c_dev.node');
  if (!existsSync(built)) warn(`node-gyp finished but ${built} is missing`);
  const compiled = join(here, '../../../dist/boards/linux');
  if (existsSync(compiled)) {
    mkdirSync(join(compiled, 'native/build/Release'), { recursive: true });
    copyFileSync(built, join(compiled, 'native/build/Release/i2c_dev.node'));
  }
  console.log(`sensorkit: i2c-dev addon built: ${built}`);
} catch (error) {
  warn(error instanceof Error ? error.message : String(error));
}
