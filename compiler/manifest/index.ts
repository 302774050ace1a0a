/** Manifest files: parsing with positions and every check, in one pass. */
export * from './manifest-problem.js';
export * from './parse-manifest.js';
export * from './load-manifest.js';
export { isSafeRelativePath } from './semantic-checks.js';
export { forbiddenKeys } from './yaml-source.js';
