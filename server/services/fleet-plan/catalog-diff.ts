/**
 * The catalog diff of the fleet plan (ADR 0017 §2): two compiled catalogs of one host compared
 * resource by resource, keyed as reports name resources ("type:title", schemas/resource.ts
 * resourceId). A pure function of the catalogs and the blob contents their compiles produced.
 *
 * - create: only in the new catalog; remove: only in the base; modify: in both, different
 *   (`attributes` names the properties that differ; a file's content blob is "content", as the
 *   agent's reports call it).
 * - Rendered files get a unified diff of their content (create and modify), at most
 *   `maxDiffBytes` (64 KiB) per file; binary or larger-than-1-MiB content gets none, and a diff
 *   that takes longer than `diffTimeoutMs` to compute is left out.
 * - A resource whose content depends on a secret (`sensitive: true`, or a list naming its
 *   content) gets `sensitive: true` and never a diff, on either side; no content of it is read.
 */
import { createTwoFilesPatch } from 'diff';
import type { Catalog } from '../../../schemas/catalog.js';
import type { FleetPlan } from '../../../schemas/api/fleet-plan.js';
import { isResourceType, resourceId, type Resource } from '../../../schemas/resource.js';
import { canonicalJson } from '../host-state-service.js';

export type ResourceChange = FleetPlan['hosts'][number]['changes'][number];

/** One side of the comparison: a catalog and the blob contents of its compile ("sha256:<hex>" → bytes). */
export interface CatalogSide {
  readonly catalog: Pick<Catalog, 'resources'>;
  readonly blobs: ReadonlyMap<string, Buffer>;
}

export interface CatalogDiffOptions {
  /** Largest diff of one file, in bytes (longer ones are cut with a marker). Default 64 KiB. */
  readonly maxDiffBytes?: number;
  /** Content larger than this gets no diff. Default 1 MiB. */
  readonly maxContentBytes?: number;
  /** Time one file's diff may take. Default 250 ms. */
  readonly diffTimeoutMs?: number;
  /**
   * Diff bytes still allowed for the whole plan (shared by every host, decremented here); once
   * spent, changes carry no diff. Default: unlimited.
   */
  readonly budget?: { left: number };
}

export const MAX_FILE_DIFF_BYTES = 64 * 1024;
const truncatedMarker = '\n[stead: diff truncated at 64 KiB]\n';

/** Properties of a resource whose values are its content (a file's blob), not desired metadata. */
const contentProps = new Set(['content', 'source', 'template']);

/** The changes that turn `base` into `target` (undefined side: an empty catalog). */
export function diffCatalogs(base: CatalogSide | undefined, target: CatalogSide | undefined, opts: CatalogDiffOptions = {}): ResourceChange[] {
  const before = indexResources(base?.catalog.resources ?? []);
  const after = indexResources(target?.catalog.resources ?? []);
  const out: ResourceChange[] = [];
  for (const [key, r] of after) {
    const old = before.get(key);
    if (!old) {
      const sensitive = contentSensitive(r);
      const diff = sensitive ? undefined : fileDiff(r, undefined, target, undefined, opts);
      out.push({ resource: key, action: 'create', ...(diff !== undefined ? { diff } : {}), ...(sensitive ? { sensitive: true } : {}) });
      continue;
    }
    const attributes = changedAttributes(old, r);
    if (attributes.length === 0) continue;
    const sensitive = contentSensitive(old) || contentSensitive(r);
    const diff = !sensitive && attributes.includes('content') ? fileDiff(r, old, target, base, opts) : undefined;
    out.push({ resource: key, action: 'modify', attributes, ...(diff !== undefined ? { diff } : {}), ...(sensitive ? { sensitive: true } : {}) });
  }
  for (const [key, r] of before) {
    if (after.has(key)) continue;
    out.push({ resource: key, action: 'remove', ...(contentSensitive(r) ? { sensitive: true } : {}) });
  }
  return out;
}

function indexResources(resources: readonly Resource[]): Map<string, Resource> {
  const m = new Map<string, Resource>();
  for (const r of resources) {
    if (!isResourceType((r as { type?: unknown }).type)) continue;
    m.set(resourceId(r), r);
  }
  return m;
}

/** Property names whose values differ; a file's source blob is reported as "content". Sorted. */
export function changedAttributes(a: Resource, b: Resource): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('type');
  const out = new Set<string>();
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  for (const k of keys) {
    const va = ra[k];
    const vb = rb[k];
    if (va === undefined && vb === undefined) continue;
    if (va !== undefined && vb !== undefined && canonicalJson(va) === canonicalJson(vb)) continue;
    out.add(b.type === 'file' && contentProps.has(k) ? 'content' : k);
  }
  return [...out].sort();
}

/** Does the resource's content (or every property) depend on a secret? */
export function contentSensitive(r: Resource): boolean {
  const s = (r as { sensitive?: unknown }).sensitive;
  if (s === true) return true;
  return Array.isArray(s) && s.some((p) => typeof p === 'string' && contentProps.has(p));
}

/** The blob reference of a file's content ("sha256:<hex>"); undefined when it has none or is absent. */
function contentRef(r: Resource | undefined): string | undefined {
  if (!r || r.type !== 'file' || r.ensure === 'absent') return undefined;
  return typeof r.source === 'string' && r.source.startsWith('sha256:') ? r.source : undefined;
}

function isText(b: Buffer): boolean {
  return !b.subarray(0, 8192).includes(0);
}

/** The unified diff of a file's rendered content (undefined: not a file, no content, binary, too big, too slow, or the plan's budget is spent). */
function fileDiff(now: Resource, old: Resource | undefined, target: CatalogSide | undefined, base: CatalogSide | undefined, opts: CatalogDiffOptions): string | undefined {
  if (now.type !== 'file') return undefined;
  const refB = contentRef(now);
  const refA = contentRef(old);
  if (refA === undefined && refB === undefined) return undefined;
  const b = refB === undefined ? undefined : target?.blobs.get(refB);
  const a = refA === undefined ? undefined : base?.blobs.get(refA);
  // Content whose bytes the compile did not produce (a literal blob reference) cannot be shown.
  if ((refB !== undefined && b === undefined) || (refA !== undefined && a === undefined)) return undefined;
  const maxContent = opts.maxContentBytes ?? 1024 * 1024;
  const av = a ?? Buffer.alloc(0);
  const bv = b ?? Buffer.alloc(0);
  if (av.length > maxContent || bv.length > maxContent || !isText(av) || !isText(bv)) return undefined;
  if (opts.budget && opts.budget.left <= 0) return undefined;
  const text = createTwoFilesPatch(a ? now.path : '/dev/null', b ? now.path : '/dev/null', av.toString('utf8'), bv.toString('utf8'), '', '', { context: 3, timeout: opts.diffTimeoutMs ?? 250 });
  if (text === undefined) return undefined;
  const max = opts.maxDiffBytes ?? MAX_FILE_DIFF_BYTES;
  const out = Buffer.byteLength(text) > max ? `${cutUtf8(text, max - truncatedMarker.length)}${truncatedMarker}` : text;
  if (opts.budget) opts.budget.left -= Buffer.byteLength(out);
  return out;
}

/** The longest prefix of `s` of at most `bytes` UTF-8 bytes, not splitting a character. */
function cutUtf8(s: string, bytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= bytes) return s;
  let end = Math.max(0, bytes);
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}
