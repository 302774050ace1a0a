import { operatorRoleSchema, scopeSchema } from './users.js';
import type { FromSchema } from 'json-schema-to-ts';
import { enrollmentStatus, hostName, isoTime } from './fragments.js';

/** One enrolled key of a host (without $id, for embedding). */
const agentKey = {
  type: 'object',
  description: 'One enrolled key of a host.',
  additionalProperties: false,
  required: ['fingerprint', 'status', 'createdAt'],
  properties: {
    fingerprint: { type: 'string', description: 'sha256 hex of the DER public key.' },
    status: { enum: ['pending', 'approved', 'retired', 'rejected'], description: 'retired: replaced by a newer approved key. rejected keys hold no slot (the newest 16 are kept, so re-enrolling one is refused).' },
    createdAt: { ...isoTime, description: 'When the key was enrolled.' },
    approvedAt: { ...isoTime, description: 'When the key was approved.' },
    expiresAt: { ...isoTime, description: 'Pending keys: when the request expires and frees its slot (the agent then enrolls again).' },
    via: { enum: ['operator', 'bootstrap-token'], description: 'Who approved it.' },
  },
} as const;

/** One enrolled key of a host. */
export const agentKeySchema = { $id: 'urn:stead:api:agent-key', ...agentKey } as const;

const agentView = {
  type: 'object',
  description: "A host's enrollment record and its keys.",
  additionalProperties: false,
  required: ['host', 'status', 'keys'],
  properties: {
    host: hostName,
    status: enrollmentStatus,
    keys: { type: 'array', items: agentKey, description: 'The keys enrolled for the host, oldest first (expired pending keys, deleted keys and the oldest rejected ones are gone).' },
  },
} as const;

/** An agent (a host's enrollment record) as operators see it. */
export const agentViewSchema = { $id: 'urn:stead:api:agent-view', ...agentView } as const;
export type AgentView = FromSchema<typeof agentViewSchema>;

/** GET /api/v1/agents */
export const agentListSchema = {
  $id: 'urn:stead:api:agent-list',
  type: 'object',
  additionalProperties: false,
  required: ['agents'],
  properties: { agents: { type: 'array', items: agentView, description: 'Every enrolled host.' } },
} as const;

/** POST /api/v1/agents/:host/approve: approve a pending key (the only pending one when no fingerprint is given). */
export const approveRequestSchema = {
  $id: 'urn:stead:api:approve-request',
  type: 'object',
  additionalProperties: false,
  properties: {
    fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'The pending key to approve; required when the host has several pending keys or an approved one (rotation).' },
  },
} as const;
export type ApproveRequest = FromSchema<typeof approveRequestSchema>;

/** POST /api/v1/bootstrap-tokens */
export const bootstrapTokenRequestSchema = {
  $id: 'urn:stead:api:bootstrap-token-request',
  type: 'object',
  additionalProperties: false,
  properties: {
    ttlSeconds: { type: 'integer', minimum: 60, maximum: 2592000, description: 'Lifetime; default 3600.' },
    host: { ...hostName, description: 'Restrict the token to this host name.' },
  },
} as const;
export type BootstrapTokenRequest = FromSchema<typeof bootstrapTokenRequestSchema>;

export const bootstrapTokenResponseSchema = {
  $id: 'urn:stead:api:bootstrap-token-response',
  type: 'object',
  additionalProperties: false,
  required: ['token', 'expiresAt'],
  properties: {
    token: { type: 'string', description: 'Shown once; the server keeps only its hash.' },
    expiresAt: { ...isoTime, description: 'After this time the token approves nothing.' },
    host: { ...hostName, description: 'The only host name the token may enroll, when restricted.' },
  },
} as const;
export type BootstrapTokenResponse = FromSchema<typeof bootstrapTokenResponseSchema>;

/** POST /api/v1/operator-tokens */
export const operatorTokenRequestSchema = {
  $id: 'urn:stead:api:operator-token-request',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$', description: 'Who or what holds the token.' },
    role: { enum: ['admin', 'operator', 'viewer', 'readonly'], description: 'viewer (alias: readonly) may only read; operator acts on hosts within its scope; admin does everything.' },
    scope: scopeSchema,
  },
} as const;
export type OperatorTokenRequest = FromSchema<typeof operatorTokenRequestSchema>;

export const operatorTokenResponseSchema = {
  $id: 'urn:stead:api:operator-token-response',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role', 'token'],
  properties: {
    name: { type: 'string', description: 'Who or what holds the token.' },
    role: operatorRoleSchema,
    scope: scopeSchema,
    token: { type: 'string', description: 'Shown once; the server keeps only its hash.' },
  },
} as const;

/** GET /api/v1/operator-tokens: every operator token, without the token itself. */
export const operatorTokenListSchema = {
  $id: 'urn:stead:api:operator-token-list',
  type: 'object',
  additionalProperties: false,
  required: ['tokens'],
  properties: {
    tokens: {
      type: 'array',
      description: 'Tokens, oldest first (the server keeps only their hashes).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'role', 'createdAt', 'revoked'],
        properties: {
          name: { type: 'string', description: 'Who or what holds the token ("admin": the <data-dir>/admin-token file).' },
          role: operatorRoleSchema,
          scope: scopeSchema,
          createdAt: { ...isoTime, description: 'When the token was created.' },
          revoked: { type: 'boolean', description: 'A revoked token authenticates nothing.' },
        },
      },
    },
  },
} as const;

/** POST /api/v1/operator-tokens/:name/revoke */
export const operatorTokenRevokeSchema = {
  $id: 'urn:stead:api:operator-token-revoke',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'revoked'],
  properties: {
    name: { type: 'string', description: 'The token name whose tokens were revoked.' },
    revoked: { type: 'integer', minimum: 0, description: 'How many tokens were revoked now (0: all were already revoked).' },
  },
} as const;
