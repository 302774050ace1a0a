import type { FromSchema } from 'json-schema-to-ts';
import { accountName, metaProperties } from '../defs.js';

export const groupResourceSchema = {
  $id: 'urn:stead:resource:group',
  type: 'object',
  description: 'A local group, managed with the shadow tools (groupadd, groupmod, groupdel).',
  additionalProperties: false,
  required: ['type', 'name'],
  properties: {
    type: { const: 'group', description: 'Resource type.' },
    name: { ...accountName, description: 'Group name; also the title.' },
    ensure: { enum: ['present', 'absent'], description: 'Whether the group exists. Default present.' },
    gid: { type: 'integer', minimum: 0, maximum: 4294967294, description: 'Numeric group id. Absent: chosen by groupadd, then not managed.' },
    system: { type: 'boolean', description: 'Create as a system group (only on creation).' },
    ...metaProperties,
  },
} as const;
export type GroupResource = FromSchema<typeof groupResourceSchema>;
