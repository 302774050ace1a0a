/** The dashboard and drift history: GET /api/v1/dashboard, /api/v1/drift, /api/v1/drift/top, /api/v1/drift/days. */
import type { FromSchema } from 'json-schema-to-ts';
import { stateCounts } from './compliance.js';
import { jobListSchema } from './jobs.js';

const isoTime = { type: 'string', format: 'date-time', description: 'RFC 3339 UTC time.' } as const;
const driftKind = { enum: ['detected', 'repaired', 'failed'], description: 'detected: a noop run found the resource would change; repaired: an apply run made a corrective change; failed: the resource failed or was skipped.' } as const;

const kindCounts = {
  type: 'object',
  additionalProperties: false,
  required: ['detected', 'repaired', 'failed'],
  description: 'Events per kind.',
  properties: {
    detected: { type: 'integer', minimum: 0, description: 'Drift found by noop runs.' },
    repaired: { type: 'integer', minimum: 0, description: 'Corrective changes applied.' },
    failed: { type: 'integer', minimum: 0, description: 'Failed or skipped resources.' },
  },
} as const;

const topDrifted = {
  type: 'object',
  additionalProperties: false,
  required: ['resource', 'events', 'hosts', 'byKind', 'lastAt'],
  description: 'One resource and how often it drifted in the window.',
  properties: {
    resource: { type: 'string', description: 'Resource id ("type:title").' },
    events: { type: 'integer', minimum: 0, description: 'Drift events in the window.' },
    hosts: { type: 'integer', minimum: 0, description: 'Distinct hosts with an event in the window.' },
    byKind: kindCounts,
    lastAt: { ...isoTime, description: 'The newest event of this resource.' },
  },
} as const;

const hostLine = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'state', 'groups'],
  description: 'A host and its last run.',
  properties: {
    host: { type: 'string', description: 'Host name.' },
    state: { enum: ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'], description: 'Compliance state.' },
    groups: { type: 'array', items: { type: 'string' }, description: 'Groups of the live revision.' },
    lastRunAt: { ...isoTime, description: 'When its last report arrived.' },
    runId: { type: 'string', description: 'Its last run.' },
    failed: { type: 'integer', minimum: 0, description: 'Failed or skipped resources in the last run.' },
    corrective: { type: 'integer', minimum: 0, description: 'Corrective changes in the last run.' },
  },
} as const;

const rolloutLine = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'state', 'createdAt', 'createdBy', 'batch', 'batches', 'hosts', 'failures'],
  description: 'A rollout that is not over.',
  properties: {
    id: { type: 'string', description: 'Rollout id.' },
    kind: { enum: ['revision', 'job'], description: 'What is delivered.' },
    state: { enum: ['running', 'waiting', 'paused'], description: 'State.' },
    revision: { type: 'string', description: 'Revision rollouts: the revision delivered.' },
    createdAt: isoTime,
    createdBy: { type: 'string', description: 'Operator who started it.' },
    batch: { type: 'integer', minimum: 0, description: 'The current batch, counted from 1 (0 before the first).' },
    batches: { type: 'integer', minimum: 0, description: 'Batches in all.' },
    hosts: { type: 'integer', minimum: 0, description: 'Hosts in the rollout.' },
    failures: { type: 'integer', minimum: 0, description: 'Failed hosts so far.' },
  },
} as const;

