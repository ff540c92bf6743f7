/** Targets: the device under test, emulated or on a real board. */
export type * from './target.js';
