/**
 * Inventory filter expressions (ADR 0018 §4): search and dynamic inventory groups.
 *
 *   expr := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;
 *   not  := "not" not | "(" expr ")" | term
 *   term := FIELD ("=" | "!=") VALUE | "tag:" VALUE | "group:" NAME | FIELD "exists"
 *
 * FIELD is hostname, ip, idc, rack, business, product, module, kind, parent, lifecycle, set, env,
 * source, attr.NAME or fact.dotted.path; VALUE a bare word (letters, digits, . _ - / : * @) or a
 * "double-quoted" string (\" and \\ escape). "*" in a value matches any run of characters (the
 * jobs selector's glob: linear, no regular expression). A multi-valued field (ips, tags, a fact
 * list) matches when any value does; `F!=V` is `not F=V` (a host without F matches it).
 * Bounded: 4,096 characters, 200 terms, nesting depth 32. A bad expression is an ApiError
 * BAD_REQUEST naming the 1-based column (details.column).
 *
 * parseFilter compiles to closures once; evaluation over an in-memory snapshot is a tight loop.
 */
import { ApiError } from '../../domain/errors.js';
import { compileGlob } from '../jobs/selector.js';
import type { EffectiveHost } from './ports.js';

export const FILTER_MAX_CHARS = 4096;
export const FILTER_MAX_TERMS = 200;
export const FILTER_MAX_DEPTH = 32;

/** What a filter reads of one host: the effective record, plus set/env of the repository. */
export interface FilterHost extends EffectiveHost {
  readonly set?: string | undefined;
  readonly env?: string | undefined;
}

/** What a filter needs besides the host: its facts (only for fact. terms) and dynamic-group membership. */
export interface FilterContext {
  /** The agent's facts of the host (undefined: none reported). */
  facts?(host: string): unknown;
  /** Whether the host is in an inventory (dynamic) group; repository groups are read from host.groups. */
  inGroup?(host: FilterHost, group: string): boolean;
}

export type FilterField = 'hostname' | 'ip' | 'idc' | 'rack' | 'business' | 'product' | 'module' | 'kind' | 'parent' | 'lifecycle' | 'set' | 'env' | 'source' | `attr.${string}` | `fact.${string}`;

export type FilterNode =
  | { readonly op: 'and' | 'or'; readonly items: readonly FilterNode[] }
  | { readonly op: 'not'; readonly item: FilterNode }
  | { readonly op: 'cmp'; readonly field: FilterField; readonly negate: boolean; readonly value: string; readonly column: number }
  | { readonly op: 'tag'; readonly value: string; readonly column: number }
  | { readonly op: 'group'; readonly name: string; readonly column: number }
  | { readonly op: 'exists'; readonly field: FilterField; readonly column: number };

export interface CompiledFilter {
  readonly source: string;
  readonly ast: FilterNode;
  /** Does any term read facts (then the caller loads them)? */
  readonly usesFacts: boolean;
  /** Group names the expression tests. */
  readonly groups: readonly string[];
  matches(host: FilterHost, ctx?: FilterContext): boolean;
}

const plainFields = new Set(['hostname', 'ip', 'idc', 'rack', 'business', 'product', 'module', 'kind', 'parent', 'lifecycle', 'set', 'env', 'source']);
const attrRe = /^attr\.[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const factRe = /^fact(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,63}){1,16}$/;
const groupNameRe = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}$/;
const forbiddenSegments = new Set(['__proto__', 'constructor', 'prototype']);

type Token =
  | { readonly t: 'word'; readonly text: string; readonly column: number; readonly end: number }
  | { readonly t: 'quoted'; readonly text: string; readonly column: number; readonly end: number }
  | { readonly t: '(' | ')' | '=' | '!='; readonly column: number; readonly end: number }
  | { readonly t: 'eof'; readonly column: number; readonly end: number };

function isWordChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 46 || c === 95 || c === 45 || c === 47 || c === 58 || c === 42 || c === 64 // . _ - / : * @
  );
}

function fail(source: string, column: number, why: string): ApiError {
  return new ApiError('BAD_REQUEST', `bad filter at column ${column}: ${why} (filter "${source.slice(0, 200)}"; see docs/inventory.md)`, { column });
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const column = i + 1;
    if (c === 40 || c === 41) {
      out.push({ t: c === 40 ? '(' : ')', column, end: i + 1 });
      i++;
    } else if (c === 61) {
      out.push({ t: '=', column, end: i + 1 });
      i++;
    } else if (c === 33) {
      if (src.charCodeAt(i + 1) !== 61) throw fail(src, column, '"!" must be followed by "=" (write F!=VALUE, or "not" before a term)');
      out.push({ t: '!=', column, end: i + 2 });
      i += 2;
    } else if (c === 34) {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw fail(src, column, 'unterminated "quoted" value');
        const d = src[j]!;
        if (d === '"') break;
        if (d === '\\') {
          const e = src[j + 1];
          if (e !== '"' && e !== '\\') throw fail(src, j + 1, 'only \\" and \\\\ are escapes inside a quoted value');
          text += e;
          j += 2;
        } else {
          text += d;
          j++;
        }
      }
      out.push({ t: 'quoted', text, column, end: j + 1 });
      i = j + 1;
    } else if (isWordChar(c)) {
      let j = i;
      while (j < src.length && isWordChar(src.charCodeAt(j))) j++;
      out.push({ t: 'word', text: src.slice(i, j), column, end: j });
      i = j;
    } else {
      throw fail(src, column, `unexpected character ${JSON.stringify(src[i])}`);
    }
  }
  out.push({ t: 'eof', column: src.length + 1, end: src.length + 1 });
  return out;
}

