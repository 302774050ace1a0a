import type { FromSchema } from 'json-schema-to-ts';

/**
 * A manifest file as an operator writes it: variables for a masterless apply and a list of
 * resources. Each resource is checked against its own type's schema (schemas/resource.ts), so
 * errors name the exact property; here a resource is only "an object with a type".
 */
export const manifestSchema = {
  $id: 'urn:stead:manifest',
  type: 'object',
  description: 'A manifest file: resources and, for a masterless run, variables.',
  additionalProperties: false,
  properties: {
    vars: { type: 'object', description: 'Variables for templates (masterless runs; on a server the host\'s merged variables take this place).' },
    resources: {
      type: 'array',
      description: 'The resources to enforce, each a map with a "type" and that type\'s properties.',
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string', description: 'Resource type.' } } },
    },
  },
} as const;
export type Manifest = FromSchema<typeof manifestSchema>;
