/**
 * The one error type the Jinja2 layer throws for anything wrong with a template: syntax, an
 * undefined variable, a refused construct, a blocked attribute, a template outside the search
 * paths, a resource limit. `template` names the template the problem is in (for a problem inside an
 * included template, the included one), `line` is 1-based in the original Jinja2 source.
 */
export class TemplateError extends Error {
  readonly code = 'TEMPLATE_ERROR' as const;
  readonly template: string;
  readonly line?: number;
  readonly column?: number;
  /** Stable sub-code: SYNTAX, UNDEFINED, UNSUPPORTED, SECURITY, NOT_FOUND, LIMIT, RUNTIME. */
  readonly kind: TemplateErrorKind;

  constructor(
    message: string,
    where: { template: string; line?: number | undefined; column?: number | undefined; kind?: TemplateErrorKind },
  ) {
    const loc = where.line !== undefined ? `${where.template}:${where.line}` : where.template;
    super(`${loc}: ${message}`);
    this.name = 'TemplateError';
    this.template = where.template;
    this.kind = where.kind ?? 'RUNTIME';
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
  }
}

export type TemplateErrorKind = 'SYNTAX' | 'UNDEFINED' | 'UNSUPPORTED' | 'SECURITY' | 'NOT_FOUND' | 'LIMIT' | 'RUNTIME';
