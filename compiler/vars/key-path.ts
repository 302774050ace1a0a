/**
 * Variable key paths. The flattened key table writes a path as dot-separated segments
 * ("region.mongodb.hosts"); a segment that is not a plain identifier is quoted in brackets
 * (`servers["db1.example.com"].port`), list indexes as `[0]`. parseKeyPath is the inverse.
 */
export type KeySegment = string | number;

const PLAIN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatKeyPath(segments: readonly KeySegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Parses "a.b[0][\"c.d\"]"; undefined when malformed. */
export function parseKeyPath(text: string): KeySegment[] | undefined {
  const out: KeySegment[] = [];
  let i = 0;
  let expectName = true;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '[') {
      const close = findClose(text, i);
      if (close < 0) return undefined;
      const inner = text.slice(i + 1, close);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else {
        try {
          const v: unknown = JSON.parse(inner);
          if (typeof v !== 'string') return undefined;
          out.push(v);
        } catch {
          return undefined;
        }
      }
      i = close + 1;
      expectName = false;
    } else if (ch === '.') {
      if (expectName) return undefined;
      i++;
      expectName = true;
    } else {
      if (!expectName) return undefined;
      let j = i;
      while (j < text.length && text[j] !== '.' && text[j] !== '[') j++;
      out.push(text.slice(i, j));
      i = j;
      expectName = false;
    }
  }
  if (expectName && out.length > 0) return undefined;
  return out.length > 0 ? out : undefined;
}

function findClose(text: string, open: number): number {
  let inStr = false;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === ']') return i;
  }
  return -1;
}
