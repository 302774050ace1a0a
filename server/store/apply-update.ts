/**
 * applyUpdate: the contract's update operators applied in JS to a document (the SQLite store
 * runs it inside BEGIN IMMEDIATE, so read-modify-write is atomic). Semantics follow MongoDB,
 * cross-checked against mingo's updater by the contract suite.
 */
import type { UpdateOp } from './check-update.js';
import { encodeJson } from './ejson.js';
import { getPath, isPlainObject, setPath, unsetPath } from './field-path.js';
import { StoreError } from './store-error.js';
import { compareValues, sameValue } from './value-order.js';

/** A deep copy of a stored value (Dates copied, not shared). */
export function cloneValue<V>(v: V): V {
  return structuredClone(v);
}

/**
 * applyUpdate changes `doc` in place and resolves whether its content changed. `inserting`
 * enables $setOnInsert. Throws StoreError BAD_UPDATE when an operator does not fit the
 * document (e.g. $inc on a string), leaving the caller to discard `doc`.
 */
export function applyUpdate(doc: Record<string, unknown>, ops: readonly UpdateOp[], inserting: boolean): boolean {
  const before = encodeJson(doc);
  for (const { op, path, arg } of ops) {
    const current = getPath(doc, path);
    switch (op) {
      case '$set':
        setPath(doc, path, cloneValue(arg));
        break;
      case '$setOnInsert':
        if (inserting) setPath(doc, path, cloneValue(arg));
        break;
      case '$unset':
        unsetPath(doc, path);
        break;
      case '$inc': {
        if (current !== undefined && typeof current !== 'number') throw new StoreError('BAD_UPDATE', `$inc ${path}: field is not a number`);
        setPath(doc, path, (current ?? 0) + (arg as number));
        break;
      }
      case '$min':
      case '$max': {
        const c = current === undefined ? undefined : compareValues(arg, current);
        if (c === undefined || (op === '$min' ? c < 0 : c > 0)) setPath(doc, path, cloneValue(arg));
        break;
      }
      case '$push':
      case '$addToSet': {
        if (current !== undefined && !Array.isArray(current)) throw new StoreError('BAD_UPDATE', `${op} ${path}: field is not an array`);
        const list: unknown[] = current === undefined ? [] : current;
        const hasEach = isPlainObject(arg) && Object.hasOwn(arg, '$each');
        const items = hasEach ? (arg['$each'] as unknown[]) : [arg];
        for (const item of items) {
          if (op === '$addToSet' && list.some((x) => sameValue(x, item))) continue;
          list.push(cloneValue(item));
        }
        const slice = hasEach ? arg['$slice'] : undefined;
        const result = typeof slice === 'number' ? (slice >= 0 ? list.slice(0, slice) : list.slice(slice)) : list;
        setPath(doc, path, result);
        break;
      }
      case '$pull': {
        if (current === undefined) break;
        if (!Array.isArray(current)) throw new StoreError('BAD_UPDATE', `$pull ${path}: field is not an array`);
        const values = isPlainObject(arg) ? (arg['$in'] as unknown[]) : [arg];
        setPath(doc, path, current.filter((x) => !values.some((v) => sameValue(x, v))));
        break;
      }
      default:
        return op satisfies never;
    }
  }
  return encodeJson(doc) !== before;
}
