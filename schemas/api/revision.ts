import type { FromSchema } from 'json-schema-to-ts';
import { isoTime } from './fragments.js';

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
  },
} as const;
export type RevisionUpload = FromSchema<typeof revisionUploadSchema>;

/** One located problem in a rejected revision. */
export const revisionProblemSchema = {
  $id: 'urn:stead:api:revision-problem',
  type: 'object',
  required: ['message'],
  properties: {
    file: { type: 'string', description: 'Repository-relative file.' },
    line: { type: 'integer', description: '1-based line.' },
    column: { type: 'integer' },
    path: { type: 'string', description: 'JSON pointer or property path inside the document.' },
    host: { type: 'string', description: 'The host whose compile failed, when the problem is host-specific.' },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;
export type RevisionProblem = FromSchema<typeof revisionProblemSchema>;

export const revisionViewSchema = {
  $id: 'urn:stead:api:revision-view',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'createdAt', 'fileCount', 'live'],
  properties: {
    id: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'sha256 of the sorted (path, content sha256) list.' },
    createdAt: isoTime,
    message: { type: 'string' },
    fileCount: { type: 'integer', minimum: 0 },
    live: { type: 'boolean', description: 'This revision is what agents get now.' },
    createdBy: { type: 'string' },
  },
} as const;
export type RevisionView = FromSchema<typeof revisionViewSchema>;

export const revisionListSchema = {
  $id: 'urn:stead:api:revision-list',
  type: 'object',
  additionalProperties: false,
  required: ['revisions'],
  properties: { revisions: { type: 'array', items: revisionViewSchema } },
} as const;
