/** The schema registry: every schema and type, re-exported. A test checks completeness. */
export * from './defs.js';
export * from './validate.js';
export * from './resource.js';
export * from './manifest.js';
export * from './catalog.js';
export * from './graph.js';
export * from './report.js';
export * from './resources/file.js';
export * from './resources/directory.js';
export * from './resources/link.js';
export * from './resources/archive.js';
export * from './resources/package.js';
export * from './resources/service.js';
export * from './resources/user.js';
export * from './resources/group.js';
export * from './resources/exec.js';
export * from './repo/index.js';
