/**
 * Keeps the server's own directories out of what clients see: every occurrence of one of them
 * (as configured and as resolved through symbolic links) in a message becomes "<data-dir>".
 * Error answers pass through it (api/error-middleware.ts), and so do the problems a catalog
 * preview returns; an operator never learns where the server keeps its state (issue 8).
 */
export type PathRedactor = (text: string) => string;

export function pathRedactor(dirs: readonly string[], label = '<data-dir>'): PathRedactor {
  const list = [...new Set(dirs.map((d) => d.replace(/\/+$/, '')).filter((d) => d.length > 1))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const d of list) if (out.includes(d)) out = out.split(d).join(label);
    return out;
  };
}

/** `value` with every string in it passed through `redact` (a JSON value: objects, arrays, scalars). */
export function redactDeep(value: unknown, redact: PathRedactor): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)]));
  return value;
}
