/**
 * Python methods that real templates call on strings, lists and dicts (`.items()`, `.split()`,
 * `.append()`, `.format()`, …), implemented with Python's semantics. `methodFor` returns the bound
 * method or undefined when the value has no such method.
 */
import { splitArgs, bindArgs } from './call-args.js';
import {
  JinjaRuntimeError,
  PyUndefined,
  isMapping,
  num,
  pyEq,
  pyStr,
  pyRepr,
  formatOne,
  pyCmp,
  pyTuple,
  unwrapString,
} from './py-values.js';

type Method = (self: never, ...args: unknown[]) => unknown;

const WS = ' \t\n\r\x0b\x0c';

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? WS : pyStr(chars);
  let a = 0;
  let b = s.length;
  if (left) while (a < b && set.includes(s[a] as string)) a++;
  if (right) while (b > a && set.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

/** Python `str.split(sep=None, maxsplit=-1)`. */
export function pySplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : num(maxsplit);
  if (sep === undefined || sep === null) {
    const out: string[] = [];
    let rest = s.replace(/^[\s]+/, '');
    while (rest.length > 0) {
      if (max >= 0 && out.length >= max) {
        out.push(rest);
        return out;
      }
      const m = /[\s]+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sp = pyStr(sep);
  if (sp === '') throw new JinjaRuntimeError('empty separator');
  const parts = s.split(sp);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sp)];
}

function pyRsplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : num(maxsplit);
  if (max < 0) return pySplit(s, sep, -1);
  if (sep === undefined || sep === null) {
    const words = pySplit(s, null, -1);
    if (words.length <= max + 1) return words;
    // Keep the original spacing of the unsplit head. Scanned by hand from the right: an anchored
    // regex such as /\s+(\S+)$/ is retried at every position, quadratic on long inputs.
    const ws = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
    let end = s.length;
    while (end > 0 && ws(s[end - 1])) end--;
    const tail: string[] = [];
    for (let i = 0; i < max; i++) {
      let j = end;
      while (j > 0 && !ws(s[j - 1])) j--;
      if (j === 0) break;
      tail.push(s.slice(j, end));
      end = j;
      while (end > 0 && ws(s[end - 1])) end--;
    }
    return [s.slice(0, end).replace(/^[\s]+/, ''), ...tail.reverse()];
  }
  const sp = pyStr(sep);
  const parts = s.split(sp);
  if (parts.length <= max + 1) return parts;
  return [parts.slice(0, parts.length - max).join(sp), ...parts.slice(parts.length - max)];
}

function affix(s: string, arg: unknown, start: unknown, end: unknown, fn: (s: string, p: string) => boolean): boolean {
  const sub = s.slice(start === undefined || start === null ? 0 : num(start), end === undefined || end === null ? undefined : num(end));
  if (Array.isArray(arg)) return arg.some((p) => fn(sub, pyStr(p)));
  return fn(sub, pyStr(arg));
}

/** Python `str.format`, with format specs `[[fill]align][sign][0][width][,][.prec][type]`. */
export function pyFormat(fmt: string, pos: readonly unknown[], kw: Record<string, unknown>): string {
  let auto = 0;
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i] as string;
    if (ch === '{' && fmt[i + 1] === '{') {
      out += '{';
      i += 2;
      continue;
    }
    if (ch === '}' && fmt[i + 1] === '}') {
      out += '}';
      i += 2;
      continue;
    }
    if (ch !== '{') {
      out += ch;
      i++;
      continue;
    }
    const close = fmt.indexOf('}', i);
    if (close < 0) throw new JinjaRuntimeError("Single '{' encountered in format string");
    const field = fmt.slice(i + 1, close);
    i = close + 1;
    const [ref = '', spec = ''] = splitOnce(field, ':');
    const [refName = '', conv] = splitOnce(ref, '!');
    const m = /^([^.[]*)(.*)$/.exec(refName) as RegExpExecArray;
    const head = m[1] as string;
    let v: unknown;
    if (head === '') v = pos[auto++];
    else if (/^\d+$/.test(head)) v = pos[Number(head)];
    else v = kw[head];
    for (const part of (m[2] as string).matchAll(/\.(\w+)|\[([^\]]+)\]/g)) {
      const key = part[1] ?? part[2] ?? '';
      v = Array.isArray(v) && /^\d+$/.test(key) ? v[Number(key)] : isMapping(v) && Object.hasOwn(v, key) ? v[key] : undefined;
    }
    if (v === undefined) throw new JinjaRuntimeError(`format: no value for field {${field}}`);
    if (conv === 'r') v = pyRepr(v);
    out += formatSpec(v, spec);
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const k = s.indexOf(sep);
  return k < 0 ? [s, undefined] : [s.slice(0, k), s.slice(k + 1)];
}

