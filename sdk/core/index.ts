/** sensorkit core: clock, typed errors, typed events, seeded randomness. */
export * from './clock.js';
export * from './errors.js';
export * from './events.js';
export * from './random.js';
export * from './sample.js';
export * from './wall-clock-watch.js';
