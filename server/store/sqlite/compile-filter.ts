/**
 * The filter → SQL compiler of the SQLite store. Each document is JSON text in column `doc`
 * (Dates as {"$date": ISO}); `_id` is also the primary-key column `id`. Comparisons are
 * bracketed by json_type so that, as in MongoDB, a number never equals or orders with a
 * string, a boolean never equals 1, and null equality also matches a missing field. The
 * field expression is exactly the one declared indexes use, so SQLite can use them.
 * Every value is a bound parameter; paths are checked (no quote or backslash) before they
 * are written into SQL.
 */
import { dateText } from '../ejson.js';
import { isPlainObject } from '../field-path.js';
import type { FieldOperators, Filter, Scalar } from '../types.js';

/** A WHERE fragment with its parameters. */
export interface SqlFragment {
  readonly sql: string;
  readonly params: (string | number)[];
}

interface Accessor {
  /** The value expression (json_extract or the id column). */
  readonly x: string;
  /** The JSON type expression: 'null', 'true', 'false', 'integer', 'real', 'text', 'array', 'object' or NULL when missing. */
  readonly t: string;
  /** The JSON path literal, for json_each. */
  readonly p: string;
}

/** jsonPath turns "a.b" into the SQL literal '$."a"."b"' (segments were checked by checkPath). */
export function jsonPath(path: string): string {
  return `'$${path.split('.').map((s) => `."${s.replace(/'/g, "''")}"`).join('')}'`;
}

/** fieldExpr is the SQL expression of a field: what indexes are built on and queries compare. */
export function fieldExpr(path: string): string {
  return path === '_id' ? 'id' : `json_extract(doc, ${jsonPath(path)})`;
}

/** typeExpr is the SQL expression of a field's JSON type (NULL when missing). */
export function typeExpr(path: string): string {
  return path === '_id' ? `'text'` : `json_type(doc, ${jsonPath(path)})`;
}

function accessor(path: string): Accessor {
  return { x: fieldExpr(path), t: typeExpr(path), p: jsonPath(path) };
}

/** compileFilter compiles a checked filter to a WHERE expression ('1' for {}). */
export function compileFilter(filter: Filter): SqlFragment {
  const params: (string | number)[] = [];
  const sql = filterSql(filter, params);
  return { sql, params };
}

function filterSql(filter: Filter, params: (string | number)[]): string {
  const parts: string[] = [];
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') parts.push(`(${(cond as readonly Filter[]).map((f) => filterSql(f, params)).join(' AND ')})`);
    else if (key === '$or') parts.push(`(${(cond as readonly Filter[]).map((f) => filterSql(f, params)).join(' OR ')})`);
    else parts.push(conditionSql(accessor(key), cond as FieldOperators | Scalar, params));
  }
  return parts.length === 0 ? '1' : parts.join(' AND ');
}

