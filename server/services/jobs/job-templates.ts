/**
 * Rendering the `template:` files of a job's files step for one host, the way catalogs are
 * rendered: in the compile worker (CompilerPort.compileResources → compileResourcesForHost),
 * with the live revision's templates/ folder, the host's merged variables and last facts, and
 * the job's variables as the top layer of precedence. The renderer's bounds apply (sandboxed
 * attribute access, confined loader, output and loop limits, the worker's deadline).
 */
import type { Resource } from '../../../schemas/resource.js';
import { ApiError } from '../../domain/errors.js';
import type { LocatedProblem } from '../compiler-port.js';
import type { HostStateService } from '../host-state-service.js';
import type { RevisionService } from '../revision-service.js';

/** One template file to render: its target path and its name under templates/. */
export interface TemplateFile {
  readonly path: string;
  readonly template: string;
}

/** The rendered content of each file, in order; `sensitive` when it depends on a secret. */
export interface RenderedFile {
  readonly content: Buffer;
  readonly sensitive: boolean;
}

/** What prepareFiles needs to render templates (JobTemplates is the server's). */
export interface JobTemplateRenderer {
  /** Throws ApiError COMPILE_FAILED (with `problems`, located to the template line) when a template fails. */
  render(host: string, files: readonly TemplateFile[], vars: Record<string, unknown>, signal: AbortSignal): Promise<RenderedFile[]>;
}

function where(p: LocatedProblem): string {
  return `${p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : ''}${p.message}`;
}

export class JobTemplates implements JobTemplateRenderer {
  constructor(
    private readonly revisions: RevisionService,
    private readonly hostStates: HostStateService,
  ) {}

  async render(host: string, files: readonly TemplateFile[], vars: Record<string, unknown>, signal: AbortSignal): Promise<RenderedFile[]> {
    if (files.length === 0) return [];
    const live = await this.revisions.live(signal);
    if (!live) throw new ApiError('NO_LIVE_REVISION', 'a template file needs a published manifest revision (its templates/ folder and the host\'s variables)');
    if (!live.loaded.hosts.some((h) => h.name === host)) throw new ApiError('NOT_FOUND', `host ${host} is not in the inventory of the live revision: its variables for the template are unknown`);
    if (!live.loaded.compileResources) throw new ApiError('COMPILE_FAILED', 'this server\'s compiler cannot render job templates');
    const resources = files.map((f) => ({ type: 'file', path: f.path, template: f.template }) as Resource);
    const r = await live.loaded.compileResources(host, resources, { facts: await this.hostStates.facts(host), launchVars: vars, origin: 'job files step' }, signal);
    const errors = r.problems.filter((p) => (p.severity ?? 'error') === 'error');
    if (!r.catalog || errors.length > 0) {
      throw new ApiError('COMPILE_FAILED', `a template of the files step does not render for ${host}: ${errors[0] ? where(errors[0]) : 'no result'}`.slice(0, 1000), { problems: errors.slice(0, 50) });
    }
    return r.catalog.resources.map((res, i) => {
      const out = res as { source?: unknown; sensitive?: unknown };
      const ref = typeof out.source === 'string' ? out.source : '';
      const content = r.blobs.get(ref);
      if (!content) throw new ApiError('COMPILE_FAILED', `the compiler returned no content for ${files[i]?.path ?? '?'}`);
      const sensitive = out.sensitive === true || (Array.isArray(out.sensitive) && out.sensitive.length > 0);
      return { content, sensitive };
    });
  }
}