/** Apply a Python format spec to one value (`format(v, spec)`). */
export function formatSpec(v: unknown, spec: string): string {
  const m = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/.exec(spec);
  if (!m) throw new JinjaRuntimeError(`invalid format specifier '${spec}'`);
  const [, fill0, align0, sign = '', , zero, widthS, group, precS, type] = m;
  const prec = precS === undefined ? undefined : Number(precS);
  let s: string;
  const numeric = typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'object' && v !== null && 'value' in v && typeof (v as { value: unknown }).value === 'number');
  if (type === undefined || type === 's') {
    s = pyStr(v);
    if (prec !== undefined && !numeric) s = s.slice(0, prec);
    else if (prec !== undefined && numeric) s = formatOne(v, '', undefined, prec, 'g');
  } else if (type === '%') {
    s = (num(v) * 100).toFixed(prec ?? 6) + '%';
  } else if (type === 'n') {
    s = formatOne(v, '', undefined, prec, 'd');
  } else if (type === 'b') {
    s = Math.trunc(num(v)).toString(2);
  } else {
    s = formatOne(v, '', undefined, prec, type);
  }
  if (group && numeric) {
    const [int = '', frac] = splitOnce(s, '.');
    s = int.replace(/\B(?=(\d{3})+(?!\d))/g, group) + (frac !== undefined ? '.' + frac : '');
  }
  if (numeric && sign === '+' && !s.startsWith('-')) s = '+' + s;
  if (numeric && sign === ' ' && !s.startsWith('-')) s = ' ' + s;
  const width = widthS === undefined ? 0 : Number(widthS);
  if (s.length >= width) return s;
  const fill = fill0 ?? (zero && !align0 ? '0' : ' ');
  const align = align0 ?? (zero ? '=' : numeric ? '>' : '<');
  const pad = width - s.length;
  switch (align) {
    case '<':
      return s + fill.repeat(pad);
    case '>':
      return fill.repeat(pad) + s;
    case '^':
      return fill.repeat(Math.floor(pad / 2)) + s + fill.repeat(Math.ceil(pad / 2));
    default: {
      const sg = /^[+\- ]/.test(s) ? (s[0] as string) : '';
      return sg + fill.repeat(pad) + s.slice(sg.length);
    }
  }
}

function seqIndex(len: number, i: unknown): number {
  let n = i === undefined || i === null ? -1 : num(i);
  if (n < 0) n += len;
  return n;
}

