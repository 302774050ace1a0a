/**
 * Facts come from agents: untrusted. They are copied into plain data before group rules or
 * templates see them: only maps, lists, strings, numbers, booleans and null; prototype keys
 * dropped; depth, node count, key length, string length and total characters bounded. What is
 * withheld is listed, so the compiler can say why a fact a template uses is missing.
 */
import { FORBIDDEN_KEYS, setOwn, type VarMap } from '../vars/merge.js';

export const FACT_LIMITS = {
  maxDepth: 32,
  maxNodes: 100_000,
  /** Longest key of a fact map. */
  maxKey: 256,
  /** Longest string value. */
  maxString: 64 * 1024,
  /** All keys and strings together, in characters. */
  maxChars: 1024 * 1024,
};

export interface WithheldFact {
  /** Dotted path of the fact ("blob", "mounts.3.options"). */
  readonly path: string;
  readonly reason: string;
}

export interface FencedFacts {
  readonly facts: VarMap;
  /** The first few values withheld (and the count of all). */
  readonly withheld: readonly WithheldFact[];
  readonly withheldCount: number;
}

const MAX_LISTED = 20;

/**
 * The facts a host reported, fenced. A map entry over a limit is left out (a template using it
 * without a default fails as undefined); a list item over a limit becomes null (positions kept).
 */
export function fenceFacts(facts: unknown): FencedFacts {
  const st: State = { nodes: 0, chars: 0, withheld: [], count: 0 };
  const out = copy(facts, 0, st, []);
  const map = typeof out === 'object' && out !== null && !Array.isArray(out) ? (out as VarMap) : {};
  return { facts: map, withheld: st.withheld, withheldCount: st.count };
}

export function sanitizeFacts(facts: unknown): VarMap {
  return fenceFacts(facts).facts;
}

interface State {
  nodes: number;
  chars: number;
  withheld: WithheldFact[];
  count: number;
}

const WITHHELD: unique symbol = Symbol('withheld');

function withhold(st: State, path: string[], reason: string): typeof WITHHELD {
  st.count++;
  if (st.withheld.length < MAX_LISTED) st.withheld.push({ path: path.join('.') || '(root)', reason });
  return WITHHELD;
}

function copy(v: unknown, depth: number, st: State, path: string[]): unknown {
  if (++st.nodes > FACT_LIMITS.maxNodes) return withhold(st, path, `more than ${FACT_LIMITS.maxNodes.toLocaleString('en-US')} values in all`);
  if (depth > FACT_LIMITS.maxDepth) return withhold(st, path, `nested deeper than ${FACT_LIMITS.maxDepth} levels`);
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    if (v.length > FACT_LIMITS.maxString) return withhold(st, path, `a string of ${v.length.toLocaleString('en-US')} characters (limit ${FACT_LIMITS.maxString.toLocaleString('en-US')})`);
    if (st.chars + v.length > FACT_LIMITS.maxChars) return withhold(st, path, `the facts exceed ${FACT_LIMITS.maxChars.toLocaleString('en-US')} characters in all`);
    st.chars += v.length;
    return v;
  }
  if (Array.isArray(v)) {
    return v.map((x, i) => {
      const c = copy(x, depth + 1, st, [...path, String(i)]);
      return c === WITHHELD ? null : c;
    });
  }
  if (typeof v === 'object') {
    const out: VarMap = {};
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) continue;
      if (k.length > FACT_LIMITS.maxKey) {
        withhold(st, [...path, `${k.slice(0, 32)}…`], `a key of ${k.length.toLocaleString('en-US')} characters (limit ${FACT_LIMITS.maxKey})`);
        continue;
      }
      st.chars += k.length;
      const c = copy((v as Record<string, unknown>)[k], depth + 1, st, [...path, k]);
      if (c !== WITHHELD) setOwn(out, k, c);
    }
    return out;
  }
  return null;
}
