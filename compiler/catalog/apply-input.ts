/**
 * What `stead apply PATH` enforces: the catalog (and its blobs) for this host, built from
 *  - a manifest FILE, with templates/ and files/ beside it;
 *  - a DIR with no repository marker: every *.yaml in it merged, templates/ and files/ inside;
 *  - a manifest repository DIR (has stead.yaml): delegated to the repository compiler
 *    (compiler/repo/apply-input.ts, `loadRepositoryCatalog`), which selects the host.
 * Every problem comes back located (file:line:column + JSON pointer); nothing is touched here.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog } from '../../schemas/index.js';
import { hasErrors, sortProblems, type LocatedProblem, type ManifestProblem, type SourceLocation } from '../manifest/manifest-problem.js';
import { loadRepositoryCatalog } from '../repo/apply-input.js';
import { loadManifestDir, loadManifestFile } from '../manifest/load-manifest.js';
import type { ParsedManifest } from '../manifest/parse-manifest.js';
import { createRenderer } from '../jinja/renderer.js';
import { buildCatalog, type CatalogRenderer } from './build-catalog.js';
import type { CatalogProblem } from './catalog-problem.js';

/** The file whose presence makes a directory a manifest repository, not a plain folder of manifests. */
export const repositoryMarker = 'stead.yaml';

export interface ApplyInputOptions {
  /** The host this run is for (inventory_hostname in templates; selects the host in a repository). */
  readonly host: string;
  readonly signal?: AbortSignal;
  /** Facts of this machine: `facts` in templates; dynamic groups of a repository. Default {}. */
  readonly facts?: unknown;
  /** For a repository: STEAD_SECRET_KEY_FILE names the key that decrypts its secrets. */
  readonly env?: NodeJS.ProcessEnv;
  /** Builds the renderer for a templates/ folder; default: compiler/jinja's createRenderer. */
  readonly createRenderer?: (opts: { searchPaths: string[] }) => CatalogRenderer;
}

export interface ApplyInput {
  /** undefined when any problem is an error. */
  readonly catalog: Catalog | undefined;
  readonly blobs: Map<string, Buffer>;
  /** Errors and warnings, located, sorted. */
  readonly problems: LocatedProblem[];
  /** Where each catalog resource was written (same indices as catalog.resources), when known. */
  readonly origins: readonly SourceLocation[];
}

/** Loads, checks and compiles PATH for opts.host. Never throws for a bad manifest; throws on abort. */
export async function loadApplyInput(path: string, opts: ApplyInputOptions): Promise<ApplyInput> {
  const isDir = (await stat(path).catch(() => undefined))?.isDirectory() === true;
  if (isDir && (await isRepository(path))) return loadRepository(path, opts);

  const parsed = isDir ? await loadManifestDir(path, opts.signal ? { signal: opts.signal } : {}) : await loadManifestFile(path, opts.signal ? { signal: opts.signal } : {});
  if (isDir && parsed.manifest?.files.length === 0) {
    return empty([{ file: path, line: 0, column: 0, path: '', code: 'READ_FAILED', message: 'no *.yaml manifest files in this directory', severity: 'error' }]);
  }
  if (!parsed.manifest || hasErrors(parsed.problems)) return empty(parsed.problems);
  return compileManifest(parsed.manifest, isDir ? path : dirname(path), parsed.problems, opts);
}

/** Builds the catalog of a checked manifest whose templates/ and files/ are in `baseDir`. */
export function compileManifest(manifest: ParsedManifest, baseDir: string, warnings: readonly ManifestProblem[], opts: ApplyInputOptions): ApplyInput {
  const templateRoot = join(baseDir, 'templates');
  const filesRoot = join(baseDir, 'files');
  const vars: Record<string, unknown> = { ...manifest.vars };
  Object.defineProperty(vars, 'inventory_hostname', { value: opts.host, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(vars, 'facts', { value: opts.facts ?? {}, enumerable: true, writable: true, configurable: true });
  const built = buildCatalog({
    resources: manifest.resources,
    vars,
    host: opts.host,
    revision: 'local',
    templateRoot,
    filesRoot,
    renderer: (opts.createRenderer ?? createRenderer)({ searchPaths: [templateRoot] }),
  });
  const problems = [...warnings, ...built.problems.map((p) => locateCatalogProblem(p, manifest, templateRoot))];
  if (!built.catalog) return { catalog: undefined, blobs: new Map(), problems: sortProblems(problems), origins: [] };
  const catalog: Catalog = { ...built.catalog, revision: `local-${built.catalog.id.slice(0, 12)}` };
  return {
    catalog,
    blobs: built.blobs,
    problems: sortProblems(problems),
    get origins() {
      return manifest.origins;
    },
  };
}

/** A catalog problem as a located manifest problem: in the template when it has a line, else at the property. */
export function locateCatalogProblem(p: CatalogProblem, manifest: ParsedManifest, templateRoot: string): ManifestProblem {
  const at = manifest.locate(p.index, p.path);
  const pointer = `/resources/${p.index}${p.path}`;
  if (p.code === 'TEMPLATE_ERROR' && p.path === '/template' && p.line !== undefined && p.template !== undefined && !p.template.includes(' ')) {
    return { file: join(templateRoot, p.template), line: p.line, column: p.column ?? 1, path: pointer, code: p.code, message: p.message, severity: 'error' };
  }
  return { file: at.file, line: at.line, column: at.column, path: pointer, code: p.code, message: p.message, severity: 'error' };
}

async function isRepository(dir: string): Promise<boolean> {
  return stat(join(dir, repositoryMarker)).then((st) => st.isFile(), () => false);
}

/** A manifest repository: the repository compiler builds this host's catalog (compiler/repo). */
async function loadRepository(dir: string, opts: ApplyInputOptions): Promise<ApplyInput> {
  const r = await loadRepositoryCatalog(dir, opts.host, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    facts: opts.facts ?? {},
  });
  const problems: LocatedProblem[] = r.problems.map((p) => ({
    file: p.file,
    line: p.line ?? 0,
    column: p.column ?? 0,
    path: p.path ?? '',
    code: p.code,
    message: p.host !== undefined ? `${p.message} [host ${p.host}]` : p.message,
    severity: p.severity,
  }));
  const catalog = hasErrors(problems) ? undefined : r.catalog;
  return { catalog, blobs: new Map(r.blobs), problems: sortProblems(problems), origins: [] };
}

function empty(problems: readonly LocatedProblem[]): ApplyInput {
  return { catalog: undefined, blobs: new Map(), problems: sortProblems(problems), origins: [] };
}
