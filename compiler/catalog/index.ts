/** The catalog builder and the input of a masterless `stead apply`. */
export * from './build-catalog.js';
export * from './catalog-problem.js';
export * from './canonical-json.js';
export * from './apply-input.js';
export { ConfinedReadError, confinedPath, readConfined } from './confined-read.js';
