/**
 * The JSON encoding of stored documents (SQLite): plain JSON, with each Date written as
 * {"$date":"<ISO 8601 UTC, milliseconds>"}. Documents never hold `$` keys of their own (D2),
 * so the encoding is unambiguous; its text sorts like the Date because the ISO form is fixed width.
 */

/** encodeJson serializes a checked value; Dates become {"$date": ISO}. Undefined properties vanish. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, v: unknown): unknown {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : v;
  });
}

/** dateText is the JSON text of a Date inside a document, as SQLite's json_extract returns it. */
export function dateText(d: Date): string {
  return `{"$date":"${d.toISOString()}"}`;
}

/** decodeJson parses stored JSON, turning every {"$date": ISO} object back into a Date. */
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const d = (v as Record<string, unknown>)['$date'];
      if (typeof d === 'string' && Object.keys(v).length === 1) return new Date(d);
    }
    return v;
  });
}
