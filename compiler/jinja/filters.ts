/**
 * Jinja2's built-in filters and the Ansible filters templates use, with Python semantics.
 * Each filter takes the value, the call's positional/keyword arguments and the runtime (for
 * filters that apply tests or other filters, and for attribute access through the guard).
 */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { pyYamlScalarTags } from './py-yaml-scalars.js';
import { bindArgs, type CallArgs } from './call-args.js';
import { pyJsonDumps } from './py-json.js';
import { methodFor, pyReplace, pySplit } from './py-methods.js';
import type { RegexBudget } from '../regex/bounded-regex.js';
import { asJinja, pyFindall, pyRegex, pySub } from './py-regex.js';
import { pyYamlDump } from './py-yaml.js';
import { getAttr, isBlockedName, RUNTIME_OBJECT } from './safe-access.js';
import {
  JinjaRuntimeError,
  PyFloat,
  PyUndefined,
  isMapping,
  isNumber,
  isUndef,
  num,
  percentFormat,
  toFixedPy,
  pyCmp,
  pyEq,
  pyRepr,
  pyStr,
  pyTuple,
  truthy,
  typeName,
  unwrapString,
} from './py-values.js';

export interface FilterRuntime {
  callFilter(name: string, value: unknown, args: CallArgs): unknown;
  callTest(name: string, value: unknown, args: CallArgs): boolean;
  readonly maxOutput: number;
  /** The render's regular-expression work budget. */
  readonly regexBudget: RegexBudget;
}

export type Filter = (value: unknown, args: CallArgs, rt: FilterRuntime) => unknown;

/** Filters that accept an undefined value (every other filter raises on one). */
export const UNDEFINED_OK_FILTERS = new Set(['default', 'd', 'mandatory', 'type_debug']);

const NEWLINES = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/;

function str(v: unknown): string {
  return pyStr(v);
}

function seq(v: unknown, what: string): unknown[] {
  v = unwrapString(v);
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  if (v instanceof PyUndefined) v.fail();
  throw new JinjaRuntimeError(`${what}: '${typeName(v)}' object is not iterable`);
}

/** Dotted attribute path (`a.b.0`) through the guard, like Jinja's make_attrgetter. */
export function attrPath(obj: unknown, path: unknown): unknown {
  if (typeof path === 'number') return getAttr(obj, path);
  let cur = obj;
  for (const part of pyStr(path).split('.')) cur = getAttr(cur, /^\d+$/.test(part) ? Number(part) : part);
  return cur;
}

function sortKey(v: unknown, caseSensitive: boolean): unknown {
  const s = unwrapString(v);
  return !caseSensitive && typeof s === 'string' ? s.toLowerCase() : s;
}

function kwBool(v: unknown): boolean {
  return v === undefined ? false : truthy(v);
}

function roundHalfEven(x: number, digits: number): number {
  if (digits >= 0 && digits <= 100) return Number(toFixedPy(x, digits));
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

/** Python `int(x)` as Jinja's int filter applies it. */
function toInt(v: unknown, dflt: unknown, base: number): unknown {
  v = unwrapString(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isNumber(v)) return Math.trunc(num(v));
  if (typeof v === 'string') {
    const t = v.trim().replace(/_/g, '');
    if (base === 10 && /^[+-]?\d+$/.test(t)) return parseInt(t, 10);
    if (base !== 10) {
      const body = t.replace(/^[+-]?0[xob]/i, (m) => m.slice(0, m.length - 2));
      const n = parseInt(body, base);
      if (!Number.isNaN(n) && new RegExp(`^[+-]?[0-9a-z]+$`, 'i').test(body)) return n;
    }
    const f = Number(t);
    if (t !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && Number.isFinite(f)) return Math.trunc(f);
  }
  return dflt;
}

function toFloat(v: unknown, dflt: unknown): unknown {
  v = unwrapString(v);
  if (typeof v === 'boolean') return new PyFloat(v ? 1 : 0);
  if (isNumber(v)) return new PyFloat(num(v));
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return new PyFloat(Number(t));
    if (/^[+-]?(inf|infinity)$/.test(t)) return new PyFloat(t.startsWith('-') ? -Infinity : Infinity);
    if (/^[+-]?nan$/.test(t)) return new PyFloat(NaN);
  }
  return dflt;
}

function indent(s: string, width: unknown, first: boolean, blank: boolean): string {
  const ind = typeof width === 'string' ? width : ' '.repeat(num(width));
  const text = s + '\n';
  const lines = text.split(NEWLINES);
  // Python's splitlines drops the empty string after a final line break.
  if (lines[lines.length - 1] === '') lines.pop();
  let rv: string;
  if (blank) rv = lines.join('\n' + ind);
  else {
    rv = lines.shift() ?? '';
    if (lines.length > 0) rv += '\n' + lines.map((l) => (l ? ind + l : l)).join('\n');
  }
  return first ? ind + rv : rv;
}

