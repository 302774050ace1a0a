/**
 * Checks every resource of a catalog before a run: a known type, its type's JSON Schema
 * (schemas/resource.ts, one compiled guard per type) and the type's own validate(). Pure.
 */
import { compileGuard, isResourceType, resourceId, resourceSchemas, type Guard, type Resource, type ResourceType } from '../../schemas/index.js';
import type { Registry, ResourceImpl } from '../resources/resource.js';

const guards = new Map<ResourceType, Guard<Resource>>();
function guardFor(type: ResourceType): Guard<Resource> {
  let g = guards.get(type);
  if (!g) {
    g = compileGuard<Resource>(resourceSchemas[type]);
    guards.set(type, g);
  }
  return g;
}

/** Every problem, as "where: path message" lines; [] when the catalog's resources are valid. */
export function validateCatalog(resources: readonly unknown[], registry: Registry): string[] {
  const problems: string[] = [];
  resources.forEach((r, i) => {
    const where = `resource #${i + 1}`;
    if (typeof r !== 'object' || r === null || !isResourceType((r as { type?: unknown }).type)) {
      problems.push(`${where}: unknown resource type ${JSON.stringify((r as { type?: unknown } | null)?.type)}`);
      return;
    }
    const res = r as Resource;
    const found = guardFor(res.type).check(res);
    if (found.length > 0) {
      for (const p of found) problems.push(`${where} (${res.type}): ${p.path || '/'} ${p.message}`);
      return;
    }
    const impl = registry[res.type] as ResourceImpl<ResourceType, unknown>;
    for (const p of impl.validate(res as never)) problems.push(`${resourceId(res)}: ${p.path || '/'} ${p.message}`);
  });
  return problems;
}
