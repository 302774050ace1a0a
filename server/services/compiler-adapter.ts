/**
 * The CompilerPort over compiler/: loadRepository + validateRepository for uploads,
 * compileHost (through the compiler's CompileCache) for catalogs, hostVars/explainKey/
 * flattenVars for the variables views. Secrets stay encrypted in every view (SecretValue
 * serialises to its redaction marker).
 */
import { stringify as toYaml } from 'yaml';
import { CompileCache } from '../../compiler/cache.js';
import { compileResourcesForHost, hostVars } from '../../compiler/compile.js';
import { loadRepository } from '../../compiler/repo/load-repository.js';
import { validateRepository } from '../../compiler/repo/validate-repository.js';
import { checkTemplates } from '../../compiler/repo/check-templates.js';
import { inventoryGroupMembers } from '../../compiler/repo/membership.js';
import type { Repository } from '../../compiler/repo/repository.js';
import { explainKey } from '../../compiler/vars/explain.js';
import { flattenVars } from '../../compiler/vars/flatten.js';
import type { VarMap } from '../../compiler/vars/merge.js';
import { parseKeyPath } from '../../compiler/vars/key-path.js';
import { isSecretValue } from '../../compiler/vars/secret-value.js';
import type { InventoryHost as RepositoryInventoryRecord } from '../../schemas/repo/inventory.js';
import { OVERLAY_FILE } from '../../compiler/repo/inventory-overlay.js';
import type { CompilerPort, InventoryHost, InventoryOverlayInput, LoadedRevision, LocatedProblem, VariablesView } from './compiler-port.js';

export interface CompilerAdapterOptions {
  /** The 32-byte secret key; without it, compiles that need a secret fail (SECRET_KEY_MISSING). */
  readonly secretKey?: Buffer;
  /** Facts per host for whole-repository validation (the last reported ones). */
  readonly factsFor?: (host: string) => unknown;
  readonly cacheEntries?: number;
}

/** JSON-safe copy with secrets shown as their redaction marker. */
function redact(v: unknown): unknown {
  if (isSecretValue(v)) return v.redacted();
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: redact((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

function withoutVars(r: RepositoryInventoryRecord): RepositoryInventoryRecord {
  const { vars: _vars, ...rest } = r;
  return JSON.parse(JSON.stringify(rest)) as RepositoryInventoryRecord;
}

export function compilerAdapter(opts: CompilerAdapterOptions = {}): CompilerPort {
  const cache = new CompileCache({ maxEntries: opts.cacheEntries ?? 50_000 });
  const loadOpts = (revision: string, signal: AbortSignal, overlay: InventoryOverlayInput | undefined) => ({ signal, revision: revision.slice(0, 16), ...(opts.secretKey ? { secretKey: opts.secretKey } : {}), ...(overlay ? { inventoryOverlay: overlay } : {}) });
  return {
    async validate(dir, revision, signal, overlay): Promise<readonly LocatedProblem[]> {
      const repo = await loadRepository(dir, loadOpts(revision, signal, overlay));
      const v = validateRepository(repo, opts.factsFor ? { factsFor: opts.factsFor } : {});
      return v.problems;
    },
    async check(dir, revision, signal, overlay, templates): Promise<readonly LocatedProblem[]> {
      const repo = await loadRepository(dir, loadOpts(revision, signal, overlay));
      return [...repo.problems, ...checkTemplates(repo, templates)];
    },
    async load(dir, revision, signal, overlay): Promise<LoadedRevision> {
      const repo: Repository = await loadRepository(dir, loadOpts(revision, signal, overlay));
      const members = inventoryGroupMembers(repo);
      const groupsOf = new Map<string, string[]>();
      for (const [g, hs] of members) for (const h of hs) groupsOf.set(h, [...(groupsOf.get(h) ?? []), g]);
      const hosts: InventoryHost[] = [...repo.hosts.values()].map((e) => {
        const r = e.record;
        const inFiles = e.file !== OVERLAY_FILE;
        const repositoryRecord = e.repositoryRecord ?? (inFiles ? r : undefined);
        return {
          name: e.name,
          groups: (groupsOf.get(e.name) ?? []).sort(),
          ...(r.idc !== undefined ? { idc: r.idc } : {}),
          ...(r.set !== undefined ? { set: r.set } : {}),
          ...(r.env !== undefined ? { env: r.env } : {}),
          ...(r.ip !== undefined ? { ip: r.ip } : {}),
          ...(r.tags !== undefined ? { tags: [...r.tags] } : {}),
          ...(r.attributes !== undefined ? { attributes: { ...r.attributes } } : {}),
          ...(r.ips !== undefined ? { ips: [...r.ips] } : {}),
          ...(r.rack !== undefined ? { rack: r.rack } : {}),
          ...(r.business !== undefined ? { business: r.business } : {}),
          ...(r.kind !== undefined ? { kind: r.kind } : {}),
          ...(r.parent !== undefined ? { parent: r.parent } : {}),
          ...(r.lifecycle !== undefined ? { lifecycle: r.lifecycle } : {}),
          source: e.inStore ? (inFiles ? 'both' : 'store') : 'repository',
          // Without vars: they may hold secrets, and this list leaves the worker and reaches the API.
          ...(repositoryRecord !== undefined ? { repositoryRecord: withoutVars(repositoryRecord) } : {}),
        };
      });
      return {
        hosts,
        // Facts may select groups or appear in templates; the facts hash is part of the compile
        // key, and the catalog id still only changes when the result changes (agents get 304).
        usesFacts: () => true,
        async compile(host, facts) {
          const r = cache.compile(repo, host, facts ?? {});
          return { catalog: r.catalog, blobs: r.blobs, problems: r.problems };
        },
        async compileResources(host, resources, o) {
          const r = compileResourcesForHost(repo, host, resources, { facts: o.facts ?? {}, ...(o.launchVars ? { launchVars: o.launchVars as VarMap } : {}), origin: o.origin });
          return { catalog: r.catalog, blobs: r.blobs, problems: r.problems };
        },
        async variables(host, facts): Promise<VariablesView> {
          const hv = hostVars(repo, host, facts ?? {});
          const merged = hv ? redact(hv.merged) : {};
          const flat: Record<string, unknown> = {};
          for (const e of flattenVars(hv?.merged ?? {})) Object.defineProperty(flat, e.key, { value: redact(e.value), enumerable: true, writable: true, configurable: true });
          return {
            yaml: toYaml(merged),
            flat,
            async explain(key) {
              if (!hv) return undefined;
              const path = parseKeyPath(key);
              if (!path) return { key, found: false, error: 'not a valid key path' };
              return redact(explainKey(hv.layers, path));
            },
          };
        },
      };
    },
  };
}
