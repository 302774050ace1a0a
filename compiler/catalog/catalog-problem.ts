/** A problem found while building a catalog, tied to the resource (by index) that caused it. */
export interface CatalogProblem {
  /** Index of the resource in the input list. */
  readonly index: number;
  /** Its id, "type:title". */
  readonly id: string;
  /** JSON pointer relative to the resource: "/template", "/content", "/source". */
  readonly path: string;
  readonly code: 'TEMPLATE_ERROR' | 'NO_RENDERER' | 'SOURCE_NOT_FOUND' | 'SOURCE_UNSAFE' | 'SOURCE_TOO_LARGE';
  readonly message: string;
  /** For template errors: the template's name and the position in it, when known. */
  readonly template?: string;
  readonly line?: number;
  readonly column?: number;
}