const STR_METHODS: Record<string, (s: string, ...a: unknown[]) => unknown> = {
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  // Python's str.title(): every run of letters starts upper-case.
  title: (s) => s.replace(/\p{L}+/gu, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  swapcase: (s) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  strip: (s, c) => stripChars(s, c, true, true),
  lstrip: (s, c) => stripChars(s, c, true, false),
  rstrip: (s, c) => stripChars(s, c, false, true),
  split: (s, ...a) => {
    const b = bindArgs('split', splitArgs(a), ['sep', 'maxsplit']);
    return pySplit(s, b.sep, b.maxsplit);
  },
  rsplit: (s, ...a) => {
    const b = bindArgs('rsplit', splitArgs(a), ['sep', 'maxsplit']);
    return pyRsplit(s, b.sep, b.maxsplit);
  },
  splitlines: (s, keep) => {
    const parts = s.split(/(\r\n|\r|\n)/);
    const out: string[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const line = (parts[i] as string) + (keep ? (parts[i + 1] ?? '') : '');
      if (i === parts.length - 1 && parts[i] === '') break;
      out.push(line);
    }
    return out;
  },
  startswith: (s, p, st, en) => affix(s, p, st, en, (x, y) => x.startsWith(y)),
  endswith: (s, p, st, en) => affix(s, p, st, en, (x, y) => x.endsWith(y)),
  replace: (s, o, n, c) => pyReplace(s, pyStr(o), pyStr(n), c === undefined ? -1 : num(c)),
  join: (s, items) => {
    if (!Array.isArray(items)) throw new JinjaRuntimeError('join() expects a list');
    return items
      .map((x) => {
        x = unwrapString(x);
        if (typeof x !== 'string') throw new JinjaRuntimeError(`sequence item: expected str instance, ${typeof x} found`);
        return x;
      })
      .join(s);
  },
  format: (s, ...a) => {
    const { pos, kw } = splitArgs(a);
    return pyFormat(s, pos, kw);
  },
  find: (s, sub) => s.indexOf(pyStr(sub)),
  rfind: (s, sub) => s.lastIndexOf(pyStr(sub)),
  index: (s, sub) => {
    const k = s.indexOf(pyStr(sub));
    if (k < 0) throw new JinjaRuntimeError('substring not found');
    return k;
  },
  count: (s, sub) => {
    const t = pyStr(sub);
    return t === '' ? s.length + 1 : s.split(t).length - 1;
  },
  isdigit: (s) => /^[0-9]+$/.test(s),
  isnumeric: (s) => /^[0-9]+$/.test(s),
  isdecimal: (s) => /^[0-9]+$/.test(s),
  isalpha: (s) => /^[\p{L}]+$/u.test(s),
  isalnum: (s) => /^[\p{L}0-9]+$/u.test(s),
  isspace: (s) => /^\s+$/.test(s),
  islower: (s) => /[a-z]/.test(s) && s === s.toLowerCase(),
  isupper: (s) => /[A-Z]/.test(s) && s === s.toUpperCase(),
  zfill: (s, w) => {
    const width = num(w);
    const sign = /^[+-]/.test(s) ? (s[0] as string) : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  },
  center: (s, w, f) => {
    const width = num(w);
    const fill = f === undefined ? ' ' : pyStr(f);
    const pad = width - s.length;
    if (pad <= 0) return s;
    const left = Math.floor(pad / 2) + (pad & width & 1);
    return fill.repeat(left) + s + fill.repeat(pad - left);
  },
  ljust: (s, w, f) => s.padEnd(num(w), f === undefined ? ' ' : pyStr(f)),
  rjust: (s, w, f) => s.padStart(num(w), f === undefined ? ' ' : pyStr(f)),
  partition: (s, sep) => {
    const t = pyStr(sep);
    const k = s.indexOf(t);
    return pyTuple(k < 0 ? [s, '', ''] : [s.slice(0, k), t, s.slice(k + t.length)]);
  },
  rpartition: (s, sep) => {
    const t = pyStr(sep);
    const k = s.lastIndexOf(t);
    return pyTuple(k < 0 ? ['', '', s] : [s.slice(0, k), t, s.slice(k + t.length)]);
  },
  removeprefix: (s, p) => (s.startsWith(pyStr(p)) ? s.slice(pyStr(p).length) : s),
  removesuffix: (s, p) => (pyStr(p) !== '' && s.endsWith(pyStr(p)) ? s.slice(0, -pyStr(p).length) : s),
  encode: (s) => s,
  decode: (s) => s,
  expandtabs: (s, n) => s.replace(/\t/g, ' '.repeat(n === undefined ? 8 : num(n))),
};

const LIST_METHODS: Record<string, (l: unknown[], ...a: unknown[]) => unknown> = {
  append: (l, x) => {
    l.push(x);
    return null;
  },
  extend: (l, xs) => {
    if (!Array.isArray(xs)) throw new JinjaRuntimeError('extend() expects a list');
    l.push(...xs);
    return null;
  },
  insert: (l, i, x) => {
    l.splice(Math.max(0, seqIndex(l.length, i)), 0, x);
    return null;
  },
  pop: (l, i) => {
    if (l.length === 0) throw new JinjaRuntimeError('pop from empty list');
    const k = seqIndex(l.length, i);
    if (k < 0 || k >= l.length) throw new JinjaRuntimeError('pop index out of range');
    return l.splice(k, 1)[0];
  },
  remove: (l, x) => {
    const k = l.findIndex((y) => pyEq(y, x));
    if (k < 0) throw new JinjaRuntimeError('list.remove(x): x not in list');
    l.splice(k, 1);
    return null;
  },
  index: (l, x) => {
    const k = l.findIndex((y) => pyEq(y, x));
    if (k < 0) throw new JinjaRuntimeError(`${pyRepr(x)} is not in list`);
    return k;
  },
  count: (l, x) => l.filter((y) => pyEq(y, x)).length,
  reverse: (l) => {
    l.reverse();
    return null;
  },
  sort: (l, ...a) => {
    const b = bindArgs('sort', splitArgs(a), ['key', 'reverse']);
    l.sort(pyCmp);
    if (b.reverse === true) l.reverse();
    return null;
  },
  copy: (l) => [...l],
  clear: (l) => {
    l.length = 0;
    return null;
  },
};

const DICT_METHODS: Record<string, (d: Record<string, unknown>, ...a: unknown[]) => unknown> = {
  items: (d) => Object.entries(d).map(([k, v]) => pyTuple([k, v])),
  keys: (d) => Object.keys(d),
  values: (d) => Object.values(d),
  get: (d, k, dflt) => {
    const key = pyStr(k);
    return Object.hasOwn(d, key) ? d[key] : dflt === undefined ? null : dflt;
  },
  update: (d, ...a) => {
    const { pos, kw } = splitArgs(a);
    for (const src of [...pos, kw]) {
      if (isMapping(src)) for (const [k, v] of Object.entries(src)) if (k !== '__proto__') d[k] = v;
      else if (Array.isArray(src)) for (const pair of src) if (Array.isArray(pair)) d[pyStr(pair[0])] = pair[1];
    }
    return null;
  },
  pop: (d, k, dflt) => {
    const key = pyStr(k);
    if (Object.hasOwn(d, key)) {
      const v = d[key];
      delete d[key];
      return v;
    }
    if (dflt === undefined) throw new JinjaRuntimeError(`KeyError: ${pyRepr(k)}`);
    return dflt;
  },
  setdefault: (d, k, dflt) => {
    const key = pyStr(k);
    if (!Object.hasOwn(d, key)) d[key] = dflt === undefined ? null : dflt;
    return d[key];
  },
  copy: (d) => ({ ...d }),
  clear: (d) => {
    for (const k of Object.keys(d)) delete d[k];
    return null;
  },
};

/** The bound Python method `name` of `obj`, or undefined. */
export function methodFor(obj: unknown, name: string): ((...args: unknown[]) => unknown) | undefined {
  const s = unwrapString(obj);
  let table: Record<string, Method> | undefined;
  if (typeof s === 'string') table = STR_METHODS as unknown as Record<string, Method>;
  else if (Array.isArray(s)) table = LIST_METHODS as unknown as Record<string, Method>;
  else if (isMapping(s)) table = DICT_METHODS as unknown as Record<string, Method>;
  if (!table || !Object.hasOwn(table, name)) return undefined;
  const fn = table[name] as (self: unknown, ...a: unknown[]) => unknown;
  return (...args: unknown[]) => {
    for (const a of args) if (a instanceof PyUndefined) a.fail();
    return fn(s, ...args);
  };
}

/** Python's str.replace(old, new, count): every occurrence when count < 0, else the first count. */
export function pyReplace(s: string, old: string, nw: string, count: number): string {
  if (count < 0) return s.split(old).join(nw);
  let out = '';
  let rest = s;
  while (count-- > 0) {
    const k = rest.indexOf(old);
    if (k < 0) break;
    out += rest.slice(0, k) + nw;
    rest = rest.slice(k + old.length);
  }
  return out + rest;
}
