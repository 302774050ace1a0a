import type { FromSchema } from 'json-schema-to-ts';
import { metaProperties } from '../defs.js';

export const packageResourceSchema = {
  $id: 'urn:stead:resource:package',
  type: 'object',
  description: 'An operating-system package, installed through the platform\'s package manager (dpkg/apt on Debian).',
  additionalProperties: false,
  required: ['type', 'name'],
  properties: {
    type: { const: 'package', description: 'Resource type.' },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9+.:-]*$', description: 'Package name; also the title.', 'x-hint': 'must be a package name (lowercase letters, digits, "+", ".", "-")' },
    ensure: {
      type: 'string',
      minLength: 1,
      description: '"present" (any version), "absent", "latest" (upgrade when the repository has newer), or an exact version such as "1.22.1-9". Default present.',
    },
    provider: { enum: ['apt'], description: 'Package provider; default from the platform (apt on Debian).' },
    ...metaProperties,
  },
} as const;
export type PackageResource = FromSchema<typeof packageResourceSchema>;
