import type { FromSchema } from 'json-schema-to-ts';

/**
 * `stead.yaml` at the root of a manifest repository: the marker that a directory is one, and
 * repository-wide settings. The secret key is never here: the server holds it (a key file).
 */
export const steadConfigSchema = {
  $id: 'urn:stead:repo:config',
  type: 'object',
  description: 'stead.yaml: marks a manifest repository and holds its settings.',
  additionalProperties: false,
  required: ['stead'],
  properties: {
    stead: { const: 1, description: 'Repository format version; 1.' },
    name: { type: 'string', minLength: 1, maxLength: 128, description: 'A name for people (shown in the console).' },
    description: { type: 'string', description: 'Free text.' },
  },
} as const;
export type SteadConfig = FromSchema<typeof steadConfigSchema>;
