/** Real boards over Firmata 2.x: the board, its serial lines, and the protocol codec. */
export * from './buses.js';
export * from './connection.js';
export * from './continuous-reads.js';
export * from './digital-reports.js';
export * from './firmata-board.js';
export * from './firmata-link.js';
export * from './analog-reports.js';
export * from './i2c-reads.js';
export * from './options.js';
export * from './pin-map.js';
export * from './serial-line.js';
export * from './session-state.js';
export * from './protocol/index.js';
