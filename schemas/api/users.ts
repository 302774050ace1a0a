/**
 * Users, roles and scopes (ADR 0020): /api/v1/users, /api/v1/login, /api/v1/logout,
 * /api/v1/account/password.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { isoTime } from './fragments.js';

export const operatorRoleSchema = { enum: ['admin', 'operator', 'viewer'], description: 'viewer reads; operator acts on hosts in its scope; admin does everything.' } as const;

const scopeItem = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._/*-]+$' } as const;

export const scopeSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Hosts the operator may act on: business-line patterns (`pay` = pay and pay/<module>, `pay/*`, `pay/api`) and IDC names. Absent or empty: any.',
  properties: {
    business: { type: 'array', maxItems: 50, items: { ...scopeItem, description: 'A business pattern.' }, description: 'Business-line patterns.' },
    idc: { type: 'array', maxItems: 50, items: { ...scopeItem, description: 'An IDC name.' }, description: 'IDC names.' },
  },
} as const;

const password = { type: 'string', minLength: 1, maxLength: 1024, description: '12–1024 bytes of UTF-8.' } as const;
const userName = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9._-]*$', description: 'A letter, then letters, digits, . _ -' } as const;

const userObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role', 'disabled', 'createdAt', 'updatedAt', 'passwordChangedAt'],
  properties: {
    name: userName,
    role: operatorRoleSchema,
    scope: scopeSchema,
    disabled: { type: 'boolean', description: 'A disabled user cannot log in; its sessions stop working.' },
    createdAt: isoTime,
    updatedAt: isoTime,
    passwordChangedAt: isoTime,
    lastLoginAt: isoTime,
  },
} as const;

export const userSchema = { $id: 'urn:stead:api:user', ...userObject } as const;
export type User = FromSchema<typeof userSchema>;

export const userListSchema = {
  $id: 'urn:stead:api:user-list',
  type: 'object',
  additionalProperties: false,
  required: ['users'],
  properties: { users: { type: 'array', items: userObject, description: 'Every user, by name.' } },
} as const;

export const userCreateSchema = {
  $id: 'urn:stead:api:user-create',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role', 'password'],
  properties: { name: userName, role: operatorRoleSchema, password, scope: scopeSchema },
} as const;
export type UserCreate = FromSchema<typeof userCreateSchema>;

export const userUpdateSchema = {
  $id: 'urn:stead:api:user-update',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    role: operatorRoleSchema,
    scope: { anyOf: [scopeSchema, { type: 'null' }], description: 'A new scope; null clears it.' },
    disabled: { type: 'boolean', description: 'Disable or enable the user.' },
    password: { ...password, description: 'A new password (an admin reset).' },
  },
} as const;
export type UserUpdate = FromSchema<typeof userUpdateSchema>;

export const passwordChangeSchema = {
  $id: 'urn:stead:api:password-change',
  type: 'object',
  additionalProperties: false,
  required: ['current', 'password'],
  properties: { current: { ...password, description: 'The password now.' }, password: { ...password, description: 'The new password (12–1024 bytes).' } },
} as const;
export type PasswordChange = FromSchema<typeof passwordChangeSchema>;

export const loginRequestSchema = {
  $id: 'urn:stead:api:login-request',
  type: 'object',
  additionalProperties: false,
  required: ['user', 'password'],
  properties: { user: { type: 'string', minLength: 1, maxLength: 64, description: 'The user name.' }, password },
} as const;
export type LoginRequest = FromSchema<typeof loginRequestSchema>;

export const loginResponseSchema = {
  $id: 'urn:stead:api:login-response',
  type: 'object',
  additionalProperties: false,
  required: ['user', 'role', 'token', 'expiresAt'],
  properties: {
    user: userName,
    role: operatorRoleSchema,
    scope: scopeSchema,
    token: { type: 'string', description: 'A session token (sst_…): send it as "Authorization: Bearer <token>" until it expires or you log out. Shown once.' },
    expiresAt: { ...isoTime, description: 'When the session ends.' },
  },
} as const;

export const whoamiSchema = {
  $id: 'urn:stead:api:whoami',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role', 'kind'],
  properties: {
    name: { type: 'string', description: 'The user or token name.' },
    role: operatorRoleSchema,
    scope: scopeSchema,
    kind: { enum: ['user', 'token'], description: 'A user (password) or a token holder.' },
  },
} as const;
