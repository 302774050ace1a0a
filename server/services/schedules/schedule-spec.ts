/**
 * Parsing, validation and previews of schedule specs (schemas/schedule-spec.ts). Every form
 * becomes a cron expression with seconds in an IANA zone, or one instant ("once"); fire times
 * are computed by cron-parser, the cron engine node-schedule uses (node-schedule's own API only
 * offers timer-driven jobs and RecurrenceRule, which skips a daily run on the day clocks move
 * forward and runs it twice when they move back — see docs/jobs.md). Nothing here reads the
 * clock: callers pass the instant to compute from.
 *
 * DST: a wall time the spring change skips fires at the same minute of the hour after it
 * (02:30 → 03:30); a wall time that occurs twice fires once, at the first.
 */
import cronParser, { type CronExpression } from 'cron-parser';
import type { ScheduleSpec, WeekDay } from '../../../schemas/schedule-spec.js';
import { weekDays } from '../../../schemas/schedule-spec.js';
import { ApiError } from '../../domain/errors.js';
import { canonicalZone, instantOfWall, parseWall, wallText } from './zoned-time.js';

/** A parsed, valid schedule: how to describe it and when it fires. */
export interface CompiledSchedule {
  /** "cron" for every recurring form (daily, weekdays, weekly, cron), "once" for one run. */
  readonly kind: 'cron' | 'once';
  /** Canonical IANA zone. */
  readonly tz: string;
  /** What a person reads: "every day at 03:30 (Europe/Berlin)". */
  readonly description: string;
  /** The cron expression it runs on, with seconds (recurring forms only). */
  readonly cron?: string;
  /** First fire time strictly after `afterMs`, or undefined when it never fires again. */
  next(afterMs: number): number | undefined;
  /** Last fire time at or before `atMs`, or undefined. */
  latest(atMs: number): number | undefined;
}

const bad = (message: string): ApiError => new ApiError('BAD_REQUEST', message);

const cronFieldNames = ['second', 'minute', 'hour', 'day of month', 'month', 'day of week'];
const cronMacros = new Set(['@yearly', '@monthly', '@weekly', '@daily', '@hourly']);
const examples = '"once at 2026-12-24 09:00", "every day at 03:30", "weekdays at 09:00", "every mon,fri at 18:00" (optionally followed by " in Europe/Berlin")';

function clock(text: string, what: string): { h: number; m: number } {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw bad(`${what}: "${text}" is not a time of day; write HH:MM from 00:00 to 23:59`);
  return { h: Number(m[1]), m: Number(m[2]) };
}

const hhmm = (t: { h: number; m: number }): string => `${String(t.h).padStart(2, '0')}:${String(t.m).padStart(2, '0')}`;

function cronSchedule(expr6: string, tz: string, description: string): CompiledSchedule {
  const iter = (from: number): CronExpression<false> => cronParser.parseExpression(expr6, { tz, currentDate: new Date(from), iterator: false });
  const step = (from: number, dir: 'next' | 'prev'): number | undefined => {
    try {
      const it = iter(from);
      return (dir === 'next' ? it.next() : it.prev()).getTime();
    } catch {
      return undefined; // out of range (cron-parser's iteration limit): no such run
    }
  };
  return { kind: 'cron', tz, description, cron: expr6, next: (after) => step(after, 'next'), latest: (at) => step(at + 1, 'prev') };
}

