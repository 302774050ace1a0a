/** Messages between sandbox.ts and sandbox-worker.ts. */
import type { TemplateErrorKind } from './template-error.js';

/** One render: a template file (relPath, relative to searchPaths) or inline source. */
export interface SandboxJob {
  readonly searchPaths: readonly string[];
  readonly relPath?: string;
  readonly source?: string;
  readonly vars?: Record<string, unknown>;
  /** Shown in errors; the template name for inline source. */
  readonly name: string;
}

export interface SandboxError {
  readonly code: 'TEMPLATE_ERROR';
  readonly kind: TemplateErrorKind;
  readonly template: string;
  readonly line?: number;
  readonly message: string;
}

export type SandboxResult = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly error: SandboxError };
