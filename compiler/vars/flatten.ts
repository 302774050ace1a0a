/**
 * The flattened key table: one row per leaf ("region.mongodb.hosts" → [..]). Maps are walked;
 * lists, scalars, secrets and empty maps are leaves (a list is one value, as in the YAML view).
 */
import { formatKeyPath, type KeySegment } from './key-path.js';
import { isVarMap } from './merge.js';

export interface FlatEntry {
  readonly key: string;
  readonly path: readonly KeySegment[];
  readonly value: unknown;
}

/** Leaves of `value`, sorted by key. */
export function flattenVars(value: unknown): FlatEntry[] {
  const out: FlatEntry[] = [];
  walk(value, [], out);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function walk(value: unknown, path: KeySegment[], out: FlatEntry[]): void {
  if (isVarMap(value) && (Object.keys(value).length > 0 || path.length === 0)) {
    for (const k of Object.keys(value)) walk(value[k], [...path, k], out);
    return;
  }
  out.push({ key: formatKeyPath(path), path, value });
}
