/** Schemas of manifest repository files (re-exported by schemas/index.ts). */
export * from './names.js';
export * from './stead-config.js';
export * from './inventory.js';
export * from './group.js';
export * from './role.js';
export * from './problem.js';

import { steadConfigSchema } from './stead-config.js';
import { inventoryHostSchema, inventoryFileSchema } from './inventory.js';
import { matchConditionSchema, matchRuleSchema, groupSchema } from './group.js';
import { roleParameterSchema, roleSchema } from './role.js';
import { repoProblemSchema } from './problem.js';

/** Every repository schema, in dependency order (referenced schemas first). */
export const repoSchemas = [
  steadConfigSchema,
  inventoryHostSchema,
  inventoryFileSchema,
  matchConditionSchema,
  matchRuleSchema,
  groupSchema,
  roleParameterSchema,
  roleSchema,
  repoProblemSchema,
] as const;
