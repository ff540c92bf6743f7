/**
 * Loading a package that sensorkit does not install by default: it is an optional peer dependency
 * (package.json `peerDependenciesMeta`), so a device on a board is not burdened with a server's
 * database or a demo broker. When the package is missing, the feature that needs it fails with one
 * `MissingPackageError` line naming the package and how to add it.
 */
import { MissingPackageError } from './errors.js';

/**
 * Imports an optional ES module package; throws `MissingPackageError` when it is not installed.
 * Any other failure (a broken install, an error while the package loads) is rethrown unchanged.
 *
 * @param name the npm package, e.g. `'aedes'`
 * @param feature what needs it, the start of the error message: "the embedded MQTT broker"
 * @param hint an alternative to installing it, shown in parentheses
 * @example
 * ```ts
 * const { Aedes } = await importOptional<typeof import('aedes')>('aedes', 'the embedded MQTT broker', 'or give --mqtt URL')
 * // not installed: "the embedded MQTT broker needs the package aedes: npm install aedes (or give --mqtt URL)"
 * ```
 */
export async function importOptional<Module>(name: string, feature: string, hint?: string): Promise<Module> {
  try {
    return (await import(name)) as Module;
  } catch (error) {
    throw missingOr(error, name, feature, hint);
  }
}

/**
 * The typed error when `name` itself is what could not be found; a missing package that `name`
 * depends on is a broken install, reported as it is.
 */
function missingOr(error: unknown, name: string, feature: string, hint: string | undefined): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  // ESM: "Cannot find package 'aedes' imported from …"; CommonJS: "Cannot find module 'aedes'".
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && new RegExp(`Cannot find (package|module) '${escape(name)}'`).test(message);
  return missing ? new MissingPackageError(name, feature, hint, { cause: error }) : error;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
