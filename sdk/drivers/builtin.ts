/** The built-in parts. Each driver folder exports its definition; list it here. */
import type { DriverDefinition } from './contract.js';

export const BUILTIN_DRIVERS: readonly DriverDefinition[] = [];
