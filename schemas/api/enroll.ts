import type { FromSchema } from 'json-schema-to-ts';
import { enrollmentStatus, factsObject, hostName } from './fragments.js';

/** POST /api/v1/agents/enroll: an agent presents its host name and public key. */
export const enrollRequestSchema = {
  $id: 'urn:stead:api:enroll-request',
  type: 'object',
  description: 'Enrollment of an agent key for a host.',
  additionalProperties: false,
  required: ['host', 'publicKey'],
  properties: {
    host: hostName,
    publicKey: {
      type: 'string',
      minLength: 40,
      maxLength: 1024,
      pattern: '^-----BEGIN PUBLIC KEY-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END PUBLIC KEY-----\\r?\\n?$',
      description: 'The agent\'s Ed25519 public key, SPKI PEM.',
      'x-hint': 'must be an Ed25519 public key in SPKI PEM form ("-----BEGIN PUBLIC KEY-----" ...)',
    },
    facts: factsObject,
    bootstrapToken: { type: 'string', minLength: 16, maxLength: 256, pattern: '^[A-Za-z0-9_-]+$', description: 'A single-use bootstrap token that approves the enrollment at once.' },
  },
} as const;
export type EnrollRequest = FromSchema<typeof enrollRequestSchema>;

/** 201 (approved by a bootstrap token) or 202 (pending an operator's approval). */
export const enrollResponseSchema = {
  $id: 'urn:stead:api:enroll-response',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'status'],
  properties: {
    host: hostName,
    status: { enum: ['pending', 'approved'], description: 'approved only when a valid bootstrap token was given.' },
    fingerprint: { type: 'string', description: 'sha256 hex of the DER public key.' },
  },
} as const;
export type EnrollResponse = FromSchema<typeof enrollResponseSchema>;

/** GET /api/v1/agents/status: what the server thinks of the calling key. */
export const agentStatusSchema = {
  $id: 'urn:stead:api:agent-status',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'status'],
  properties: {
    host: hostName,
    status: enrollmentStatus,
    fingerprint: { type: 'string', description: 'Fingerprint of the key that signed the request.' },
  },
} as const;
export type AgentStatus = FromSchema<typeof agentStatusSchema>;
