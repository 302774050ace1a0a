import type { FromSchema } from 'json-schema-to-ts';

const stateCounts = {
  type: 'object',
  additionalProperties: false,
  required: ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'],
  properties: {
    'in-sync': { type: 'integer', minimum: 0 },
    drifted: { type: 'integer', minimum: 0 },
    failing: { type: 'integer', minimum: 0 },
    'not-reporting': { type: 'integer', minimum: 0 },
    unknown: { type: 'integer', minimum: 0 },
  },
} as const;

export const complianceBucketSchema = {
  $id: 'urn:stead:api:compliance-bucket',
  type: 'object',
  additionalProperties: false,
  required: ['scope', 'total', 'counts', 'percent'],
  properties: {
    scope: { type: 'string', description: '"fleet", "group:<name>" or "resource:<type:title>".' },
    total: { type: 'integer', minimum: 0 },
    counts: stateCounts,
    percent: { type: 'number', minimum: 0, maximum: 100, description: 'Share of in-sync hosts (or, for a resource, hosts where it is compliant).' },
  },
} as const;
export type ComplianceBucket = FromSchema<typeof complianceBucketSchema>;

export const complianceSummarySchema = {
  $id: 'urn:stead:api:compliance-summary',
  type: 'object',
  additionalProperties: false,
  required: ['at', 'fleet', 'groups', 'resources'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    fleet: complianceBucketSchema,
    groups: { type: 'array', items: complianceBucketSchema },
    resources: { type: 'array', items: complianceBucketSchema },
  },
} as const;
export type ComplianceSummary = FromSchema<typeof complianceSummarySchema>;

export const complianceHistorySchema = {
  $id: 'urn:stead:api:compliance-history',
  type: 'object',
  additionalProperties: false,
  required: ['scope', 'points'],
  properties: {
    scope: { type: 'string' },
    points: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['hour', 'total', 'counts', 'percent'],
        properties: {
          hour: { type: 'string', format: 'date-time', description: 'Start of the hour (UTC).' },
          total: { type: 'integer', minimum: 0 },
          counts: stateCounts,
          percent: { type: 'number' },
        },
      },
    },
  },
} as const;
export type ComplianceHistory = FromSchema<typeof complianceHistorySchema>;
