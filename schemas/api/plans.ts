import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, accountName, fileMode, group, owner } from '../defs.js';
import { isoTime } from './fragments.js';

/**
 * Saved job plans (docs/adr/0014-jobs.md): a named list of steps with default targets, launched
 * with POST /api/v1/plans/:id/run. A step has the shape of a launch body's Step.
 */

/** A target selector: "host:web-1,group:web,idc:sz,tag:canary,ip:10.0.0.5,…". */
export const targetSelector = {
  type: 'string',
  minLength: 1,
  maxLength: 4096,
  // eslint-disable-next-line no-control-regex
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'Which hosts: a selector such as "group:web,tag:canary" (host:, group:, idc:, tag:, ip:, set:, attr:k=v, fact:k=v).',
} as const;

const jobVars = {
  type: 'object',
  maxProperties: 256,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
  additionalProperties: { type: 'string', maxLength: 65536 },
  description: 'Job variables: the top layer of variable precedence (templates, script parameters).',
} as const;

const stepCommon = {
  name: { type: 'string', minLength: 1, maxLength: 200, description: 'What the step does, shown in the job view.' },
  onFailure: { enum: ['stop', 'ignore', 'pause'], description: 'When the step fails on a host: stop the job (default), go on, or pause for a confirmation.' },
  targets: {
    description: 'Hosts of this step instead of the job\'s: a selector, or the hosts that failed step N.',
    oneOf: [
      targetSelector,
      { type: 'object', additionalProperties: false, required: ['failedOf'], properties: { failedOf: { type: 'integer', minimum: 0, maximum: 999, description: 'Index of an earlier step.' } } },
    ],
  },
  timeoutSeconds: { type: 'integer', minimum: 1, maximum: 604800, description: 'Deadline of the step on one host.' },
} as const;

const scriptStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'script'],
  properties: {
    kind: { const: 'script', description: 'Run a script.' },
    ...stepCommon,
    script: {
      type: 'object',
      additionalProperties: false,
      required: ['lang'],
      description: 'The script: inline source, or one of the library (scriptId, version).',
      properties: {
        lang: { enum: ['shell', 'python'], description: 'shell runs /bin/sh, python runs python3.' },
        source: { type: 'string', maxLength: 1048576, description: 'The script text (at most 1 MiB).' },
        scriptId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'A script of the library.' },
        version: { type: 'integer', minimum: 1, description: 'Its version (default the newest).' },
        params: { ...jobVars, description: 'Parameters of the script.' },
        account: { ...accountName, description: 'Execution account.' },
      },
    },
    local: { type: 'boolean', description: 'Run on the server itself (admin only).' },
  },
} as const;

const filesStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'files'],
  properties: {
    kind: { const: 'files', description: 'Distribute files.' },
    ...stepCommon,
    files: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      description: 'The files; each takes its content from exactly one of content, contentBase64 or template.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: {
          path: absolutePath,
          content: { type: 'string', description: 'The content as written (not a template).' },
          contentBase64: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', description: 'The content, base64.' },
          template: { type: 'string', minLength: 1, maxLength: 1024, description: 'A template of the live revision\'s templates/ folder, rendered with the host\'s variables and the job\'s on top.' },
          mode: fileMode,
          owner,
          group,
        },
      },
    },
  },
} as const;

const probeStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'probe'],
  properties: {
    kind: { const: 'probe', description: 'Check a port or an HTTP status from the server.' },
    ...stepCommon,
    probe: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'What to check; tcp then http when both are given.',
      properties: {
        tcp: { type: 'object', additionalProperties: false, required: ['port'], description: 'A TCP connect.', properties: { port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port.' } } },
        http: {
          type: 'object',
          additionalProperties: false,
          required: ['port'],
          description: 'An HTTP GET and its status.',
          properties: {
            port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port.' },
            path: { type: 'string', maxLength: 2048, pattern: '^/[\\x21-\\x7e]*$', description: 'Request path (default "/").' },
            status: { type: 'integer', minimum: 100, maximum: 599, description: 'Expected status (default 200).' },
            https: { type: 'boolean', description: 'Use TLS (the certificate is not verified).' },
          },
        },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, description: 'Deadline (default 5 s).' },
      },
    },
  },
} as const;

const confirmStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'message'],
  properties: {
    kind: { const: 'confirm', description: 'Wait for an operator\'s confirmation.' },
    ...stepCommon,
    message: { type: 'string', minLength: 1, maxLength: 4000, description: 'What the operator confirms.' },
  },
} as const;

const planStep = {
  description: 'One step: script, files, probe or confirm.',
  oneOf: [scriptStep, filesStep, probeStep, confirmStep],
} as const;

/** One step of a plan (the launch body's Step). */
export const planStepSchema = { $id: 'urn:stead:api:plan-step', ...planStep } as const;
export type PlanStep = FromSchema<typeof planStepSchema>;

const planFields = {
  name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$', description: 'Unique name of the plan.' },
  description: { type: 'string', maxLength: 4000, description: 'What the plan is for.' },
  targets: targetSelector,
  vars: jobVars,
  steps: { type: 'array', minItems: 1, maxItems: 100, items: planStep, description: 'The steps, in order.' },
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

/** Every plan schema. */
export const planSchemas = [planStepSchema, planWriteSchema, planViewSchema, planListSchema] as const;