function checkField(src: string, text: string, column: number): FilterField {
  if (plainFields.has(text)) return text as FilterField;
  if (text.startsWith('attr.')) {
    if (!attrRe.test(text)) throw fail(src, column, `"${text.slice(0, 60)}" is not a valid attribute (attr.NAME: letters, digits, "_" or "-")`);
    return text as FilterField;
  }
  if (text.startsWith('fact.')) {
    if (!factRe.test(text) || text.split('.').some((s) => forbiddenSegments.has(s))) throw fail(src, column, `"${text.slice(0, 60)}" is not a valid fact path (fact.a.b, at most 16 segments)`);
    return text as FilterField;
  }
  throw fail(src, column, `unknown field "${text.slice(0, 40)}" (fields: ${[...plainFields].join(', ')}, attr.NAME, fact.path; or tag:VALUE, group:NAME)`);
}

/** Parses and compiles a filter expression; throws ApiError BAD_REQUEST (details.column) when it is bad. */
export function parseFilter(source: string): CompiledFilter {
  if (source.length > FILTER_MAX_CHARS) throw fail(source, FILTER_MAX_CHARS + 1, `longer than ${FILTER_MAX_CHARS} characters`);
  const toks = tokenize(source);
  let pos = 0;
  let terms = 0;
  const peek = (): Token => toks[pos]!;
  const isKw = (tok: Token, kw: string): boolean => tok.t === 'word' && tok.text === kw;

  const value = (): { text: string } => {
    const tok = peek();
    if (tok.t === 'word' || tok.t === 'quoted') {
      pos++;
      if (tok.text.length > 1024) throw fail(source, tok.column, 'value longer than 1024 characters');
      return { text: tok.text };
    }
    throw fail(source, tok.column, tok.t === 'eof' ? 'a value is missing at the end' : 'expected a value (a word or a "quoted" string)');
  };

  const term = (): FilterNode => {
    const tok = peek();
    if (tok.t !== 'word') throw fail(source, tok.column, tok.t === 'eof' ? 'the expression ends where a term is expected' : `expected a term (FIELD=VALUE, tag:VALUE, group:NAME, FIELD exists), not ${tok.t === 'quoted' ? 'a quoted string' : `"${tok.t}"`}`);
    if (++terms > FILTER_MAX_TERMS) throw fail(source, tok.column, `more than ${FILTER_MAX_TERMS} terms`);
    pos++;
    for (const prefix of ['tag:', 'group:'] as const) {
      if (!tok.text.startsWith(prefix)) continue;
      let text = tok.text.slice(prefix.length);
      if (text === '') {
        const next = peek();
        // tag:"a value" — the quoted value follows the colon directly.
        if (next.t === 'quoted' && next.column === tok.end + 1) {
          pos++;
          text = next.text;
        } else throw fail(source, tok.column, `${prefix} needs a value`);
      }
      if (prefix === 'tag:') return { op: 'tag', value: text, column: tok.column };
      if (!groupNameRe.test(text)) throw fail(source, tok.column, `"${text.slice(0, 60)}" is not a group name`);
      return { op: 'group', name: text, column: tok.column };
    }
    const field = checkField(source, tok.text, tok.column);
    const op = peek();
    if (op.t === '=' || op.t === '!=') {
      pos++;
      return { op: 'cmp', field, negate: op.t === '!=', value: value().text, column: tok.column };
    }
    if (isKw(op, 'exists')) {
      pos++;
      return { op: 'exists', field, column: tok.column };
    }
    throw fail(source, op.column, `after the field "${tok.text.slice(0, 40)}" write =, != or exists`);
  };

  const unary = (depth: number): FilterNode => {
    if (depth > FILTER_MAX_DEPTH) throw fail(source, peek().column, `nested deeper than ${FILTER_MAX_DEPTH} levels`);
    const tok = peek();
    if (isKw(tok, 'not')) {
      pos++;
      return { op: 'not', item: unary(depth + 1) };
    }
    if (tok.t === '(') {
      pos++;
      const inner = or(depth + 1);
      const close = peek();
      if (close.t !== ')') throw fail(source, close.column, close.t === 'eof' ? `the "(" at column ${tok.column} is not closed` : 'expected ")", "and" or "or"');
      pos++;
      return inner;
    }
    if (isKw(tok, 'and') || isKw(tok, 'or')) throw fail(source, tok.column, `"${(tok as { text: string }).text}" where a term is expected`);
    return term();
  };

  const and = (depth: number): FilterNode => {
    const items = [unary(depth)];
    while (isKw(peek(), 'and')) {
      pos++;
      items.push(unary(depth));
    }
    return items.length === 1 ? items[0]! : { op: 'and', items };
  };

  const or = (depth: number): FilterNode => {
    const items = [and(depth)];
    while (isKw(peek(), 'or')) {
      pos++;
      items.push(and(depth));
    }
    return items.length === 1 ? items[0]! : { op: 'or', items };
  };

  if (source.trim() === '') throw fail(source, 1, 'the filter is empty');
  const ast = or(1);
  const rest = peek();
  if (rest.t !== 'eof') throw fail(source, rest.column, rest.t === ')' ? 'a ")" without its "("' : 'expected "and", "or" or the end (put "and" between terms)');
  const groups = new Set<string>();
  let facts = false;
  walk(ast, (n) => {
    if (n.op === 'group') groups.add(n.name);
    if ((n.op === 'cmp' || n.op === 'exists') && n.field.startsWith('fact.')) facts = true;
  });
  const fn = compile(ast);
  return { source, ast, usesFacts: facts, groups: [...groups], matches: (h, ctx = {}) => fn(h, ctx) };
}

