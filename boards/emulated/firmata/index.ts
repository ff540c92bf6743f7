/** The emulated board behind a Firmata 2.x engine, on any byte stream or on a socat pty. */
export * from './engine.js';
export * from './pty-link.js';
export * from './pty-server.js';
export * from './control.js';
