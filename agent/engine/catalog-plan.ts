/**
 * Everything the engine derives from a catalog before a run, computed once per catalog:
 * validation (schemas + impl.validate), the dependency graph, the run order, the managed paths
 * and the digest of every desired state (for the record of applied values).
 *
 * Contract: a catalog whose `id` was planned before by this process (same registry, same id,
 * same resource count) gets the same plan back without being validated again; any other
 * catalog — a new id, or no well-formed id at all — is validated in full before anything runs.
 * The id is the sha256 of the catalog's content (schemas/catalog.ts), so an unchanged id means
 * unchanged resources. Only the last plan per registry is kept (a long-running agent enforces
 * one catalog at a time). The plan holds no reference to the catalog's resource objects.
 */
import { hash } from 'node:crypto';
import { buildGraph, packEdges, reverseEdges, type Edges } from '../../schemas/graph.js';
import { resourceId, type Resource, type ResourceStatus } from '../../schemas/index.js';
import type { Registry } from '../resources/resource.js';
import { runOrder } from './run-order.js';
import { validateCatalog } from './validate-catalog.js';

export interface CatalogPlan {
  /** "type:title" per resource index. */
  readonly ids: readonly string[];
  /** The run order (topological; manifest order where the edges leave a choice). */
  readonly order: Int32Array;
  /** pos[i]: the place of resource i in `order`. */
  readonly pos: Int32Array;
  /** Resources that must finish before i (catalog edges plus the automatic parent-path ones). */
  readonly deps: Edges;
  /** Resources waiting for i (`deps` reversed). */
  readonly dependents: Edges;
  /** Resources whose change triggers a refresh of i (notify on them, subscribe on i). */
  readonly refreshers: Edges;
  /** Paths the catalog keeps present (file, directory, link, archive), without trailing "/". */
  readonly catalogPaths: ReadonlySet<string>;
  /** digests[i]: the desired state of resource i without metaparameters (see desiredDigest). */
  readonly digests: readonly string[];
  /**
   * inSync[i]: resource i's status when it was found in sync in under a millisecond (durationMs
   * 0, no changes), made on first use and shared, frozen, by every later run: a no-op poll
   * allocates no status for most resources.
   */
  readonly inSync: (ResourceStatus | undefined)[];
}

const META = new Set(['require', 'before', 'notify', 'subscribe', 'tags', 'timeout', 'sensitive']);
const CATALOG_ID = /^[0-9a-f]{64}$/;

/** Digest of the desired resource without metaparameters (key order as compiled: the compiler writes canonical JSON). */
export function desiredDigest(r: Resource): string {
  const copy: Record<string, unknown> = {};
  for (const k in r) if (!META.has(k)) copy[k] = (r as Record<string, unknown>)[k];
  return hash('sha256', JSON.stringify(copy), 'base64').slice(0, 32);
}

const last = new WeakMap<Registry, { key: string; plan: CatalogPlan }>();

/** The plan of a catalog, or the reason it cannot run ("INVALID: …"). */
export function planCatalog(catalogId: unknown, resources: readonly unknown[], registry: Registry): { plan: CatalogPlan } | { error: string } {
  const key = typeof catalogId === 'string' && CATALOG_ID.test(catalogId) ? `${catalogId}/${resources.length}` : undefined;
  const hit = key !== undefined ? last.get(registry) : undefined;
  if (hit && hit.key === key) return { plan: hit.plan };

  const problems = validateCatalog(resources, registry);
  if (problems.length > 0) return { error: `INVALID: ${problems.join('; ')}` };
  const list = resources as readonly Resource[];
  const { graph, problems: graphProblems } = buildGraph(list);
  if (!graph) return { error: `INVALID: ${graphProblems.map((p) => `${resourceId(list[p.index]!)}: ${p.message}`).join('; ')}` };
  const run = runOrder(list, graph);
  const catalogPaths: ReadonlySet<string> = new Set(run.managed.keys());
  const order = Int32Array.from(run.order);
  const pos = new Int32Array(order.length);
  for (let p = 0; p < order.length; p++) pos[order[p]!] = p;
  const deps = run.deps;
  const plan: CatalogPlan = {
    ids: graph.ids,
    order,
    pos,
    deps,
    dependents: reverseEdges(deps),
    refreshers: packEdges(graph.refreshers),
    catalogPaths,
    digests: list.map(desiredDigest),
    inSync: new Array<ResourceStatus | undefined>(list.length),
  };
  if (key !== undefined) last.set(registry, { key, plan });
  return { plan };
}
