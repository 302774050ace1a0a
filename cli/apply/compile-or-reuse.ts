/**
 * The catalog `stead apply` enforces: the one kept in the state directory when the inputs are
 * unchanged (compiler/apply-cache, docs/adr/0013), else a fresh compile. The compiler (YAML,
 * the checks, nunjucks) is loaded only on a miss, so a hit costs hashing the inputs and reading
 * one file. After a run that may write (not --noop), `remember()` stores a fresh compile.
 */
import type { Catalog } from '../../schemas/index.js';
import type { BlobSource } from '../../agent/resources/resource.js';
import { createMemoryBlobSource } from '../../agent/blobs/memory-blob-source.js';
import { applyInputKey, type ApplyInputKey } from '../../compiler/apply-cache/input-key.js';
import { loadCompiledCatalog, saveCompiledCatalog } from '../../compiler/apply-cache/compiled-catalog-cache.js';
import { hasErrors, type LocatedProblem } from '../../compiler/manifest/manifest-problem.js';
import { createCachedBlobSource } from './cached-blob-source.js';

export interface CompileOrReuseOptions {
  readonly host: string;
  readonly facts: unknown;
  readonly stateDir: string;
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  /** --no-cache: always compile, never store. */
  readonly noCache: boolean;
  /** Something worth telling the operator about the cache (a refused file, a store that failed). */
  readonly note: (message: string) => void;
}

export interface ApplyCatalog {
  /** undefined when a problem is an error. */
  readonly catalog: Catalog | undefined;
  readonly problems: readonly LocatedProblem[];
  readonly blobs: BlobSource;
  /** Whether the catalog came from the cache. */
  readonly cached: boolean;
  /**
   * Stores a fresh compile for the next run (call once the state directory exists), if the
   * inputs still have the key they had before the compile (an edit during the compile: no entry).
   */
  remember(): Promise<void>;
}

export async function compileOrReuse(target: string, opts: CompileOrReuseOptions): Promise<ApplyCatalog> {
  let key: ApplyInputKey | undefined;
  if (!opts.noCache) {
    key = await applyInputKey(target, {
      host: opts.host,
      facts: opts.facts,
      version: opts.version,
      secretKeyFile: opts.env['STEAD_SECRET_KEY_FILE'],
      signal: opts.signal,
    });
    if (key.cacheable) {
      const found = loadCompiledCatalog(opts.stateDir, key.key);
      if ('hit' in found) {
        return { catalog: found.hit.catalog, problems: found.hit.problems, blobs: createCachedBlobSource(found.hit, key.filesRoot), cached: true, remember: async () => undefined };
      }
      if (found.refused) opts.note(`not using the compiled catalog in ${opts.stateDir}: ${found.miss}; compiling`);
    }
  }
  const { loadApplyInput } = await import('../../compiler/catalog/apply-input.js');
  const input = await loadApplyInput(target, { host: opts.host, signal: opts.signal, facts: opts.facts, env: opts.env });
  const fresh = key?.cacheable === true && input.catalog !== undefined && !hasErrors(input.problems) ? key : undefined;
  return {
    catalog: input.catalog,
    problems: input.problems,
    blobs: createMemoryBlobSource(input.blobs),
    cached: false,
    remember: async () => {
      if (!fresh || !input.catalog) return;
      const again = await applyInputKey(target, { host: opts.host, facts: opts.facts, version: opts.version, secretKeyFile: opts.env['STEAD_SECRET_KEY_FILE'] });
      if (!again.cacheable || again.key !== fresh.key) return;
      const why = saveCompiledCatalog(opts.stateDir, fresh.key, { catalog: input.catalog, problems: input.problems, blobs: input.blobs, filesByHash: fresh.filesByHash });
      if (why !== undefined) opts.note(`the compiled catalog was not kept for the next run: ${why}`);
    },
  };
}
