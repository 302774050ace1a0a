/** Request and response schemas of every /api/v1 endpoint, re-exported. */
export * from './error.js';
export * from './fragments.js';
export * from './enroll.js';
export * from './agents.js';
export * from './revision.js';
export * from './hosts.js';
export * from './compliance.js';
export * from './plans.js';
export * from './scripts.js';
export * from './audit.js';
export * from './schedules.js';
export * from './jobs.js';
export * from './rollouts.js';
export * from './fleet-plan.js';
export * from './inventory.js';
export * from './software.js';
export * from './manifests.js';
