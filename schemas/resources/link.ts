import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, metaProperties } from '../defs.js';

export const linkResourceSchema = {
  $id: 'urn:stead:resource:link',
  type: 'object',
  description: 'A symbolic link. The target is written as given (relative targets stay relative).',
  additionalProperties: false,
  required: ['type', 'path'],
  properties: {
    type: { const: 'link', description: 'Resource type.' },
    path: { ...absolutePath, description: 'Absolute path of the link; also its title.' },
    ensure: { enum: ['present', 'absent'], description: 'Whether the link exists. Default present.' },
    target: { type: 'string', minLength: 1, description: 'What the link points to, written as given. Required unless ensure is absent.' },
    force: { type: 'boolean', description: 'Replace a file or empty directory standing at path. Default false: refuse.' },
    ...metaProperties,
  },
} as const;
export type LinkResource = FromSchema<typeof linkResourceSchema>;
