/**
 * Target selectors: "host:web-1,group:web,idc:sz,tag:canary,set:s1,env:prod,ip:10.0.0.5,
 * attr:rack=r1,fact:os.family=debian,lifecycle:online,rack:r1,business:pay/*,kind:vm,parent:pm-1".
 * Comma-separated terms; a host is selected when any term matches (union). `ip:` matches any of
 * a host's addresses; `business:` takes a glob ("*" matches any run of characters). A bad selector is an ApiError naming the character position of the bad term.
 */
import { ApiError } from '../../domain/errors.js';

export type SelectorKind = 'host' | 'group' | 'idc' | 'tag' | 'set' | 'env' | 'ip' | 'attr' | 'fact' | 'lifecycle' | 'rack' | 'business' | 'kind' | 'parent';

export interface SelectorTerm {
  readonly kind: SelectorKind;
  /** The name/address, or for attr/fact the key. */
  readonly key: string;
  /** attr/fact: the expected value (compared as text). */
  readonly value?: string;
  /** 1-based character position of the term in the selector. */
  readonly position: number;
}

/** What a selector matches against: one inventory host with its facts. */
export interface TargetHost {
  readonly name: string;
  readonly groups: readonly string[];
  readonly idc?: string | undefined;
  readonly set?: string | undefined;
  readonly env?: string | undefined;
  readonly ip?: string | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly attributes?: Readonly<Record<string, string | number | boolean>> | undefined;
  readonly facts?: Readonly<Record<string, unknown>> | undefined;
  /** CMDB fields (ADR 0018). */
  readonly ips?: readonly string[] | undefined;
  readonly rack?: string | undefined;
  readonly business?: string | undefined;
  readonly kind?: string | undefined;
  readonly parent?: string | undefined;
  /** Absent: online. */
  readonly lifecycle?: string | undefined;
}

const kinds: readonly SelectorKind[] = ['host', 'group', 'idc', 'tag', 'set', 'env', 'ip', 'attr', 'fact', 'lifecycle', 'rack', 'business', 'kind', 'parent'];
const nameRe = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}$/;
const businessRe = /^[A-Za-z0-9_*][A-Za-z0-9_.*-]{0,63}(\/[A-Za-z0-9_.*-]{1,64})?$/;
const keyRe = /^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,15}$/;
const maxTerms = 200;

function bad(selector: string, position: number, why: string): ApiError {
  return new ApiError('BAD_REQUEST', `bad target selector at character ${position}: ${why} (selector "${selector.slice(0, 200)}"; terms are host:, group:, idc:, tag:, set:, env:, ip:, lifecycle:, rack:, business:, kind:, parent:, attr:KEY=VALUE, fact:dotted.key=VALUE, separated by commas)`, { position });
}

/** Parses a selector; throws ApiError BAD_REQUEST with the position of the first bad term. */
export function parseSelector(selector: string): SelectorTerm[] {
  if (selector.length > 4096) throw bad(selector, 4097, 'longer than 4096 characters');
  const terms: SelectorTerm[] = [];
  let pos = 0;
  for (const raw of selector.split(',')) {
    const position = pos + 1 + (raw.length - raw.trimStart().length);
    pos += raw.length + 1;
    const text = raw.trim();
    if (text === '') throw bad(selector, position, 'empty term');
    const colon = text.indexOf(':');
    if (colon <= 0) throw bad(selector, position, `"${text.slice(0, 40)}" has no kind (write e.g. host:${text.slice(0, 40)})`);
    const kind = text.slice(0, colon) as SelectorKind;
    if (!kinds.includes(kind)) throw bad(selector, position, `unknown kind "${text.slice(0, colon).slice(0, 20)}"`);
    const rest = text.slice(colon + 1);
    if (kind === 'attr' || kind === 'fact') {
      const eq = rest.indexOf('=');
      if (eq <= 0) throw bad(selector, position, `${kind}: needs KEY=VALUE`);
      const key = rest.slice(0, eq);
      const value = rest.slice(eq + 1);
      if (!keyRe.test(key) || (kind === 'attr' && key.includes('.'))) throw bad(selector, position, `"${key.slice(0, 60)}" is not a valid ${kind === 'attr' ? 'attribute name' : 'dotted fact key'}`);
      if (value.length > 256) throw bad(selector, position, 'value longer than 256 characters');
      terms.push({ kind, key, value, position });
    } else if (kind === 'business') {
      if (!businessRe.test(rest)) throw bad(selector, position, rest === '' ? 'business: needs a value' : `"${rest.slice(0, 60)}" is not a business line or glob (product/module, "*" matches any run)`);
      terms.push({ kind, key: rest, position });
    } else {
      if (!nameRe.test(rest)) throw bad(selector, position, rest === '' ? `${kind}: needs a value` : `"${rest.slice(0, 60)}" is not a valid ${kind}`);
      terms.push({ kind, key: rest, position });
    }
    if (terms.length > maxTerms) throw bad(selector, position, `more than ${maxTerms} terms`);
  }
  return terms;
}

/** Whether any term of a selector uses facts (only then are facts loaded). */
export function usesFacts(terms: readonly SelectorTerm[]): boolean {
  return terms.some((t) => t.kind === 'fact');
}

function factAt(facts: Readonly<Record<string, unknown>> | undefined, dotted: string): unknown {
  let cur: unknown = facts;
  for (const seg of dotted.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function scalarText(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export { compileGlob, globMatches } from '../../domain/glob.js';
import { globMatches } from '../../domain/glob.js';

/** Does one term select this host? */
export function termMatches(term: SelectorTerm, h: TargetHost): boolean {
  switch (term.kind) {
    case 'host':
      return h.name === term.key;
    case 'group':
      return h.groups.includes(term.key);
    case 'idc':
      return h.idc === term.key;
    case 'set':
      return h.set === term.key;
    case 'env':
      return h.env === term.key;
    case 'ip':
      return h.ip === term.key || (h.ips ?? []).includes(term.key);
    case 'lifecycle':
      return (h.lifecycle ?? 'online') === term.key;
    case 'rack':
      return h.rack === term.key;
    case 'kind':
      return h.kind === term.key;
    case 'parent':
      return h.parent === term.key;
    case 'business':
      return h.business !== undefined && globMatches(term.key, h.business);
    case 'tag':
      return (h.tags ?? []).includes(term.key);
    case 'attr':
      return h.attributes !== undefined && Object.hasOwn(h.attributes, term.key) && scalarText(h.attributes[term.key]) === term.value;
    case 'fact': {
      const v = factAt(h.facts, term.key);
      if (Array.isArray(v)) return v.some((e) => scalarText(e) === term.value);
      return scalarText(v) === term.value;
    }
  }
}

/** The hosts any term selects, in the given order. */
export function selectHosts<H extends TargetHost>(terms: readonly SelectorTerm[], hosts: readonly H[]): H[] {
  return hosts.filter((h) => terms.some((t) => termMatches(t, h)));
}
