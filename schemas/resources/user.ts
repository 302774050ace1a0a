import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, accountName, metaProperties } from '../defs.js';

export const userResourceSchema = {
  $id: 'urn:stead:resource:user',
  type: 'object',
  description: 'A local user account, managed with the shadow tools (useradd, usermod, userdel).',
  additionalProperties: false,
  required: ['type', 'name'],
  properties: {
    type: { const: 'user', description: 'Resource type.' },
    name: { ...accountName, description: 'Login name; also the title.' },
    ensure: { enum: ['present', 'absent'], description: 'Whether the account exists. Default present.' },
    uid: { type: 'integer', minimum: 0, maximum: 4294967294, description: 'Numeric user id. Absent: chosen by useradd, then not managed.' },
    gid: {
      description: 'Primary group, by name or number. Absent: useradd\'s default.',
      anyOf: [{ type: 'integer', minimum: 0, maximum: 4294967294 }, accountName],
      'x-hint': 'must be a group name or a numeric gid',
    },
    groups: { type: 'array', items: accountName, description: 'Supplementary groups, exactly (the user is removed from others).' },
    home: { ...absolutePath, description: 'Home directory.' },
    shell: { ...absolutePath, description: 'Login shell.' },
    comment: { type: 'string', pattern: '^[^:\\n]*$', description: 'GECOS field.', 'x-hint': 'must not contain ":" or a newline' },
    system: { type: 'boolean', description: 'Create as a system account (only on creation).' },
    managehome: { type: 'boolean', description: 'Create the home directory on creation and remove it on removal. Default false.' },
    password: { type: 'string', description: 'Password hash as in /etc/shadow (never a clear-text password). Always redacted.', 'x-sensitive': true },
    ...metaProperties,
  },
} as const;
export type UserResource = FromSchema<typeof userResourceSchema>;
