import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, accountName, fileMode, group, owner, sha256Ref } from './defs.js';
import { isoTime } from './api/fragments.js';
import { packageResourceSchema } from './resources/package.js';
import { serviceResourceSchema } from './resources/service.js';

/**
 * The job channel between the server and an agent (docs/adr/0014-jobs.md). A job step on one
 * host is a *dispatch*: a small one-shot desired state (a script, or file resources) that the
 * agent receives over a long-poll (GET /api/v1/hosts/:host/jobs?wait=S), claims (POST
 * …/jobs/:id/start), runs once through its engine, and answers with a result (POST
 * …/jobs/:id/result). Exactly once: the agent records a claim on disk before asking to start
 * and a "started" mark before it spawns anything; a dispatch marked started is never spawned
 * again (after a restart it is answered `interrupted`). The server re-offers a dispatch only
 * until its start is acknowledged, and keeps the first result.
 */

/** A dispatch id: "<jobId>.<step>.<host>"; safe in a path segment. */
export const dispatchId = {
  type: 'string',
  minLength: 1,
  maxLength: 320,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$',
  description: 'Id of one job step on one host.',
} as const;

const envMap = {
  type: 'object',
  maxProperties: 256,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
  additionalProperties: { type: 'string', maxLength: 65536 },
  description: 'Environment variables (STEAD_HOST and STEAD_JOB_ID are always set by the agent).',
} as const;

/** A script step: run `source` with the interpreter of `lang`, once. */
export const jobScriptSchema = {
  $id: 'urn:stead:job:script',
  type: 'object',
  additionalProperties: false,
  required: ['lang', 'source'],
  properties: {
    lang: { enum: ['shell', 'python'], description: 'shell runs /bin/sh, python runs python3.' },
    source: { type: 'string', maxLength: 1048576, description: 'The script text (at most 1 MiB).' },
    args: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 65536 }, description: 'Positional arguments ($1… / sys.argv[1:]).' },
    user: { ...accountName, description: 'Execution account: run as this user (default root).' },
    env: envMap,
    cwd: { ...absolutePath, description: 'Working directory (default the user\'s home, or /).' },
  },
} as const;
export type JobScript = FromSchema<typeof jobScriptSchema>;

/** One file a file-distribution step puts on the host: content by blob, like a catalog file. */
export const jobFileSchema = {
  $id: 'urn:stead:job:file',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'source'],
  properties: {
    path: { ...absolutePath, description: 'Where the file goes on the host.' },
    source: { ...sha256Ref, description: 'The content (fetched from GET /api/v1/blobs/:sha256 unless the file already has it).' },
    mode: { ...fileMode, description: 'Permission bits; absent: new files get 0644, existing keep theirs.' },
    owner,
    group,
  },
} as const;
export type JobFile = FromSchema<typeof jobFileSchema>;

/** What the agent receives for one dispatch. */
export const jobWorkSchema = {
  $id: 'urn:stead:job:work',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'jobId', 'step', 'kind', 'noop', 'timeoutSeconds'],
  properties: {
    id: { ...dispatchId, description: 'This dispatch (job step on this host).' },
    jobId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The job (exported as STEAD_JOB_ID).' },
    step: { type: 'integer', minimum: 0, maximum: 999, description: 'Index of the step in the job.' },
    kind: { enum: ['script', 'files', 'resources'], description: 'What to do.' },
    noop: { type: 'boolean', description: 'Dry run: files report what would change (with diffs); a script is not run and is reported "would-run".' },
    timeoutSeconds: { type: 'integer', minimum: 1, maximum: 604800, description: 'Kill the process group after this long (result state timeout).' },
    script: { $ref: 'urn:stead:job:script', description: 'A script step: what to run.' },
    files: { type: 'array', maxItems: 1000, items: { $ref: 'urn:stead:job:file' }, description: 'A files step: the files to put in place.' },
    blobs: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, description: 'Size of every blob the files reference, by "sha256:<hex>" (as a catalog\'s blobs).' },
    resources: {
      type: 'array',
      maxItems: 100,
      items: { anyOf: [{ $ref: 'urn:stead:resource:package' }, { $ref: 'urn:stead:resource:service' }] },
      description: 'A resources step: package/service resources the engine applies once, in order (noop: reports would-change).',
    },
  },
} as const;
export type JobWork = FromSchema<typeof jobWorkSchema, { references: [typeof jobScriptSchema, typeof jobFileSchema, typeof packageResourceSchema, typeof serviceResourceSchema] }>;

/** GET /api/v1/hosts/:host/jobs?wait=S — answered at once when there is work or a cancel, else after S seconds. */
export const jobPollResponseSchema = {
  $id: 'urn:stead:job:poll-response',
  type: 'object',
  additionalProperties: false,
  required: ['work', 'cancel'],
  properties: {
    work: { type: 'array', maxItems: 100, items: { $ref: 'urn:stead:job:work' }, description: 'Dispatches not yet acknowledged as started.' },
    cancel: { type: 'array', maxItems: 1000, items: dispatchId, description: 'Running dispatches to cancel (kill the process group, answer cancelled).' },
  },
} as const;
export type JobPollResponse = FromSchema<typeof jobPollResponseSchema, { references: [typeof jobWorkSchema, typeof jobScriptSchema, typeof jobFileSchema, typeof packageResourceSchema, typeof serviceResourceSchema] }>;

