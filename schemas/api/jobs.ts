/**
 * Operator API of jobs (docs/adr/0014-jobs.md): the launch body, preview, the job view and list,
 * redo and confirm. The agent side of the channel is schemas/job-protocol.ts.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, accountName, fileMode, group, owner } from '../defs.js';
import { hostName, isoTime } from './fragments.js';
import { packageResourceSchema } from '../resources/package.js';
import { serviceResourceSchema } from '../resources/service.js';
import { registerSchemas } from '../validate.js';

// A resources step references the resource schemas by $id: the runtime fallback must know them.
registerSchemas([packageResourceSchema, serviceResourceSchema]);

/** A target selector: comma-separated terms (union), e.g. "group:web,host:db-1,fact:os.family=debian". */
export const targetSelector = {
  type: 'string',
  minLength: 1,
  maxLength: 4096,
  // eslint-disable-next-line no-control-regex
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'Hosts: comma-separated terms host:NAME, group:NAME, idc:NAME, tag:NAME, set:NAME, env:NAME, ip:ADDR, attr:KEY=VALUE, fact:dotted.key=VALUE; the union of all terms.',
} as const;

const varName = { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' } as const;

/** Job variables: the top layer of variable precedence; each is exported as STEAD_VAR_<KEY>. */
export const varsMap = {
  type: 'object',
  maxProperties: 128,
  propertyNames: varName,
  additionalProperties: { type: 'string', maxLength: 65536 },
  description: 'Job variables, exported to scripts as STEAD_VAR_<KEY> (KEY upper-cased).',
} as const;

const stepCommon = {
  name: { type: 'string', minLength: 1, maxLength: 200, description: 'A label for the step.' },
  onFailure: { enum: ['stop', 'ignore', 'pause'], description: 'What a failed host does to the plan: stop (default) skips the later steps; ignore goes on; pause waits for POST /jobs/:id/confirm.' },
  targets: {
    anyOf: [
      targetSelector,
      { type: 'object', additionalProperties: false, required: ['failedOf'], properties: { failedOf: { type: 'integer', minimum: 0, maximum: 99, description: 'The hosts that failed in this earlier step.' } } },
    ],
    description: 'Override the job targets for this step: a selector, or {failedOf: N}.',
  },
  timeoutSeconds: { type: 'integer', minimum: 1, maximum: 86400, description: 'Deadline of the step (default 600 s): a host that has not started by then is unreachable; a script is killed after it.' },
} as const;

/** The script of a script step: inline source or a library script, with parameters and an account. */
const jobScriptSpec = {
  type: 'object',
  additionalProperties: false,
  properties: {
    lang: { enum: ['shell', 'python'], description: 'Required with source; with scriptId it must match the library script when given.' },
    source: { type: 'string', minLength: 1, maxLength: 1048576, description: 'The script text (at most 1 MiB).' },
    scriptId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$', description: 'A script of the library (instead of source).' },
    version: { type: 'integer', minimum: 1, description: 'The library version (default the newest).' },
    params: {
      type: 'object',
      maxProperties: 64,
      propertyNames: varName,
      additionalProperties: { type: 'string', maxLength: 65536 },
      description: 'Parameters: each is exported as env <NAME> and passed as a positional argument (library: in declared order; inline: in the order given).',
    },
    account: { ...accountName, description: 'Execution account (GET /accounts): the script runs as its user.' },
  },
} as const;
export const jobScriptSpecSchema = { $id: 'urn:stead:api:job-script-spec', ...jobScriptSpec } as const;
export type JobScriptSpec = FromSchema<typeof jobScriptSpecSchema>;

const scriptStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'script'],
  properties: {
    kind: { const: 'script', description: 'Run a script.' },
    ...stepCommon,
    script: { ...jobScriptSpec, description: 'The script: inline source or a library script.' },
    local: { type: 'boolean', description: 'Run once on the server itself instead of on the targets (admin only).' },
  },
} as const;

const distributedFile = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: absolutePath,
    content: { type: 'string', maxLength: 16777216, description: 'UTF-8 content.' },
    contentBase64: { type: 'string', maxLength: 22369624, description: 'Binary content.' },
    template: { type: 'string', maxLength: 1048576, description: 'Jinja2 text rendered per host with its variables and the job vars.' },
    mode: fileMode,
    owner,
    group,
  },
} as const;

const filesStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'files'],
  properties: {
    kind: { const: 'files', description: 'Distribute files.' },
    ...stepCommon,
    files: { type: 'array', minItems: 1, maxItems: 1000, items: distributedFile, description: 'The files to put in place.' },
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
      description: 'Checked by the server against every target\'s address (inventory ip, else its name).',
      properties: {
        tcp: { type: 'object', additionalProperties: false, required: ['port'], properties: { port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port.' } }, description: 'A TCP connect to the port.' },
        http: {
          type: 'object',
          additionalProperties: false,
          required: ['port'],
          description: 'An HTTP GET and its status.',
          properties: {
            port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port.' },
            path: { type: 'string', pattern: '^/', maxLength: 2048, description: 'Request path (default "/").' },
            status: { type: 'integer', minimum: 100, maximum: 599, description: 'Expected HTTP status (default 200).' },
            https: { type: 'boolean', description: 'Use TLS (the certificate is not verified).' },
          },
        },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, description: 'Deadline in seconds.' },
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
    message: { type: 'string', minLength: 1, maxLength: 4096, description: 'What the operator confirms.' },
  },
} as const;

/** Package and service resources applied once through the agent's engine (ADR 0018: "upgrade to approved"). */
const resourcesStep = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'resources'],
  properties: {
    kind: { const: 'resources', description: 'Apply package/service resources once, through the engine.' },
    ...stepCommon,
    resources: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: { anyOf: [{ $ref: 'urn:stead:resource:package' }, { $ref: 'urn:stead:resource:service' }] },
      description: 'Resources as in a manifest (type package or service), applied in order; a dry run reports what would change.',
    },
  },
} as const;

/** One step of a job (and of a saved plan, schemas/api/plans.ts). */
export const jobStep = {
  anyOf: [scriptStep, filesStep, probeStep, confirmStep, resourcesStep],
  description: 'A step: script, files, probe, confirm or resources.',
} as const;
export const jobStepSchema = { $id: 'urn:stead:api:job-step', ...jobStep } as const;
export type JobStep = FromSchema<typeof jobStepSchema, { references: [typeof packageResourceSchema, typeof serviceResourceSchema] }>;

/** POST /api/v1/jobs and /jobs/preview. */
export const jobLaunchSchema = {
  $id: 'urn:stead:api:job-launch',
  type: 'object',
  additionalProperties: false,
  required: ['targets'],
  description: 'A launch: `steps`, or the one-script shorthand `script` (+ timeoutSeconds).',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'Name.' },
    targets: targetSelector,
    vars: varsMap,
    dryRun: { type: 'boolean', description: 'Scripts are not run (would-run), files report what would change; probe, local and confirm steps are described, not run.' },
    includeInactive: { type: 'boolean', description: 'Also run on hosts whose inventory lifecycle is not online (default: they are left out and listed as unavailable).' },
    approve: {
      type: 'object',
      additionalProperties: false,
      required: ['reason'],
      properties: { reason: { type: 'string', minLength: 1, maxLength: 1000, description: 'Why the blocked script may run (written to the audit log).' } },
      description: 'Admin approval of scripts the safety audit blocks (written to the audit log).',
    },
    steps: { type: 'array', minItems: 1, maxItems: 100, items: jobStep, description: 'The steps, in order.' },
    script: { ...jobScriptSpec, description: 'The script: inline source or a library script.' },
    timeoutSeconds: stepCommon.timeoutSeconds,
  },
} as const;
export type JobLaunch = FromSchema<typeof jobLaunchSchema, { references: [typeof packageResourceSchema, typeof serviceResourceSchema] }>;

const finding = {
  type: 'object',
  additionalProperties: false,
  required: ['rule', 'mode', 'line', 'column', 'message', 'excerpt'],
  properties: {
    rule: { type: 'string', description: 'The audit rule.' },
    mode: { enum: ['scan', 'block'], description: 'scan (logged) or block (refused unless approved).' },
    line: { type: 'integer', description: '1-based line in the script.' },
    column: { type: 'integer', description: '1-based column in the script.' },
    message: { type: 'string', description: 'What happened, in a sentence.' },
    excerpt: { type: 'string', description: 'The offending text.' },
  },
} as const;

