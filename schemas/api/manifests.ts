import type { FromSchema } from 'json-schema-to-ts';
import { rolloutPolicy } from './rollout-policy.js';

/**
 * Editing the manifest repository through the API and the console (issue 12): the live tree,
 * one file, the quick check of a file as it is typed, the flattened variable key table, a
 * template preview for a host, and drafts (file changes on a base) that are planned, committed
 * to the manifest history and published.
 */

const repoPath = { type: 'string', minLength: 1, maxLength: 1024, description: 'A path relative to the repository root ("groups/web.yaml").' } as const;
const draftId = { type: 'string', pattern: '^d-[0-9a-z]{6,40}$', description: 'A draft id.' } as const;
/** Text of one file the editor writes (at most 1 MiB of UTF-8). */
const fileText = { type: 'string', maxLength: 1048576, description: 'The file\'s text (UTF-8, at most 1 MiB).' } as const;

const problem = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'message'],
  description: 'A located problem, as validation reports it.',
  properties: {
    code: { type: 'string', description: 'Stable code (YAML_SYNTAX, INVALID_VALUE, UNKNOWN_ROLE, TEMPLATE_ERROR, …).' },
    severity: { enum: ['error', 'warning'], description: 'Errors refuse a commit; warnings do not.' },
    file: { type: 'string', description: 'Path relative to the repository root.' },
    line: { type: 'integer', minimum: 1, description: '1-based line.' },
    column: { type: 'integer', minimum: 1, description: '1-based column.' },
    path: { type: 'string', description: 'JSON pointer into the file\'s document.' },
    host: { type: 'string', description: 'The host whose compile found it.' },
    message: { type: 'string', description: 'What is wrong.' },
  },
} as const;

const draftChange = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'action'],
  description: 'One file the draft writes or deletes.',
  properties: { path: repoPath, action: { enum: ['write', 'delete'], description: 'write: new or changed content; delete: the file goes.' }, size: { type: 'integer', minimum: 0, description: 'Bytes written.' } },
} as const;

const draft = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'owner', 'base', 'createdAt', 'updatedAt', 'state', 'changes'],
  description: 'A draft: file changes on a base revision, owned by one operator.',
  properties: {
    id: draftId,
    owner: { type: 'string', description: 'The operator who owns it (only they see it).' },
    base: { type: ['string', 'null'], description: 'The live revision when the draft began (null: nothing was live).' },
    baseCommit: { type: ['string', 'null'], description: 'The head commit of the manifest history then; a commit is refused (409) when main moved since.' },
    createdAt: { type: 'string', format: 'date-time', description: 'When it began.' },
    updatedAt: { type: 'string', format: 'date-time', description: 'Last change.' },
    state: { enum: ['open', 'committed', 'published'], description: 'open: being edited; committed: recorded in the history, not live yet; published: live or being rolled out.' },
    changes: { type: 'array', items: draftChange, description: 'The files it changes.' },
    message: { type: 'string', description: 'The commit message.' },
    revision: { type: 'string', description: 'The revision its commit made.' },
    commit: { type: 'string', description: 'Its commit in the manifest history.' },
    rollout: { type: 'string', description: 'The rollout publishing it.' },
  },
} as const;

export const manifestDraftSchema = { $id: 'urn:stead:api:manifest-draft', ...draft } as const;
export type ManifestDraftView = FromSchema<typeof manifestDraftSchema>;

export const manifestDraftListSchema = {
  $id: 'urn:stead:api:manifest-draft-list',
  type: 'object',
  additionalProperties: false,
  required: ['drafts'],
  description: 'The caller\'s drafts, newest first.',
  properties: { drafts: { type: 'array', items: draft, description: 'Drafts.' } },
} as const;

export const manifestTreeSchema = {
  $id: 'urn:stead:api:manifest-tree',
  type: 'object',
  additionalProperties: false,
  required: ['revision', 'files'],
  description: 'The files of the live revision (or of a draft\'s base, with the draft\'s changes marked).',
  properties: {
    revision: { type: ['string', 'null'], description: 'The revision listed (null: nothing published).' },
    draft: draft,
    files: {
      type: 'array',
      description: 'Every file, sorted by path.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'size', 'kind'],
        description: 'One file.',
        properties: {
          path: repoPath,
          size: { type: 'integer', minimum: 0, description: 'Bytes.' },
          kind: { enum: ['config', 'inventory', 'group', 'role', 'vars', 'template', 'file', 'other'], description: 'What the file is, by its folder.' },
          draft: { enum: ['write', 'delete', 'new'], description: 'What the draft does to it.' },
        },
      },
    },
  },
} as const;

export const manifestFileSchema = {
  $id: 'urn:stead:api:manifest-file',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'content', 'revision'],
  description: 'One text file of the repository.',
  properties: { path: repoPath, content: { type: 'string', description: 'The text.' }, revision: { type: ['string', 'null'], description: 'The revision it is read from (a draft\'s base).' }, draft: { enum: ['write', 'delete'], description: 'Set when the text is the draft\'s.' } },
} as const;

export const manifestCheckRequestSchema = {
  $id: 'urn:stead:api:manifest-check-request',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'content'],
  description: 'A file\'s text to check in the context of the repository (the live revision, or a draft).',
  properties: { path: repoPath, content: fileText, draft: draftId },
} as const;
export type ManifestCheckRequest = FromSchema<typeof manifestCheckRequestSchema>;

