/**
 * Schedule specs: cron with and without seconds, in zones across DST changes; the phone-alarm
 * forms as fields and as text; previews; bad input refused with a message naming the problem.
 */
import t, { type Test } from 'tap';
import { ApiError } from '../../../../server/domain/errors.js';
import { compileSpec, dueBetween, nextRuns, parseText } from '../../../../server/services/schedules/schedule-spec.js';
import { canonicalZone, instantOfWall } from '../../../../server/services/schedules/zoned-time.js';
import type { ScheduleSpec } from '../../../../schemas/schedule-spec.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: readonly number[]): string[] => ms.map((m) => new Date(m).toISOString());
const runs = (spec: ScheduleSpec, from: string, n = 5): string[] => iso(nextRuns(compileSpec(spec), at(from), n));

function refused(t: Test, spec: ScheduleSpec, message: RegExp, name: string): void {
  try {
    compileSpec(spec);
    t.fail(`${name}: accepted`);
  } catch (err) {
    t.ok(err instanceof ApiError && err.status === 400, `${name}: 400`);
    t.match((err as Error).message, message, `${name}: ${(err as Error).message}`);
  }
}

t.test('cron with five fields fires on the minute, with six on the second', async (t) => {
  t.same(runs({ cron: '*/15 * * * *' }, '2026-03-07T10:07:30Z', 3), ['2026-03-07T10:15:00.000Z', '2026-03-07T10:30:00.000Z', '2026-03-07T10:45:00.000Z']);
  t.same(runs({ cron: '*/20 * * * * *' }, '2026-03-07T10:07:30Z', 3), ['2026-03-07T10:07:40.000Z', '2026-03-07T10:08:00.000Z', '2026-03-07T10:08:20.000Z']);
  t.same(runs({ cron: '@daily' }, '2026-03-07T10:00:00Z', 2), ['2026-03-08T00:00:00.000Z', '2026-03-09T00:00:00.000Z']);
  const c = compileSpec({ cron: ' 0  9 * * 1-5 ', tz: 'Asia/Shanghai' });
  t.equal(c.cron, '0 0 9 * * 1-5');
  t.equal(c.description, 'cron "0 9 * * 1-5" (Asia/Shanghai)');
  t.same(iso(nextRuns(c, at('2026-03-06T02:00:00Z'), 2)), ['2026-03-09T01:00:00.000Z', '2026-03-10T01:00:00.000Z'], '09:00 Shanghai = 01:00 UTC, weekdays only');
});

