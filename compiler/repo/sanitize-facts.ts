/**
 * Facts come from agents: untrusted. They are copied into plain data before use: only maps,
 * lists, strings, numbers, booleans and null; prototype keys dropped; depth and size bounded.
 */
import { FORBIDDEN_KEYS, setOwn, type VarMap } from '../vars/merge.js';

const MAX_DEPTH = 32;
const MAX_NODES = 100_000;

export function sanitizeFacts(facts: unknown): VarMap {
  const budget = { n: 0 };
  const out = copy(facts, 0, budget);
  return typeof out === 'object' && out !== null && !Array.isArray(out) ? (out as VarMap) : {};
}

function copy(v: unknown, depth: number, budget: { n: number }): unknown {
  if (++budget.n > MAX_NODES || depth > MAX_DEPTH) return null;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1, budget));
  if (typeof v === 'object') {
    const out: VarMap = {};
    for (const k of Object.keys(v)) if (!FORBIDDEN_KEYS.has(k)) setOwn(out, k, copy((v as Record<string, unknown>)[k], depth + 1, budget));
    return out;
  }
  return null;
}
