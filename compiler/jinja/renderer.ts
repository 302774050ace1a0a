/**
 * The Jinja2-compatible renderer: the API the catalog compiler and `stead render` use.
 * (Thin first version: plain nunjucks; the compatibility layer replaces the internals.)
 */
import nunjucks from 'nunjucks';
import { TemplateError } from './template-error.js';

export { TemplateError } from './template-error.js';

export interface Renderer {
  /** Render Jinja2 source; `name` is shown in errors. */
  renderString(source: string, vars: Record<string, unknown>, name: string): string;
  /** Render a template file named relative to the search paths. */
  renderFile(relPath: string, vars: Record<string, unknown>): string;
}

export function createRenderer(opts: { searchPaths: string[] }): Renderer {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(opts.searchPaths), {
    autoescape: false,
    trimBlocks: true,
    throwOnUndefined: true,
  });
  return {
    renderString(source, vars, name) {
      try {
        return env.renderString(source, vars);
      } catch (e) {
        throw new TemplateError((e as Error).message, { template: name });
      }
    },
    renderFile(relPath, vars) {
      try {
        return env.render(relPath, vars);
      } catch (e) {
        throw new TemplateError((e as Error).message, { template: relPath });
      }
    },
  };
}
