/**
 * Python value semantics for rendered templates: undefined values, floats that remember they are
 * floats, truthiness, str()/repr(), equality, ordering and the arithmetic operators, the way
 * Jinja2 (running on Python) applies them. Everything here is pure and synchronous.
 */

import { createRequire } from 'node:module';

/** Raised by the runtime for a template-level problem; the renderer adds template name and line. */
export class JinjaRuntimeError extends Error {
  readonly kind: 'UNDEFINED' | 'SECURITY' | 'LIMIT' | 'RUNTIME' | 'UNSUPPORTED';
  constructor(message: string, kind: JinjaRuntimeError['kind'] = 'RUNTIME') {
    super(message);
    this.name = 'JinjaRuntimeError';
    this.kind = kind;
    lastRuntimeError = this;
  }
}

let lastRuntimeError: JinjaRuntimeError | undefined;

/**
 * The most recent JinjaRuntimeError, cleared by the call. nunjucks flattens errors it wraps into a
 * message string; the renderer uses this to recover the error's kind.
 */
export function takeLastRuntimeError(): JinjaRuntimeError | undefined {
  const e = lastRuntimeError;
  lastRuntimeError = undefined;
  return e;
}

/**
 * An undefined value (Ansible's AnsibleUndefined over Jinja2's StrictUndefined): attribute and item
 * access on it give it back, `is defined` and `default` see it, and every other use (printing,
 * iterating, truth testing, arithmetic, passing to a filter) raises "'name' is undefined".
 */
export class PyUndefined {
  /** `lenient`: a plain Jinja2 Undefined (prints as '', is falsy, iterates as empty). */
  constructor(
    readonly hint: string,
    readonly lenient = false,
  ) {}
  fail(): never {
    throw new JinjaRuntimeError(this.hint, 'UNDEFINED');
  }
}

export function undefinedName(name: string): PyUndefined {
  return new PyUndefined(`'${name}' is undefined`);
}

export function isUndef(v: unknown): v is PyUndefined | undefined {
  return v === undefined || v instanceof PyUndefined;
}

/** Throws the undefined error when `v` is undefined; returns `v` otherwise. */
export function defined<T>(v: T): Exclude<T, PyUndefined | undefined> {
  if (v instanceof PyUndefined) v.fail();
  if (v === undefined) throw new JinjaRuntimeError('value is undefined', 'UNDEFINED');
  return v as Exclude<T, PyUndefined | undefined>;
}

/** A Python float: prints `16.0` where a JS number would print `16`. */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return floatRepr(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  const s = String(n);
  // Python writes 1e+16 as 1e+16 and 1e-05 as 1e-05 (two-digit exponent).
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

const SafeString = createRequire(import.meta.url)('nunjucks/src/runtime').SafeString as new (s: string) => { val: string };

/** nunjucks' SafeString (what macros and caller() return): a String-like object with `.val`. */
function isSafeString(v: unknown): v is { val: string; toString(): string } {
  return v instanceof SafeString;
}

export function isNumber(v: unknown): v is number | PyFloat {
  return typeof v === 'number' || v instanceof PyFloat;
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** Strings and nunjucks SafeStrings as a plain string; anything else unchanged. */
export function unwrapString(v: unknown): unknown {
  return isSafeString(v) ? v.val : v;
}

/**
 * Marks objects a template may treat as a dict although they are not plain objects: runtime
 * objects (cycler) and read-only views other modules hand in (e.g. `hostvars` as a Proxy). Only
 * their own enumerable properties are visible; they are never deep-copied.
 */
export const RUNTIME_OBJECT: unique symbol = Symbol.for('stead.jinja.runtime-object');

export function isMapping(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  if (v instanceof PyFloat || v instanceof PyUndefined || isSafeString(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null || (v as Record<symbol, unknown>)[RUNTIME_OBJECT] === true;
}

/** The number inside a number-ish value (bool counts as 0/1, like Python). */
export function num(v: unknown, what = 'value'): number {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyUndefined) v.fail();
  throw new JinjaRuntimeError(`${what} must be a number, got ${typeName(v)}`);
}

export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** Python's type name, for messages and `type_debug`. */
export function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (v instanceof PyUndefined || v === undefined) return 'AnsibleUndefined';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'string' || isSafeString(v)) return 'str';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'function') return 'function';
  if (isMapping(v)) return 'dict';
  return 'object';
}

