// Whether a command line names a TypeScript file of the user's, so that an installed sensorkit
// loads the TypeScript compiler only then: a device on a board that runs a .js device never pays
// its memory or start-up time.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const TYPESCRIPT = /\.m?ts$/;
// The device-folder entries in the order the device-file loader tries them (sdk/runtime/device-file.ts).
const ENTRY_FILES = ['device.ts', 'device.js', 'device.mjs', 'index.ts', 'index.js', 'index.mjs'];
// The config file `sensorkit run` finds in the working directory without --config.
const DEFAULT_CONFIG_FILES = ['sensorkit.config.ts', 'sensorkit.config.mts'];

/**
 * True when an argument is a .ts file (a device, or `--config FILE.ts` / `--config=FILE.ts`), a
 * folder whose device entry is a .ts file, or when the working directory holds a
 * `sensorkit.config.ts`.
 */
export function mentionsTypeScript(args) {
  for (const arg of args) {
    const value = arg.startsWith('--') && arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : arg;
    if (TYPESCRIPT.test(value) && !value.endsWith('.d.ts')) return true;
    if (!value.startsWith('-') && isFolder(value)) {
      const entry = ENTRY_FILES.find((name) => existsSync(join(value, name)));
      if (entry !== undefined && TYPESCRIPT.test(entry)) return true;
    }
  }
  return DEFAULT_CONFIG_FILES.some((name) => existsSync(resolve(name)));
}

function isFolder(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
