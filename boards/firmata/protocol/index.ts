/** The Firmata 2.x codec: constants, typed messages with their encoder, and the streaming parser. */
export * from './constants.js';
export * from './messages.js';
export * from './parser.js';
