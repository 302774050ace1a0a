import type { FromSchema } from 'json-schema-to-ts';
import { repoProblemSchema } from '../repo/problem.js';
import { hostName, isoTime } from './fragments.js';

/**
 * The fleet plan (issue 10, ADR 0017): what a revision (or an uncommitted upload) would change on
 * every host compared with a base revision (default: the live one), computed by compiling each
 * host's catalog under both with the host's stored facts. Secrets are redacted in diffs.
 */

const { $id: _problemId, ...problem } = repoProblemSchema;

const resourceChange = {
  type: 'object',
  additionalProperties: false,
  required: ['resource', 'action'],
  description: 'One resource whose desired state differs.',
  properties: {
    resource: { type: 'string', description: 'Resource key as reports name it, e.g. "file:/etc/motd".' },
    action: { enum: ['create', 'modify', 'remove'], description: 'create: only in the new catalog; remove: only in the base; modify: in both, different.' },
    attributes: { type: 'array', items: { type: 'string' }, description: 'modify: the attributes that differ (content, mode, owner, ensure, …).' },
    diff: { type: 'string', description: 'Files: a unified diff of the rendered content (at most 64 KiB; secrets shown as [redacted]).' },
    sensitive: { type: 'boolean', description: 'The content depends on a secret: no diff is shown.' },
  },
} as const;

const hostPlan = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'status', 'changes'],
  description: 'The plan of one host.',
  properties: {
    host: hostName,
    status: { enum: ['changes', 'unchanged', 'fails', 'added', 'removed'], description: 'changes: resources differ; unchanged; fails: the new catalog does not compile (see problems); added/removed: the host enters or leaves the inventory.' },
    changes: { type: 'array', items: resourceChange, description: 'Resources that differ.' },
    problems: { type: 'array', items: problem, description: 'fails: why the catalog does not compile.' },
  },
} as const;

const fleetPlan = {
  type: 'object',
  additionalProperties: false,
  required: ['base', 'summary', 'hosts'],
  description: 'The impact of a change on the fleet.',
  properties: {
    base: { type: ['string', 'null'], description: 'The revision compared against (null: nothing was live).' },
    target: { type: 'string', description: 'The revision planned (content id; for an upload, the id it would get).' },
    computedAt: isoTime,
    summary: {
      type: 'object',
      additionalProperties: false,
      required: ['hosts', 'changed', 'unchanged', 'failed', 'resources'],
      description: 'Counts.',
      properties: {
        hosts: { type: 'integer', minimum: 0, description: 'Hosts planned.' },
        changed: { type: 'integer', minimum: 0, description: 'Hosts with changes (including added and removed).' },
        unchanged: { type: 'integer', minimum: 0, description: 'Hosts without changes.' },
        failed: { type: 'integer', minimum: 0, description: 'Hosts whose new catalog fails to compile.' },
        resources: { type: 'integer', minimum: 0, description: 'Resource changes over all hosts.' },
      },
    },
    hosts: { type: 'array', items: hostPlan, description: 'Per host, changed and failing hosts first.' },
  },
} as const;

/** GET /api/v1/revisions/:id/plan?base=REV and POST /api/v1/revisions/plan */
export const fleetPlanSchema = { $id: 'urn:stead:api:fleet-plan', ...fleetPlan } as const;
export type FleetPlan = FromSchema<typeof fleetPlanSchema>;

/** GET /api/v1/revisions/:id/surprises — changes reported after publishing that the plan did not predict. */
export const surpriseListSchema = {
  $id: 'urn:stead:api:surprise-list',
  type: 'object',
  additionalProperties: false,
  required: ['revision', 'surprises'],
  description: 'Changes reported by hosts running a revision that its plan did not predict.',
  properties: {
    revision: { type: 'string', description: 'The revision.' },
    planned: { type: 'boolean', description: 'A plan was stored for this revision when it was published (without one nothing can be a surprise).' },
    surprises: {
      type: 'array',
      description: 'Surprises, newest first.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'resource', 'runId', 'at'],
        description: 'One surprise.',
        properties: {
          host: hostName,
          resource: { type: 'string', description: 'The resource the report changed.' },
          runId: { type: 'string', description: 'The run that changed it.' },
          at: isoTime,
          reason: { type: 'string', description: '"not in the plan of this host" or "the plan predicted no change".' },
        },
      },
    },
  },
} as const;