const COMMENT_STYLES: Record<string, Record<string, string>> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

/** Ansible's `comment` filter. */
function comment(text: string, style: string, kw: Record<string, unknown>): string {
  const sp = COMMENT_STYLES[style];
  if (!sp) throw new JinjaRuntimeError(`comment: unknown style '${style}'`);
  const deco = kw.decoration !== undefined ? str(kw.decoration) : (sp.decoration as string);
  const p: Record<string, unknown> = {
    newline: '\n',
    beginning: '',
    prefix: deco.trimEnd(),
    prefix_count: 1,
    decoration: '',
    postfix: deco.trimEnd(),
    postfix_count: 1,
    end: '',
    ...sp,
    ...kw,
  };
  const nl = str(p.newline);
  const pdeco = str(p.decoration);
  let out = '';
  if (str(p.beginning)) out += str(p.beginning) + nl;
  const prefix = str(p.prefix);
  if (prefix) out += prefix !== nl ? (prefix + nl).repeat(num(p.prefix_count)) : nl.repeat(num(p.prefix_count));
  let body = pdeco + text.split(nl).join(nl + pdeco);
  body = body.split(pdeco + nl).join(pdeco.trimEnd() + nl);
  out += body;
  out += ['', ...Array(num(p.postfix_count)).fill(str(p.postfix))].join(nl);
  if (str(p.end)) out += nl + str(p.end);
  return out;
}

function uniqueList(xs: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of xs) if (!out.some((y) => pyEq(x, y))) out.push(x);
  return out;
}

function flatten(xs: unknown[], levels: number | undefined, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const el of xs) {
    if (skipNulls && (el === null || el === 'None' || el === 'null')) continue;
    if (Array.isArray(el)) {
      if (levels === undefined) out.push(...flatten(el, undefined, skipNulls));
      else if (levels >= 1) out.push(...(levels > 1 ? flatten(el, levels - 1, skipNulls) : el));
      else out.push(el);
    } else out.push(el);
  }
  return out;
}

function merge(low: unknown, high: unknown, recursive: boolean, listMerge: string): unknown {
  if (!isMapping(low) || !isMapping(high)) return high;
  const out: Record<string, unknown> = { ...low };
  for (const [k, hv] of Object.entries(high)) {
    if (k === '__proto__') continue;
    const lv = out[k];
    if (Object.hasOwn(out, k) && recursive && isMapping(lv) && isMapping(hv)) out[k] = merge(lv, hv, recursive, listMerge);
    else if (Object.hasOwn(out, k) && Array.isArray(lv) && Array.isArray(hv) && listMerge !== 'replace') {
      if (listMerge === 'append') out[k] = [...lv, ...hv];
      else if (listMerge === 'prepend') out[k] = [...hv, ...lv];
      else if (listMerge === 'append_rp') out[k] = [...lv.filter((x) => !hv.some((y) => pyEq(x, y))), ...hv];
      else if (listMerge === 'prepend_rp') out[k] = [...hv, ...lv.filter((x) => !hv.some((y) => pyEq(x, y)))];
    } else out[k] = hv;
  }
  return out;
}

function versionParts(v: unknown): (number | string)[] {
  return pyStr(v)
    .split(/(\d+|[a-z]+|\.)/)
    .filter((x) => x && x !== '.' && !/^[^a-z0-9]+$/i.test(x))
    .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
}

/** LooseVersion comparison: -1, 0, 1. */
export function compareVersions(a: unknown, b: unknown): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as number | string;
    const q = y[i] as number | string;
    if (p === q) continue;
    if (typeof p !== typeof q) throw new JinjaRuntimeError(`version comparison: cannot compare ${pyRepr(p)} and ${pyRepr(q)}`);
    return p < q ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

function ipRevdns(value: string): string {
  const ip = value.split('/')[0] as string;
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    const nibbles = groups.map((g) => g.padStart(4, '0')).join('');
    return [...nibbles].reverse().join('.') + '.ip6.arpa.';
  }
  return ip.split('.').reverse().join('.') + '.in-addr.arpa.';
}

