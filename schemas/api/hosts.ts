import type { FromSchema } from 'json-schema-to-ts';
import { enrollmentStatus, hostName, isoTime } from './fragments.js';

export const complianceState = {
  enum: ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'],
  description: 'in-sync: last run clean; drifted: corrective changes in the last run; failing: the last run failed; not-reporting: no report for too long; unknown: never reported.',
} as const;

export const lastRunSchema = {
  $id: 'urn:stead:api:last-run',
  type: 'object',
  additionalProperties: false,
  required: ['runId', 'at', 'outcome', 'mode', 'corrective', 'failed', 'changed'],
  properties: {
    runId: { type: 'string' },
    at: isoTime,
    receivedAt: isoTime,
    outcome: { type: 'string' },
    mode: { type: 'string' },
    catalogId: { type: 'string' },
    revision: { type: 'string' },
    corrective: { type: 'integer' },
    changed: { type: 'integer' },
    failed: { type: 'integer' },
  },
} as const;

/** A host as operators see it: inventory, enrollment, last run and compliance. */
export const hostViewSchema = {
  $id: 'urn:stead:api:host-view',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'inInventory', 'compliance'],
  properties: {
    host: hostName,
    inInventory: { type: 'boolean', description: 'The live revision declares this host.' },
    groups: { type: 'array', items: { type: 'string' } },
    enrollment: enrollmentStatus,
    compliance: complianceState,
    lastRun: lastRunSchema,
    factsUpdatedAt: isoTime,
  },
} as const;
export type HostView = FromSchema<typeof hostViewSchema>;

export const hostListSchema = {
  $id: 'urn:stead:api:host-list',
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: { hosts: { type: 'array', items: hostViewSchema } },
} as const;

/** POST /api/v1/hosts/:host/reports acknowledgement. */
export const reportAckSchema = {
  $id: 'urn:stead:api:report-ack',
  type: 'object',
  additionalProperties: false,
  required: ['runId', 'duplicate'],
  properties: {
    runId: { type: 'string' },
    duplicate: { type: 'boolean', description: 'true: this runId was already stored; nothing changed.' },
  },
} as const;
export type ReportAck = FromSchema<typeof reportAckSchema>;

export const factsAckSchema = {
  $id: 'urn:stead:api:facts-ack',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'changed'],
  properties: { host: hostName, changed: { type: 'boolean', description: 'The facts differ from the previous ones.' } },
} as const;
