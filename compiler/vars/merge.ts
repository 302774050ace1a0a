/**
 * Deep merge of variable values without prototype pollution (security.md D2): maps merge key by
 * key, everything else (lists, scalars, secrets, null) replaces. Inputs are never mutated;
 * results share unchanged subtrees with their inputs, so treat them as immutable. Keys
 * `__proto__`, `constructor` and `prototype` are refused (the loader reports them located;
 * merge throws if one slips through) and every key is set with defineProperty, never `obj[k] =`.
 */
import { isSecretValue } from './secret-value.js';
import type { KeySegment } from './key-path.js';

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export class ForbiddenKeyError extends Error {
  readonly code = 'VAR_FORBIDDEN_KEY';
  constructor(readonly key: string) {
    super(`variable key "${key}" is not allowed (it could pollute object prototypes)`);
    this.name = 'ForbiddenKeyError';
  }
}

export type VarMap = Record<string, unknown>;

/** A YAML mapping (plain object), as opposed to a list, scalar, null or secret. */
export function isVarMap(v: unknown): v is VarMap {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || isSecretValue(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets an own, enumerable property even for keys like "__proto__" (which are refused earlier). */
export function setOwn(target: VarMap, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `over` merged onto `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isVarMap(base) || !isVarMap(over)) return over;
  const out: VarMap = {};
  for (const k of Object.keys(base)) setOwn(out, k, base[k]);
  for (const k of Object.keys(over)) {
    if (FORBIDDEN_KEYS.has(k)) throw new ForbiddenKeyError(k);
    setOwn(out, k, Object.hasOwn(out, k) ? deepMerge(out[k], over[k]) : over[k]);
  }
  return out;
}

/** The value at `path` (own properties only), or `found: false`. */
export function getPath(value: unknown, path: readonly KeySegment[]): { found: boolean; value: unknown } {
  let cur: unknown = value;
  for (const seg of path) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { found: false, value: undefined };
      cur = cur[seg];
    } else {
      if (!isVarMap(cur) || !Object.hasOwn(cur, seg)) return { found: false, value: undefined };
      cur = cur[seg];
    }
  }
  return { found: true, value: cur };
}

/** Paths (from the root) of every forbidden key inside `value`. */
export function findForbiddenKeys(value: unknown, at: KeySegment[] = []): KeySegment[][] {
  const out: KeySegment[][] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...findForbiddenKeys(v, [...at, i])));
  else if (isVarMap(value)) {
    for (const k of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(k)) out.push([...at, k]);
      else out.push(...findForbiddenKeys(value[k], [...at, k]));
    }
  }
  return out;
}

/** Deep copy of plain data (maps, lists, scalars; secrets kept as they are). */
export function cloneVars<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => cloneVars(v)) as T;
  if (isVarMap(value)) {
    const out: VarMap = {};
    for (const k of Object.keys(value)) setOwn(out, k, cloneVars(value[k]));
    return out as T;
  }
  return value;
}
