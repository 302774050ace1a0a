/**
 * Conflicts: two layers of the same kind and priority (two IDC groups, two custom groups at
 * priority 10, …) that set one key to different values. Precedence cannot pick between them, so
 * the compiler reports them instead of choosing silently. A key set by one and a key below it
 * set by the other (`a: 1` against `a.b: 2`) conflict too, unless both are maps that merge.
 */
import { isDeepStrictEqual } from 'node:util';
import { flattenVars } from './flatten.js';
import { isSecretValue } from './secret-value.js';
import { sortLayers, type VarLayer } from './var-layer.js';
import type { KeySegment } from './key-path.js';

export interface VarConflict {
  readonly key: string;
  readonly path: readonly KeySegment[];
  readonly first: VarLayer;
  readonly second: VarLayer;
  /** Path inside each layer where the clashing value sits (differs from path for a prefix clash). */
  readonly firstPath: readonly KeySegment[];
  readonly secondPath: readonly KeySegment[];
}

export function findConflicts(layers: readonly VarLayer[]): VarConflict[] {
  const sorted = sortLayers(layers).filter((l) => l.kind === 'idc' || l.kind === 'set' || l.kind === 'custom');
  const out: VarConflict[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (a.kind !== b.kind || a.priority !== b.priority) break;
      out.push(...pairConflicts(a, b));
    }
  }
  return out;
}

function pairConflicts(a: VarLayer, b: VarLayer): VarConflict[] {
  const fa = flattenVars(a.vars).filter((e) => e.path.length > 0);
  const fb = flattenVars(b.vars).filter((e) => e.path.length > 0);
  const byKeyB = new Map(fb.map((e) => [e.key, e]));
  const out: VarConflict[] = [];
  const seen = new Set<string>();
  for (const ea of fa) {
    const eb = byKeyB.get(ea.key);
    if (eb) {
      if (!sameValue(ea.value, eb.value) && !seen.has(ea.key)) {
        seen.add(ea.key);
        out.push({ key: ea.key, path: ea.path, first: a, second: b, firstPath: ea.path, secondPath: eb.path });
      }
      continue;
    }
    for (const eb2 of fb) {
      const shorter = ea.path.length < eb2.path.length ? ea.path : eb2.path;
      const longer = shorter === ea.path ? eb2.path : ea.path;
      if (shorter.length === longer.length || !isPrefix(shorter, longer)) continue;
      const k = `${ea.key}\u0000${eb2.key}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ key: shorter === ea.path ? ea.key : eb2.key, path: shorter, first: a, second: b, firstPath: ea.path, secondPath: eb2.path });
    }
  }
  return out;
}

function isPrefix(p: readonly KeySegment[], of: readonly KeySegment[]): boolean {
  return p.every((s, i) => of[i] === s);
}

function sameValue(x: unknown, y: unknown): boolean {
  if (isSecretValue(x) || isSecretValue(y)) return isSecretValue(x) && isSecretValue(y) && x.ciphertext === y.ciphertext;
  return isDeepStrictEqual(x, y);
}
