/**
 * The one regular-expression engine of the compiler: RE2 semantics (re2js, a pure-JavaScript port
 * of RE2), so a match costs time linear in the subject whatever the pattern — no backtracking,
 * hence no catastrophic patterns. On top of that every match is charged to a work budget:
 * (characters scanned + 1) × program size, a deterministic measure of the engine's worst case.
 * Patterns and subjects are bounded in length. Templates (through py-regex.ts) and group rules
 * (membership.ts) go through here; nothing in compiler/ or server/ builds a RegExp from input.
 *
 * RE2 has no backreferences and no lookahead; such patterns fail at compile with a RegexError
 * naming the construct. Lookbehind without captures is supported (re2js LOOKBEHINDS).
 */
import { createRequire } from 'node:module';
import type { Matcher, RE2JS as RE2JSClass } from 're2js';

type RE2JSModule = typeof import('re2js');
let engine: RE2JSModule['RE2JS'] | undefined;
/** re2js, loaded at the first pattern: a run that matches no regex (most `stead apply`s) never pays for it. */
function re2(): RE2JSModule['RE2JS'] {
  engine ??= (createRequire(import.meta.url)('re2js') as RE2JSModule).RE2JS;
  return engine;
}

export type RegexErrorKind = 'SYNTAX' | 'UNSUPPORTED' | 'LIMIT';

export class RegexError extends Error {
  constructor(
    message: string,
    readonly kind: RegexErrorKind,
  ) {
    super(message);
    this.name = 'RegexError';
  }
}

export const REGEX_LIMITS = {
  /** Longest pattern, in characters. */
  maxPattern: 4096,
  /** Longest subject one match may scan, in characters (1 MiB). */
  maxSubject: 1 << 20,
  /** Work units of one template render or one budget (≈ 1–2 s of the engine's worst case). */
  work: 1 << 23,
  /** Wall-clock backstop of one budget, for the rare pattern that scans far past each match. */
  timeMs: 10_000,
};

/**
 * A work allowance. `charge` throws a LIMIT RegexError once the units or the time run out. One
 * budget per template render (the runtime resets it) or per group-rule evaluation.
 */
export class RegexBudget {
  #used = 0;
  #ms = 0;
  constructor(
    readonly limit: number = REGEX_LIMITS.work,
    readonly timeLimitMs: number = REGEX_LIMITS.timeMs,
  ) {}

  get used(): number {
    return this.#used;
  }

  reset(): void {
    this.#used = 0;
    this.#ms = 0;
  }

  /** Checks, before a match runs, that `units` more would still fit. */
  reserve(units: number, what: string): void {
    if (this.#used + units > this.limit) {
      throw new RegexError(
        `regular expression work limit reached: ${what} would bring this render to ${fmt(this.#used + units)} units (pattern size × characters scanned), over the limit of ${fmt(this.limit)}; match a shorter string or a simpler pattern`,
        'LIMIT',
      );
    }
  }

