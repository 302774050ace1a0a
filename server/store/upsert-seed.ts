/**
 * upsertSeed: the document an upsert starts from, built from the filter's equality
 * conditions (top level and inside $and), as MongoDB does before applying the update.
 */
import { cloneValue } from './apply-update.js';
import { isPlainObject, setPath } from './field-path.js';
import type { Filter } from './types.js';

/** upsertSeed resolves a fresh document holding every `path: value` / `path: {$eq: value}` of the filter. */
export function upsertSeed(filter: Filter): Record<string, unknown> {
  const seed: Record<string, unknown> = {};
  collect(filter, seed);
  return seed;
}

function collect(filter: Filter, seed: Record<string, unknown>): void {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') {
      for (const sub of cond as readonly Filter[]) collect(sub, seed);
      continue;
    }
    if (key.startsWith('$')) continue; // $or contributes nothing, as in MongoDB
    if (isPlainObject(cond)) {
      if (Object.hasOwn(cond, '$eq')) setPath(seed, key, cloneValue(cond['$eq']));
    } else {
      setPath(seed, key, cloneValue(cond));
    }
  }
}
