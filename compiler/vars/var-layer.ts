/**
 * One level of the variable precedence, lowest first:
 * role parameter defaults < global < idc groups < set groups < custom groups < host < launch.
 * Inside a kind, higher `priority` wins; equal priority is ordered by id for determinism, and
 * two such layers setting one key to different values are a conflict (conflicts.ts).
 */
import type { KeySegment } from './key-path.js';
import type { VarMap } from './merge.js';

export type LayerKind = 'role' | 'global' | 'idc' | 'set' | 'custom' | 'host' | 'launch';

export const LAYER_KIND_RANK: Readonly<Record<LayerKind, number>> = { role: 0, global: 1, idc: 2, set: 3, custom: 4, host: 5, launch: 6 };

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface VarLayer {
  /** "role:web", "global", "group:sh-idc", "host:web-1", "launch". */
  readonly id: string;
  readonly kind: LayerKind;
  readonly priority: number;
  /** Repository-relative file the layer came from. */
  readonly file?: string;
  /** JSON pointer prefix of the vars inside that file ("/vars", "/hosts/web-1/vars"). */
  readonly pointer?: string;
  readonly vars: VarMap;
  /** Position of a key path (relative to `vars`) in `file`. */
  readonly locate?: (path: readonly KeySegment[]) => SourcePosition | undefined;
}

/** Layers in precedence order, lowest first. */
export function sortLayers(layers: readonly VarLayer[]): VarLayer[] {
  return [...layers].sort(
    (a, b) => LAYER_KIND_RANK[a.kind] - LAYER_KIND_RANK[b.kind] || a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