/** The safety audit's answer for one script step. */
const auditVerdict = {
  type: 'object',
  additionalProperties: false,
  required: ['step', 'verdict', 'findings'],
  properties: {
    step: { type: 'integer', minimum: 0, description: 'Index of the step.' },
    verdict: { enum: ['pass', 'warn', 'block'], description: 'pass, warn (scan findings) or block.' },
    findings: { type: 'array', items: finding, description: 'What the audit found.' },
  },
} as const;
export const jobAuditVerdictSchema = { $id: 'urn:stead:api:job-audit-verdict', ...auditVerdict } as const;
export type JobAuditVerdict = FromSchema<typeof jobAuditVerdictSchema>;

const unavailable = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'reason'],
    properties: { host: { type: 'string', description: 'Host name.' }, reason: { type: 'string', description: 'not in the inventory, not enrolled, pending approval, revoked.' } },
  },
  description: 'Selected hosts that cannot run.',
} as const;

/** POST /api/v1/jobs/preview answer: who each step targets and what the audit says; nothing runs. */
export const jobPreviewSchema = {
  $id: 'urn:stead:api:job-preview',
  type: 'object',
  additionalProperties: false,
  required: ['targets', 'unavailable', 'audit'],
  properties: {
    targets: {
      type: 'array',
      description: 'The hosts of each step.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['step', 'hosts'],
        properties: {
          step: { type: 'integer', description: 'Index of the step.' },
          hosts: { type: 'array', items: hostName, description: 'Per host.' },
          local: { type: 'boolean', description: 'Runs once on the server.' },
          failedOf: { type: 'integer', description: 'Known only when the earlier step has run.' },
        },
      },
    },
    unavailable,
    audit: { type: 'array', items: auditVerdict, description: 'The safety audit of each script step.' },
  },
} as const;

const dispatchState = {
  enum: ['queued', 'dispatched', 'running', 'cancelling', 'succeeded', 'failed', 'timeout', 'cancelled', 'interrupted', 'would-run', 'skipped', 'unreachable'],
} as const;
const jobState = { enum: ['running', 'paused', 'succeeded', 'failed', 'cancelled'] } as const;
const stepState = { enum: ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled', 'would-run'], description: 'waiting: a confirm step or a paused failure waits for POST /jobs/:id/confirm.' } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

const hostStepView = {
  type: 'object',
  additionalProperties: false,
  required: ['step', 'state', 'exitCode', 'startAcks'],
  properties: {
    step: { type: 'integer', description: 'Index of the step.' },
    state: { ...dispatchState, description: 'State.' },
    exitCode: { type: ['integer', 'null'], description: 'Exit code; null when killed by a signal or not run.' },
    startedAt: { ...isoTime, description: 'When it started.' },
    finishedAt: { ...isoTime, description: 'When it ended.' },
    startAcks: { type: 'integer', description: 'Start acknowledgements (more than 1: the agent retried a lost answer).' },
    message: { type: 'string', description: 'What happened, in a sentence.' },
  },
} as const;

const jobHostView = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'state', 'exitCode', 'steps'],
  properties: {
    host: { ...hostName, description: 'Host name.' },
    state: { ...dispatchState, description: 'State.' },
    exitCode: { type: ['integer', 'null'], description: 'Exit code; null when killed by a signal or not run.' },
    stdout: { type: 'string', description: 'Standard output, bounded (a marker shows a cut).' },
    stderr: { type: 'string', description: 'Standard error, bounded (a marker shows a cut).' },
    stdoutTruncated: { type: 'boolean', description: 'stdout was cut to its bound.' },
    stderrTruncated: { type: 'boolean', description: 'stderr was cut to its bound.' },
    results: { ...stringMap, description: 'key=value results the script emitted.' },
    files: { type: 'array', items: { type: 'object' }, description: 'The files to put in place.' },
    resources: { type: 'array', items: { type: 'object' }, description: 'A resources step: per resource, what happened (resource, outcome, changes, message).' },
    message: { type: 'string', description: 'What happened, in a sentence.' },
    steps: { type: 'array', items: hostStepView, description: 'The steps, in order.' },
  },
} as const;

const localRunView = {
  type: 'object',
  additionalProperties: false,
  required: ['state', 'exitCode'],
  properties: {
    state: { ...dispatchState, description: 'State.' },
    exitCode: { type: ['integer', 'null'], description: 'Exit code; null when killed by a signal or not run.' },
    stdout: { type: 'string', description: 'Standard output, bounded (a marker shows a cut).' },
    stderr: { type: 'string', description: 'Standard error, bounded (a marker shows a cut).' },
    message: { type: 'string', description: 'What happened, in a sentence.' },
  },
} as const;