  /** Records work done: units and elapsed time. */
  spend(units: number, ms: number, what: string): void {
    this.#used += units;
    this.#ms += ms;
    if (this.#ms > this.timeLimitMs) {
      throw new RegexError(`regular expression time limit reached: ${what} ran ${Math.round(this.#ms)} ms in this render (limit ${this.timeLimitMs} ms); match a shorter string or a simpler pattern`, 'LIMIT');
    }
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

export interface RegexFlags {
  readonly ignoreCase?: boolean;
  readonly multiline?: boolean;
  readonly dotAll?: boolean;
}

/** One match: `groups[0]` is the whole match; undefined for a group that did not take part. */
export interface RegexMatch {
  readonly index: number;
  readonly end: number;
  readonly groups: readonly (string | undefined)[];
  readonly named: Readonly<Record<string, string | undefined>>;
}

const CACHE_MAX = 2000;
const cache = new Map<string, BoundedRegex>();

export class BoundedRegex {
  readonly programSize: number;
  readonly groupCount: number;
  readonly names: Readonly<Record<string, number>>;
  /** A short form of the pattern for messages. */
  readonly shown: string;

  private constructor(
    readonly source: string,
    private readonly re: RE2JSClass,
    display: string,
  ) {
    this.programSize = Math.max(1, re.programSize());
    this.groupCount = re.groupCount();
    this.names = re.namedGroups();
    this.shown = JSON.stringify(display.length > 80 ? `${display.slice(0, 77)}...` : display);
  }

  /**
   * Compiles (or takes from the process-wide cache) an RE2 pattern. `display` is the pattern as
   * its author wrote it, for messages (py-regex.ts compiles a translation). Throws RegexError.
   */
  static compile(source: string, flags: RegexFlags = {}, display: string = source): BoundedRegex {
    if (source.length > REGEX_LIMITS.maxPattern) {
      throw new RegexError(`regular expression too long (${fmt(source.length)} characters, limit ${fmt(REGEX_LIMITS.maxPattern)})`, 'LIMIT');
    }
    const RE2JS = re2();
    let f = RE2JS.LOOKBEHINDS;
    if (flags.ignoreCase) f |= RE2JS.CASE_INSENSITIVE;
    if (flags.multiline) f |= RE2JS.MULTILINE;
    if (flags.dotAll) f |= RE2JS.DOTALL;
    const key = `${f}:${display}\u0000${source}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    let re: RE2JSClass;
    try {
      re = RE2JS.compile(source, f);
    } catch (e) {
      throw explainSyntaxError(display, e);
    }
    const out = new BoundedRegex(source, re, display);
    cache.set(key, out);
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
    return out;
  }

  /** Whether the pattern matches anywhere in `s` (no captures: the engine's fastest path). */
  test(s: string, budget: RegexBudget): boolean {
    const units = this.#units(s, 0, s.length);
    budget.reserve(units, this.#what());
    const t0 = performance.now();
    const r = this.re.test(s);
    budget.spend(units, performance.now() - t0, this.#what());
    return r;
  }

  /** The leftmost match starting at or after `from`, with its groups; null when none. */
  find(s: string, budget: RegexBudget, from = 0): RegexMatch | null {
    return this.#find(this.re.matcher(s), s, budget, from);
  }

  /**
   * Every match, left to right, as Python's re.finditer/re.sub see them (3.7+): an empty match
   * right after a non-empty one counts.
   */
  *findAll(s: string, budget: RegexBudget): Generator<RegexMatch> {
    const m = this.re.matcher(s);
    let pos = 0;
    while (pos <= s.length) {
      const r = this.#find(m, s, budget, pos);
      if (!r) return;
      yield r;
      // After an empty match the search moves on one character (RE2 cannot ask for a non-empty
      // match at the same place, as Python's engine can: patterns such as `x*|b` differ there).
      pos = r.end === r.index ? advance(s, r.index) : r.end;
    }
  }

  #find(m: Matcher, s: string, budget: RegexBudget, from: number): RegexMatch | null {
    // Charged before the run for the whole rest of the subject (the most a find can scan),
    // recorded afterwards for what the match consumed (the rest when nothing matched).
    budget.reserve(this.#units(s, from, s.length), this.#what());
    const t0 = performance.now();
    const found = m.find(from);
    const ms = performance.now() - t0;
    if (!found) {
      budget.spend(this.#units(s, from, s.length), ms, this.#what());
      return null;
    }
    const index = m.start();
    const end = m.end();
    budget.spend(this.#units(s, from, end), ms, this.#what());
    const groups: (string | undefined)[] = [];
    for (let i = 0; i <= this.groupCount; i++) groups.push(m.group(i) ?? undefined);
    const named: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
    for (const [name, i] of Object.entries(this.names)) named[name] = groups[i];
    return { index, end, groups, named };
  }

  #units(s: string, from: number, to: number): number {
    if (s.length > REGEX_LIMITS.maxSubject) {
      throw new RegexError(`regular expression ${this.shown}: the string to match is ${fmt(s.length)} characters, over the limit of ${fmt(REGEX_LIMITS.maxSubject)}`, 'LIMIT');
    }
    return (Math.max(0, to - from) + 1) * this.programSize;
  }

  #what(): string {
    return `matching ${this.shown}`;
  }
}

/** The next search position after an empty match at `i` (whole code points). */
function advance(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? i + 2 : i + 1;
}

/** An RE2 parse error as a message saying what is not supported and why. */
function explainSyntaxError(source: string, e: unknown): RegexError {
  const msg = (e as Error)?.message ?? String(e);
  const shown = JSON.stringify(source.length > 80 ? `${source.slice(0, 77)}...` : source);
  const why = 'Stead matches regular expressions with RE2 semantics (linear time, see docs/templates.md)';
  if (/invalid escape sequence: `\\[1-9]/.test(msg) || /\\k</.test(msg)) {
    return new RegexError(`regular expression ${shown}: backreferences are not supported; ${why}`, 'UNSUPPORTED');
  }
  if (/invalid or unsupported Perl syntax: `\(\?[=!]/.test(msg)) {
    return new RegexError(`regular expression ${shown}: lookahead ((?=…), (?!…)) is not supported; ${why}`, 'UNSUPPORTED');
  }
  if (/invalid or unsupported Perl syntax: `\(\?>/.test(msg) || /invalid nested repetition operator: `[*+?}]\+/.test(msg)) {
    return new RegexError(`regular expression ${shown}: atomic groups and possessive quantifiers are not supported; ${why}`, 'UNSUPPORTED');
  }
  if (/invalid or unsupported Perl syntax: `\(\?\(/.test(msg)) {
    return new RegexError(`regular expression ${shown}: conditional groups are not supported; ${why}`, 'UNSUPPORTED');
  }
  if (/invalid repeat count/.test(msg)) {
    return new RegexError(`regular expression ${shown}: a repeat count over 1000 (or nested counts multiplying past it) is not supported; ${why}`, 'UNSUPPORTED');
  }
  if (/expression too large|expression nests too deeply/.test(msg)) {
    return new RegexError(`regular expression ${shown}: ${msg.replace(/^error parsing regexp: /, '')}`, 'LIMIT');
  }
  return new RegexError(`invalid regular expression ${shown}: ${msg.replace(/^error parsing regexp: /, '')}`, 'SYNTAX');
}