/** POST …/jobs/:id/start answer: whether the agent may spawn now. */
export const jobStartResponseSchema = {
  $id: 'urn:stead:job:start-response',
  type: 'object',
  additionalProperties: false,
  required: ['run'],
  properties: {
    run: { type: 'boolean', description: 'true: start it (again true for the same agent retrying a lost answer); false: do not.' },
    reason: { type: 'string', description: 'Why not (cancelled, already finished, unknown).' },
  },
} as const;
export type JobStartResponse = FromSchema<typeof jobStartResponseSchema>;

const outputText = { type: 'string', maxLength: 1048576, description: 'Captured output, bounded; when cut, truncated is true and the text ends with a visible marker.' } as const;

/** The outcome of one file of a files step. */
export const jobFileOutcomeSchema = {
  $id: 'urn:stead:job:file-outcome',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'outcome'],
  properties: {
    path: { ...absolutePath, description: 'The file on the host.' },
    outcome: { enum: ['in-sync', 'changed', 'would-change', 'failed'], description: 'in-sync: the host already had this content and metadata (nothing fetched).' },
    diff: { type: 'string', maxLength: 262144, description: 'Unified diff of text content (noop and changed), bounded.' },
    message: { type: 'string', maxLength: 4096, description: 'Why the file failed, or a note.' },
  },
} as const;

/** POST …/jobs/:id/result — the first result is kept; a re-sent one is acknowledged as duplicate. */
export const jobResultSchema = {
  $id: 'urn:stead:job:result',
  type: 'object',
  additionalProperties: false,
  required: ['state', 'exitCode', 'stdout', 'stderr', 'startedAt', 'finishedAt'],
  properties: {
    state: { enum: ['succeeded', 'failed', 'timeout', 'cancelled', 'interrupted', 'would-run'], description: 'interrupted: the agent restarted while it ran (never re-run); would-run: a script in a dry run.' },
    exitCode: { type: ['integer', 'null'], minimum: 0, maximum: 255, description: 'null when killed by a signal or not run.' },
    signal: { type: 'string', maxLength: 32, description: 'The signal that ended the process (SIGKILL, …).' },
    stdout: outputText,
    stderr: outputText,
    stdoutTruncated: { type: 'boolean', description: 'stdout was cut to its bound (a marker line shows where).' },
    stderrTruncated: { type: 'boolean', description: 'stderr was cut to its bound (a marker line shows where).' },
    results: {
      type: 'object',
      maxProperties: 256,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$' },
      additionalProperties: { type: 'string', maxLength: 65536 },
      description: 'key=value results the script emitted (helper library stead_result), for later steps.',
    },
    files: { type: 'array', maxItems: 1000, items: { $ref: 'urn:stead:job:file-outcome' }, description: 'Per file of a files step: what happened.' },
    resources: {
      type: 'array',
      maxItems: 100,
      description: 'Per resource of a resources step: what happened.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['resource', 'outcome'],
        properties: {
          resource: { type: 'string', maxLength: 512, description: 'type[title], e.g. package[nginx].' },
          outcome: { enum: ['in-sync', 'changed', 'would-change', 'failed'], description: 'What happened to it.' },
          changes: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 1024 }, description: 'What changed, e.g. "version 1.0-1 -> 1.1-1".' },
          message: { type: 'string', maxLength: 4096, description: 'Why it failed, or a note.' },
        },
      },
    },
    message: { type: 'string', maxLength: 4096, description: 'Why it failed, in a sentence, when not the script\'s own exit.' },
    startedAt: isoTime,
    finishedAt: isoTime,
  },
} as const;
export type JobResult = FromSchema<typeof jobResultSchema, { references: [typeof jobFileOutcomeSchema] }>;

export const jobResultAckSchema = {
  $id: 'urn:stead:job:result-ack',
  type: 'object',
  additionalProperties: false,
  required: ['stored', 'duplicate'],
  properties: { stored: { type: 'boolean', description: 'The result is stored (now or before).' }, duplicate: { type: 'boolean', description: 'A result for this dispatch was already stored; this one was ignored.' } },
} as const;
export type JobResultAck = FromSchema<typeof jobResultAckSchema>;

/** Every schema of the job channel, for registration with ajv. */
export const jobProtocolSchemas = [packageResourceSchema, serviceResourceSchema, jobScriptSchema, jobFileSchema, jobWorkSchema, jobPollResponseSchema, jobStartResponseSchema, jobFileOutcomeSchema, jobResultSchema, jobResultAckSchema] as const;
