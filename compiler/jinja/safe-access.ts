/**
 * Attribute and item access for templates (`a.b`, `a['b']`, `a[1:3]`, `|attr('b')`,
 * `map(attribute='b')`): Python semantics over JS data, and the security boundary. nunjucks
 * hands out any JS property, so `range.constructor("return process")()` is code execution in
 * stock nunjucks. Here a template only ever reaches:
 *   - own data properties of plain objects (dicts), array elements and string characters;
 *   - the Python methods of str/list/dict (py-methods.ts);
 *   - own properties of the runtime's own objects (loop, namespace, cycler).
 * Names such as `constructor`, `__proto__`, `prototype` and any `__dunder__` are refused outright,
 * and nothing at all can be read from a function.
 */
import { LOOP_ATTRIBUTES, LoopContext } from './loop-context.js';
import { methodFor } from './py-methods.js';
import { JinjaRuntimeError, PyUndefined, RUNTIME_OBJECT, isMapping, num, typeName, unwrapString } from './py-values.js';

const BLOCKED = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'caller',
  'callee',
  'arguments',
  'mro',
  'func_globals',
  'gi_frame',
]);

/** A `start:stop:step` subscript. */
export class PySlice {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}
}

export function isBlockedName(name: string): boolean {
  return BLOCKED.has(name) || name.startsWith('__');
}

function refuse(name: string): never {
  throw new JinjaRuntimeError(`access to attribute '${name}' is not allowed in templates`, 'SECURITY');
}

/** Objects the runtime creates for templates (cycler(), groupby tuples) and read-only views carry this marker. */
export { RUNTIME_OBJECT } from './py-values.js';

function sliceSeq<T>(seq: readonly T[], sl: PySlice): T[] {
  const len = seq.length;
  const step = sl.step === null || sl.step === undefined ? 1 : num(sl.step);
  if (step === 0) throw new JinjaRuntimeError('slice step cannot be zero');
  const norm = (v: unknown, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    let n = num(v);
    if (n < 0) n += len;
    return step > 0 ? Math.min(Math.max(n, 0), len) : Math.min(Math.max(n, -1), len - 1);
  };
  const start = norm(sl.start, step > 0 ? 0 : len - 1);
  const stop = norm(sl.stop, step > 0 ? len : -1);
  const out: T[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(seq[i] as T);
  else for (let i = start; i > stop; i += step) out.push(seq[i] as T);
  return out;
}

function missing(obj: unknown, key: unknown): PyUndefined {
  return new PyUndefined(`'${typeName(obj)} object' has no attribute '${String(key)}'`);
}

/**
 * `obj.key` / `obj[key]`. Missing keys give an undefined value (an error only when used), like
 * Jinja2; refused names throw.
 */
export function getAttr(obj: unknown, key: unknown): unknown {
  if (obj instanceof PyUndefined) return obj;
  if (key instanceof PyUndefined) key.fail();
  if (typeof key === 'string' && isBlockedName(key)) refuse(key);
  if (obj === null || obj === undefined) return new PyUndefined(`'None' has no attribute '${String(key)}'`);
  if (typeof obj === 'function') refuse(String(key));
  const target = unwrapString(obj);
  if (key instanceof PySlice) {
    if (typeof target === 'string') return sliceSeq([...target], key).join('');
    if (Array.isArray(target)) return sliceSeq(target, key);
    throw new JinjaRuntimeError(`'${typeName(obj)}' object is not subscriptable`);
  }
  if (typeof target === 'string' || Array.isArray(target)) {
    if (typeof key === 'number' || typeof key === 'boolean') {
      let i = num(key);
      if (!Number.isInteger(i)) throw new JinjaRuntimeError('indices must be integers');
      const seq = typeof target === 'string' ? [...target] : target;
      if (i < 0) i += seq.length;
      return i >= 0 && i < seq.length ? seq[i] : new PyUndefined(`${typeName(obj)} index out of range`);
    }
    if (typeof key === 'string') {
      // Runtime-made tuples with named fields (groupby's grouper/list).
      if (Array.isArray(target) && (target as unknown as Record<symbol, unknown>)[RUNTIME_OBJECT] === true && Object.hasOwn(target, key)) {
        return (target as unknown as Record<string, unknown>)[key];
      }
      return methodFor(target, key) ?? missing(obj, key);
    }
    return missing(obj, key);
  }
  if (typeof target !== 'object') return missing(obj, key);
  if (target instanceof LoopContext) {
    if (key === 'changed') throw new JinjaRuntimeError('loop.changed() is not supported', 'UNSUPPORTED');
    if (typeof key !== 'string' || !LOOP_ATTRIBUTES.has(key)) return new PyUndefined(`the loop has no attribute '${String(key)}'`);
    if (key === 'cycle') return (...items: unknown[]) => target.cycle(...items);
    return target[key as Exclude<keyof LoopContext, 'cycle'>];
  }
  const k = typeof key === 'number' || typeof key === 'boolean' || typeof key === 'string' ? String(key) : undefined;
  if (k === undefined) return missing(obj, key);
  if (isMapping(target) || (target as Record<symbol, unknown>)[RUNTIME_OBJECT] === true) {
    const rec = target as Record<string, unknown>;
    if (Object.hasOwn(rec, k)) {
      const v = rec[k];
      if (typeof v === 'function') {
        const fn = v as (...a: unknown[]) => unknown;
        return (...args: unknown[]) => fn.apply(rec, args);
      }
      return v;
    }
    return methodFor(target, k) ?? missing(obj, key);
  }
  return missing(obj, key);
}