function conditionSql(a: Accessor, cond: FieldOperators | Scalar, params: (string | number)[]): string {
  if (!isPlainObject(cond)) return eqSql(a.x, a.t, cond as Scalar, params);
  const parts: string[] = [];
  for (const [op, arg] of Object.entries(cond)) {
    switch (op) {
      case '$eq': parts.push(eqSql(a.x, a.t, arg as Scalar, params)); break;
      case '$ne': parts.push(`NOT COALESCE(${eqSql(a.x, a.t, arg as Scalar, params)}, 0)`); break;
      case '$in': parts.push(inSql(a, arg as Scalar[], params)); break;
      case '$nin': parts.push(`NOT COALESCE(${inSql(a, arg as Scalar[], params)}, 0)`); break;
      case '$gt': parts.push(rangeSql(a, '>', arg as Scalar, params)); break;
      case '$gte': parts.push(rangeSql(a, '>=', arg as Scalar, params)); break;
      case '$lt': parts.push(rangeSql(a, '<', arg as Scalar, params)); break;
      case '$lte': parts.push(rangeSql(a, '<=', arg as Scalar, params)); break;
      case '$exists': parts.push(arg === true ? `${a.t} IS NOT NULL` : `${a.t} IS NULL`); break;
      case '$all': parts.push(`(${(arg as Scalar[]).map((v) => allOneSql(a, v, params)).join(' AND ')})`); break;
      case '$startsWith': parts.push(startsWithSql(a, arg as string, params)); break;
      default: throw new Error(`unreachable: operator ${op} passed checkFilter`);
    }
  }
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' AND ')})`;
}

const NUMBER_TYPES = `('integer','real')`;

/** Typed equality of expression x (with JSON type t) and a scalar. */
function eqSql(x: string, t: string, v: Scalar, params: (string | number)[]): string {
  if (v === null) return `(${t} IS NULL OR ${t} = 'null')`;
  if (typeof v === 'string') { params.push(v); return `(${x} = ? AND ${t} = 'text')`; }
  if (typeof v === 'number') { params.push(v); return `(${x} = ? AND ${t} IN ${NUMBER_TYPES})`; }
  if (typeof v === 'boolean') { params.push(v ? 1 : 0); return `(${x} = ? AND ${t} = '${v ? 'true' : 'false'}')`; }
  params.push(dateText(v));
  return `(${x} = ? AND ${t} = 'object')`;
}

function inSql(a: Accessor, values: Scalar[], params: (string | number)[]): string {
  const strings = values.filter((v): v is string => typeof v === 'string');
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const dates = values.filter((v): v is Date => v instanceof Date).map(dateText);
  const parts: string[] = [];
  const list = (vs: (string | number)[], type: string): void => {
    if (vs.length === 0) return;
    params.push(...vs);
    parts.push(`(${a.x} IN (${vs.map(() => '?').join(',')}) AND ${a.t} ${type})`);
  };
  list(strings, `= 'text'`);
  list(numbers, `IN ${NUMBER_TYPES}`);
  list(dates, `= 'object'`);
  if (values.includes(true)) parts.push(eqSql(a.x, a.t, true, params));
  if (values.includes(false)) parts.push(eqSql(a.x, a.t, false, params));
  if (values.includes(null)) parts.push(eqSql(a.x, a.t, null, params));
  return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
}

function rangeSql(a: Accessor, op: string, v: Scalar, params: (string | number)[]): string {
  if (typeof v === 'string') { params.push(v); return `(${a.x} ${op} ? AND ${a.t} = 'text')`; }
  if (typeof v === 'number') { params.push(v); return `(${a.x} ${op} ? AND ${a.t} IN ${NUMBER_TYPES})`; }
  params.push(dateText(v as Date)); // checkFilter admits only strings, numbers and Dates here
  return `(${a.x} ${op} ? AND ${a.t} = 'object' AND substr(${a.x}, 1, 10) = '{"$date":"')`;
}

function allOneSql(a: Accessor, v: Scalar, params: (string | number)[]): string {
  const inArray = eqSql('j.value', 'j.type', v, params);
  const scalar = eqSql(a.x, a.t, v, params);
  return `((${a.t} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${a.p}) AS j WHERE ${inArray})) OR ${scalar})`;
}

function startsWithSql(a: Accessor, prefix: string, params: (string | number)[]): string {
  if (prefix === '') return `${a.t} = 'text'`;
  params.push(prefix, `${prefix}\u{10FFFF}`, prefix, prefix);
  return `(${a.x} >= ? AND ${a.x} < ? AND substr(${a.x}, 1, length(?)) = ? AND ${a.t} = 'text')`;
}

/** compileSort builds ORDER BY for checked sort pairs, always ending with id for a stable order. */
export function compileSort(sort: readonly [string, 1 | -1][]): string {
  const keys = sort.map(([path, dir]) => `${fieldExpr(path)} ${dir === 1 ? 'ASC' : 'DESC'}`);
  if (!sort.some(([path]) => path === '_id')) keys.push('id ASC');
  return `ORDER BY ${keys.join(', ')}`;
}
