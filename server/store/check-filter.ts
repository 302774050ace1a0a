/**
 * checkFilter: refuses any filter outside the contract before a backend sees it (security D1:
 * no $where, $function, $expr or $regex from outside; no unknown operator is passed through).
 */
import { isStorableDate } from './check-document.js';
import { checkPath, isPlainObject } from './field-path.js';
import { StoreError } from './store-error.js';
import type { Filter } from './types.js';

/** The operators a field condition may use. */
export const FIELD_OPERATORS: ReadonlySet<string> = new Set([
  '$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$all', '$startsWith',
]);
const MAX_LIST = 10_000;
const MAX_DEPTH = 20;

/** isScalar: a value a filter can compare with (string, finite number, boolean, null, Date in years 0-9999). */
export function isScalar(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  return v instanceof Date && isStorableDate(v);
}

function isOrdered(v: unknown): boolean {
  return v !== null && typeof v !== 'boolean' && isScalar(v);
}

/** checkFilter throws StoreError (BAD_FILTER, BAD_PATH, UNSUPPORTED_OPERATOR) unless `filter` is in the contract. */
export function checkFilter(filter: unknown, depth = 0): asserts filter is Filter {
  if (depth > MAX_DEPTH) throw new StoreError('BAD_FILTER', `filter nested deeper than ${MAX_DEPTH}`);
  if (!isPlainObject(filter)) throw new StoreError('BAD_FILTER', 'a filter must be a plain object');
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (value === undefined) throw new StoreError('BAD_FILTER', `filter field ${key} is undefined`);
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new StoreError('BAD_FILTER', `${key} needs a non-empty array of filters`);
      for (const sub of value) checkFilter(sub, depth + 1);
      continue;
    }
    if (key.startsWith('$')) throw new StoreError('UNSUPPORTED_OPERATOR', `operator ${key} is not supported in a filter`);
    checkPath(key, 'filter');
    checkCondition(key, value);
  }
}

function checkCondition(path: string, cond: unknown): void {
  if (isScalar(cond)) return;
  if (Array.isArray(cond)) throw new StoreError('BAD_FILTER', `${path}: array equality is not supported (use $all)`);
  if (!isPlainObject(cond)) throw new StoreError('BAD_FILTER', `${path}: condition must be a scalar or an operator object`);
  const ops = Object.keys(cond);
  if (ops.length === 0) throw new StoreError('BAD_FILTER', `${path}: empty condition object`);
  for (const op of ops) {
    if (!op.startsWith('$')) throw new StoreError('BAD_FILTER', `${path}: embedded-document equality is not supported (use dotted paths)`);
    if (!FIELD_OPERATORS.has(op)) throw new StoreError('UNSUPPORTED_OPERATOR', `${path}: operator ${op} is not supported`);
    const arg = cond[op];
    switch (op) {
      case '$eq':
      case '$ne':
        if (!isScalar(arg)) throw new StoreError('BAD_FILTER', `${path}: ${op} needs a scalar`);
        break;
      case '$in':
      case '$nin':
        checkList(path, op, arg, true);
        break;
      case '$all':
        checkList(path, op, arg, false);
        if ((arg as unknown[]).length === 0) throw new StoreError('BAD_FILTER', `${path}: $all needs at least one value`);
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (!isOrdered(arg)) throw new StoreError('BAD_FILTER', `${path}: ${op} needs a string, number or Date`);
        break;
      case '$exists':
        if (typeof arg !== 'boolean') throw new StoreError('BAD_FILTER', `${path}: $exists needs a boolean`);
        break;
      case '$startsWith':
        if (typeof arg !== 'string') throw new StoreError('BAD_FILTER', `${path}: $startsWith needs a string`);
        break;
      default:
        throw new StoreError('UNSUPPORTED_OPERATOR', `${path}: operator ${op} is not supported`);
    }
  }
}

function checkList(path: string, op: string, arg: unknown, nullable: boolean): void {
  if (!Array.isArray(arg)) throw new StoreError('BAD_FILTER', `${path}: ${op} needs an array`);
  if (arg.length > MAX_LIST) throw new StoreError('BAD_FILTER', `${path}: ${op} has more than ${MAX_LIST} values`);
  for (const v of arg) {
    if (!isScalar(v) || (!nullable && v === null)) throw new StoreError('BAD_FILTER', `${path}: ${op} values must be scalars${nullable ? '' : ' (not null)'}`);
  }
}
