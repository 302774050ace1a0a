/**
 * The script library and execution accounts (issue 9, ADR 0014): request and response bodies of
 * /api/v1/scripts and /api/v1/accounts. Source text is bounded here by characters and by the
 * server in UTF-8 bytes (1 MiB).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { accountName } from '../defs.js';
import { isoTime } from './fragments.js';

/** Largest script source in UTF-8 bytes (the schema bounds characters; the service bounds bytes). */
export const MAX_SCRIPT_SOURCE_BYTES = 1024 * 1024;
/** Most parameters one script declares. */
export const MAX_SCRIPT_PARAMS = 50;
/** Most tags one script carries. */
export const MAX_SCRIPT_TAGS = 20;

const scriptId = {
  type: 'string',
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$',
  description: 'The script id: the slug of its name (lowercase letters, digits and "-", at most 64).',
} as const;

const scriptName = {
  type: 'string',
  minLength: 1,
  maxLength: 100,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'Display name; the id is its slug, so it needs at least one letter or digit.',
} as const;

const description = { type: 'string', maxLength: 2000, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$', description: 'What the script does (no control characters but newline and tab).' } as const;

const lang = { enum: ['shell', 'python'], description: 'shell runs with /bin/sh semantics (bash when the shebang says so); python with python3.' } as const;

const kind = { enum: ['base', 'user'], description: 'base: vetted scripts shipped with the server (read-only); user: written by operators.' } as const;

const tag = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,31}$', description: 'A tag: lowercase letters, digits, ".", "_" or "-" (at most 32).' } as const;

const tags = { type: 'array', maxItems: MAX_SCRIPT_TAGS, uniqueItems: true, items: tag, description: `Tags (at most ${MAX_SCRIPT_TAGS}, unique).` } as const;

const source = { type: 'string', minLength: 1, maxLength: MAX_SCRIPT_SOURCE_BYTES, description: 'The script text (at most 1 MiB of UTF-8, no NUL).' } as const;

const message = { type: 'string', maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'What changed in this version (one line).' } as const;

const scriptParam = {
  type: 'object',
  description: 'A parameter the script declares; a launch passes it as the environment variable of the same name.',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 64, description: 'Environment variable name.' },
    description: { type: 'string', maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'Shown in the console and the CLI.' },
    required: { type: 'boolean', description: 'A launch without a value (and no default) is refused.' },
    default: { type: 'string', maxLength: 4096, description: 'The value when a launch passes none.' },
  },
} as const;

const params = { type: 'array', maxItems: MAX_SCRIPT_PARAMS, items: scriptParam, description: `Declared parameters (at most ${MAX_SCRIPT_PARAMS}, unique names).` } as const;

/** One declared parameter of a script. */
export const scriptParamSchema = { $id: 'urn:stead:api:script-param', ...scriptParam } as const;
export type ScriptParam = FromSchema<typeof scriptParamSchema>;

/** POST /api/v1/scripts (JSON form): a new user script and its version 1. */
export const scriptCreateRequestSchema = {
  $id: 'urn:stead:api:script-create-request',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'lang', 'source'],
  properties: { name: scriptName, description, lang, tags, params, source, message },
} as const;
export type ScriptCreateRequest = FromSchema<typeof scriptCreateRequestSchema>;

/**
 * POST /api/v1/scripts/:id/versions: a new version when the source or the parameters differ from
 * the latest; description and tags (not versioned) are updated either way.
 */
export const scriptVersionRequestSchema = {
  $id: 'urn:stead:api:script-version-request',
  type: 'object',
  additionalProperties: false,
  required: ['source'],
  properties: { source, params: { ...params, description: 'Declared parameters of the new version; absent keeps those of the latest.' }, message, description, tags },
} as const;
export type ScriptVersionRequest = FromSchema<typeof scriptVersionRequestSchema>;

/** POST /api/v1/scripts/:id/clone: a new user script from a chosen version of another. */
export const scriptCloneRequestSchema = {
  $id: 'urn:stead:api:script-clone-request',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: scriptName,
    version: { type: 'integer', minimum: 1, description: 'The version to copy; default the latest.' },
    description: { ...description, description: 'Default: the original\'s.' },
    tags: { ...tags, description: 'Default: the original\'s.' },
  },
} as const;
export type ScriptCloneRequest = FromSchema<typeof scriptCloneRequestSchema>;

const versionInfo = {
  type: 'object',
  description: 'One immutable version of a script (without its source).',
  additionalProperties: false,
  required: ['version', 'author', 'createdAt', 'sha256'],
  properties: {
    version: { type: 'integer', minimum: 1, description: 'Version number, from 1.' },
    author: { type: 'string', description: 'The operator (or "stead" for seeded base scripts) who saved it.' },
    createdAt: { ...isoTime, description: 'When it was saved.' },
    message: { type: 'string', description: 'What changed.' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'sha256 of the source (UTF-8).' },
  },
} as const;

