/**
 * A located mistake in a manifest file: where it is (file, 1-based line and column, JSON
 * pointer into the document) and what to do about it. Every checker in this folder reports
 * ManifestProblem values, never throws for a bad manifest.
 */

/** Stable problem codes; a test table asserts them, so renaming one is a breaking change. */
export type ManifestProblemCode =
  | 'READ_FAILED'
  | 'YAML_SYNTAX'
  | 'DUPLICATE_KEY'
  | 'FORBIDDEN_KEY'
  | 'NOT_A_MANIFEST'
  | 'UNKNOWN_TYPE'
  | 'UNKNOWN_PROPERTY'
  | 'MISSING_PROPERTY'
  | 'INVALID_VALUE'
  | 'BAD_MODE'
  | 'CONFLICT'
  | 'BAD_REF'
  | 'UNKNOWN_REF'
  | 'DUPLICATE_TITLE'
  | 'CYCLE'
  | 'DUPLICATE_VAR'
  | 'UNUSED_REFRESHONLY'
  // Found while building the catalog (templates, files/ sources):
  | 'TEMPLATE_ERROR'
  | 'NO_RENDERER'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_UNSAFE'
  | 'SOURCE_TOO_LARGE'
  | 'UNSUPPORTED';

/** A located problem from any loader (manifest files, a manifest repository): code is open. */
export interface LocatedProblem {
  readonly file: string;
  /** 1-based; 0 when the problem is about the file as a whole. */
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

export interface ManifestProblem extends LocatedProblem {
  /** The file as given to the parser (relative or absolute, as the caller named it). */
  readonly file: string;
  /** 1-based line; 0 when the problem is about the file as a whole (unreadable). */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** JSON pointer into the document, "" for the whole document, e.g. "/resources/3/mode". */
  readonly path: string;
  readonly code: ManifestProblemCode;
  /** A message a person can act on. */
  readonly message: string;
  /** Warnings do not make a manifest invalid. */
  readonly severity: 'error' | 'warning';
}

/** Where something is in a manifest source. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
}

/** "file:line:column: path: message" — the one-line form editors and CI logs understand. */
export function formatProblem(p: LocatedProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${p.path || '/'}: ${tag}${p.message}`;
}

/** True when at least one problem is an error (warnings alone keep a manifest valid). */
export function hasErrors(problems: readonly LocatedProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Sorts problems by file, line, column (stable for equal positions). */
export function sortProblems<P extends LocatedProblem>(problems: readonly P[]): P[] {
  return [...problems].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(s: string | number): string {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Splits a JSON pointer into unescaped segments ("" → []). */
export function splitPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
