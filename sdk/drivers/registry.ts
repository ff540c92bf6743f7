/**
 * The driver registry: part id → driver definition. Built-in parts are registered on import; a
 * sensor maker adds their own with `registerDriver` before defining a device that uses it.
 */
import { ValidationError } from '../core/errors.js';
import { BUILTIN_DRIVERS } from './builtin.js';
import type { DriverDefinition } from './contract.js';

const registry = new Map<string, DriverDefinition>(BUILTIN_DRIVERS.map((definition) => [definition.part, definition]));

/**
 * Registers a custom part. Throws `ValidationError` when the part id is taken.
 *
 * @example
 * ```ts
 * registerDriver(myPartDefinition)
 * defineDevice({ …, channels: [{ …, driver: { part: 'my-part', pin: 'A0' } }] })
 * ```
 */
export function registerDriver(definition: DriverDefinition): void {
  if (registry.has(definition.part)) throw new ValidationError('part', `a driver for "${definition.part}" is already registered`);
  registry.set(definition.part, definition);
}

/** The definition of a part, or undefined. */
export function driverDefinition(part: string): DriverDefinition | undefined {
  return registry.get(part);
}

/** Every registered part id, sorted. */
export function registeredParts(): string[] {
  return [...registry.keys()].sort();
}