export const manifestCheckSchema = {
  $id: 'urn:stead:api:manifest-check',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'ok', 'problems', 'elsewhere'],
  description: 'The quick check of one file: YAML syntax and shapes, references, template syntax (no host compiled; the plan and the commit compile every host).',
  properties: {
    path: repoPath,
    ok: { type: 'boolean', description: 'No error here or elsewhere.' },
    problems: { type: 'array', items: problem, description: 'Problems in this file, with line and column.' },
    elsewhere: { type: 'array', items: problem, description: 'Errors the change causes in other files (the first 20).' },
  },
} as const;

const varRow = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value'],
  description: 'One leaf variable.',
  properties: {
    key: { type: 'string', description: 'The flattened key (a.b, a["x.y"], list[0]).' },
    value: { type: 'string', description: 'The value as YAML flow text; a secret shows its redaction marker.' },
    line: { type: 'integer', minimum: 1, description: 'Its line in the file.' },
    secret: { type: 'boolean', description: 'A !secret value (edit it in the YAML view).' },
  },
} as const;

export const manifestVarTableSchema = {
  $id: 'urn:stead:api:manifest-var-table',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'rows'],
  description: 'The flattened variable key table of one file (vars/global.yaml, a group\'s vars, an inventory host\'s vars).',
  properties: {
    path: repoPath,
    host: { type: 'string', description: 'Inventory files: whose variables.' },
    hosts: { type: 'array', items: { type: 'string' }, description: 'Inventory files: the hosts declared.' },
    rows: { type: 'array', items: varRow, description: 'One row per leaf, sorted by key.' },
    content: { type: 'string', description: 'After an edit: the file\'s new text.' },
  },
} as const;

export const manifestVarEditSchema = {
  $id: 'urn:stead:api:manifest-var-edit',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'edits'],
  description: 'Edits of a file\'s variables by key; the file\'s new text is written into the draft (comments kept).',
  properties: {
    path: repoPath,
    host: { type: 'string', maxLength: 253, description: 'Inventory files: whose variables.' },
    edits: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      description: 'Set (with value) or remove (without) keys.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key'],
        description: 'One edit.',
        properties: { key: { type: 'string', minLength: 1, maxLength: 1000, description: 'The flattened key.' }, value: { type: 'string', maxLength: 65536, description: 'The new value as YAML (8080, "text", [a, b]); absent removes the key.' } },
      },
    },
  },
} as const;
export type ManifestVarEdit = FromSchema<typeof manifestVarEditSchema>;

export const manifestPreviewRequestSchema = {
  $id: 'urn:stead:api:manifest-preview-request',
  type: 'object',
  additionalProperties: false,
  required: ['template', 'host'],
  description: 'Render a template for a host (its variables and last facts), from the live revision or a draft, optionally with new text.',
  properties: { template: repoPath, host: { type: 'string', minLength: 1, maxLength: 253, description: 'An inventory host.' }, content: fileText, draft: draftId },
} as const;
export type ManifestPreviewRequest = FromSchema<typeof manifestPreviewRequestSchema>;

export const manifestPreviewSchema = {
  $id: 'urn:stead:api:manifest-preview',
  type: 'object',
  additionalProperties: false,
  required: ['template', 'host', 'ok', 'problems'],
  description: 'A template rendered for one host, as a catalog would render it. A result that depends on a secret is withheld.',
  properties: {
    template: repoPath,
    host: { type: 'string', description: 'The host.' },
    ok: { type: 'boolean', description: 'It rendered.' },
    content: { type: 'string', description: 'The rendered text (at most 256 KiB).' },
    sensitive: { type: 'boolean', description: 'It depends on a secret: not shown.' },
    truncated: { type: 'boolean', description: 'Longer than shown.' },
    size: { type: 'integer', minimum: 0, description: 'Bytes rendered.' },
    problems: { type: 'array', items: problem, description: 'Why it did not render, with the template line.' },
  },
} as const;

export const manifestDraftWriteSchema = {
  $id: 'urn:stead:api:manifest-draft-write',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  description: 'Write a file into a draft (with content), or delete it (delete: true), or drop the draft\'s change to it (revert: true).',
  properties: { path: repoPath, content: fileText, delete: { type: 'boolean', description: 'Delete the file.' }, revert: { type: 'boolean', description: 'Drop the draft\'s change to this file.' } },
} as const;
export type ManifestDraftWrite = FromSchema<typeof manifestDraftWriteSchema>;

export const manifestCommitRequestSchema = {
  $id: 'urn:stead:api:manifest-commit-request',
  type: 'object',
  additionalProperties: false,
  required: ['message'],
  description: 'Commit a draft (validated as a push is); with publish, also make it live at once, or with rollout deliver it in batches.',
  properties: {
    message: { type: 'string', minLength: 1, maxLength: 1000, description: 'The commit message.' },
    publish: { type: 'boolean', description: 'Publish after committing: at once, or in batches with rollout.' },
    rollout: { ...rolloutPolicy, description: 'Publish in batches (a canary rollout); implies publish.' },
  },
} as const;
export type ManifestCommitRequest = FromSchema<typeof manifestCommitRequestSchema>;

export const manifestPublishRequestSchema = {
  $id: 'urn:stead:api:manifest-publish-request',
  type: 'object',
  additionalProperties: false,
  description: 'Publish a committed draft: in batches with rollout, else at once.',
  properties: { rollout: { ...rolloutPolicy, description: 'Deliver in batches (a canary rollout).' } },
} as const;
export type ManifestPublishRequest = FromSchema<typeof manifestPublishRequestSchema>;
