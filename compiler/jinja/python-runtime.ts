/**
 * What code compiled by PythonCompiler calls at render time (`env.py.*`): variable lookup with
 * undefined values, guarded attribute access and calls, Python operators and truthiness, the
 * output finalizer, filters and tests by name, and the per-render budget (output size, loop
 * iterations) that stops runaway templates in-process.
 */
import { StarArgs, StarKwargs, joinArgs, splitArgs, type CallArgs } from './call-args.js';
import { RegexBudget } from '../regex/bounded-regex.js';
import { FILTERS, UNDEFINED_OK_FILTERS, type Filter } from './filters.js';
import { LoopContext } from './loop-context.js';
import { methodFor } from './py-methods.js';
import { getAttr, PySlice, RUNTIME_OBJECT } from './safe-access.js';
import { TESTS, UNDEFINED_OK_TESTS, type Test } from './tests.js';
import {
  JinjaRuntimeError,
  PyFloat,
  PyUndefined,
  isMapping,
  num,
  pyAdd,
  pyCmp,
  pyDiv,
  pyEq,
  pyFloorDiv,
  pyIn,
  pyMod,
  pyMul,
  pyPow,
  pyStr,
  pySub,
  pyTuple,
  truthy,
  typeName,
  undefinedName,
  unwrapString,
} from './py-values.js';

export interface RenderLimits {
  /** Maximum characters of output of one render (including nested includes). */
  readonly maxOutput: number;
  /** Maximum loop iterations of one render, all loops together. */
  readonly maxIterations: number;
  /** Maximum length of a `range()`. */
  readonly maxRange: number;
}

export const DEFAULT_LIMITS: RenderLimits = { maxOutput: 16 * 1024 * 1024, maxIterations: 1_000_000, maxRange: 100_000 };

/** Namespaces are dict-like for reads (null prototype); only they accept `{% set ns.x = … %}`. */
const NAMESPACE: unique symbol = Symbol('stead.jinja.namespace');

interface Frame {
  readonly variables: Record<string, unknown>;
  readonly parent: Frame | null | undefined;
}
interface Context {
  readonly ctx: Record<string, unknown>;
  readonly env: { readonly globals: Record<string, unknown> };
}

function marked<T extends object>(o: T): T {
  Object.defineProperty(o, RUNTIME_OBJECT, { value: true, enumerable: false });
  return o;
}

/** The `env.py` object. One per environment; `begin()` resets the budget for each top-level render. */
export class PythonRuntime {
  /** Thrown by `{% break %}` / `{% continue %}`, caught by the innermost loop body. */
  readonly BREAK: object = Object.freeze({ signal: 'break' });
  readonly CONTINUE: object = Object.freeze({ signal: 'continue' });
  private outputUsed = 0;
  private iterations = 0;
  /** Regular-expression work of one render (RE2 units and time): see compiler/regex/bounded-regex.ts. */
  readonly regexBudget = new RegexBudget();
  constructor(readonly limits: RenderLimits) {}

  begin(): void {
    this.outputUsed = 0;
    this.iterations = 0;
    this.regexBudget.reset();
    this.signal = undefined;
  }

  /**
   * A variable: the innermost frame that has it, then the render context, then the globals. Only
   * own properties count (nunjucks' own lookup would return Object.prototype members for names
   * such as `constructor` or `valueOf`).
   */
  lookup(context: Context, frame: Frame, name: string): unknown {
    if (name === '__proto__') {
      throw new JinjaRuntimeError(`access to '${name}' is not allowed in templates`, 'SECURITY');
    }
    for (let f: Frame | null | undefined = frame; f; f = f.parent) {
      if (Object.hasOwn(f.variables, name)) {
        const v = f.variables[name];
        if (v !== undefined) return v;
      }
    }
    if (Object.hasOwn(context.ctx, name) && context.ctx[name] !== undefined) return context.ctx[name];
    if (Object.hasOwn(context.env.globals, name)) return context.env.globals[name];
    if (name === 'varargs' || name === 'kwargs') {
      throw new JinjaRuntimeError(`macro '${name}' (extra arguments) is not supported`, 'UNSUPPORTED');
    }
    return undefinedName(name);
  }

  /**
   * `obj.name(args)`: Jinja2 reads `obj.name` as an attribute first, so on a dict a method such as
   * `items` or `get` wins over a key of the same name when it is called.
   */
  callAttr(obj: unknown, name: unknown, label: string, context: unknown, args: unknown[]): unknown {
    if (typeof name === 'string' && isMapping(obj)) {
      const m = methodFor(obj, name);
      if (m) return this.call(m, label, context, args);
    }
    return this.call(getAttr(obj, name), label, context, args);
  }

  attr(obj: unknown, key: unknown): unknown {
    return getAttr(obj, key);
  }

  call(fn: unknown, name: string, context: unknown, args: unknown[]): unknown {
    if (fn instanceof PyUndefined) fn.fail();
    if (typeof fn !== 'function') throw new JinjaRuntimeError(`'${name}' is not callable (${typeName(fn)})`);
    if (args.some((a) => a instanceof StarArgs || a instanceof StarKwargs)) args = joinArgs(splitArgs(args));
    return (fn as (...a: unknown[]) => unknown).apply(context, args);
  }