/** Python truthiness; an undefined value raises. */
export function truthy(v: unknown): boolean {
  if (v instanceof PyUndefined) {
    if (v.lenient) return false;
    v.fail();
  }
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (isSafeString(v)) return v.val.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python `str(v)`. `null` is 'None' here; the output finalizer maps a top-level None to ''. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof PyUndefined) {
    if (v.lenient) return '';
    v.fail();
  }
  if (v === undefined) throw new JinjaRuntimeError('value is undefined', 'UNDEFINED');
  if (isSafeString(v)) return v.val;
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.value);
  return pyRepr(v);
}

const TUPLE: unique symbol = Symbol('stead.jinja.tuple');

/** Mark an array as a Python tuple (it prints as `('a', 1)`); it is still a JS array. */
export function pyTuple<T extends unknown[]>(items: T): T {
  Object.defineProperty(items, TUPLE, { value: true, enumerable: false });
  return items;
}

/** Python `repr(v)`: strings quoted, containers recursively. */
export function pyRepr(v: unknown, depth = 0): string {
  if (depth > 100) throw new JinjaRuntimeError('value nested too deeply to print', 'LIMIT');
  if (typeof v === 'string') return strRepr(v);
  if (isSafeString(v)) return strRepr(v.val);
  if (Array.isArray(v)) {
    const inner = v.map((x) => pyRepr(x, depth + 1)).join(', ');
    if ((v as unknown as Record<symbol, unknown>)[TUPLE] === true) return v.length === 1 ? `(${inner},)` : `(${inner})`;
    return `[${inner}]`;
  }
  if (isMapping(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${strRepr(k)}: ${pyRepr(x, depth + 1)}`)
      .join(', ')}}`;
  }
  if (typeof v === 'function') return '<function>';
  if (v instanceof PyUndefined) v.fail();
  if (typeof v === 'object' && v !== null && !(v instanceof PyFloat)) return '<object>';
  return pyStr(v);
}

export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `==`. */
export function pyEq(a: unknown, b: unknown): boolean {
  a = unwrapString(a);
  b = unwrapString(b);
  if (a instanceof PyUndefined || b instanceof PyUndefined) return a === b;
  if (isNumber(a) || typeof a === 'boolean') {
    if (isNumber(b) || typeof b === 'boolean') return num(a) === num(b);
    return false;
  }
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  }
  if (isMapping(a)) {
    if (!isMapping(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEq(a[k], b[k]));
  }
  return a === b;
}

/** Python ordering (`<` as -1/0/1); mixed types raise like Python 3. */
export function pyCmp(a: unknown, b: unknown): number {
  a = unwrapString(a);
  b = unwrapString(b);
  if (a instanceof PyUndefined) a.fail();
  if (b instanceof PyUndefined) b.fail();
  if ((isNumber(a) || typeof a === 'boolean') && (isNumber(b) || typeof b === 'boolean')) {
    const x = num(a);
    const y = num(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCmp(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  throw new JinjaRuntimeError(`'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python `x in container`. */
export function pyIn(item: unknown, container: unknown): boolean {
  container = unwrapString(container);
  item = unwrapString(item);
  if (container instanceof PyUndefined) container.fail();
  if (item instanceof PyUndefined) item.fail();
  if (typeof container === 'string') {
    if (typeof item !== 'string') {
      throw new JinjaRuntimeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
  if (isMapping(container)) return typeof item === 'string' || typeof item === 'number' ? Object.hasOwn(container, String(item)) : false;
  throw new JinjaRuntimeError(`argument of type '${typeName(container)}' is not iterable`);
}

function mkNum(n: number, float: boolean): number | PyFloat {
  return float ? new PyFloat(n) : n;
}

function checkNums(op: string, a: unknown, b: unknown): void {
  if (a instanceof PyUndefined) a.fail();
  if (b instanceof PyUndefined) b.fail();
  const ok = (x: unknown): boolean => isNumber(x) || typeof x === 'boolean';
  if (!ok(a) || !ok(b)) {
    throw new JinjaRuntimeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  }
}

/** Python `a + b`: numbers add, strings and lists concatenate, anything else raises. */
export function pyAdd(a: unknown, b: unknown): unknown {
  a = unwrapString(a);
  b = unwrapString(b);
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  checkNums('+', a, b);
  return mkNum(num(a) + num(b), isFloat(a) || isFloat(b));
}

export function pySub(a: unknown, b: unknown): unknown {
  checkNums('-', a, b);
  return mkNum(num(a) - num(b), isFloat(a) || isFloat(b));
}

/** Python `a * b`, including `'-' * 20` and `[x] * 3`. */
export function pyMul(a: unknown, b: unknown, maxLen: number): unknown {
  a = unwrapString(a);
  b = unwrapString(b);
  const rep = (s: unknown, n: unknown): unknown => {
    const times = Math.max(0, num(n));
    if (typeof s === 'string') {
      if (s.length * times > maxLen) throw new JinjaRuntimeError('string repetition exceeds the output limit', 'LIMIT');
      return s.repeat(times);
    }
    const arr = s as unknown[];
    if (arr.length * times > maxLen) throw new JinjaRuntimeError('list repetition exceeds the size limit', 'LIMIT');
    const out: unknown[] = [];
    for (let i = 0; i < times; i++) out.push(...arr);
    return out;
  };
  if ((typeof a === 'string' || Array.isArray(a)) && typeof b === 'number' && Number.isInteger(b)) return rep(a, b);
  if ((typeof b === 'string' || Array.isArray(b)) && typeof a === 'number' && Number.isInteger(a)) return rep(b, a);
  checkNums('*', a, b);
  return mkNum(num(a) * num(b), isFloat(a) || isFloat(b));
}

/** Python true division: always a float. */
export function pyDiv(a: unknown, b: unknown): PyFloat {
  checkNums('/', a, b);
  if (num(b) === 0) throw new JinjaRuntimeError('division by zero');
  return new PyFloat(num(a) / num(b));
}

export function pyFloorDiv(a: unknown, b: unknown): unknown {
  checkNums('//', a, b);
  if (num(b) === 0) throw new JinjaRuntimeError('integer division or modulo by zero');
  return mkNum(Math.floor(num(a) / num(b)), isFloat(a) || isFloat(b));
}

export function pyPow(a: unknown, b: unknown): unknown {
  checkNums('**', a, b);
  const r = num(a) ** num(b);
  return mkNum(r, isFloat(a) || isFloat(b) || num(b) < 0);
}

/** Python `a % b`: numeric modulo (sign of the divisor) or printf-style string formatting. */
export function pyMod(a: unknown, b: unknown): unknown {
  a = unwrapString(a);
  if (typeof a === 'string') return percentFormat(a, b);
  checkNums('%', a, b);
  const x = num(a);
  const y = num(b);
  if (y === 0) throw new JinjaRuntimeError('integer division or modulo by zero');
  const r = x - Math.floor(x / y) * y;
  return mkNum(r, isFloat(a) || isFloat(b));
}

/** Python's `'%s:%d' % (a, b)` and `'%(name)s' % dict`. */
export function percentFormat(fmt: string, args: unknown): string {
  const list = Array.isArray(args) ? args : [args];
  const dict = isMapping(args) ? args : undefined;
  let i = 0;
  const out = fmt.replace(/%(?:\(([^)]*)\))?([-+ #0]*)(\d+|\*)?(?:\.(\d+))?([diouxXeEfFgGcrsa%])/g, (_m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    let v: unknown;
    if (key !== undefined) {
      if (!dict) throw new JinjaRuntimeError('format requires a mapping');
      v = dict[key];
    } else {
      if (i >= list.length) throw new JinjaRuntimeError('not enough arguments for format string');
      v = list[i++];
    }
    return formatOne(v, flags, width === undefined ? undefined : Number(width), prec === undefined ? undefined : Number(prec), conv);
  });
  if (!dict && Array.isArray(args) && i < list.length) throw new JinjaRuntimeError('not all arguments converted during string formatting');
  return out;
}

/**
 * `x` with `digits` decimals, rounded the way Python rounds: on the exact binary value, ties to
 * even (`'%.2f' % 2.675` is 2.67 and `'%.0f' % 0.5` is 0; JavaScript's toFixed gives 2.68 and 1).
 */
export function toFixedPy(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const { neg, intPart, fracPart } = exactDecimal(x);
  const keep = fracPart.slice(0, digits).padEnd(digits, '0');
  const n = roundDigits(intPart + keep, fracPart.slice(digits));
  let str = n.toString().padStart(digits + 1, '0');
  str = str.slice(0, str.length - digits) + (digits > 0 ? '.' + str.slice(str.length - digits) : '');
  return (neg ? '-' : '') + str;
}

/** `x` in exponent notation with `digits` decimals, rounded like Python (`'%.3e' % 1234.5` is 1.234e+03). */
export function toExponentialPy(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const { neg, intPart, fracPart } = exactDecimal(x);
  const all = intPart + fracPart;
  const lz = all.length - all.replace(/^0+/, '').length;
  const sig = all.slice(lz);
  let exp = sig === '' ? 0 : intPart.length - lz - 1;
  let body = sig === '' ? '0'.repeat(digits + 1) : roundDigits(sig.slice(0, digits + 1).padEnd(digits + 1, '0'), sig.slice(digits + 1)).toString();
  if (body.length > digits + 1) {
    body = body.slice(0, digits + 1);
    exp += 1;
  }
  const mant = body[0] + (digits > 0 ? '.' + body.slice(1) : '');
  return `${neg ? '-' : ''}${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** The exact decimal expansion of a finite double. */
function exactDecimal(x: number): { neg: boolean; intPart: string; fracPart: string } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = expBits === 0 ? frac : frac | (1n << 52n);
  const e = expBits === 0 ? -1074 : expBits - 1075;
  if (e >= 0) return { neg, intPart: (mant << BigInt(e)).toString(), fracPart: '' };
  const scaled = (mant * 5n ** BigInt(-e)).toString().padStart(-e + 1, '0');
  return { neg, intPart: scaled.slice(0, scaled.length + e), fracPart: scaled.slice(scaled.length + e) };
}

/** The integer `kept`, rounded half-to-even by the dropped digits `rest`. */
function roundDigits(kept: string, rest: string): bigint {
  let n = BigInt(kept);
  const first = rest[0] ?? '0';
  if (first > '5' || (first === '5' && (/[1-9]/.test(rest.slice(1)) || n % 2n === 1n))) n += 1n;
  return n;
}

/** Format one value per a printf/format-spec conversion. */
export function formatOne(v: unknown, flags: string, width: number | undefined, prec: number | undefined, conv: string): string {
  let s: string;
  switch (conv) {
    case 's':
      s = pyStr(v === null ? 'None' : v);
      if (prec !== undefined) s = s.slice(0, prec);
      break;
    case 'r':
    case 'a':
      s = pyRepr(v);
      break;
    case 'd':
    case 'i':
    case 'u':
      s = String(Math.trunc(num(v)));
      break;
    case 'f':
    case 'F':
      s = toFixedPy(num(v), prec ?? 6);
      break;
    case 'e':
    case 'E':
      s = toExponentialPy(num(v), prec ?? 6);
      if (conv === 'E') s = s.toUpperCase();
      break;
    case 'g':
    case 'G':
      s = String(Number(num(v).toPrecision(prec ?? 6)));
      break;
    case 'x':
      s = Math.trunc(num(v)).toString(16);
      break;
    case 'X':
      s = Math.trunc(num(v)).toString(16).toUpperCase();
      break;
    case 'o':
      s = Math.trunc(num(v)).toString(8);
      break;
    case 'c':
      s = typeof v === 'number' ? String.fromCodePoint(v) : pyStr(v);
      break;
    default:
      throw new JinjaRuntimeError(`unsupported format character '${conv}'`);
  }
  if ('diufFeEgGxXo'.includes(conv)) {
    if (flags.includes('+') && !s.startsWith('-')) s = '+' + s;
    else if (flags.includes(' ') && !s.startsWith('-')) s = ' ' + s;
  }
  if (width !== undefined && s.length < width) {
    if (flags.includes('-')) s = s.padEnd(width);
    else if (flags.includes('0') && 'diufFeEgGxXo'.includes(conv)) {
      const sign = /^[+\- ]/.test(s) ? (s[0] as string) : '';
      s = sign + s.slice(sign.length).padStart(width - sign.length, '0');
    } else s = s.padStart(width);
  }
  return s;
}

/** Deep copy of plain data (objects, arrays); other values are shared. Keeps templates from mutating the caller's vars. */
export function copyPlain<T>(v: T, depth = 0): T {
  if (depth > 200) throw new JinjaRuntimeError('variables nested too deeply', 'LIMIT');
  if (typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[RUNTIME_OBJECT] === true) return v;
  if (Array.isArray(v)) return v.map((x) => copyPlain(x, depth + 1)) as T;
  if (isMapping(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '__proto__') continue;
      out[k] = copyPlain(x, depth + 1);
    }
    return out as T;
  }
  return v;
}
