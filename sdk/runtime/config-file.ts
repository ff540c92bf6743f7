/**
 * Loading a configuration file: `sensorkit.config.json`, or a `.ts`/`.js`/`.mjs` module whose default
 * export is the configuration (`export default defineConfig({ … })`). A module may register its own
 * board kinds (`registerBoard`) before it exports. Relative paths in the file resolve against the
 * file's folder, so a deployment folder can move as a whole.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SensorkitError, ValidationError } from '../core/errors.js';
import { checkConfig, type RuntimeConfig } from './config.js';
import { importFailure } from './import-error.js';
import { sourceFileProblem } from './source-file.js';

/** The names looked for in a folder, in this order. */
export const CONFIG_FILE_NAMES = ['sensorkit.config.json', 'sensorkit.config.ts', 'sensorkit.config.js', 'sensorkit.config.mjs'] as const;

/**
 * A configuration file's field is invalid, or the file does not load. `path` is the file and the
 * field (`sensorkit.config.json: mqtt.url`); `field` the field alone (empty when the file as a
 * whole is at fault).
 *
 * @example
 * ```ts
 * try { await loadConfigFile('sensorkit.config.json') } catch (e) {
 *   if (e instanceof ConfigFileError) console.error(e.message) // 'sensorkit.config.json: mqtt.url: must be mqtt:// or mqtts://, got "http://x"'
 * }
 * ```
 */
export class ConfigFileError extends ValidationError {
  /** The file as it was named. */
  readonly file: string;
  /** The field's path in the file, e.g. `opcua.port`; empty for the file as a whole. */
  readonly field: string;

  constructor(file: string, field: string, reason: string, options?: { cause?: unknown }) {
    super(field ? `${file}: ${field}` : file, reason, options);
    this.file = file;
    this.field = field;
  }
}

/** A loaded configuration file. */
export interface LoadedConfig {
  /** The file as it was named (for messages). */
  readonly file: string;
  /** The checked configuration, its relative paths made absolute against the file's folder. */
  readonly config: RuntimeConfig;
}

/**
 * The first of {@link CONFIG_FILE_NAMES} in `folder`, or undefined.
 *
 * @example
 * ```ts
 * findConfigFile(process.cwd()) // '/opt/sensor/sensorkit.config.json'
 * ```
 */
export function findConfigFile(folder: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => join(folder, name)).find((file) => existsSync(file));
}

/**
 * Loads and checks a configuration file. Every failure is a {@link ConfigFileError} naming the file
 * (and the field, when one is at fault); a path that is not a regular file of at most 1 MiB is
 * refused before it is read (source-file.ts). TypeScript files need the ts-node loader, which the
 * `sensorkit` binary registers.
 *
 * @example
 * ```ts
 * const { config } = await loadConfigFile('/opt/sensor/sensorkit.config.json')
 * const runtime = await startRuntime(config)
 * ```
 */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const absolute = resolve(file);
  if (!existsSync(absolute)) throw new ConfigFileError(file, '', 'no such file');
  const problem = sourceFileProblem(absolute, 'configuration file');
  if (problem !== undefined) throw new ConfigFileError(file, '', problem);
  const raw = extname(absolute) === '.json' ? readJson(file, absolute) : await importModule(file, absolute);
  const folder = dirname(absolute);
  try {
    return { file, config: checkConfig(raw, (path) => (isAbsolute(path) ? path : resolve(folder, path))) };
  } catch (error) {
    if (error instanceof ValidationError) throw new ConfigFileError(file, error.path, error.reason, { cause: error });
    throw error;
  }
}

function readJson(file: string, absolute: string): unknown {
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new ConfigFileError(file, '', `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigFileError(file, '', `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function importModule(file: string, absolute: string): Promise<unknown> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    // defineConfig() checks at definition time: keep the field of its ValidationError.
    if (error instanceof ValidationError) throw new ConfigFileError(file, error.path, error.reason, { cause: error });
    const reason = error instanceof SensorkitError ? error.message : importFailure(error);
    throw new ConfigFileError(file, '', reason, { cause: error });
  }
  if (module.default === undefined) throw new ConfigFileError(file, '', 'must export the configuration as default (export default defineConfig({ … }))');
  return module.default;
}
