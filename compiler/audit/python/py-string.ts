/**
 * Python string literals as values: prefixes (r, b, u, f), the four quote forms, and escapes.
 * An f-string or a concatenation with a non-literal part becomes a template with holes.
 */

/** A string value with holes where Python code is interpolated (f"{x}", "a" + x). */
export type Piece = { readonly text: string } | { readonly hole: true };

export interface DecodedLiteral {
  readonly value: string;
  /** Offset of the content (after prefix and quotes) inside the literal's text. */
  readonly contentStart: number;
  /** The value is the content exactly as written (no escape changed it): positions map one to one. */
  readonly verbatim: boolean;
}

export function decodeStringLiteral(raw: string): DecodedLiteral {
  const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(raw);
  const prefix = m?.[1] ?? '';
  const quote = m?.[2] ?? '"';
  const contentStart = prefix.length + quote.length;
  const end = raw.endsWith(quote) && raw.length >= contentStart + quote.length ? raw.length - quote.length : raw.length;
  const content = raw.slice(contentStart, end);
  if (/r/i.test(prefix) || !content.includes('\\')) return { value: content, contentStart, verbatim: true };
  return { value: unescape(content, /b/i.test(prefix)), contentStart, verbatim: false };
}

const SIMPLE: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

function unescape(s: string, bytes: boolean): string {
  return s.replace(/\\(\n|x[0-9a-fA-F]{2}|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|.)/gs, (all, e: string) => {
    if (e === '\n') return '';
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    if (!bytes && (e[0] === 'u' || e[0] === 'U')) return String.fromCodePoint(Math.min(parseInt(e.slice(1), 16), 0x10ffff));
    const simple = SIMPLE[e];
    return simple ?? all;
  });
}

/** Shell text for pieces: holes become a variable that may be empty. */
export function piecesToShell(pieces: readonly Piece[]): string {
  return pieces.map((p) => ('text' in p ? p.text : '${__python_value}')).join('');
}

/** The path a template names when every hole is empty, and whether it has holes. */
export function piecesCollapsed(pieces: readonly Piece[]): { value: string; holes: boolean } {
  return { value: pieces.map((p) => ('text' in p ? p.text : '')).join(''), holes: pieces.some((p) => !('text' in p)) };
}
