import type { FromSchema } from 'json-schema-to-ts';

/** One role parameter: a variable `<role>.<name>` with a default, a type and a description. */
export const roleParameterSchema = {
  $id: 'urn:stead:repo:role-parameter',
  type: 'object',
  description: 'A role parameter; its value is the variable <role>.<name>, defaulting to `default`.',
  additionalProperties: false,
  properties: {
    type: { enum: ['string', 'integer', 'number', 'boolean', 'list', 'map', 'any'], description: 'Checked after variables merge. Default any.' },
    default: { description: 'Value when no variable layer sets it; lowest layer of all.' },
    required: { type: 'boolean', description: 'true: some layer must set it (no default).' },
    description: { type: 'string', description: 'For people.' },
  },
} as const;

/** `roles/<name>/role.yaml`: a bundle of resources with parameters. */
export const roleSchema = {
  $id: 'urn:stead:repo:role',
  type: 'object',
  description: 'A role: parameters and the resources it declares.',
  additionalProperties: false,
  properties: {
    description: { type: 'string', description: 'For people.' },
    parameters: {
      type: 'object',
      propertyNames: { pattern: '^[a-z_][a-z0-9_]{0,63}$', 'x-hint': 'must be a lowercase identifier' },
      additionalProperties: { $ref: 'urn:stead:repo:role-parameter' },
      description: 'Parameters by name.',
    },
    resources: {
      type: 'array',
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string', description: 'Resource type.' } } },
      description: 'Resources, as in a manifest (see DESIGN §3).',
    },
  },
} as const;
export type RoleParameter = FromSchema<typeof roleParameterSchema>;
export type Role = FromSchema<typeof roleSchema, { references: [typeof roleParameterSchema] }>;
