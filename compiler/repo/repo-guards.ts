/** Compiled guards for repository files; registers the referenced schemas with the shared Ajv once. */
import { ajv, compileGuard, type Guard } from '../../schemas/validate.js';
import { groupSchema, matchConditionSchema, matchRuleSchema, type Group } from '../../schemas/repo/group.js';
import { inventoryFileSchema, inventoryHostSchema } from '../../schemas/repo/inventory.js';
import { roleParameterSchema, roleSchema, type Role } from '../../schemas/repo/role.js';
import { steadConfigSchema, type SteadConfig } from '../../schemas/repo/stead-config.js';

for (const s of [matchConditionSchema, matchRuleSchema, inventoryHostSchema, roleParameterSchema]) {
  if (!ajv.getSchema(s.$id)) ajv.addSchema(s as object);
}

export const steadConfigGuard: Guard<SteadConfig> = compileGuard(steadConfigSchema);
export const inventoryFileGuard: Guard<{ hosts: Record<string, unknown> }> = compileGuard(inventoryFileSchema);
export const groupGuard: Guard<Group> = compileGuard(groupSchema);
export const roleGuard: Guard<Role> = compileGuard(roleSchema);
