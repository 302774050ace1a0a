import type { FromSchema } from 'json-schema-to-ts';
import { enrollmentStatus, hostName, isoTime } from './fragments.js';

export const complianceState = {
  enum: ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'],
  description: 'in-sync: last run clean; drifted: corrective changes in the last run; failing: the last run failed; not-reporting: no report for too long; unknown: never reported.',
} as const;

/** The summary of a host's newest run (without $id, for embedding). */
const lastRun = {
  type: 'object',
  description: "Summary of the host's newest stored report.",
  additionalProperties: false,
  required: ['runId', 'at', 'outcome', 'mode', 'corrective', 'failed', 'changed'],
  properties: {
    runId: { type: 'string', description: 'The run id the agent chose.' },
    at: { ...isoTime, description: 'When the run finished (agent clock).' },
    receivedAt: { ...isoTime, description: 'When the server stored the report.' },
    outcome: { type: 'string', description: 'The run outcome as the report states it (schemas/report.ts).' },
    mode: { type: 'string', description: '"enforce" or "noop".' },
    catalogId: { type: 'string', description: 'The catalog the run enforced.' },
    revision: { type: 'string', description: 'The revision that catalog was compiled from.' },
    corrective: { type: 'integer', description: 'Resources changed because the host had drifted.' },
    changed: { type: 'integer', description: 'Resources changed (intentional and corrective).' },
    failed: { type: 'integer', description: 'Resources that failed or were skipped.' },
  },
} as const;

export const lastRunSchema = { $id: 'urn:stead:api:last-run', ...lastRun } as const;

const hostView = {
  type: 'object',
  description: 'A host: inventory, enrollment, last run and compliance.',
  additionalProperties: false,
  required: ['host', 'inInventory', 'compliance'],
  properties: {
    host: hostName,
    inInventory: { type: 'boolean', description: 'The live revision declares this host.' },
    groups: { type: 'array', items: { type: 'string' }, description: 'Groups of the live revision the host belongs to.' },
    enrollment: enrollmentStatus,
    compliance: complianceState,
    lastRun,
    factsUpdatedAt: { ...isoTime, description: 'When the agent last sent changed facts (one host only).' },
  },
} as const;

/** A host as operators see it: inventory, enrollment, last run and compliance. */
export const hostViewSchema = { $id: 'urn:stead:api:host-view', ...hostView } as const;
export type HostView = FromSchema<typeof hostViewSchema>;

export const hostListSchema = {
  $id: 'urn:stead:api:host-list',
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: { hosts: { type: 'array', items: hostView, description: 'Live inventory ∪ enrolled ∪ reported hosts.' } },
} as const;

/** POST /api/v1/hosts/:host/reports acknowledgement. */
export const reportAckSchema = {
  $id: 'urn:stead:api:report-ack',
  type: 'object',
  additionalProperties: false,
  required: ['runId', 'duplicate'],
  properties: {
    runId: { type: 'string', description: 'The runId of the acknowledged report.' },
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
