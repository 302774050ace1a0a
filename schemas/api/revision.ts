import type { FromSchema } from 'json-schema-to-ts';
import { repoProblemSchema } from '../repo/problem.js';
import { isoTime } from './fragments.js';
import { rolloutPolicy } from './rollout-policy.js';

/**
 * POST /api/v1/revisions with Content-Type application/json: a whole repository as a map
 * of relative path to content (UTF-8 text, or base64 when `encoding` is "base64").
 * The same route takes a tar.gz with Content-Type application/gzip.
 */
export const revisionUploadSchema = {
  $id: 'urn:stead:api:revision-upload',
  type: 'object',
  additionalProperties: false,
  required: ['files'],
  properties: {
    files: {
      type: 'object',
      minProperties: 1,
      maxProperties: 20000,
      propertyNames: {
        maxLength: 1024,
        pattern: '^(?!/)(?!.*(^|/)\\.\\.?(/|$))(?!.*//)[^\\u0000-\\u001f\\\\]+$',
        'x-hint': 'file paths must be relative, without "." or ".." segments, backslashes or control characters',
      },
      additionalProperties: { type: 'string' },
      description: 'Repository files by relative path.',
    },
    encoding: { enum: ['utf8', 'base64'], description: 'How file contents are encoded; default utf8.' },
    message: { type: 'string', maxLength: 1000, description: 'What changed, for the history.' },
    rollout: { ...rolloutPolicy, description: 'Deliver the revision in batches (a canary rollout) instead of to every host at once.' },
  },
} as const;
export type RevisionUpload = FromSchema<typeof revisionUploadSchema>;

/** One located problem in a rejected revision: the repository problem (schemas/repo/problem.ts). */
export const revisionProblemSchema = { ...repoProblemSchema, $id: 'urn:stead:api:revision-problem' } as const;
export type RevisionProblem = FromSchema<typeof revisionProblemSchema>;

const revisionView = {
  type: 'object',
  description: 'A manifest revision (without its files).',
  additionalProperties: false,
  required: ['id', 'createdAt', 'fileCount', 'live'],
  properties: {
    id: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'sha256 of the sorted (path, content sha256) list.' },
    createdAt: { ...isoTime, description: 'When it was uploaded.' },
    message: { type: 'string', description: 'What changed, as the uploader wrote it.' },
    fileCount: { type: 'integer', minimum: 0, description: 'Files in the repository.' },
    live: { type: 'boolean', description: 'This revision is what agents get now.' },
    createdBy: { type: 'string', description: 'Name of the operator token that uploaded it.' },
    commit: { type: 'string', pattern: '^[0-9a-f]{40}$', description: 'The git commit of this history entry (/git/manifests.git).' },
    parent: { type: 'string', pattern: '^[0-9a-f]{40}$', description: 'The commit before it in the history.' },
    author: { type: 'string', description: 'Git author ("Name <email>") of the commit.' },
    rollout: { type: 'object', description: 'Publish with a rollout: { id, state, batches } of the rollout delivering it.' },
  },
} as const;

export const revisionViewSchema = { $id: 'urn:stead:api:revision-view', ...revisionView } as const;
export type RevisionView = FromSchema<typeof revisionViewSchema>;

/** GET /api/v1/revisions */
export const revisionListSchema = {
  $id: 'urn:stead:api:revision-list',
  type: 'object',
  additionalProperties: false,
  required: ['revisions'],
  properties: { revisions: { type: 'array', items: revisionView, description: 'Revisions, newest first.' } },
} as const;

/** GET /api/v1/revisions/:a/diff/:b */
export const revisionDiffSchema = {
  $id: 'urn:stead:api:revision-diff',
  type: 'object',
  additionalProperties: false,
  required: ['a', 'b', 'files'],
  properties: {
    a: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'The revision compared from (full id).' },
    b: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'The revision compared to (full id).' },
    files: {
      type: 'array',
      description: 'Files that differ, by path (at most 2000).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'status', 'diff'],
        description: 'One file that differs between a and b.',
        properties: {
          path: { type: 'string', description: 'Repository-relative path.' },
          status: { enum: ['added', 'removed', 'modified'], description: 'added: only in b; removed: only in a; modified: in both with different content.' },
          diff: { type: 'string', description: 'Unified diff from a to b (at most 64 KiB; binary files and files over 1 MiB are described, not diffed).' },
        },
      },
    },
    truncated: { type: 'boolean', description: 'Some files or diff text were left out to bound the answer.' },
  },
} as const;
export type RevisionDiff = FromSchema<typeof revisionDiffSchema>;