function ipaddr(value: unknown, query: string): unknown {
  const v = pyStr(value);
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(v);
  const isV6 = /^[0-9a-fA-F:]+(?:\/\d{1,3})?$/.test(v) && v.includes(':');
  if (!m && !isV6) return false;
  if (m && (m[1] as string).split('.').some((o) => Number(o) > 255)) return false;
  switch (query) {
    case '':
      return v;
    case 'revdns':
      return ipRevdns(v);
    case 'address':
      return v.split('/')[0];
    case 'prefix':
      return Number(v.split('/')[1] ?? (isV6 ? 128 : 32));
    default:
      throw new JinjaRuntimeError(`ipaddr: query '${query}' is not supported (supported: revdns, address, prefix)`, 'UNSUPPORTED');
  }
}

function b64(s: string, enc: string, decode: boolean): string {
  const e = enc.toLowerCase().replace('-', '') === 'utf16' ? 'utf16le' : 'utf8';
  return decode ? Buffer.from(s, 'base64').toString(e) : Buffer.from(s, e).toString('base64');
}

function shQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

function testArgs(args: CallArgs, from: number): { name: string; rest: CallArgs } {
  const name = args.pos[from];
  return { name: name === undefined ? '' : pyStr(name), rest: { pos: args.pos.slice(from + 1), kw: args.kw } };
}

function selectLike(value: unknown, args: CallArgs, rt: FilterRuntime, want: boolean, attr: boolean): unknown[] {
  const items = seq(value, attr ? 'selectattr' : 'select');
  let attrName: unknown;
  let test: { name: string; rest: CallArgs };
  if (attr) {
    attrName = args.pos[0];
    test = testArgs(args, 1);
  } else test = testArgs(args, 0);
  return items.filter((x) => {
    const v = attr ? attrPath(x, attrName) : x;
    const ok = test.name === '' ? truthy(v) : rt.callTest(test.name, v, test.rest);
    return ok === want;
  });
}