const stepView = {
  type: 'object',
  additionalProperties: false,
  required: ['index', 'name', 'kind', 'state', 'onFailure', 'counts'],
  properties: {
    index: { type: 'integer', description: 'Index of the step.' },
    name: { type: 'string', description: 'Name.' },
    kind: { enum: ['script', 'files', 'probe', 'confirm', 'resources'], description: 'The kind of step.' },
    local: { type: 'boolean', description: 'Runs once on the server.' },
    state: stepState,
    onFailure: { enum: ['stop', 'ignore', 'pause'], description: 'Failure policy: stop, ignore or pause.' },
    counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Dispatches per state.' },
    message: { type: 'string', description: 'A confirm step\'s message, or what happened to the step.' },
    startedAt: { ...isoTime, description: 'When it started.' },
    finishedAt: { ...isoTime, description: 'When it ended.' },
    confirmedBy: { type: 'string', description: 'Operator who answered the confirmation.' },
    localRun: { ...localRunView, description: 'The run of a local step on the server.' },
  },
} as const;

/** What the job view and the job list say of every job. */
const jobFields = {
  id: { type: 'string', description: 'Job id.' },
  name: { type: 'string', description: 'Name.' },
  state: { ...jobState, description: 'State.' },
  createdBy: { type: 'string', description: 'Operator who launched it.' },
  createdAt: { ...isoTime, description: 'When it was launched.' },
  finishedAt: { ...isoTime, description: 'When it ended.' },
  dryRun: { type: 'boolean', description: 'A dry run: nothing changed on any host.' },
  redoOf: { type: 'string', description: 'The job this one redoes.' },
  scheduleId: { type: 'string', description: 'The schedule that launched it.' },
  targets: { type: 'string', description: 'The target selector as given.' },
} as const;

/** GET /api/v1/jobs/:id — a job, its steps and its hosts. */
export const jobViewSchema = {
  $id: 'urn:stead:api:job-view',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'state', 'createdBy', 'createdAt', 'dryRun', 'targets', 'steps', 'hosts'],
  properties: {
    ...jobFields,
    vars: { ...stringMap, description: 'Job variables.' },
    unavailable,
    steps: { type: 'array', items: stepView, description: 'The steps, in order.' },
    hosts: { type: 'array', items: jobHostView, description: 'Per host.' },
  },
} as const;

const jobSummary = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'state', 'createdBy', 'createdAt', 'dryRun', 'targets', 'hostCount', 'stepCount'],
  properties: {
    ...jobFields,
    hostCount: { type: 'integer', description: 'Hosts targeted.' },
    stepCount: { type: 'integer', description: 'Number of steps.' },
  },
} as const;

/** GET /api/v1/jobs — newest first; `next` is the `before` of the next page. */
export const jobListSchema = {
  $id: 'urn:stead:api:job-list',
  type: 'object',
  additionalProperties: false,
  required: ['jobs'],
  properties: { jobs: { type: 'array', items: jobSummary, description: 'Jobs, newest first.' }, next: { type: 'string', description: 'Pass as `before` for the next page.' } },
} as const;

/** POST /api/v1/jobs/:id/redo. */
export const jobRedoSchema = {
  $id: 'urn:stead:api:job-redo',
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    hosts: { enum: ['failed', 'all'], description: 'failed: only hosts that failed in the job (any step); all: every host of the job.' },
    steps: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: { type: 'integer', minimum: 0, maximum: 99 }, description: 'Run only these steps (others are skipped); default all.' },
  },
} as const;
export type JobRedo = FromSchema<typeof jobRedoSchema>;

/** POST /api/v1/jobs/:id/confirm. */
export const jobConfirmSchema = {
  $id: 'urn:stead:api:job-confirm',
  type: 'object',
  additionalProperties: false,
  required: ['step', 'action'],
  properties: {
    step: { type: 'integer', minimum: 0, maximum: 99, description: 'The waiting step.' },
    action: { enum: ['continue', 'stop'], description: 'continue: go on; stop: end the job.' },
  },
} as const;
export type JobConfirm = FromSchema<typeof jobConfirmSchema>;
