/**
 * Wall-clock time in an IANA zone, with the platform's Intl data only: zone names checked and
 * canonicalised, a local date and time turned into an instant (refusing times a DST change
 * skips), an instant shown as local text.
 */
import { ApiError } from '../../domain/errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (formatters.size > 500) formatters.clear();
    formatters.set(tz, f);
  }
  return f;
}

/** The canonical name of an IANA zone ("utc" → "UTC"); ApiError BAD_REQUEST for an unknown one. */
export function canonicalZone(tz: string): string {
  if (tz.length > 64 || !/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(tz)) throw new ApiError('BAD_REQUEST', `time zone "${tz.slice(0, 64)}" is not an IANA zone name such as "Europe/Berlin" or "UTC"`);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new ApiError('BAD_REQUEST', `unknown time zone "${tz}" (use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC")`);
  }
}

interface Wall {
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
}

function wallAt(ms: number, tz: string): Wall {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p['year'] ?? 0, mo: p['month'] ?? 0, d: p['day'] ?? 0, h: p['hour'] ?? 0, mi: p['minute'] ?? 0, s: p['second'] ?? 0 };
}

const asUtc = (w: Wall): number => Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);

/**
 * The instant of a local wall time in `tz`. Of a time that occurs twice (clocks set back) the
 * first; undefined for a time that does not occur (clocks moved forward over it).
 */
export function instantOfWall(w: Wall, tz: string): number | undefined {
  const guess = asUtc(w);
  const found: number[] = [];
  for (const probe of [guess - 86_400_000, guess + 86_400_000]) {
    const offset = asUtc(wallAt(probe, tz)) - probe;
    const candidate = guess - offset;
    if (asUtc(wallAt(candidate, tz)) === guess) found.push(candidate);
  }
  return found.length ? Math.min(...found) : undefined;
}

/** "YYYY-MM-DD HH:MM" (seconds when not zero) of an instant in `tz`. */
export function wallText(ms: number, tz: string): string {
  const w = wallAt(ms, tz);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${w.y}-${two(w.mo)}-${two(w.d)} ${two(w.h)}:${two(w.mi)}${w.s ? `:${two(w.s)}` : ''}`;
}

/** Parses "YYYY-MM-DD[ T]HH:MM[:SS]" into a wall time; undefined when it is not that shape or not a real date. */
export function parseWall(text: string): Wall | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const w = { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: Number(m[4]), mi: Number(m[5]), s: Number(m[6] ?? 0) };
  if (w.mo < 1 || w.mo > 12 || w.d < 1 || w.h > 23 || w.mi > 59 || w.s > 59) return undefined;
  if (new Date(asUtc(w)).getUTCDate() !== w.d) return undefined;
  return w;
}