function hashHex(algo: string, data: string): string {
  const a = algo.toLowerCase();
  if (!['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(a)) throw new JinjaRuntimeError(`hash: unsupported hash type '${algo}'`);
  return createHash(a).update(data, 'utf8').digest('hex');
}

function groupTuple(grouper: unknown, list: unknown[]): unknown[] {
  const t: unknown[] = pyTuple([grouper, list]);
  Object.defineProperty(t, 'grouper', { value: grouper, enumerable: false });
  Object.defineProperty(t, 'list', { value: list, enumerable: false });
  Object.defineProperty(t, RUNTIME_OBJECT, { value: true, enumerable: false });
  return t;
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

function checkSize(s: string, rt: FilterRuntime): string {
  if (s.length > rt.maxOutput) throw new JinjaRuntimeError('filter result exceeds the output size limit', 'LIMIT');
  return s;
}

export const FILTERS: Record<string, Filter> = {
  // ---- Jinja2 built-ins ----
  abs: (v) => {
    const n = num(v);
    return v instanceof PyFloat ? new PyFloat(Math.abs(n)) : Math.abs(n);
  },
  // Jinja2's attr() reads an attribute only, never an item: on a dict only its methods.
  attr: (v, a) => {
    const name = pyStr(a.pos[0]);
    if (isBlockedName(name)) return getAttr(v, name);
    if (isMapping(v)) return methodFor(v, name) ?? new PyUndefined(`'dict object' has no attribute '${name}'`);
    return getAttr(v, name);
  },
  batch: (v, a) => {
    const b = bindArgs('batch', a, ['linecount', 'fill_with'], { fill_with: undefined });
    const n = num(b.linecount);
    if (n <= 0) throw new JinjaRuntimeError('batch: linecount must be positive');
    const items = seq(v, 'batch');
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    const last = out[out.length - 1];
    if (last && b.fill_with !== undefined && b.fill_with !== null) while (last.length < n) last.push(b.fill_with);
    return out;
  },
  capitalize: (v) => {
    const s = str(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  center: (v, a) => {
    const s = str(v);
    const w = num(bindArgs('center', a, ['width'], { width: 80 }).width);
    const pad = w - s.length;
    if (pad <= 0) return s;
    const left = Math.floor(pad / 2) + (pad & w & 1);
    return ' '.repeat(left) + s + ' '.repeat(pad - left);
  },
  default: (v, a) => {
    const b = bindArgs('default', a, ['default_value', 'boolean'], { default_value: '', boolean: false });
    if (isUndef(v) || (truthy(b.boolean) && !truthy(v))) return b.default_value;
    return v;
  },
  dictsort: (v, a) => {
    const b = bindArgs('dictsort', a, ['case_sensitive', 'by', 'reverse'], { case_sensitive: false, by: 'key', reverse: false });
    if (!isMapping(v)) throw new JinjaRuntimeError('dictsort: expected a dict');
    const pos = b.by === 'value' ? 1 : 0;
    const cs = kwBool(b.case_sensitive);
    const items = Object.entries(v).map(([k, x]) => pyTuple([k, x]));
    items.sort((p, q) => pyCmp(sortKey(p[pos], cs), sortKey(q[pos], cs)));
    if (kwBool(b.reverse)) items.reverse();
    return items;
  },
  escape: (v) => htmlEscape(str(v)),
  filesizeformat: (v, a) => {
    const b = bindArgs('filesizeformat', a, ['binary'], { binary: false });
    const bytes = num(toFloat(v, 0));
    const base = kwBool(b.binary) ? 1024 : 1000;
    const units = kwBool(b.binary) ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
    if (bytes === 1) return '1 Byte';
    if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
    let unit = units[0] as string;
    let div = base;
    for (let i = 0; i < units.length; i++) {
      div = base ** (i + 2);
      unit = units[i] as string;
      if (bytes < div) break;
    }
    return `${((base * bytes) / div).toFixed(1)} ${unit}`;
  },
  first: (v) => {
    const items = seq(v, 'first');
    return items.length > 0 ? items[0] : new PyUndefined('No first item, sequence was empty.');
  },
  float: (v, a) => toFloat(v, bindArgs('float', a, ['default'], { default: new PyFloat(0) }).default),
  forceescape: (v) => htmlEscape(str(v)),
  format: (v, a) => percentFormat(str(v), Object.keys(a.kw).length > 0 ? a.kw : a.pos),
  groupby: (v, a) => {
    const b = bindArgs('groupby', a, ['attribute', 'default', 'case_sensitive'], { case_sensitive: false });
    const items = seq(v, 'groupby');
    const keyed = items.map((x) => {
      let k = attrPath(x, b.attribute);
      if (k instanceof PyUndefined && b.default !== undefined) k = b.default;
      if (k instanceof PyUndefined) k.fail();
      return { k, x };
    });
    const cs = kwBool(b.case_sensitive);
    keyed.sort((p, q) => pyCmp(sortKey(p.k, cs), sortKey(q.k, cs)));
    const out: unknown[] = [];
    for (const { k, x } of keyed) {
      const last = out[out.length - 1] as unknown[] | undefined;
      if (last && pyEq(sortKey(last[0], cs), sortKey(k, cs))) (last[1] as unknown[]).push(x);
      else out.push(groupTuple(k, [x]));
    }
    return out;
  },
  indent: (v, a) => {
    const b = bindArgs('indent', a, ['width', 'first', 'blank', 'indentfirst'], { width: 4, first: false, blank: false });
    return indent(str(v), b.width, kwBool(b.first) || kwBool(b.indentfirst), kwBool(b.blank));
  },
  int: (v, a) => {
    const b = bindArgs('int', a, ['default', 'base'], { default: 0, base: 10 });
    return toInt(v, b.default, num(b.base));
  },
  items: (v) => {
    if (isUndef(v)) return [];
    if (!isMapping(v)) throw new JinjaRuntimeError('items: expected a dict');
    return Object.entries(v).map(([k, x]) => pyTuple([k, x]));
  },
  join: (v, a, rt) => {
    const b = bindArgs('join', a, ['d', 'attribute'], { d: '' });
    let items = seq(v, 'join');
    if (b.attribute !== undefined && b.attribute !== null) items = items.map((x) => attrPath(x, b.attribute));
    return checkSize(items.map((x) => str(x)).join(str(b.d)), rt);
  },
  last: (v) => {
    const items = seq(v, 'last');
    return items.length > 0 ? items[items.length - 1] : new PyUndefined('No last item, sequence was empty.');
  },
  length: (v) => {
    const s = unwrapString(v);
    if (typeof s === 'string') return [...s].length;
    if (Array.isArray(s)) return s.length;
    if (isMapping(s)) return Object.keys(s).length;
    throw new JinjaRuntimeError(`object of type '${typeName(v)}' has no len()`);
  },
  list: (v) => [...seq(v, 'list')],
  lower: (v) => str(v).toLowerCase(),
  map: (v, a, rt) => {
    const items = seq(v, 'map');
    if (a.pos.length === 0 && a.kw.attribute !== undefined) {
      return items.map((x) => {
        const r = attrPath(x, a.kw.attribute);
        return r instanceof PyUndefined && a.kw.default !== undefined ? a.kw.default : r;
      });
    }
    const name = pyStr(a.pos[0]);
    const rest: CallArgs = { pos: a.pos.slice(1), kw: a.kw };
    return items.map((x) => rt.callFilter(name, x, rest));
  },
  max: (v, a) => {
    const b = bindArgs('max', a, ['case_sensitive', 'attribute'], { case_sensitive: false });
    const items = seq(v, 'max');
    if (items.length === 0) return new PyUndefined('No aggregated item, sequence was empty.');
    const key = (x: unknown): unknown => sortKey(b.attribute !== undefined ? attrPath(x, b.attribute) : x, kwBool(b.case_sensitive));
    return items.reduce((m, x) => (pyCmp(key(x), key(m)) > 0 ? x : m));
  },
  min: (v, a) => {
    const b = bindArgs('min', a, ['case_sensitive', 'attribute'], { case_sensitive: false });
    const items = seq(v, 'min');
    if (items.length === 0) return new PyUndefined('No aggregated item, sequence was empty.');
    const key = (x: unknown): unknown => sortKey(b.attribute !== undefined ? attrPath(x, b.attribute) : x, kwBool(b.case_sensitive));
    return items.reduce((m, x) => (pyCmp(key(x), key(m)) < 0 ? x : m));
  },
  pprint: (v) => pyRepr(v),
  random: () => {
    throw new JinjaRuntimeError('the random filter is refused: a compiled catalog must not change between compiles', 'UNSUPPORTED');
  },
  reject: (v, a, rt) => selectLike(v, a, rt, false, false),
  rejectattr: (v, a, rt) => selectLike(v, a, rt, false, true),
  replace: (v, a, rt) => {
    const b = bindArgs('replace', a, ['old', 'new', 'count']);
    const count = b.count === undefined || b.count === null ? -1 : num(b.count);
    return checkSize(pyReplace(str(v), str(b.old), str(b.new), count), rt);
  },
  reverse: (v) => {
    const s = unwrapString(v);
    if (typeof s === 'string') return [...s].reverse().join('');
    return [...seq(v, 'reverse')].reverse();
  },
  round: (v, a) => {
    const b = bindArgs('round', a, ['precision', 'method'], { precision: 0, method: 'common' });
    const x = num(v);
    const p = num(b.precision);
    const m = 10 ** p;
    if (b.method === 'ceil') return new PyFloat(Math.ceil(x * m) / m);
    if (b.method === 'floor') return new PyFloat(Math.floor(x * m) / m);
    if (b.method !== 'common') throw new JinjaRuntimeError('round: method must be common, ceil or floor');
    // Python's round() of an int is an int.
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    return new PyFloat(roundHalfEven(x, p));
  },
  safe: (v) => v,
  select: (v, a, rt) => selectLike(v, a, rt, true, false),
  selectattr: (v, a, rt) => selectLike(v, a, rt, true, true),
  slice: (v, a) => {
    const b = bindArgs('slice', a, ['slices', 'fill_with']);
    const items = seq(v, 'slice');
    const n = num(b.slices);
    const per = Math.floor(items.length / n);
    const extra = items.length % n;
    const out: unknown[][] = [];
    let off = 0;
    for (let i = 0; i < n; i++) {
      const start = off + i * per;
      if (i < extra) off++;
      const end = off + (i + 1) * per;
      const part = items.slice(start, end);
      if (b.fill_with !== undefined && i >= extra) part.push(b.fill_with);
      out.push(part);
    }
    return out;
  },
  sort: (v, a) => {
    const b = bindArgs('sort', a, ['reverse', 'case_sensitive', 'attribute'], { reverse: false, case_sensitive: false });
    const items = [...seq(v, 'sort')];
    const cs = kwBool(b.case_sensitive);
    const attrs = b.attribute === undefined || b.attribute === null ? [] : pyStr(b.attribute).split(',');
    const key = (x: unknown): unknown => (attrs.length === 0 ? sortKey(x, cs) : attrs.map((p) => sortKey(attrPath(x, p.trim()), cs)));
    const keyed = items.map((x) => ({ x, k: key(x) }));
    keyed.sort((p, q) => pyCmp(p.k, q.k));
    const out = keyed.map((e) => e.x);
    if (kwBool(b.reverse)) {
      // Python's sort(reverse=True) is stable: equal items keep their order.
      const rk = items.map((x) => ({ x, k: key(x) }));
      rk.sort((p, q) => pyCmp(q.k, p.k));
      return rk.map((e) => e.x);
    }
    return out;
  },
  string: (v) => str(v),
  striptags: (v) =>
    str(v)
      .replace(/<!--[\s\S]*?-->|<[^>]*>/g, '')
      .replace(/\s+/g, ' ')
      .trim(),
  sum: (v, a) => {
    const b = bindArgs('sum', a, ['attribute', 'start'], { start: 0 });
    let items = seq(v, 'sum');
    if (b.attribute !== undefined && b.attribute !== null) items = items.map((x) => attrPath(x, b.attribute));
    let total = num(b.start);
    let float = b.start instanceof PyFloat;
    for (const x of items) {
      total += num(x);
      if (x instanceof PyFloat || (typeof x === 'number' && !Number.isInteger(x))) float = true;
    }
    return float ? new PyFloat(total) : total;
  },
  // Jinja2's do_title: words start after '-', whitespace and opening brackets.
  title: (v) =>
    str(v)
      .split(/([-\s({[<]+)/)
      .map((w) => (w ? w.charAt(0).toUpperCase() + w.slice(1).toLowerCase() : w))
      .join(''),
  tojson: (v, a) => {
    const b = bindArgs('tojson', a, ['indent'], {});
    return pyJsonDumps(v, { sortKeys: true, indent: b.indent === undefined ? undefined : (b.indent as number) })
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/'/g, '\\u0027');
  },
  trim: (v, a) => {
    const s = str(v);
    const chars = a.pos[0];
    // Not /^\s+|\s+$/g: V8 backtracks quadratically on a long run of spaces not at the end.
    if (chars === undefined || chars === null) return s.trim();
    const set = pyStr(chars);
    let i = 0;
    let j = s.length;
    while (i < j && set.includes(s[i] as string)) i++;
    while (j > i && set.includes(s[j - 1] as string)) j--;
    return s.slice(i, j);
  },
  truncate: (v, a) => {
    const b = bindArgs('truncate', a, ['length', 'killwords', 'end', 'leeway'], { length: 255, killwords: false, end: '...', leeway: 5 });
    const s = str(v);
    const len = num(b.length);
    const end = str(b.end);
    if (s.length <= len + num(b.leeway)) return s;
    if (kwBool(b.killwords)) return s.slice(0, len - end.length) + end;
    const cut = s.slice(0, len - end.length);
    const k = cut.lastIndexOf(' ');
    return (k >= 0 ? cut.slice(0, k) : cut) + end;
  },
  unique: (v) => uniqueList(seq(v, 'unique')),
  upper: (v) => str(v).toUpperCase(),
  urlencode: (v) => {
    const enc = (s: string): string => encodeURIComponent(s).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    if (isMapping(v)) return Object.entries(v).map(([k, x]) => `${enc(k)}=${enc(str(x))}`).join('&');
    return enc(str(v));
  },
  wordcount: (v) => (str(v).match(/\w+/gu) ?? []).length,
  wordwrap: (v, a) => {
    const b = bindArgs('wordwrap', a, ['width', 'break_long_words', 'wrapstring', 'break_on_hyphens'], { width: 79, break_long_words: true, wrapstring: '\n' });
    const width = num(b.width);
    const lines: string[] = [];
    for (const para of str(v).split(/\r\n|\n|\r/)) {
      let line = '';
      for (const word of para.split(/\s+/).filter((w) => w)) {
        if (line && line.length + 1 + word.length > width) {
          lines.push(line);
          line = word;
        } else line = line ? line + ' ' + word : word;
      }
      lines.push(line);
    }
    return lines.join(str(b.wrapstring));
  },
  xmlattr: (v, a) => {
    if (!isMapping(v)) throw new JinjaRuntimeError('xmlattr: expected a dict');
    const autospace = a.pos[0] === undefined ? true : truthy(a.pos[0]);
    const parts = Object.entries(v)
      .filter(([, x]) => x !== null && !(x instanceof PyUndefined))
      .map(([k, x]) => {
        if (/[\s/>=]/.test(k)) throw new JinjaRuntimeError(`Invalid character in attribute name: ${pyRepr(k)}`);
        return `${htmlEscape(k)}="${htmlEscape(str(x))}"`;
      });
    const s = parts.join(' ');
    return autospace && s ? ' ' + s : s;
  },

  // ---- Ansible filters ----
  b64decode: (v, a) => b64(str(v), pyStr(a.pos[0] ?? a.kw.encoding ?? 'utf-8'), true),
  b64encode: (v, a) => b64(str(v), pyStr(a.pos[0] ?? a.kw.encoding ?? 'utf-8'), false),
  basename: (v) => {
    const s = str(v);
    return s.slice(s.lastIndexOf('/') + 1);
  },
  bool: (v) => {
    v = unwrapString(v);
    if (v === null || typeof v === 'boolean') return v;
    const s = typeof v === 'string' ? v.toLowerCase() : v;
    return s === 'yes' || s === 'on' || s === '1' || s === 'true' || s === 1 || (s instanceof PyFloat && s.value === 1);
  },
  checksum: (v) => hashHex('sha1', str(v)),
  combine: (v, a) => {
    const b = bindArgs('combine', { pos: [], kw: a.kw }, ['recursive', 'list_merge'], { recursive: false, list_merge: 'replace' });
    const dicts: unknown[] = [];
    for (const t of [v, ...a.pos]) {
      if (Array.isArray(t)) dicts.push(...t);
      else dicts.push(t);
    }
    if (dicts.length === 0) return {};
    let result = dicts[0];
    for (const d of dicts.slice(1)) result = merge(result, d, kwBool(b.recursive), pyStr(b.list_merge));
    return isMapping(result) ? { ...result } : result;
  },
  comment: (v, a) => comment(str(v), pyStr(a.pos[0] ?? 'plain'), a.kw),
  dict2items: (v, a) => {
    const b = bindArgs('dict2items', a, ['key_name', 'value_name'], { key_name: 'key', value_name: 'value' });
    if (!isMapping(v)) throw new JinjaRuntimeError('dict2items requires a dictionary');
    return Object.entries(v).map(([k, x]) => ({ [pyStr(b.key_name)]: k, [pyStr(b.value_name)]: x }));
  },
  difference: (v, a) => {
    const other = seq(a.pos[0], 'difference');
    return uniqueList(seq(v, 'difference').filter((x) => !other.some((y) => pyEq(x, y))));
  },
  dirname: (v) => {
    const s = str(v);
    const k = s.lastIndexOf('/');
    if (k < 0) return '';
    const head = s.slice(0, k + 1);
    return /^\/+$/.test(head) ? head : head.replace(/\/+$/, '');
  },
  extract: (v, a) => getAttr(a.pos[0], v),
  flatten: (v, a) => {
    const b = bindArgs('flatten', a, ['levels', 'skip_nulls'], { skip_nulls: true });
    return flatten(seq(v, 'flatten'), b.levels === undefined || b.levels === null ? undefined : num(b.levels), kwBool(b.skip_nulls));
  },
  from_json: (v) => {
    try {
      return JSON.parse(str(v), (k, x) => (k === '__proto__' ? undefined : x)) as unknown;
    } catch (e) {
      throw new JinjaRuntimeError(`from_json: ${(e as Error).message}`);
    }
  },
  from_yaml: (v) => YAML.parse(str(v), { version: '1.1', customTags: pyYamlScalarTags }) as unknown,
  hash: (v, a) => hashHex(pyStr(a.pos[0] ?? 'sha1'), str(v)),
  intersect: (v, a) => {
    const other = seq(a.pos[0], 'intersect');
    return uniqueList(seq(v, 'intersect').filter((x) => other.some((y) => pyEq(x, y))));
  },
  ipaddr: (v, a) => ipaddr(v, pyStr(a.pos[0] ?? '')),
  items2dict: (v, a) => {
    const b = bindArgs('items2dict', a, ['key_name', 'value_name'], { key_name: 'key', value_name: 'value' });
    const out: Record<string, unknown> = {};
    for (const item of seq(v, 'items2dict')) {
      const k = pyStr(getAttr(item, pyStr(b.key_name)));
      if (k !== '__proto__') out[k] = getAttr(item, pyStr(b.value_name));
    }
    return out;
  },
  mandatory: (v, a) => {
    if (isUndef(v)) throw new JinjaRuntimeError(a.pos[0] !== undefined ? pyStr(a.pos[0]) : v instanceof PyUndefined ? `Mandatory variable not defined: ${v.hint}` : 'Mandatory variable not defined.', 'UNDEFINED');
    return v;
  },
  md5: (v) => hashHex('md5', str(v)),
  quote: (v) => shQuote(v === null ? '' : str(v)),
  regex_escape: (v) => str(v).replace(/[^A-Za-z0-9_]/g, (c) => '\\' + c),
  regex_findall: (v, a, rt) => {
    const b = bindArgs('regex_findall', a, ['regex', 'multiline', 'ignorecase'], {});
    const re = pyRegex(pyStr(b.regex), { multiline: kwBool(b.multiline), ignorecase: kwBool(b.ignorecase) });
    return pyFindall(re, str(v), rt.regexBudget).map((m) => (Array.isArray(m) ? pyTuple(m) : m));
  },
  regex_replace: (v, a, rt) => {
    const b = bindArgs('regex_replace', a, ['regex', 'replacement', 'ignorecase', 'multiline', 'count', 'mandatory_count'], {
      replacement: '',
      count: 0,
      mandatory_count: 0,
    });
    const re = pyRegex(pyStr(b.regex), { ignorecase: kwBool(b.ignorecase), multiline: kwBool(b.multiline) });
    const { out, n } = pySub(re, pyStr(b.replacement), str(v), num(b.count), rt.regexBudget, rt.maxOutput);
    const mc = num(b.mandatory_count);
    if (mc && mc !== n) throw new JinjaRuntimeError(`regex_replace: ${pyRepr(b.regex)} should match ${mc} times, matched ${n}`);
    return checkSize(out, rt);
  },
  regex_search: (v, a, rt) => {
    const { pos, kw } = a;
    const re = pyRegex(pyStr(pos[0]), { ignorecase: kwBool(kw.ignorecase), multiline: kwBool(kw.multiline) });
    const m = asJinja(() => re.find(str(v), rt.regexBudget));
    if (!m) return null;
    if (pos.length <= 1) return m.groups[0];
    return pos.slice(1).map((g) => {
      const ref = pyStr(g);
      const named = /^\\g<(\S+)>$/.exec(ref);
      if (named) return m.named[named[1] as string] ?? null;
      const idx = /^\\(\d+)$/.exec(ref);
      if (!idx) throw new JinjaRuntimeError(`regex_search: unknown group reference ${pyRepr(ref)}`);
      return m.groups[Number(idx[1])] ?? null;
    });
  },
  sha1: (v) => hashHex('sha1', str(v)),
  split: (v, a) => pySplit(str(v), a.pos[0], a.pos[1]),
  symmetric_difference: (v, a) => {
    const x = seq(v, 'symmetric_difference');
    const y = seq(a.pos[0], 'symmetric_difference');
    const union = uniqueList([...x, ...y]);
    return union.filter((e) => !(x.some((p) => pyEq(p, e)) && y.some((q) => pyEq(q, e))));
  },
  ternary: (v, a) => {
    const b = bindArgs('ternary', a, ['true_val', 'false_val', 'none_val'], { none_val: null });
    if (v === null && b.none_val !== null) return b.none_val;
    return truthy(v) ? b.true_val : b.false_val;
  },
  to_json: (v, a) => pyJsonDumps(v, { indent: a.kw.indent as number | undefined, sortKeys: kwBool(a.kw.sort_keys), ensureAscii: a.kw.ensure_ascii === undefined ? true : truthy(a.kw.ensure_ascii) }),
  to_nice_json: (v, a) => {
    const b = bindArgs('to_nice_json', a, ['indent', 'sort_keys', 'ensure_ascii'], { indent: 4, sort_keys: true, ensure_ascii: true });
    return pyJsonDumps(v, { indent: num(b.indent), sortKeys: truthy(b.sort_keys), ensureAscii: truthy(b.ensure_ascii), separators: [',', ': '] });
  },
  to_nice_yaml: (v, a) => {
    const b = bindArgs('to_nice_yaml', a, ['indent', 'sort_keys', 'width', 'explicit_start'], { indent: 4, sort_keys: true });
    return pyYamlDump(v, {
      indent: num(b.indent),
      sortKeys: truthy(b.sort_keys),
      defaultFlowStyle: false,
      ...(b.width !== undefined ? { width: num(b.width) } : {}),
      explicitStart: kwBool(b.explicit_start),
    });
  },
  to_yaml: (v, a) => {
    const b = bindArgs('to_yaml', a, ['indent', 'sort_keys', 'default_flow_style', 'width', 'explicit_start'], { sort_keys: true, default_flow_style: null });
    return pyYamlDump(v, {
      ...(b.indent !== undefined ? { indent: num(b.indent) } : {}),
      sortKeys: truthy(b.sort_keys),
      defaultFlowStyle: b.default_flow_style === null ? null : truthy(b.default_flow_style),
      ...(b.width !== undefined ? { width: num(b.width) } : {}),
      explicitStart: kwBool(b.explicit_start),
    });
  },
  type_debug: (v) => typeName(v),
  union: (v, a) => uniqueList([...seq(v, 'union'), ...seq(a.pos[0], 'union')]),
  zip: (v, a) => {
    const lists = [seq(v, 'zip'), ...a.pos.map((x) => seq(x, 'zip'))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => pyTuple(lists.map((l) => l[i])));
  },
  log: (v, a) => new PyFloat(a.pos[0] === undefined ? Math.log(num(v)) : Math.log(num(v)) / Math.log(num(a.pos[0]))),
  pow: (v, a) => new PyFloat(num(v) ** num(a.pos[0])),
  root: (v, a) => new PyFloat(num(v) ** (1 / num(a.pos[0] ?? 2))),
  strftime: () => {
    throw new JinjaRuntimeError('strftime is refused: a compiled catalog must not depend on the clock', 'UNSUPPORTED');
  },
  shuffle: () => {
    throw new JinjaRuntimeError('shuffle is refused: a compiled catalog must not change between compiles', 'UNSUPPORTED');
  },
};

FILTERS.count = FILTERS.length as Filter;
FILTERS.d = FILTERS.default as Filter;
FILTERS.e = FILTERS.escape as Filter;
