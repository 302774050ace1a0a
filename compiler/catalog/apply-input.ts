/**
 * What `stead apply PATH` enforces: the catalog (and its blobs) for this host, built from
 *  - a manifest FILE, with templates/ and files/ beside it;
 *  - a DIR with no repository marker: every *.yaml in it merged, templates/ and files/ inside;
 *  - a manifest repository DIR (has a marker, see repositoryMarkers): delegated to the
 *    repository compiler (compiler/repo/apply-input.ts, `loadRepositoryCatalog`).
 * Every problem comes back located (file:line:column + JSON pointer); nothing is touched here.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog } from '../../schemas/index.js';
import { hasErrors, sortProblems, type ManifestProblem, type SourceLocation } from '../manifest/manifest-problem.js';
import { loadManifestDir, loadManifestFile } from '../manifest/load-manifest.js';
import type { ParsedManifest } from '../manifest/parse-manifest.js';
import { createRenderer } from '../jinja/renderer.js';
import { buildCatalog, type CatalogRenderer } from './build-catalog.js';
import type { CatalogProblem } from './catalog-problem.js';

/** Files or folders whose presence makes a directory a manifest repository, not a plain folder of manifests. */
export const repositoryMarkers: readonly string[] = ['stead.yaml', 'inventory', 'roles'];

export interface ApplyInputOptions {
  /** The host this run is for (inventory_hostname in templates; selects the host in a repository). */
  readonly host: string;
  readonly signal?: AbortSignal;
  /** Builds the renderer for a templates/ folder; default: compiler/jinja's createRenderer. */
  readonly createRenderer?: (opts: { searchPaths: string[] }) => CatalogRenderer;
}

export interface ApplyInput {
  /** undefined when any problem is an error. */
  readonly catalog: Catalog | undefined;
  readonly blobs: Map<string, Buffer>;
  /** Errors and warnings, located, sorted. */
  readonly problems: ManifestProblem[];
  /** Where each catalog resource was written (same indices as catalog.resources), when known. */
  readonly origins: readonly SourceLocation[];
}

/** A repository loader (the repository helper's compiler/repo/apply-input.ts exports one named loadRepositoryCatalog). */
export type RepositoryLoader = (dir: string, host: string, opts: { signal?: AbortSignal }) => Promise<{
  catalog: Catalog | undefined;
  blobs: Map<string, Buffer>;
  problems: readonly ManifestProblem[];
}>;

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
  return { catalog, blobs: built.blobs, problems: sortProblems(problems), origins: manifest.origins };
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
  for (const m of repositoryMarkers) {
    if (await stat(join(dir, m)).then(() => true, () => false)) return true;
  }
  return false;
}

async function loadRepository(dir: string, opts: ApplyInputOptions): Promise<ApplyInput> {
  // Loaded lazily and by name: the repository compiler is optional for a masterless run.
  const specifier = '../repo/apply-input.js';
  let loader: RepositoryLoader | undefined;
  try {
    const mod = (await import(specifier)) as { loadRepositoryCatalog?: RepositoryLoader };
    loader = mod.loadRepositoryCatalog;
  } catch {
    loader = undefined;
  }
  if (!loader) {
    return empty([{ file: dir, line: 0, column: 0, path: '', code: 'UNSUPPORTED', message: `${dir} is a manifest repository (it has ${repositoryMarkers.join(', ')}), and this build cannot compile repositories; apply a manifest file instead`, severity: 'error' }]);
  }
  const r = await loader(dir, opts.host, opts.signal ? { signal: opts.signal } : {});
  return { catalog: hasErrors(r.problems) ? undefined : r.catalog, blobs: r.blobs, problems: sortProblems(r.problems), origins: [] };
}

function empty(problems: readonly ManifestProblem[]): ApplyInput {
  return { catalog: undefined, blobs: new Map(), problems: sortProblems(problems), origins: [] };
}
