/**
 * nunjucks passes keyword arguments (`f(a, b=1)`) as a trailing object marked `__keywords: true`.
 * These helpers split them back into Python-style positional and keyword arguments.
 */
import { JinjaRuntimeError } from './py-values.js';

export interface CallArgs {
  readonly pos: unknown[];
  readonly kw: Record<string, unknown>;
}

export function isKeywords(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as { __keywords?: unknown }).__keywords === true;
}

/** `*xs` in a call. */
export class StarArgs {
  constructor(readonly items: unknown) {}
}

/** `**kw` in a call. */
export class StarKwargs {
  constructor(readonly map: unknown) {}
}

export function splitArgs(args: readonly unknown[]): CallArgs {
  const last = args[args.length - 1];
  const kw: Record<string, unknown> = {};
  let pos: unknown[] = [...args];
  if (args.length > 0 && isKeywords(last)) {
    for (const [k, v] of Object.entries(last)) if (k !== '__keywords') kw[k] = v;
    pos = args.slice(0, -1);
  }
  if (pos.some((a) => a instanceof StarArgs || a instanceof StarKwargs)) {
    const flat: unknown[] = [];
    for (const a of pos) {
      if (a instanceof StarArgs) {
        if (!Array.isArray(a.items)) throw new JinjaRuntimeError('argument after * must be a list');
        flat.push(...a.items);
      } else if (a instanceof StarKwargs) {
        const m = a.map;
        if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new JinjaRuntimeError('argument after ** must be a dict');
        for (const [k, v] of Object.entries(m)) if (k !== '__proto__') kw[k] = v;
      } else flat.push(a);
    }
    pos = flat;
  }
  return { pos, kw };
}

/** Turn split arguments back into a nunjucks argument list (keywords as the marked trailing object). */
export function joinArgs(args: CallArgs): unknown[] {
  if (Object.keys(args.kw).length === 0) return args.pos;
  return [...args.pos, { ...args.kw, __keywords: true }];
}

/**
 * Bind Python-style: `names` in order, each filled from the positionals, then from keywords, then
 * from `defaults`. Unknown keywords raise, like Python.
 */
export function bindArgs(fn: string, args: CallArgs, names: readonly string[], defaults: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (args.pos.length > names.length) throw new JinjaRuntimeError(`${fn}() takes at most ${names.length} arguments (${args.pos.length} given)`);
  names.forEach((n, i) => {
    if (i < args.pos.length) out[n] = args.pos[i];
    else if (Object.hasOwn(args.kw, n)) out[n] = args.kw[n];
    else if (Object.hasOwn(defaults, n)) out[n] = defaults[n];
  });
  for (const k of Object.keys(args.kw)) {
    if (!names.includes(k)) throw new JinjaRuntimeError(`${fn}() got an unexpected keyword argument '${k}'`);
  }
  return out;
}
