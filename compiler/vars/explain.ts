/**
 * explain(layers, key): which layer gave a variable its value, and what it overrode. Values
 * are returned as stored (secrets stay SecretValue; callers show them redacted).
 */
import { formatKeyPath, type KeySegment } from './key-path.js';
import { getPath, isVarMap } from './merge.js';
import { mergeLayers } from './merge-layers.js';
import { sortLayers, type SourcePosition, type VarLayer } from './var-layer.js';

export interface ExplainEntry {
  readonly layer: string;
  readonly kind: VarLayer['kind'];
  readonly priority: number;
  readonly file?: string;
  readonly position?: SourcePosition;
  readonly value: unknown;
}

export interface Explanation {
  readonly key: string;
  readonly found: boolean;
  /** The merged value. */
  readonly value: unknown;
  /** The layer whose value won (for a map: the highest layer contributing to it). */
  readonly winner?: ExplainEntry;
  /** Lower layers that also set the key, highest first: what the winner overrode (or merged over, for maps). */
  readonly overridden: readonly ExplainEntry[];
  /** true when the merged value is a map that several layers contributed to. */
  readonly merged: boolean;
}

export function explainKey(layers: readonly VarLayer[], path: readonly KeySegment[]): Explanation {
  const merged = getPath(mergeLayers(layers), path);
  const key = formatKeyPath(path);
  if (!merged.found) return { key, found: false, value: undefined, overridden: [], merged: false };
  const setters: ExplainEntry[] = [];
  for (const l of sortLayers(layers)) {
    const got = getPath(l.vars, path);
    if (!got.found) continue;
    const pos = l.locate?.(path);
    setters.push({
      layer: l.id,
      kind: l.kind,
      priority: l.priority,
      ...(l.file !== undefined ? { file: l.file } : {}),
      ...(pos ? { position: pos } : {}),
      value: got.value,
    });
  }
  setters.reverse();
  const [winner, ...rest] = setters;
  return {
    key,
    found: true,
    value: merged.value,
    ...(winner ? { winner } : {}),
    overridden: rest,
    merged: isVarMap(merged.value) && setters.filter((s) => isVarMap(s.value)).length > 1,
  };
}
