/**
 * The child process of the render sandbox (sandbox.ts): receives render jobs over IPC, renders
 * them with the in-process Renderer and sends back the output or the TemplateError. It is started
 * with an empty environment and a small heap; the parent kills it on timeout.
 */
import { createRenderer, TemplateError, type Renderer, type RenderLimits } from './renderer.js';
import type { SandboxJob, SandboxResult } from './sandbox-protocol.js';

interface Request {
  readonly id: number;
  readonly job: SandboxJob;
  readonly limits?: Partial<RenderLimits>;
}

const renderers = new Map<string, Renderer>();

function rendererFor(searchPaths: readonly string[], limits: Partial<RenderLimits> | undefined): Renderer {
  const key = JSON.stringify([searchPaths, limits ?? {}]);
  let r = renderers.get(key);
  if (!r) {
    if (renderers.size > 64) renderers.clear();
    r = createRenderer({ searchPaths: [...searchPaths], ...(limits ? { limits } : {}) });
    renderers.set(key, r);
  }
  return r;
}

function handle(req: Request): SandboxResult {
  const { job } = req;
  try {
    const r = rendererFor(job.searchPaths, req.limits);
    const vars = job.vars ?? {};
    const output = job.source !== undefined ? r.renderString(job.source, vars, job.name) : r.renderFile(job.relPath ?? job.name, vars);
    return { ok: true, output };
  } catch (e) {
    if (e instanceof TemplateError) {
      return { ok: false, error: { code: e.code, kind: e.kind, template: e.template, ...(e.line !== undefined ? { line: e.line } : {}), message: e.message } };
    }
    return { ok: false, error: { code: 'TEMPLATE_ERROR', kind: 'RUNTIME', template: job.name, message: `${job.name}: internal error: ${(e as Error).message}` } };
  }
}

process.on('message', (msg: unknown) => {
  const req = msg as Request;
  const result = handle(req);
  process.send?.({ id: req.id, result });
});
process.on('disconnect', () => process.exit(0));
