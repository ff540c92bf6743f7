/** sensorkit io: the board and bus contracts, the board definitions (pin maps), the rules every board follows, and the one IO-plugin adapter that boards extend. */
export * from './board.js';
export * from './board-definitions.js';
export * from './checks.js';
export * from './i2c-device.js';
export * from './io-plugin-args.js';
export * from './io-plugin-board.js';
export * from './limits.js';
export * from './pin-map.js';
export * from './polled-reports.js';
export * from './board-registry.js';
