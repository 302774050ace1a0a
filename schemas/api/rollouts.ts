import type { FromSchema } from 'json-schema-to-ts';
import { hostName, isoTime } from './fragments.js';
import { jobLaunchSchema } from './jobs.js';
import { rolloutPolicy } from './rollout-policy.js';

/**
 * Canary rollouts (issue 10, ADR 0017): one engine delivers a manifest revision or a job to the
 * fleet in batches, with gates between them and one failure threshold.
 */

export const rolloutPolicySchema = { $id: 'urn:stead:api:rollout-policy', ...rolloutPolicy } as const;
export type RolloutPolicy = FromSchema<typeof rolloutPolicySchema>;

export const rolloutStates = ['running', 'waiting', 'paused', 'completed', 'aborted', 'rolled-back'] as const;
export const batchStates = ['pending', 'running', 'verifying', 'succeeded', 'failed'] as const;

const failure = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'reason'],
  description: 'One failed host of a batch.',
  properties: {
    host: hostName,
    reason: { type: 'string', description: 'What failed: "run failed: 2 resources failed", "no report within 600 s", "probe tcp 10.0.0.5:80 refused", "exit 3".' },
  },
} as const;

const batchView = {
  type: 'object',
  additionalProperties: false,
  required: ['index', 'hosts', 'state', 'failures'],
  description: 'One batch.',
  properties: {
    index: { type: 'integer', minimum: 0, description: 'Position, from 0.' },
    hosts: { type: 'array', items: hostName, description: 'Hosts of the batch, in delivery order.' },
    state: { enum: batchStates, description: 'pending: not started; running: delivered, waiting for runs; verifying: probes running; succeeded; failed: over the threshold.' },
    startedAt: { ...isoTime, description: 'When the batch was delivered.' },
    finishedAt: { ...isoTime, description: 'When it was judged.' },
    failures: { type: 'array', items: failure, description: 'Hosts that failed in this batch.' },
    succeeded: { type: 'integer', minimum: 0, description: 'Hosts of the batch that passed.' },
    jobId: { type: 'string', description: 'Job rollouts: the job that ran this batch.' },
  },
} as const;

/** GET /api/v1/rollouts/:id, and the answer of every rollout action. */
const rolloutView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'state', 'createdAt', 'createdBy', 'updatedAt', 'policy', 'current', 'batches', 'hosts', 'failures', 'threshold'],
  description: 'A rollout and its batches.',
  properties: {
    id: { type: 'string', description: 'Rollout id.' },
    kind: { enum: ['revision', 'job'], description: 'What is delivered.' },
    state: { enum: rolloutStates, description: 'running: a batch is being delivered or verified; waiting: for the wait between batches or a manual gate (see gate); paused: by an operator or the failure threshold (see reason); completed; aborted (every host back on the previous revision); rolled-back.' },
    gate: { enum: ['manual', 'timer'], description: 'When waiting: what it waits for.' },
    nextAt: { ...isoTime, description: 'When waiting for the timer: when the next batch starts.' },
    reason: { type: 'string', description: 'Why it is paused, aborted or rolled back.' },
    revision: { type: 'string', description: 'Revision rollouts: the revision delivered.' },
    previous: { type: 'string', description: 'Revision rollouts: the revision hosts outside started batches keep (absent when nothing was live).' },
    commit: { type: 'string', description: 'Revision rollouts: the git commit of the revision, when known.' },
    job: { type: 'object', description: 'Job rollouts: the launch request every batch job is made from (targets replaced by the batch hosts).' },
    createdAt: isoTime,
    createdBy: { type: 'string', description: 'Operator who started it.' },
    updatedAt: isoTime,
    policy: rolloutPolicy,
    current: { type: 'integer', minimum: -1, description: 'Index of the batch being delivered or last delivered; -1 before the first.' },
    batches: { type: 'array', items: batchView, description: 'Every batch, in order.' },
    hosts: { type: 'integer', minimum: 0, description: 'Hosts in the rollout.' },
    failures: { type: 'integer', minimum: 0, description: 'Failed hosts over all batches so far.' },
    threshold: {
      type: 'object',
      additionalProperties: false,
      required: ['overall'],
      description: 'Failures tolerated: overall, and for the current batch.',
      properties: {
        overall: { type: 'integer', minimum: 0, description: 'Failures tolerated over the whole rollout.' },
        batch: { type: 'integer', minimum: 0, description: 'Failures tolerated in the current batch.' },
      },
    },
  },
} as const;
export const rolloutViewSchema = { $id: 'urn:stead:api:rollout-view', ...rolloutView } as const;
export type RolloutView = FromSchema<typeof rolloutViewSchema>;

/** GET /api/v1/rollouts */
export const rolloutListSchema = {
  $id: 'urn:stead:api:rollout-list',
  type: 'object',
  additionalProperties: false,
  required: ['rollouts'],
  description: 'Rollouts, newest first.',
  properties: {
    rollouts: { type: 'array', items: rolloutView, description: 'Rollouts, newest first.' },
    next: { type: 'string', description: 'Cursor for the next page (pass as ?before=).' },
  },
} as const;

const { $id: _jobLaunchId, ...jobLaunchBody } = jobLaunchSchema;

/** POST /api/v1/rollouts — a job delivered in batches (revisions are rolled out by POST /api/v1/revisions with `rollout`). */
export const jobRolloutRequestSchema = {
  $id: 'urn:stead:api:job-rollout-request',
  type: 'object',
  additionalProperties: false,
  required: ['job', 'policy'],
  description: 'Run a job on its hosts batch by batch.',
  properties: {
    job: jobLaunchBody,
    policy: rolloutPolicy,
  },
} as const;
export type JobRolloutRequest = FromSchema<typeof jobRolloutRequestSchema>;

/** POST /api/v1/rollouts/:id/{continue,pause,abort,rollback} */
export const rolloutActionSchema = {
  $id: 'urn:stead:api:rollout-action',
  type: 'object',
  additionalProperties: false,
  description: 'An operator action on a rollout.',
  properties: { reason: { type: 'string', maxLength: 1000, description: 'Why, for the audit log and the rollout view.' } },
} as const;
export type RolloutAction = FromSchema<typeof rolloutActionSchema>;
