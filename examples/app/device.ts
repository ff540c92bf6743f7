/**
 * The device this application runs: env-node's model and emulated world (see ../env-node). A
 * deployment keeps its own device file here.
 */
export { default, emulation } from '../env-node/device.js';
