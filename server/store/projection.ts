/**
 * Projections as the contract accepts them: inclusion (`{a: 1, 'b.c': 1}`, `_id` kept unless
 * `_id: 0`) or exclusion (`{a: 0}`), never mixed except for `_id: 0`.
 */
import { checkPath, getPath, isPlainObject, setPath, unsetPath } from './field-path.js';
import { StoreError } from './store-error.js';

/** A checked projection. */
export interface ParsedProjection {
  readonly mode: 'include' | 'exclude';
  readonly paths: readonly string[];
  readonly withId: boolean;
}

/** checkProjection validates a projection and resolves how to apply it. */
export function checkProjection(projection: unknown): ParsedProjection {
  if (!isPlainObject(projection)) throw new StoreError('BAD_FILTER', 'projection must be a plain object');
  let withId = true;
  const include: string[] = [];
  const exclude: string[] = [];
  for (const [path, flag] of Object.entries(projection)) {
    checkPath(path, 'projection');
    if (flag !== 0 && flag !== 1) throw new StoreError('BAD_FILTER', `projection ${path}: use 1 or 0`);
    if (path === '_id') withId = flag === 1;
    else (flag === 1 ? include : exclude).push(path);
  }
  if (include.length > 0 && exclude.length > 0) throw new StoreError('BAD_FILTER', 'projection mixes inclusion and exclusion');
  return include.length > 0 || exclude.length === 0
    ? { mode: 'include', paths: include, withId }
    : { mode: 'exclude', paths: exclude, withId };
}

/** project builds the projected document from `doc` (which it may change: pass a copy). */
export function project<T>(doc: Record<string, unknown>, p: ParsedProjection): T {
  if (p.mode === 'exclude') {
    for (const path of p.paths) unsetPath(doc, path);
    if (!p.withId) delete doc['_id'];
    return doc as T;
  }
  if (p.paths.length === 0) {
    // {} or {_id: 1} keep everything; {_id: 0} alone keeps everything but _id (MongoDB)
    if (!p.withId) delete doc['_id'];
    return doc as T;
  }
  const out: Record<string, unknown> = {};
  if (p.withId && doc['_id'] !== undefined) out['_id'] = doc['_id'];
  for (const path of p.paths) {
    const v = getPath(doc, path);
    if (v !== undefined) setPath(out, path, v);
  }
  return out as T;
}
