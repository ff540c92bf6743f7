/** sensorkit io: the board and bus contracts and the board definitions (pin maps) that boards and drivers share. */
export * from './board.js';
export * from './board-definitions.js';
