/**
 * The syntax check of a repository's templates without rendering them (the console editor's
 * as-you-type check): each template under templates/ is parsed and compiled by the same
 * renderer the catalog compiler uses, so a problem here is exactly what a compile would report
 * first. Undefined names, includes and run-time errors are found only by a compile.
 */
import type { RepoProblem } from '../../schemas/repo/problem.js';
import { readConfined } from '../catalog/confined-read.js';
import { createRenderer, TemplateError } from '../jinja/renderer.js';
import type { Repository } from './repository.js';

/** Problems (TEMPLATE_ERROR, located at the template's line) of the templates `relPaths` (relative to templates/). */
export function checkTemplates(repo: Pick<Repository, 'templateRoot'>, relPaths: readonly string[]): RepoProblem[] {
  const renderer = createRenderer({ searchPaths: [repo.templateRoot] });
  const out: RepoProblem[] = [];
  for (const rel of relPaths) {
    const file = `templates/${rel}`;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readConfined(repo.templateRoot, rel));
    } catch (err) {
      out.push({ code: 'READ_FAILED', severity: 'error', file, path: '', message: err instanceof TypeError ? 'not valid UTF-8 text' : (err as Error).message.slice(0, 300) });
      continue;
    }
    try {
      renderer.check(text, rel);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      const inner = err.template === rel ? file : `templates/${err.template}`;
      const message = err.message.startsWith(`${err.template}`) ? err.message.slice(err.message.indexOf(': ') + 2) : err.message;
      out.push({ code: 'TEMPLATE_ERROR', severity: 'error', file: inner, ...(err.line !== undefined ? { line: err.line, column: err.column ?? 1 } : {}), path: '', message: `${err.kind === 'SYNTAX' ? 'syntax error: ' : ''}${message}` });
    }
  }
  return out;
}
