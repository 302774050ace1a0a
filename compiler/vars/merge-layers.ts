import { deepMerge, type VarMap } from './merge.js';
import { sortLayers, type VarLayer } from './var-layer.js';

/** The merged variables of `layers` (sorted here by precedence). */
export function mergeLayers(layers: readonly VarLayer[]): VarMap {
  let out: unknown = {};
  for (const l of sortLayers(layers)) out = deepMerge(out, l.vars);
  return out as VarMap;
}
