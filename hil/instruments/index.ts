/** Instruments: simulated on the harness's clock, or real over SCPI. */
export type * from './instrument.js';