  /** The output finalizer: None prints as '', undefined raises, everything else as Python's str(). */
  out(v: unknown): string {
    const s = v === null ? '' : pyStr(v);
    this.outputUsed += s.length;
    if (this.outputUsed > this.limits.maxOutput) throw new JinjaRuntimeError(`output exceeds the limit of ${this.limits.maxOutput} characters`, 'LIMIT');
    return s;
  }

  /** The `loop` variable of iteration `i` over `items`. */
  loop(items: unknown[], i: number): LoopContext {
    return new LoopContext(items, i);
  }

  private signal: 'break' | 'continue' | undefined;

  /**
   * The loop signal an exception carries, cleared. After an `{% include %}` the rest of a loop
   * body runs inside nunjucks callbacks that wrap the signal in a TemplateError, so the pending
   * signal is remembered here rather than recognised by identity alone.
   */
  takeSignal(e: unknown): 'break' | 'continue' | undefined {
    const s = this.signal;
    this.signal = undefined;
    if (e === this.BREAK) return 'break';
    if (e === this.CONTINUE) return 'continue';
    return s;
  }

  /** What `loop` is inside an included template. */
  hiddenLoop(): PyUndefined {
    return undefinedName('loop');
  }

  /** Counted once per loop iteration. */
  tick(): void {
    if (++this.iterations > this.limits.maxIterations) throw new JinjaRuntimeError(`more than ${this.limits.maxIterations} loop iterations`, 'LIMIT');
  }

  iter(v: unknown): unknown[] {
    const s = unwrapString(v);
    if (Array.isArray(s)) return s;
    if (typeof s === 'string') return [...s];
    if (isMapping(s)) return Object.keys(s);
    if (s instanceof PyUndefined) s.fail();
    throw new JinjaRuntimeError(`'${typeName(v)}' object is not iterable`);
  }

  truthy(v: unknown): boolean {
    return truthy(v);
  }

  /** Jinja2 gives a plain (non-strict) Undefined here: it prints as ''. */
  undefIf(): PyUndefined {
    return new PyUndefined('the inline if-expression evaluated to false and no else section was defined', true);
  }

  add(a: unknown, b: unknown): unknown {
    return pyAdd(a, b);
  }
  sub(a: unknown, b: unknown): unknown {
    return pySub(a, b);
  }
  mul(a: unknown, b: unknown): unknown {
    return pyMul(a, b, this.limits.maxOutput);
  }
  div(a: unknown, b: unknown): unknown {
    return pyDiv(a, b);
  }
  floordiv(a: unknown, b: unknown): unknown {
    return pyFloorDiv(a, b);
  }
  mod(a: unknown, b: unknown): unknown {
    return pyMod(a, b);
  }
  pow(a: unknown, b: unknown): unknown {
    return pyPow(a, b);
  }
  neg(a: unknown): unknown {
    const n = -num(a, 'operand of unary -');
    return a instanceof PyFloat ? new PyFloat(n) : n;
  }
  pos(a: unknown): unknown {
    num(a, 'operand of unary +');
    return a;
  }
  concat(a: unknown, b: unknown): string {
    const s = pyStr(a) + pyStr(b);
    if (s.length > this.limits.maxOutput) throw new JinjaRuntimeError('string exceeds the output limit', 'LIMIT');
    return s;
  }
  contains(item: unknown, container: unknown): boolean {
    return pyIn(item, container);
  }
  compare(first: unknown, ops: [string, unknown][]): boolean {
    let left = first;
    for (const [op, right] of ops) {
      let ok: boolean;
      switch (op) {
        case '==':
        case '===':
          ok = pyEq(left, right);
          break;
        case '!=':
        case '!==':
          ok = !pyEq(left, right);
          break;
        case '<':
          ok = pyCmp(left, right) < 0;
          break;
        case '<=':
          ok = pyCmp(left, right) <= 0;
          break;
        case '>':
          ok = pyCmp(left, right) > 0;
          break;
        case '>=':
          ok = pyCmp(left, right) >= 0;
          break;
        default:
          throw new JinjaRuntimeError(`unknown comparison ${op}`);
      }
      if (!ok) return false;
      left = right;
    }
    return true;
  }

