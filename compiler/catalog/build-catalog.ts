/**
 * The catalog builder: turns checked resources plus variables into what the agent enforces.
 * Inline `content` and `template:` are rendered with the Jinja2 renderer; every file content
 * and every files/ source becomes a blob "sha256:<hex>"; the catalog id is the sha256 of the
 * canonical JSON of { host, resources }, so it changes exactly when what the agent enforces
 * changes (the revision is left out: a new revision with the same effect keeps the id, and
 * agents get 304). Pure function of its inputs: files are read only from templateRoot and
 * filesRoot, confined.
 */
import type { Catalog, Resource } from '../../schemas/index.js';
import { resourceId } from '../../schemas/index.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { CatalogProblem } from './catalog-problem.js';
import { ConfinedReadError, confinedPath, readConfined } from './confined-read.js';
import { deepMerge } from '../vars/merge.js';

/** What the builder needs from the Jinja2 layer (compiler/jinja/renderer.ts satisfies it). */
export interface CatalogRenderer {
  renderString(source: string, vars: Record<string, unknown>, name: string): string;
  renderFile(relPath: string, vars: Record<string, unknown>): string;
}

export interface BuildCatalogInput {
  /** Schema-checked resources (compiler/manifest or the repository loader). */
  readonly resources: readonly Resource[];
  /** The host's variables (for stead apply: the manifest's vars). */
  readonly vars: Record<string, unknown>;
  readonly host: string;
  readonly revision: string;
  /** The templates/ folder; the renderer must search exactly here. Needed when a file has template:. */
  readonly templateRoot?: string;
  /** The files/ folder; needed when a file or archive has a relative source. */
  readonly filesRoot?: string;
  /** Needed when a file has template: or inline content with template syntax. */
  readonly renderer?: CatalogRenderer;
}

export interface BuildCatalogResult {
  /** undefined when there are problems: a catalog is all or nothing. */
  readonly catalog: Catalog | undefined;
  /** The content of every blob the catalog references that the builder produced, by "sha256:<hex>". */
  readonly blobs: Map<string, Buffer>;
  readonly problems: CatalogProblem[];
}

/** Inline content without any of these is plain text: no rendering needed. */
const templateSyntax = /\{[{%#]/;

export function buildCatalog(input: BuildCatalogInput): BuildCatalogResult {
  const blobs = new Map<string, Buffer>();
  const sizes: Record<string, number> = {};
  const problems: CatalogProblem[] = [];
  const addBlob = (data: Buffer): string => {
    const ref = `sha256:${sha256Hex(data)}`;
    if (!blobs.has(ref)) {
      blobs.set(ref, data);
      sizes[ref] = data.length;
    }
    return ref;
  };

  const out: Resource[] = input.resources.map((r, index) => {
    const id = resourceId(r);
    const fail = (path: string, code: CatalogProblem['code'], message: string, extra?: Partial<Pick<CatalogProblem, 'template' | 'line' | 'column'>>): void => {
      problems.push({ index, id, path, code, message, ...extra });
    };
    const fromFiles = (path: string, rel: string): string | undefined => {
      if (input.filesRoot === undefined) {
        fail(path, 'SOURCE_NOT_FOUND', `source "${rel}" is relative to a files/ folder, and there is none here`);
        return undefined;
      }
      try {
        return addBlob(readConfined(input.filesRoot, rel));
      } catch (err) {
        if (err instanceof ConfinedReadError) fail(path, err.code, `source: ${err.message}`);
        else fail(path, 'SOURCE_NOT_FOUND', `source "${rel}": ${(err as Error).message}`);
        return undefined;
      }
    };

    if (r.type === 'archive') {
      if (r.source.startsWith('sha256:')) return r;
      const ref = fromFiles('/source', r.source);
      return ref ? { ...r, source: ref } : r;
    }
    if (r.type === 'exec' && r.audit_allow !== undefined) {
      // A validation hint (the safety audit), not desired state: agents never see it.
      const { audit_allow: _allow, ...execRest } = r;
      return execRest as Resource;
    }
    if (r.type !== 'file') return r;

    const { content, template, vars: ownVars, source, ...rest } = r;
    const vars = ownVars === undefined ? input.vars : (deepMerge(input.vars, ownVars) as Record<string, unknown>);
    let ref: string | undefined;
    if (template !== undefined) {
      if (!input.renderer || input.templateRoot === undefined) {
        fail('/template', 'NO_RENDERER', `template "${template}" needs a templates/ folder and a renderer`);
      } else {
        try {
          confinedPath(input.templateRoot, template);
          ref = addBlob(Buffer.from(input.renderer.renderFile(template, vars), 'utf8'));
        } catch (err) {
          if (err instanceof ConfinedReadError) fail('/template', err.code === 'SOURCE_TOO_LARGE' ? 'SOURCE_UNSAFE' : err.code, `template: ${err.message}`);
          else templateProblem(err, template, '/template', fail);
        }
      }
    } else if (content !== undefined) {
      if (!templateSyntax.test(content)) {
        ref = addBlob(Buffer.from(content, 'utf8'));
      } else if (!input.renderer) {
        fail('/content', 'NO_RENDERER', 'inline content with template syntax needs a renderer');
      } else {
        const name = `${id} content`;
        try {
          ref = addBlob(Buffer.from(input.renderer.renderString(content, vars, name), 'utf8'));
        } catch (err) {
          templateProblem(err, name, '/content', fail);
        }
      }
    } else if (source !== undefined) {
      ref = source.startsWith('sha256:') ? source : fromFiles('/source', source);
    }
    return ref === undefined ? (rest as Resource) : ({ ...rest, source: ref } as Resource);
  });

  if (problems.length > 0) return { catalog: undefined, blobs, problems };
  const id = catalogId(input.host, out);
  const catalog: Catalog = { id, host: input.host, revision: input.revision, resources: out, blobs: sizes };
  return { catalog, blobs, problems };
}

/** The catalog id: sha256 of the canonical JSON of what the agent enforces. */
export function catalogId(host: string, resources: readonly Resource[]): string {
  return sha256Hex(canonicalJson({ host, resources }));
}

function templateProblem(
  err: unknown,
  fallbackName: string,
  path: string,
  fail: (path: string, code: CatalogProblem['code'], message: string, extra?: Partial<Pick<CatalogProblem, 'template' | 'line' | 'column'>>) => void,
): void {
  const e = err as { code?: unknown; template?: unknown; line?: unknown; column?: unknown; message?: unknown };
  const template = typeof e.template === 'string' ? e.template : fallbackName;
  const extra: { template: string; line?: number; column?: number } = { template };
  if (typeof e.line === 'number') extra.line = e.line;
  if (typeof e.column === 'number') extra.column = e.column;
  const where = extra.line !== undefined ? `${template}:${extra.line}${extra.column !== undefined ? `:${extra.column}` : ''}` : template;
  const message = typeof e.message === 'string' ? e.message : String(err);
  fail(path, 'TEMPLATE_ERROR', message.startsWith(template) ? message : `${where}: ${message}`, extra);
}
