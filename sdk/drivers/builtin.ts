/** The built-in parts. Each driver folder exports its definition; list it here. */
import type { DriverDefinition } from './contract.js';
import { ads1115Driver } from './ads1115/index.js';
import { analogVoltage } from './analog-voltage/index.js';
import { bme280Driver } from './bme280/index.js';
import { currentLoopDriver } from './current-loop/index.js';
import { mpu6050Driver } from './mpu6050/index.js';
import { thermistor } from './thermistor/index.js';

export const BUILTIN_DRIVERS: readonly DriverDefinition[] = [
  bme280Driver,
  ads1115Driver,
  mpu6050Driver,
  currentLoopDriver,
  analogVoltage,
  thermistor,
];