  filter(name: string, value: unknown, ...rawArgs: unknown[]): unknown {
    if (name === '__jtest' || name === '__jtestnot') {
      const args = splitArgs(rawArgs);
      const test = pyStr(args.pos[0]);
      const r = this.callTest(test, value, { pos: args.pos.slice(1), kw: args.kw });
      return name === '__jtest' ? r : !r;
    }
    const f: Filter | undefined = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!f) throw new JinjaRuntimeError(`no filter named '${name}'`, 'UNSUPPORTED');
    return this.callFilter(name, value, splitArgs(rawArgs), f);
  }

  callFilter(name: string, value: unknown, args: CallArgs, f?: Filter): unknown {
    const fn = f ?? (Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined);
    if (!fn) throw new JinjaRuntimeError(`no filter named '${name}'`, 'UNSUPPORTED');
    if (value instanceof PyUndefined && !UNDEFINED_OK_FILTERS.has(name)) value.fail();
    for (const a of args.pos) if (a instanceof PyUndefined && name !== 'default' && name !== 'd') a.fail();
    for (const a of Object.values(args.kw)) if (a instanceof PyUndefined) a.fail();
    return fn(value, args, { callFilter: (n, v, a) => this.callFilter(n, v, a), callTest: (n, v, a) => this.callTest(n, v, a), maxOutput: this.limits.maxOutput, regexBudget: this.regexBudget });
  }

  test(name: string, value: unknown, args: unknown[]): boolean {
    return this.callTest(name, value, splitArgs(args));
  }

  callTest(name: string, value: unknown, args: CallArgs): boolean {
    const t: Test | undefined = Object.hasOwn(TESTS, name) ? TESTS[name] : undefined;
    if (!t) throw new JinjaRuntimeError(`no test named '${name}'`, 'UNSUPPORTED');
    if (value instanceof PyUndefined && !UNDEFINED_OK_TESTS.has(name)) value.fail();
    for (const a of args.pos) if (a instanceof PyUndefined) a.fail();
    return t(value, args, this);
  }

  /** Template globals: Jinja2's range/dict/namespace/cycler/joiner plus the helpers the preprocessor emits. */
  globals(): Record<string, unknown> {
    const limits = this.limits;
    return {
      range: (...a: unknown[]) => {
        const n = a.map((x) => num(x, 'range() argument'));
        const [start, stop, step] = n.length === 1 ? [0, n[0] as number, 1] : [n[0] as number, n[1] as number, n[2] ?? 1];
        if (step === 0) throw new JinjaRuntimeError('range() arg 3 must not be zero');
        const len = Math.max(0, Math.ceil((stop - start) / step));
        if (len > limits.maxRange) throw new JinjaRuntimeError(`range() of ${len} items exceeds the limit of ${limits.maxRange}`, 'LIMIT');
        return Array.from({ length: len }, (_, i) => start + i * step);
      },
      dict: (...a: unknown[]) => {
        const { pos, kw } = splitArgs(a);
        const out: Record<string, unknown> = {};
        const src = pos[0];
        if (isMapping(src)) Object.assign(out, src);
        else if (Array.isArray(src)) for (const p of src) if (Array.isArray(p)) out[pyStr(p[0])] = p[1];
        for (const [k, v] of Object.entries(kw)) if (k !== '__proto__') out[k] = v;
        return out;
      },
      namespace: (...a: unknown[]) => {
        const { pos, kw } = splitArgs(a);
        const ns: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        if (isMapping(pos[0])) for (const [k, v] of Object.entries(pos[0])) ns[k] = v;
        for (const [k, v] of Object.entries(kw)) if (k !== '__proto__') ns[k] = v;
        Object.defineProperty(ns, NAMESPACE, { value: true, enumerable: false });
        return ns;
      },
      cycler: (...items: unknown[]) => {
        let i = 0;
        const c = marked({
          current: items[0],
          next: () => {
            const v = items[i % items.length];
            i++;
            c.current = items[i % items.length];
            return v;
          },
          reset: () => {
            i = 0;
            c.current = items[0];
            return null;
          },
        });
        return c;
      },
      joiner: (sep: unknown = ', ') => {
        let used = false;
        return () => {
          if (!used) {
            used = true;
            return '';
          }
          return pyStr(sep);
        };
      },
      lipsum: () => {
        throw new JinjaRuntimeError('lipsum() is not supported', 'UNSUPPORTED');
      },
      __j_slice: (a: unknown, b: unknown, c: unknown) => new PySlice(a, b, c),
      __j_dict: (pairs: unknown[][]) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of pairs) {
          const key = pyStr(k);
          if (key === '__proto__') throw new JinjaRuntimeError("dict key '__proto__' is not allowed", 'SECURITY');
          out[key] = v;
        }
        return out;
      },
      __j_float: (s: string) => new PyFloat(Number(s)),
      __j_star: (items: unknown) => new StarArgs(items),
      __j_tuple: (items: unknown[]) => pyTuple(items),
      __j_kwstar: (map: unknown) => new StarKwargs(map),
      __j_setattr: (ns: unknown, key: string, v: unknown) => {
        if (typeof ns !== 'object' || ns === null || !(NAMESPACE in ns)) {
          throw new JinjaRuntimeError(`cannot assign attribute '${key}' on a non-namespace object`);
        }
        (ns as Record<string, unknown>)[key] = v;
        return '';
      },
      __j_do: () => '',
      __j_break: () => {
        this.signal = 'break';
        throw this.BREAK;
      },
      __j_continue: () => {
        this.signal = 'continue';
        throw this.CONTINUE;
      },
      __j_outer_loop: (loop: unknown) => loop,
      __j_unpack: (v: unknown, n: number) => {
        const items = this.iter(v);
        if (items.length !== n) throw new JinjaRuntimeError(`cannot unpack ${items.length} values into ${n} names`);
        return items;
      },
    };
  }
}