t.test('cron in a zone across DST: a skipped time runs an hour later, a doubled time once', async (t) => {
  // Europe/Berlin: 2026-03-29 02:00 → 03:00; 2026-10-25 03:00 → 02:00.
  t.same(runs({ cron: '30 2 * * *', tz: 'Europe/Berlin' }, '2026-03-27T12:00:00Z', 3), ['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'], 'spring: 02:30 does not exist on the 29th, runs at 03:30 CEST');
  t.same(runs({ cron: '30 2 * * *', tz: 'Europe/Berlin' }, '2026-10-24T12:00:00Z', 3), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z'], 'autumn: 02:30 happens twice on the 25th, runs once');
  t.same(runs({ cron: '0 30 2 * * *', tz: 'America/New_York' }, '2026-03-07T12:00:00Z', 3), ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z'], 'seconds form in New York (spring forward 03-08)');
  t.same(runs({ daily: '02:30', tz: 'Europe/Berlin' }, '2026-03-28T12:00:00Z', 2), ['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'], 'the daily form follows the same rule (one run every day)');
});

t.test('phone-alarm forms as fields and as text', async (t) => {
  t.same(runs({ daily: '03:30' }, '2026-03-07T10:00:00Z', 2), ['2026-03-08T03:30:00.000Z', '2026-03-09T03:30:00.000Z']);
  t.same(runs({ weekdays: '9:00', tz: 'Europe/Berlin' }, '2026-03-06T10:00:00Z', 3), ['2026-03-09T08:00:00.000Z', '2026-03-10T08:00:00.000Z', '2026-03-11T08:00:00.000Z'], 'Friday 11:00 → Monday');
  t.same(runs({ weekly: { days: ['fri', 'mon'], at: '18:00' } }, '2026-03-07T10:00:00Z', 3), ['2026-03-09T18:00:00.000Z', '2026-03-13T18:00:00.000Z', '2026-03-16T18:00:00.000Z']);
  t.same(runs({ once: '2026-12-24 09:00', tz: 'Europe/Berlin' }, '2026-03-07T10:00:00Z'), ['2026-12-24T08:00:00.000Z'], 'once: one run only');
  t.same(runs({ once: '2026-12-24T09:00:00+02:00' }, '2026-03-07T10:00:00Z'), ['2026-12-24T07:00:00.000Z']);
  t.same(runs({ once: '2026-01-01 00:00' }, '2026-03-07T10:00:00Z'), [], 'a once in the past has no next run');

  t.same(parseText('once at 2026-12-24 09:00'), { once: '2026-12-24 09:00' });
  t.same(parseText('Every day at 03:30'), { daily: '03:30' });
  t.same(parseText('weekdays at 09:00 in Europe/Berlin'), { weekdays: '09:00', tz: 'Europe/Berlin' });
  t.same(parseText('every Monday and Fridays at 18:00'), { weekly: { days: ['mon', 'fri'], at: '18:00' } });
  t.same(parseText('every mon,wed, fri at 7:05'), { weekly: { days: ['mon', 'wed', 'fri'], at: '7:05' } });
  t.same(parseText('weekends at 10:00'), { weekly: { days: ['sat', 'sun'], at: '10:00' } });
  t.same(parseText('daily at 23:59'), { daily: '23:59' });

  const text = compileSpec({ text: 'every day at 03:30', tz: 'Europe/Berlin' });
  t.equal(text.description, 'every day at 03:30 (Europe/Berlin)');
  t.equal(compileSpec({ text: 'weekdays at 09:00' }).description, 'weekdays at 09:00 (UTC)');
  t.equal(compileSpec({ text: 'every fri, mon at 18:00' }).description, 'every mon, fri at 18:00 (UTC)');
  t.equal(compileSpec({ text: 'once at 2026-12-24 09:00 in Asia/Tokyo' }).description, 'once at 2026-12-24 09:00 (Asia/Tokyo)');
  t.equal(compileSpec({ text: 'every day at 03:30 in utc', tz: 'UTC' }).tz, 'UTC', 'the same zone twice is fine');
});

t.test('bad input is refused with a message naming the problem', async (t) => {
  refused(t, { cron: '61 * * * *' }, /minute field "61".*range 0-59/, 'minute out of range');
  refused(t, { cron: '0 0 25 * * *' }, /hour field "25"/, 'hour out of range (six fields)');
  refused(t, { cron: '* * * *' }, /4 field\(s\); write 5/, 'too few fields');
  refused(t, { cron: '* * * * * * *' }, /7 field\(s\)/, 'too many fields');
  refused(t, { cron: '0 0 30 2 *' }, /"0 0 30 2 \*" is not valid: Invalid explicit day of month/, 'February 30th');
  refused(t, { cron: '0 0 * * $' }, /day of week field "\$" has characters/, 'odd characters');
  refused(t, { cron: '@reboot' }, /unknown "@reboot"/, 'unknown macro');
  refused(t, { cron: '0 9 * * *', tz: 'Mars/Olympus' }, /unknown time zone "Mars\/Olympus"/, 'unknown zone');
  refused(t, { daily: '9:00', tz: '../etc' }, /not an IANA zone name/, 'zone with path characters');
  refused(t, { daily: '24:00' }, /daily: "24:00" is not a time of day/, 'hour 24');
  refused(t, { weekdays: '09:60' }, /weekdays: "09:60"/, 'minute 60');
  refused(t, { weekly: { days: ['mon'], at: '7' } }, /weekly.at: "7"/, 'weekly time');
  refused(t, { once: '2026-02-30 09:00' }, /once: "2026-02-30 09:00" is not a date and time/, 'no such day');
  refused(t, { once: '2026-03-29 02:30', tz: 'Europe/Berlin' }, /does not exist in Europe\/Berlin/, 'a time the clocks skip');
  refused(t, { once: 'tomorrow+01:00' }, /not an RFC 3339 time/, 'garbage with an offset');
  refused(t, { text: 'at dawn' }, /cannot read "at dawn" as a schedule; write "once at/, 'unreadable text');
  refused(t, { text: 'every funday at 10:00' }, /"funday" is not a day of the week/, 'unknown day');
  refused(t, { text: 'every day at 03:30 in Europe/Berlin', tz: 'Asia/Tokyo' }, /names the zone Europe\/Berlin but tz is Asia\/Tokyo/, 'two zones');
  refused(t, {} as ScheduleSpec, /needs one of text, cron/, 'empty');
  refused(t, { daily: '03:30', cron: '* * * * *' }, /one form, not cron and daily/, 'two forms');
});

t.test('zones and wall times', async (t) => {
  t.equal(canonicalZone('utc'), 'UTC');
  t.equal(canonicalZone('Europe/Berlin'), 'Europe/Berlin');
  t.equal(instantOfWall({ y: 2026, mo: 10, d: 25, h: 2, mi: 30, s: 0 }, 'Europe/Berlin'), at('2026-10-25T00:30:00Z'), 'a doubled wall time: the first');
  t.equal(instantOfWall({ y: 2026, mo: 3, d: 29, h: 2, mi: 30, s: 0 }, 'Europe/Berlin'), undefined, 'a skipped wall time: none');
});

t.test('due runs between two instants: count, cap and latest', async (t) => {
  const c = compileSpec({ cron: '0 * * * *' });
  t.same(dueBetween(c, at('2026-03-07T10:00:00Z'), at('2026-03-07T15:30:00Z')), { count: 5, capped: false, latest: at('2026-03-07T15:00:00Z') });
  t.same(dueBetween(c, at('2026-03-07T10:00:00Z'), at('2026-03-07T10:59:59Z')), { count: 0, capped: false, latest: undefined });
  const everySecond = compileSpec({ cron: '* * * * * *' });
  const d = dueBetween(everySecond, at('2026-03-07T00:00:00Z'), at('2026-03-08T00:00:00Z'), 100);
  t.same(d, { count: 100, capped: true, latest: at('2026-03-08T00:00:00Z') }, 'a long outage is not walked second by second');
  const once = compileSpec({ once: '2026-03-07T12:00:00Z' });
  t.same(dueBetween(once, at('2026-03-07T10:00:00Z'), at('2026-03-07T13:00:00Z')), { count: 1, capped: false, latest: at('2026-03-07T12:00:00Z') });
  t.equal(nextRuns(c, at('2026-03-07T10:00:00Z'), 500).length, 50, 'previews stop at 50');
});
