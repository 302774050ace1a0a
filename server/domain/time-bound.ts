/**
 * A point in time as operators type it in filters: an ISO 8601 timestamp ("2026-12-01",
 * "2026-12-01T10:00:00Z") or an age before now ("90m", "24h", "7d", "2w"). Shared by the audit
 * search of the API, the console and the CLI.
 */
const ago = /^(\d{1,6})(s|m|h|d|w)$/;
const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds, or undefined when `text` is neither form. */
export function parseTimeBound(text: string, now: number): number | undefined {
  const t = text.trim();
  const m = ago.exec(t);
  if (m) return now - Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
  if (!iso.test(t)) return undefined;
  const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
  return Number.isFinite(ms) ? ms : undefined;
}
