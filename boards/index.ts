/** Boards: the board contract, the built-in pin maps and the emulated board. */
export * from './contract.js';
export * from './definitions.js';
export * from './emulated/index.js';
