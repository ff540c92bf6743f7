/** Boards: the board contract, the built-in pin maps and the emulated board. */
export * from '../sdk/io/index.js';
export * from './emulated/index.js';
// Firmata boards (serialport) and the pty emulator load native bindings: import them from
// 'sensorkit/boards/firmata'. The codec and the Linux board have no native parts.
export * from './firmata/protocol/index.js';
export * from './linux/index.js';
