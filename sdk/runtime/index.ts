/** sensorkit runtime: loads device files and wires a device to its board, transports and services. */
export * from './device-file.js';
