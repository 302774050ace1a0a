/**
 * When a schedule fires: a cron expression (5 fields, or 6 with seconds first) or one of the
 * forms people know from a phone alarm, as fields or as one line of text. Exactly one form per
 * spec; `tz` is an IANA zone (default UTC). The server parses and previews it
 * (server/services/schedules/schedule-spec.ts); this schema bounds the shape only.
 */
import type { FromSchema } from 'json-schema-to-ts';

const clockTime = { type: 'string', pattern: '^[0-9]{1,2}:[0-9]{2}$', description: 'Wall-clock time "HH:MM" (24 h) in the zone `tz`.' } as const;

export const weekDays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const scheduleSpecSchema = {
  $id: 'urn:stead:schedule-spec',
  type: 'object',
  description: 'When a schedule fires. Exactly one of text, cron, once, daily, weekdays, weekly; tz applies to all.',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 2,
  properties: {
    text: { type: 'string', minLength: 1, maxLength: 200, description: 'One line: "once at 2026-12-24 09:00", "every day at 03:30", "weekdays at 09:00", "every mon,fri at 18:00"; an optional " in Europe/Berlin" sets the zone.' },
    cron: { type: 'string', minLength: 1, maxLength: 200, description: 'Cron: "m h dom mon dow", or "s m h dom mon dow" with seconds; @hourly, @daily, @weekly, @monthly, @yearly.' },
    once: { type: 'string', minLength: 10, maxLength: 40, description: 'One run: RFC 3339 with an offset, or local "YYYY-MM-DD HH:MM" in the zone `tz`.' },
    daily: clockTime,
    weekdays: { ...clockTime, description: 'Monday to Friday at "HH:MM" in the zone `tz`.' },
    weekly: {
      type: 'object',
      description: 'Chosen days of the week at one time.',
      additionalProperties: false,
      required: ['days', 'at'],
      properties: {
        days: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { enum: weekDays }, description: 'Days: mon … sun.' },
        at: clockTime,
      },
    },
    tz: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_+/-]*$', description: 'IANA time zone, e.g. "Europe/Berlin" (default "UTC").' },
  },
} as const;

export type ScheduleSpec = FromSchema<typeof scheduleSpecSchema>;
export type WeekDay = (typeof weekDays)[number];