const clonedFrom = {
  type: 'object',
  description: 'The script and version this one was cloned from.',
  additionalProperties: false,
  required: ['id', 'version'],
  properties: { id: scriptId, version: { type: 'integer', minimum: 1, description: 'The version copied.' } },
} as const;

const summaryProps = {
  id: scriptId,
  name: { type: 'string', description: 'Display name.' },
  description: { type: 'string', description: 'What the script does.' },
  lang,
  kind,
  tags: { type: 'array', items: tag, description: 'Tags.' },
  latest: { type: 'integer', minimum: 1, description: 'The newest version number.' },
  createdAt: { ...isoTime, description: 'When version 1 was saved.' },
  updatedAt: { ...isoTime, description: 'When the newest version (or the description or tags) was saved.' },
  clonedFrom,
} as const;

const scriptSummary = {
  type: 'object',
  description: 'A script in a list.',
  additionalProperties: false,
  required: ['id', 'name', 'description', 'lang', 'kind', 'tags', 'latest', 'createdAt', 'updatedAt'],
  properties: summaryProps,
} as const;

/** GET /api/v1/scripts */
export const scriptListSchema = {
  $id: 'urn:stead:api:script-list',
  type: 'object',
  additionalProperties: false,
  required: ['scripts', 'total', 'limit', 'offset'],
  properties: {
    scripts: { type: 'array', items: scriptSummary, description: 'The page, base scripts first, then by name.' },
    total: { type: 'integer', minimum: 0, description: 'Matching scripts in all pages.' },
    limit: { type: 'integer', minimum: 1, description: 'Page size asked for.' },
    offset: { type: 'integer', minimum: 0, description: 'First script of the page.' },
  },
} as const;
export type ScriptList = FromSchema<typeof scriptListSchema>;

/** GET /api/v1/scripts/:id (one version with its source) and the answer of every script write. */
export const scriptViewSchema = {
  $id: 'urn:stead:api:script-view',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'description', 'lang', 'kind', 'tags', 'latest', 'createdAt', 'updatedAt', 'version', 'source', 'params', 'versions'],
  properties: {
    ...summaryProps,
    version: { ...versionInfo, description: 'The version shown (the latest unless ?version= asked for another).' },
    source: { type: 'string', description: 'Its source.' },
    params: { type: 'array', items: scriptParam, description: 'Its declared parameters.' },
    versions: { type: 'array', items: versionInfo, description: 'Every version, newest first.' },
    created: { type: 'boolean', description: 'POST .../versions only: false when nothing versioned changed (no new version).' },
  },
} as const;
export type ScriptView = FromSchema<typeof scriptViewSchema>;

/** GET /api/v1/scripts/:id/diff?from=&to= */
export const scriptDiffSchema = {
  $id: 'urn:stead:api:script-diff',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'from', 'to', 'diff', 'paramsChanged'],
  properties: {
    id: scriptId,
    from: { type: 'integer', minimum: 1, description: 'Older side.' },
    to: { type: 'integer', minimum: 1, description: 'Newer side.' },
    diff: { type: 'string', description: 'Unified diff of the sources ("" when equal).' },
    paramsChanged: { type: 'boolean', description: 'The declared parameters differ.' },
  },
} as const;
export type ScriptDiff = FromSchema<typeof scriptDiffSchema>;

const accountAlias = { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$', description: 'The account\'s name in Stead (what a job names), e.g. "app-deploy".' } as const;

const accountProps = {
  name: accountAlias,
  user: { ...accountName, description: 'The POSIX user the job runs as on the host.' },
  description: { type: 'string', maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'What the account is for.' },
} as const;

/** POST /api/v1/accounts */
export const accountCreateRequestSchema = {
  $id: 'urn:stead:api:account-create-request',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'user'],
  properties: accountProps,
} as const;
export type AccountCreateRequest = FromSchema<typeof accountCreateRequestSchema>;

const accountView = {
  type: 'object',
  description: 'An execution account: a job runs as its user.',
  additionalProperties: false,
  required: ['name', 'user', 'builtin', 'createdAt'],
  properties: {
    ...accountProps,
    builtin: { type: 'boolean', description: 'Seeded by the server (root); cannot be deleted.' },
    createdAt: { ...isoTime, description: 'When it was created.' },
  },
} as const;

/** One execution account. */
export const accountViewSchema = { $id: 'urn:stead:api:account-view', ...accountView } as const;
export type AccountView = FromSchema<typeof accountViewSchema>;

/** GET /api/v1/accounts */
export const accountListSchema = {
  $id: 'urn:stead:api:account-list',
  type: 'object',
  additionalProperties: false,
  required: ['accounts'],
  properties: { accounts: { type: 'array', items: accountView, description: 'Every account, by name.' } },
} as const;
