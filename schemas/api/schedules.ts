/** Requests and answers of /api/v1/schedules (ADR 0014): schedules that launch jobs or plans. */
import type { FromSchema } from 'json-schema-to-ts';
import { scheduleSpecSchema } from '../schedule-spec.js';
import { isoTime } from './fragments.js';

const { $id: _specId, ...spec } = scheduleSpecSchema;

const scheduleName = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Unique name: a-z, 0-9 and "-", 1-63 characters.' } as const;
const missed = { enum: ['skip', 'run-once'], description: 'Runs missed while every server was down: skip them (default), or run once for all of them.' } as const;

/** The launch body of a job (ADR 0014); the job service checks it in full when the schedule fires. */
const launchBody = {
  type: 'object',
  description: 'A job launch body as POST /api/v1/jobs takes it (targets plus steps, or the one-script shorthand).',
  additionalProperties: true,
  required: ['targets'],
  maxProperties: 16,
  properties: {
    targets: { type: 'string', minLength: 1, maxLength: 4096, description: 'Target selector, e.g. "group:web,tag:canary".' },
    steps: { type: 'array', maxItems: 100, items: { type: 'object' }, description: 'The steps (ADR 0014).' },
    script: { type: 'object', description: 'One script step (shorthand for steps).' },
  },
} as const;

const planRef = {
  type: 'object',
  description: 'A saved plan to run, with the body of POST /api/v1/plans/:id/run.',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'The plan id.' },
    body: { type: 'object', description: 'Targets and variables for the run (default {}).' },
  },
} as const;

export const scheduleCreateSchema = {
  $id: 'urn:stead:api:schedule-create',
  type: 'object',
  description: 'A new schedule: when (spec) and what (job or plan).',
  additionalProperties: false,
  required: ['name', 'spec'],
  properties: {
    name: scheduleName,
    spec,
    job: launchBody,
    plan: planRef,
    missed,
    disabled: { type: 'boolean', description: 'Create it disabled (default: enabled).' },
  },
} as const;
export type ScheduleCreate = FromSchema<typeof scheduleCreateSchema>;

export const schedulePreviewRequestSchema = {
  $id: 'urn:stead:api:schedule-preview-request',
  type: 'object',
  description: 'A spec to preview.',
  additionalProperties: false,
  required: ['spec'],
  properties: {
    spec,
    count: { type: 'integer', minimum: 1, maximum: 50, description: 'How many runs (default 5).' },
  },
} as const;
export type SchedulePreviewRequest = FromSchema<typeof schedulePreviewRequestSchema>;

export const schedulePreviewSchema = {
  $id: 'urn:stead:api:schedule-preview',
  type: 'object',
  description: 'How the server reads a spec and when it would fire.',
  additionalProperties: false,
  required: ['description', 'tz', 'nextRuns'],
  properties: {
    description: { type: 'string', description: 'The spec in words, with its zone.' },
    tz: { type: 'string', description: 'The canonical IANA zone.' },
    nextRuns: { type: 'array', items: isoTime, description: 'The next fire times (UTC).' },
  },
} as const;

const lastRun = {
  type: 'object',
  description: 'The newest fire.',
  additionalProperties: false,
  required: ['at', 'firedAt', 'missedRuns'],
  properties: {
    at: { ...isoTime, description: 'The scheduled time.' },
    firedAt: { ...isoTime, description: 'When it launched.' },
    jobId: { type: 'string', description: 'The job it launched.' },
    jobState: { type: 'string', description: 'That job\'s state now (when the job service tells).' },
    error: { type: 'string', description: 'Why the launch failed.' },
    missedRuns: { type: 'integer', description: 'Missed runs folded into this one (policy run-once).' },
  },
} as const;

const scheduleView = {
  type: 'object',
  description: 'A schedule with its next and last runs.',
  additionalProperties: false,
  required: ['id', 'name', 'spec', 'description', 'tz', 'enabled', 'missed', 'createdBy', 'createdAt', 'nextRuns'],
  properties: {
    id: { type: 'string', description: 'Stable id (JobView.scheduleId).' },
    name: scheduleName,
    spec,
    description: { type: 'string', description: 'The spec in words, with its zone.' },
    tz: { type: 'string', description: 'The canonical IANA zone.' },
    enabled: { type: 'boolean', description: 'Whether it fires.' },
    missed,
    job: launchBody,
    plan: planRef,
    createdBy: { type: 'string', description: 'The operator who created it (jobs are launched as them).' },
    createdAt: isoTime,
    nextRuns: { type: 'array', items: isoTime, description: 'The next five fire times (none when disabled or done).' },
    lastRun,
    skipped: {
      type: 'object',
      description: 'The newest runs skipped because no server ran (policy skip).',
      additionalProperties: false,
      required: ['count', 'latest', 'at'],
      properties: {
        count: { type: 'integer', description: 'How many were skipped (at least, when capped).' },
        capped: { type: 'boolean', description: 'The count stopped at its cap.' },
        latest: { ...isoTime, description: 'The newest skipped time.' },
        at: { ...isoTime, description: 'When they were skipped.' },
      },
    },
  },
} as const;

export const scheduleViewSchema = { $id: 'urn:stead:api:schedule-view', ...scheduleView } as const;
export type ScheduleView = FromSchema<typeof scheduleViewSchema>;

export const scheduleListSchema = {
  $id: 'urn:stead:api:schedule-list',
  type: 'object',
  description: 'Every schedule, by name.',
  additionalProperties: false,
  required: ['schedules', 'firing'],
  properties: {
    schedules: { type: 'array', items: scheduleView, description: 'Schedules by name.' },
    firing: { type: 'boolean', description: 'Whether this server fires schedules (a job launcher is wired).' },
  },
} as const;
