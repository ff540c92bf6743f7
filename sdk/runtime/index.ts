/**
 * sensorkit runtime: loads device files and configuration files, and wires a device to its board,
 * transports and services (`startRuntime`). Loading it registers sensorkit's board kinds.
 */
import './builtin-boards.js';

export * from './device-file.js';
export * from './device-source.js';
export * from './config.js';
export * from './config-file.js';
export * from './runtime.js';
export { EMULATED_BOARD, FIRMATA_BOARD, LINUX_BOARD, parseFirmataArgs } from './builtin-boards.js';
export { registerBoard, registeredBoards, boardKind, checkBoardSpec, openBoardSpec } from '../io/board-registry.js';
export type { BoardKind, BoardContext, OpenedBoard } from '../io/board-registry.js';
