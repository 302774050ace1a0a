import type { FromSchema } from 'json-schema-to-ts';

export const stateCounts = {
  type: 'object',
  description: 'Hosts in each compliance state.',
  additionalProperties: false,
  required: ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'],
  properties: {
    'in-sync': { type: 'integer', minimum: 0, description: 'Hosts whose last run found nothing to correct.' },
    drifted: { type: 'integer', minimum: 0, description: 'Hosts whose last run made (or, in noop, would make) corrective changes.' },
    failing: { type: 'integer', minimum: 0, description: 'Hosts whose last run failed.' },
    'not-reporting': { type: 'integer', minimum: 0, description: 'Hosts without a report for longer than --stale-after.' },
    unknown: { type: 'integer', minimum: 0, description: 'Hosts that never reported.' },
  },
} as const;

const total = { type: 'integer', minimum: 0, description: 'Hosts counted in this scope.' } as const;

/** A compliance figure for one scope (without $id, for embedding). */
const complianceBucket = {
  type: 'object',
  description: 'Compliance of one scope: the fleet, a group or a resource.',
  additionalProperties: false,
  required: ['scope', 'total', 'counts', 'percent'],
  properties: {
    scope: { type: 'string', description: '"fleet", "group:<name>" or "resource:<type:title>".' },
    total,
    counts: stateCounts,
    percent: { type: 'number', minimum: 0, maximum: 100, description: 'Share of in-sync hosts (or, for a resource, hosts where it is compliant).' },
  },
} as const;

export const complianceBucketSchema = { $id: 'urn:stead:api:compliance-bucket', ...complianceBucket } as const;
export type ComplianceBucket = FromSchema<typeof complianceBucketSchema>;

/** GET /api/v1/compliance */
export const complianceSummarySchema = {
  $id: 'urn:stead:api:compliance-summary',
  type: 'object',
  additionalProperties: false,
  required: ['at', 'fleet', 'groups', 'resources'],
  properties: {
    at: { type: 'string', format: 'date-time', description: 'When the summary was computed (RFC 3339 UTC).' },
    fleet: { ...complianceBucket, description: 'Every host of the live inventory.' },
    groups: { type: 'array', items: complianceBucket, description: 'One bucket per group of the live revision.' },
    resources: { type: 'array', items: complianceBucket, description: 'One bucket per resource, over the hosts whose last run had it.' },
  },
} as const;
export type ComplianceSummary = FromSchema<typeof complianceSummarySchema>;

/** Hosts per state as a mean over the hours behind a point (integers for an hour). */
const meanCounts = {
  type: 'object',
  description: 'Hosts in each compliance state; for a day or a month the mean over its hourly samples (host-hours / hours).',
  additionalProperties: false,
  required: ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'],
  properties: {
    'in-sync': { type: 'number', minimum: 0, description: 'In sync.' },
    drifted: { type: 'number', minimum: 0, description: 'Drifted.' },
    failing: { type: 'number', minimum: 0, description: 'Failing.' },
    'not-reporting': { type: 'number', minimum: 0, description: 'Not reporting.' },
    unknown: { type: 'number', minimum: 0, description: 'Never reported.' },
  },
} as const;

/** GET /api/v1/compliance/history */
export const complianceHistorySchema = {
  $id: 'urn:stead:api:compliance-history',
  type: 'object',
  additionalProperties: false,
  required: ['scope', 'points'],
  properties: {
    scope: { type: 'string', description: 'The scope asked for: "fleet", "group:<name>" or "resource:<type:title>".' },
    step: { enum: ['hour', 'day', 'month'], description: 'One point per UTC hour (hourly roll-ups), day (fleet and groups: the mean of its hours) or month (the mean of its days).' },
    from: { type: 'string', format: 'date-time', description: 'Start of the range (inclusive).' },
    to: { type: 'string', format: 'date-time', description: 'End of the range (exclusive).' },
    points: {
      type: 'array',
      description: 'Roll-ups, oldest first; periods without data are absent.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['hour', 'total', 'counts', 'percent'],
        properties: {
          at: { type: 'string', format: 'date-time', description: 'Start of the hour, day or month (UTC).' },
          hour: { type: 'string', format: 'date-time', description: 'The same as at (kept for clients of the hourly-only form).' },
          total: { type: 'number', minimum: 0, description: 'Hosts counted (a mean for days and months).' },
          counts: meanCounts,
          percent: { type: 'number', description: 'Share of in-sync (or compliant) hosts, 0 to 100.' },
          samples: { type: 'integer', minimum: 0, description: 'Hourly roll-ups behind the point.' },
        },
      },
    },
  },
} as const;
export type ComplianceHistory = FromSchema<typeof complianceHistorySchema>;
