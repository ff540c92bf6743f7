/** The emulated board: board, signal models, ADC model, fault injection. */
export * from './adc.js';
export * from './analog-front-end.js';
export * from './board.js';
export * from './faults.js';
export * from './i2c-bus.js';
export * from './physical-inputs.js';
export * from './signals.js';
export type * from './peripheral.js';
// peripherals: see ./parts/
// The Firmata engine and its control commands; the pty server (socat + serialport) is in ./firmata/.
export * from './firmata/engine.js';
export * from './firmata/control.js';
