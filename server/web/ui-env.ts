/**
 * The nunjucks Environment for the console's HTML: its own instance with autoescape on and no
 * loader (templates are compiled from the strings in views.ts), never the config-file renderer.
 * Only server-computed data is passed in; nothing from agents is ever template source.
 */
import nunjucks from 'nunjucks';

export const uiEnv = new nunjucks.Environment(null, { autoescape: true, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true });

/** Compiles a view once. */
export function view(source: string): (ctx: Record<string, unknown>) => string {
  const tpl = nunjucks.compile(source, uiEnv);
  return (ctx) => tpl.render(ctx);
}
