/** Compiled guards for repository files; registers the referenced schemas with the shared Ajv (lazily) once. */
import { compileGuard, registerSchemas, type Guard } from '../../schemas/validate.js';
import { groupSchema, matchConditionSchema, matchRuleSchema, type Group } from '../../schemas/repo/group.js';
import { inventoryFileSchema, inventoryHostSchema } from '../../schemas/repo/inventory.js';
import { roleParameterSchema, roleSchema, type Role } from '../../schemas/repo/role.js';
import { steadConfigSchema, type SteadConfig } from '../../schemas/repo/stead-config.js';

registerSchemas([matchConditionSchema, matchRuleSchema, inventoryHostSchema, roleParameterSchema]);

export const steadConfigGuard: Guard<SteadConfig> = compileGuard(steadConfigSchema);
export const inventoryFileGuard: Guard<{ hosts: Record<string, unknown> }> = compileGuard(inventoryFileSchema);
export const groupGuard: Guard<Group> = compileGuard(groupSchema);
export const roleGuard: Guard<Role> = compileGuard(roleSchema);