/** GET /api/v1/dashboard */
export const dashboardSchema = {
  $id: 'urn:stead:api:dashboard',
  type: 'object',
  additionalProperties: false,
  required: ['at', 'fleet', 'failing', 'drifted', 'jobs', 'rollouts', 'topDrifted'],
  properties: {
    at: { ...isoTime, description: 'When it was computed.' },
    revision: { type: 'string', description: 'The live revision (absent before the first publish).' },
    fleet: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'counts', 'percent'],
      description: 'Hosts of the live inventory by compliance state now.',
      properties: { total: { type: 'integer', minimum: 0, description: 'Hosts.' }, counts: stateCounts, percent: { type: 'number', minimum: 0, maximum: 100, description: 'Share in sync.' } },
    },
    failing: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'hosts'],
      description: 'Failing hosts: how many, and the first ones by name.',
      properties: { total: { type: 'integer', minimum: 0, description: 'Failing hosts.' }, hosts: { type: 'array', items: hostLine, description: 'The first ?limit= of them.' } },
    },
    drifted: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'hosts'],
      description: 'Drifted hosts: how many, and the first ones by name.',
      properties: { total: { type: 'integer', minimum: 0, description: 'Drifted hosts.' }, hosts: { type: 'array', items: hostLine, description: 'The first ?limit= of them.' } },
    },
    jobs: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'items'],
      description: 'Running and paused jobs.',
      properties: { total: { type: 'integer', minimum: 0, description: 'How many.' }, items: { type: 'array', items: jobListSchema.properties.jobs.items, description: 'The newest ?limit= of them.' } },
    },
    rollouts: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'items'],
      description: 'Running, waiting and paused rollouts.',
      properties: { total: { type: 'integer', minimum: 0, description: 'How many.' }, items: { type: 'array', items: rolloutLine, description: 'The newest ?limit= of them.' } },
    },
    topDrifted: {
      type: 'object',
      additionalProperties: false,
      required: ['since', 'items'],
      description: 'The most drifted resources over the window.',
      properties: { since: { ...isoTime, description: 'Start of the window.' }, items: { type: 'array', items: topDrifted, description: 'Most events first.' } },
    },
  },
} as const;
export type DashboardView = FromSchema<typeof dashboardSchema>;

/** GET /api/v1/drift */
export const driftEventListSchema = {
  $id: 'urn:stead:api:drift-event-list',
  type: 'object',
  additionalProperties: false,
  required: ['events'],
  properties: {
    events: {
      type: 'array',
      description: 'Drift events, newest first.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'resource', 'kind', 'runId', 'at', 'startedAt', 'mode', 'corrective', 'changed'],
        properties: {
          host: { type: 'string', description: 'Host name.' },
          resource: { type: 'string', description: 'Resource id ("type:title").' },
          kind: driftKind,
          runId: { type: 'string', description: 'The run that reported it.' },
          at: { ...isoTime, description: 'When the server received the report.' },
          startedAt: { ...isoTime, description: 'When the run started (agent clock).' },
          mode: { enum: ['apply', 'noop'], description: 'The run mode.' },
          corrective: { type: 'boolean', description: 'A change was corrective (drift, not a pending desired change).' },
          changed: { type: 'array', items: { type: 'string' }, description: 'Names of the properties that moved (or would move).' },
          error: { type: 'string', description: 'Failure code (failed only).' },
        },
      },
    },
    next: { type: 'string', description: 'Pass as ?cursor= for the next page (absent on the last).' },
  },
} as const;
export type DriftEventList = FromSchema<typeof driftEventListSchema>;

/** GET /api/v1/drift/top */
export const topDriftedSchema = {
  $id: 'urn:stead:api:drift-top',
  type: 'object',
  additionalProperties: false,
  required: ['since', 'resources'],
  properties: {
    since: { ...isoTime, description: 'Start of the window.' },
    resources: { type: 'array', items: topDrifted, description: 'Most events first (ties by name).' },
  },
} as const;
export type TopDriftedList = FromSchema<typeof topDriftedSchema>;

/** GET /api/v1/drift/days */
export const driftDaysSchema = {
  $id: 'urn:stead:api:drift-days',
  type: 'object',
  additionalProperties: false,
  required: ['since', 'days'],
  properties: {
    since: { ...isoTime, description: 'Start of the first day.' },
    days: {
      type: 'array',
      description: 'Days with events (UTC), oldest first.',
      items: { type: 'object', additionalProperties: false, required: ['day', 'counts'], properties: { day: { type: 'string', format: 'date', description: 'The UTC day.' }, counts: kindCounts } },
    },
  },
} as const;
export type DriftDays = FromSchema<typeof driftDaysSchema>;
