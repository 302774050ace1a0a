/**
 * Checks of find options and index specifications, shared by every backend so both refuse
 * the same inputs.
 */
import { checkPath, isPlainObject } from './field-path.js';
import { checkProjection, type ParsedProjection } from './projection.js';
import { StoreError } from './store-error.js';
import type { IndexSpec, Sort } from './types.js';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** checkName refuses collection, bucket and index names that are not [a-z][a-z0-9_]{0,62}. */
export function checkName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new StoreError('BAD_NAME', `${kind} name ${JSON.stringify(name)} must match ${NAME.source}`);
  }
  return name;
}

/** checkSort validates a sort and returns its [path, direction] pairs. */
export function checkSort(sort: unknown): [string, 1 | -1][] {
  if (!isPlainObject(sort)) throw new StoreError('BAD_FILTER', 'sort must be a plain object');
  return Object.entries(sort).map(([path, dir]) => {
    checkPath(path, 'sort');
    if (dir !== 1 && dir !== -1) throw new StoreError('BAD_FILTER', `sort ${path}: use 1 or -1`);
    return [path, dir];
  });
}

/** Checked find options. `limit` 0 means no limit, as in MongoDB. */
export interface ParsedFindOptions {
  readonly sort: [string, 1 | -1][];
  readonly skip: number;
  readonly limit: number;
  readonly projection: ParsedProjection | undefined;
}

/** checkFindOptions validates sort, skip, limit (non-negative safe integers) and projection. */
export function checkFindOptions(o: {
  sort?: Sort | undefined; skip?: number | undefined; limit?: number | undefined; projection?: Readonly<Record<string, 1 | 0>> | undefined;
} | undefined): ParsedFindOptions {
  const skip = o?.skip ?? 0;
  const limit = o?.limit ?? 0;
  if (!Number.isSafeInteger(skip) || skip < 0) throw new StoreError('BAD_FILTER', 'skip must be a non-negative integer');
  if (!Number.isSafeInteger(limit) || limit < 0) throw new StoreError('BAD_FILTER', 'limit must be a non-negative integer');
  return {
    sort: o?.sort === undefined ? [] : checkSort(o.sort),
    skip,
    limit,
    projection: o?.projection === undefined ? undefined : checkProjection(o.projection),
  };
}

/** checkIndexes validates index specifications: names, 1-8 valid fields, directions, no duplicates. */
export function checkIndexes(indexes: readonly IndexSpec[]): void {
  const seen = new Set<string>();
  for (const ix of indexes) {
    checkName('index', ix.name);
    if (seen.has(ix.name)) throw new StoreError('BAD_INDEX', `index ${ix.name} declared twice`);
    seen.add(ix.name);
    const fields = Object.entries(ix.fields);
    if (fields.length === 0 || fields.length > 8) throw new StoreError('BAD_INDEX', `index ${ix.name} needs 1-8 fields`);
    for (const [path, dir] of fields) {
      checkPath(path, `index ${ix.name}`);
      if (dir !== 1 && dir !== -1) throw new StoreError('BAD_INDEX', `index ${ix.name} field ${path}: use 1 or -1`);
    }
  }
}