function walk(n: FilterNode, visit: (n: FilterNode) => void): void {
  visit(n);
  if (n.op === 'and' || n.op === 'or') for (const i of n.items) walk(i, visit);
  else if (n.op === 'not') walk(n.item, visit);
}

type Pred = (h: FilterHost, ctx: FilterContext) => boolean;
type Values = (h: FilterHost, ctx: FilterContext) => unknown;

function scalarText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** A fact by dotted path (own properties only; arrays are not indexed). */
function factAt(facts: unknown, path: readonly string[]): unknown {
  let cur = facts;
  for (const seg of path) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function reader(field: FilterField): Values {
  switch (field) {
    case 'hostname':
      return (h) => h.hostname;
    case 'ip':
      return (h) => h.record.ips;
    case 'idc':
      return (h) => h.record.idc;
    case 'rack':
      return (h) => h.record.rack;
    case 'business':
      return (h) => h.record.business;
    case 'product':
      return (h) => {
        const b = h.record.business;
        if (b === undefined) return undefined;
        const slash = b.indexOf('/');
        return slash < 0 ? b : b.slice(0, slash);
      };
    case 'module':
      return (h) => {
        const b = h.record.business;
        const slash = b === undefined ? -1 : b.indexOf('/');
        return slash < 0 ? undefined : b!.slice(slash + 1);
      };
    case 'kind':
      return (h) => h.record.kind;
    case 'parent':
      return (h) => h.record.parent;
    case 'lifecycle':
      return (h) => h.lifecycle;
    case 'set':
      return (h) => h.set;
    case 'env':
      return (h) => h.env;
    case 'source':
      return (h) => h.source;
    default: {
      if (field.startsWith('attr.')) {
        const name = field.slice(5);
        return (h) => {
          const a = h.record.attributes;
          return a !== undefined && Object.hasOwn(a, name) ? a[name] : undefined;
        };
      }
      const path = field.slice(5).split('.');
      return (h, ctx) => factAt(ctx.facts?.(h.hostname), path);
    }
  }
}

function valueTest(value: string): (text: string) => boolean {
  return value.includes('*') ? compileGlob(value) : (text) => text === value;
}

function anyValue(v: unknown, test: (text: string) => boolean): boolean {
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = scalarText(e);
      if (s !== undefined && test(s)) return true;
    }
    return false;
  }
  const s = scalarText(v);
  return s !== undefined && test(s);
}

function compile(n: FilterNode): Pred {
  switch (n.op) {
    case 'and': {
      const items = n.items.map(compile);
      return (h, ctx) => {
        for (const p of items) if (!p(h, ctx)) return false;
        return true;
      };
    }
    case 'or': {
      const items = n.items.map(compile);
      return (h, ctx) => {
        for (const p of items) if (p(h, ctx)) return true;
        return false;
      };
    }
    case 'not': {
      const item = compile(n.item);
      return (h, ctx) => !item(h, ctx);
    }
    case 'tag': {
      const test = valueTest(n.value);
      return (h) => anyValue(h.record.tags, test);
    }
    case 'group': {
      const name = n.name;
      return (h, ctx) => h.groups.includes(name) || (ctx.inGroup?.(h, name) ?? false);
    }
    case 'exists': {
      const read = reader(n.field);
      return (h, ctx) => {
        const v = read(h, ctx);
        return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
      };
    }
    case 'cmp': {
      const read = reader(n.field);
      const test = valueTest(n.value);
      return n.negate ? (h, ctx) => !anyValue(read(h, ctx), test) : (h, ctx) => anyValue(read(h, ctx), test);
    }
  }
}
