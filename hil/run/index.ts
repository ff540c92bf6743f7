/** Running a plan on a target. */
export type * from './run-options.js';
