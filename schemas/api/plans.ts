import type { FromSchema } from 'json-schema-to-ts';
import { isoTime } from './fragments.js';
import { jobStep, targetSelector, varsMap } from './jobs.js';

/**
 * Saved job plans (docs/adr/0014-jobs.md): a named list of steps with default targets, launched
 * with POST /api/v1/plans/:id/run. A step is exactly a launch body's step (schemas/api/jobs.ts).
 */

/** One step of a plan (the launch body's Step). */
export const planStepSchema = { $id: 'urn:stead:api:plan-step', ...jobStep } as const;
export type PlanStep = FromSchema<typeof planStepSchema>;

const planFields = {
  name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$', description: 'Unique name of the plan.' },
  description: { type: 'string', maxLength: 4000, description: 'What the plan is for.' },
  targets: targetSelector,
  vars: varsMap,
  steps: { type: 'array', minItems: 1, maxItems: 100, items: jobStep, description: 'The steps, in order (each exactly a launch body\'s step).' },
} as const;

/** POST /api/v1/plans and PUT /api/v1/plans/:id. */
export const planWriteSchema = {
  $id: 'urn:stead:api:plan-write',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'targets', 'steps'],
  properties: {
    ...planFields,
    version: { type: 'integer', minimum: 1, description: 'PUT only: the version this edit is based on (409 when the plan has moved on).' },
  },
} as const;
export type PlanWrite = FromSchema<typeof planWriteSchema>;

/** A saved plan. */
export const planViewSchema = {
  $id: 'urn:stead:api:plan-view',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'targets', 'steps', 'version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy'],
  properties: {
    id: { type: 'string', pattern: '^pl_[A-Za-z0-9_-]{1,64}$', description: 'Plan id.' },
    ...planFields,
    version: { type: 'integer', minimum: 1, description: 'Increases with every update.' },
    createdAt: isoTime,
    createdBy: { type: 'string', description: 'Operator who created it.' },
    updatedAt: isoTime,
    updatedBy: { type: 'string', description: 'Operator who saved this version.' },
  },
} as const;
export type PlanView = FromSchema<typeof planViewSchema>;

/** GET /api/v1/plans */
export const planListSchema = {
  $id: 'urn:stead:api:plan-list',
  type: 'object',
  additionalProperties: false,
  required: ['plans'],
  properties: {
    plans: {
      type: 'array',
      description: 'Plans by name (without their steps).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'targets', 'version', 'steps', 'updatedAt'],
        properties: {
          id: { type: 'string', description: 'Plan id.' },
          name: { type: 'string', description: 'Name.' },
          description: { type: 'string', description: 'What it is for.' },
          targets: { type: 'string', description: 'Default targets.' },
          version: { type: 'integer', description: 'Current version.' },
          steps: { type: 'integer', description: 'Number of steps.' },
          updatedAt: isoTime,
        },
      },
    },
  },
} as const;
export type PlanList = FromSchema<typeof planListSchema>;


/** POST /api/v1/plans/:id/run — overrides of the saved plan for this launch. */
export const planRunSchema = {
  $id: 'urn:stead:api:plan-run',
  type: 'object',
  additionalProperties: false,
  properties: {
    targets: { ...targetSelector, description: 'Hosts instead of the plan\'s default targets.' },
    vars: { ...varsMap, description: 'Job variables over the plan\'s own.' },
    dryRun: { type: 'boolean', description: 'A dry run of the plan.' },
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'Name of the job (default the plan\'s name).' },
    version: { type: 'integer', minimum: 1, description: 'Run this version of the plan (default the newest).' },
    approve: {
      type: 'object',
      additionalProperties: false,
      required: ['reason'],
      properties: { reason: { type: 'string', minLength: 1, maxLength: 1000, description: 'Why the blocked script may run.' } },
      description: 'Admin approval of scripts the safety audit blocks (written to the audit log).',
    },
  },
} as const;
export type PlanRun = FromSchema<typeof planRunSchema>;

/** Every plan schema. */
export const planSchemas = [planStepSchema, planWriteSchema, planViewSchema, planListSchema, planRunSchema] as const;