/** Checks a cron expression and names the field at fault; resolves its 6-field form. */
function checkCron(expr: string, tz: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length === 1 && fields[0]?.startsWith('@')) {
    if (!cronMacros.has(fields[0])) throw bad(`cron: unknown "${fields[0]}"; use @hourly, @daily, @weekly, @monthly or @yearly`);
    return fields[0];
  }
  if (fields.length !== 5 && fields.length !== 6) throw bad(`cron: "${expr}" has ${fields.length} field(s); write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`);
  const full = fields.length === 5 ? ['0', ...fields] : fields;
  for (const [i, f] of full.entries()) {
    if (!/^[0-9A-Za-z*?,/#-]{1,64}$/.test(f)) throw bad(`cron: the ${cronFieldNames[i]} field "${f}" has characters cron does not know`);
    try {
      cronParser.parseExpression(full.map((g, j) => (j === i ? g : '*')).join(' '), { tz: 'UTC' });
    } catch (err) {
      throw bad(`cron: the ${cronFieldNames[i]} field "${f}" is not valid: ${(err as Error).message}`);
    }
  }
  const expr6 = full.join(' ');
  try {
    cronParser.parseExpression(expr6, { tz });
  } catch (err) {
    throw bad(`cron: "${expr}" is not valid: ${(err as Error).message}`);
  }
  return expr6;
}

function onceSchedule(text: string, tz: string): CompiledSchedule {
  let at: number;
  if (/(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    at = Date.parse(text);
    if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) throw bad(`once: "${text}" is not an RFC 3339 time such as 2026-12-24T09:00:00Z`);
  } else {
    const wall = parseWall(text);
    if (!wall) throw bad(`once: "${text}" is not a date and time; write YYYY-MM-DD HH:MM (in the schedule's zone) or RFC 3339 with an offset`);
    const ms = instantOfWall(wall, tz);
    if (ms === undefined) throw bad(`once: ${text} does not exist in ${tz} (the clocks move forward over it); choose another time`);
    at = ms;
  }
  return { kind: 'once', tz, description: `once at ${wallText(at, tz)} (${tz})`, next: (after) => (at > after ? at : undefined), latest: (t) => (at <= t ? at : undefined) };
}

const dayIndex: Record<WeekDay, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function weekly(days: readonly WeekDay[], at: string, tz: string): CompiledSchedule {
  const t = clock(at, 'weekly.at');
  const sorted = [...new Set(days)].sort((a, b) => weekDays.indexOf(a) - weekDays.indexOf(b));
  const list = sorted.map((d) => dayIndex[d]).join(',');
  return cronSchedule(`0 ${t.m} ${t.h} * * ${list}`, tz, `every ${sorted.join(', ')} at ${hhmm(t)} (${tz})`);
}

const dayWords: Record<string, WeekDay> = {};
for (const d of weekDays) dayWords[d] = d;
Object.assign(dayWords, { monday: 'mon', tuesday: 'tue', tues: 'tue', wednesday: 'wed', thursday: 'thu', thur: 'thu', thurs: 'thu', friday: 'fri', saturday: 'sat', sunday: 'sun' });

/** The structured form of a one-line text spec (without tz unless the text names one). */
export function parseText(text: string): ScheduleSpec {
  let line = text.trim().replace(/\s+/g, ' ');
  let tz: string | undefined;
  const zone = / in ([A-Za-z][A-Za-z0-9_+/-]*)$/.exec(line);
  if (zone) {
    tz = zone[1];
    line = line.slice(0, zone.index);
  }
  const withTz = (s: ScheduleSpec): ScheduleSpec => (tz !== undefined ? { ...s, tz } : s);
  const lower = line.toLowerCase();
  if (/^once /.test(lower)) return withTz({ once: line.replace(/^once (?:at |on )?/i, '') });
  let m = /^(?:every day|daily|everyday) at (\S+)$/.exec(lower);
  if (m?.[1]) return withTz({ daily: m[1] });
  m = /^(?:weekdays|every weekday|on weekdays) at (\S+)$/.exec(lower);
  if (m?.[1]) return withTz({ weekdays: m[1] });
  m = /^(?:weekends|every weekend|on weekends) at (\S+)$/.exec(lower);
  if (m?.[1]) return withTz({ weekly: { days: ['sat', 'sun'], at: m[1] } });
  m = /^(?:every|on) (.+?) at (\S+)$/.exec(lower);
  if (m?.[1] && m[2]) {
    const words = m[1].split(/\s*(?:,|\band\b|\s)\s*/).filter((w) => w.length > 0);
    const days: WeekDay[] = [];
    for (const w of words) {
      const d = dayWords[w.replace(/s$/, '')] ?? dayWords[w];
      if (!d) throw bad(`"${text}": "${w}" is not a day of the week (mon, tue, wed, thu, fri, sat, sun)`);
      if (!days.includes(d)) days.push(d);
    }
    return withTz({ weekly: { days, at: m[2] } });
  }
  throw bad(`cannot read "${text}" as a schedule; write ${examples}, or give a cron expression`);
}

/**
 * Compiles a spec; ApiError BAD_REQUEST with a message naming the problem (the field of a
 * cron expression, the zone, the time) for anything that is not a valid schedule.
 */
export function compileSpec(spec: ScheduleSpec): CompiledSchedule {
  const forms = (['text', 'cron', 'once', 'daily', 'weekdays', 'weekly'] as const).filter((k) => spec[k] !== undefined);
  if (forms.length !== 1) throw bad(forms.length === 0 ? `a schedule needs one of text, cron, once, daily, weekdays or weekly (e.g. {"text": "every day at 03:30"})` : `a schedule has one form, not ${forms.join(' and ')}`);
  if (spec.text !== undefined) {
    const parsed = parseText(spec.text);
    if (parsed.tz !== undefined && spec.tz !== undefined && canonicalZone(parsed.tz) !== canonicalZone(spec.tz)) throw bad(`the text names the zone ${parsed.tz} but tz is ${spec.tz}`);
    return compileSpec({ ...parsed, ...(spec.tz !== undefined && parsed.tz === undefined ? { tz: spec.tz } : {}) });
  }
  const tz = canonicalZone(spec.tz ?? 'UTC');
  if (spec.cron !== undefined) {
    const expr = checkCron(spec.cron, tz);
    const c = cronSchedule(expr, tz, `cron "${spec.cron.trim().replace(/\s+/g, ' ')}" (${tz})`);
    return c;
  }
  if (spec.once !== undefined) return onceSchedule(spec.once, tz);
  if (spec.daily !== undefined) {
    const t = clock(spec.daily, 'daily');
    return cronSchedule(`0 ${t.m} ${t.h} * * *`, tz, `every day at ${hhmm(t)} (${tz})`);
  }
  if (spec.weekdays !== undefined) {
    const t = clock(spec.weekdays, 'weekdays');
    return cronSchedule(`0 ${t.m} ${t.h} * * 1-5`, tz, `weekdays at ${hhmm(t)} (${tz})`);
  }
  const w = spec.weekly!;
  return weekly(w.days, w.at, tz);
}

/** The next `count` (≤ 50) fire times strictly after `afterMs`. */
export function nextRuns(c: CompiledSchedule, afterMs: number, count = 5): number[] {
  const out: number[] = [];
  let t = afterMs;
  for (let i = 0; i < Math.min(count, 50); i++) {
    const n = c.next(t);
    if (n === undefined) break;
    out.push(n);
    t = n;
  }
  return out;
}

/**
 * Fire times in (afterMs, uptoMs]: how many (counted up to `cap`, then `capped`) and the
 * latest. What a runner needs to apply a missed-run policy without walking a long outage.
 */
export function dueBetween(c: CompiledSchedule, afterMs: number, uptoMs: number, cap = 1000): { count: number; capped: boolean; latest: number | undefined } {
  const latest = c.latest(uptoMs);
  if (latest === undefined || latest <= afterMs) return { count: 0, capped: false, latest: undefined };
  let count = 0;
  let t = afterMs;
  while (count < cap) {
    const n = c.next(t);
    if (n === undefined || n > uptoMs) break;
    count++;
    t = n;
  }
  return { count, capped: count >= cap && t < latest, latest };
}
