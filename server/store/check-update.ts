/**
 * checkUpdate: validates an update document against the contract and flattens it into
 * operations. Also the static rule that an update never nulls or removes a unique field.
 */
import { checkValue } from './check-document.js';
import { isScalar } from './check-filter.js';
import { checkPath, getPath, isPlainObject, overlaps } from './field-path.js';
import { StoreError } from './store-error.js';
import type { IndexSpec, Update } from './types.js';

/** The update operators of the contract. */
export type UpdateOperator = '$set' | '$unset' | '$inc' | '$min' | '$max' | '$push' | '$addToSet' | '$pull' | '$setOnInsert';

const OPERATORS: ReadonlySet<string> = new Set<UpdateOperator>([
  '$set', '$unset', '$inc', '$min', '$max', '$push', '$addToSet', '$pull', '$setOnInsert',
]);

/** One flattened operation: operator, path, argument. */
export interface UpdateOp {
  readonly op: UpdateOperator;
  readonly path: string;
  readonly arg: unknown;
}

/**
 * checkUpdate throws StoreError (BAD_UPDATE, BAD_PATH, UNSUPPORTED_OPERATOR, IMMUTABLE_ID,
 * BAD_DOCUMENT) unless `update` is in the contract; returns its operations. Paths of
 * different operations must not overlap (MongoDB refuses such updates too).
 */
export function checkUpdate(update: unknown): UpdateOp[] {
  if (!isPlainObject(update)) throw new StoreError('BAD_UPDATE', 'an update must be a plain object');
  const keys = Object.keys(update);
  if (keys.length === 0) throw new StoreError('BAD_UPDATE', 'an update needs at least one operator');
  const ops: UpdateOp[] = [];
  for (const key of keys) {
    if (!OPERATORS.has(key)) {
      if (key.startsWith('$')) throw new StoreError('UNSUPPORTED_OPERATOR', `update operator ${key} is not supported`);
      throw new StoreError('BAD_UPDATE', `update field ${key} is not an operator (replacement needs replaceOne)`);
    }
    const op = key as UpdateOperator;
    const fields = update[key];
    if (!isPlainObject(fields) || Object.keys(fields).length === 0) {
      throw new StoreError('BAD_UPDATE', `${op} needs a non-empty object of fields`);
    }
    for (const path of Object.keys(fields)) {
      checkPath(path, op);
      const arg = fields[path];
      if (path === '_id' && !(op === '$setOnInsert' && typeof arg === 'string' && arg.length > 0)) {
        throw new StoreError('IMMUTABLE_ID', `${op} cannot change _id`);
      }
      checkArg(op, path, arg);
      ops.push({ op, path, arg });
    }
  }
  for (let i = 0; i < ops.length; i++) {
    for (let j = i + 1; j < ops.length; j++) {
      const a = ops[i] as UpdateOp;
      const b = ops[j] as UpdateOp;
      if (overlaps(a.path, b.path)) {
        throw new StoreError('BAD_UPDATE', `update paths conflict: ${a.op} ${a.path} and ${b.op} ${b.path}`);
      }
    }
  }
  return ops;
}

function checkArg(op: UpdateOperator, path: string, arg: unknown): void {
  const where = `${op} ${path}`;
  switch (op) {
    case '$set':
    case '$setOnInsert':
      if (arg === undefined) throw new StoreError('BAD_UPDATE', `${where}: undefined value (use $unset)`);
      checkValue(arg, where);
      return;
    case '$unset':
      if (arg !== true && arg !== 1 && arg !== '') throw new StoreError('BAD_UPDATE', `${where}: use true, 1 or ''`);
      return;
    case '$inc':
      if (typeof arg !== 'number' || !Number.isFinite(arg)) throw new StoreError('BAD_UPDATE', `${where}: needs a finite number`);
      return;
    case '$min':
    case '$max':
      if (arg === null || typeof arg === 'boolean' || !isScalar(arg)) throw new StoreError('BAD_UPDATE', `${where}: needs a string, number or Date`);
      return;
    case '$push':
    case '$addToSet':
      if (isPlainObject(arg) && Object.hasOwn(arg, '$each')) {
        const extra = Object.keys(arg).filter((k) => k !== '$each' && !(op === '$push' && k === '$slice'));
        if (extra.length > 0) throw new StoreError('UNSUPPORTED_OPERATOR', `${where}: modifier ${extra[0]} is not supported`);
        const each = arg['$each'];
        if (!Array.isArray(each)) throw new StoreError('BAD_UPDATE', `${where}: $each needs an array`);
        each.forEach((v, i) => {
          if (v === undefined) throw new StoreError('BAD_UPDATE', `${where}: undefined in $each`);
          checkValue(v, `${where}.$each[${i}]`);
        });
        const slice = arg['$slice'];
        if (slice !== undefined && !Number.isSafeInteger(slice)) throw new StoreError('BAD_UPDATE', `${where}: $slice needs an integer`);
        return;
      }
      if (arg === undefined) throw new StoreError('BAD_UPDATE', `${where}: undefined value`);
      checkValue(arg, where);
      return;
    case '$pull':
      if (isScalar(arg)) return;
      if (isPlainObject(arg) && Object.keys(arg).length === 1 && Array.isArray(arg['$in']) && (arg['$in'] as unknown[]).every(isScalar)) return;
      throw new StoreError('BAD_UPDATE', `${where}: needs a scalar or {$in: [scalars]}`);
    default:
      return op satisfies never;
  }
}

/**
 * checkUpdateKeepsUniqueFields: refuses, before any backend runs it, an update that would
 * set a unique-index field to null or an array, or remove a field of a non-partial unique index.
 */
export function checkUpdateKeepsUniqueFields(ops: readonly UpdateOp[], indexes: readonly IndexSpec[]): void {
  for (const ix of indexes) {
    if (ix.unique !== true) continue;
    for (const field of Object.keys(ix.fields)) {
      for (const { op, path, arg } of ops) {
        if (!overlaps(path, field) || path.length > field.length) continue; // only the field or a parent
        if (op === '$unset') {
          if (ix.partialExists !== true) throw new StoreError('UNIQUE_FIELD_MISSING', `$unset ${path} removes ${field} of unique index ${ix.name}`);
        } else if (op === '$set' || op === '$setOnInsert') {
          const v = path === field ? arg : getPath(arg, field.slice(path.length + 1));
          if (v === null || Array.isArray(v) || (v === undefined && ix.partialExists !== true)) {
            throw new StoreError('UNIQUE_FIELD_MISSING', `${op} ${path} leaves ${field} of unique index ${ix.name} null, an array or missing`);
          }
        } else if (op === '$push' || op === '$addToSet' || op === '$pull') {
          throw new StoreError('BAD_UPDATE', `${op} on ${field} of unique index ${ix.name}: unique fields cannot be arrays`);
        }
      }
    }
  }
}
