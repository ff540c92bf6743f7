/**
 * sensorkit/hil: hardware-in-the-loop test plans, targets (emulated or real boards), simulated and
 * SCPI instruments, metrology (GUM uncertainty, ILAC-G8 decisions), signed replayable records, JUnit
 * and a readable report.
 */
export * from './plan/index.js';
export * from './run/index.js';
export * from './targets/index.js';
export * from './instruments/index.js';
export * from './record/index.js';
export * from './report/index.js';
export * from './metrology/index.js';
export * from './calibration/index.js';
