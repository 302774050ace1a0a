import type { FromSchema } from 'json-schema-to-ts';

/** One located problem in a manifest repository (validation, compile), as the CLI and API show it. */
export const repoProblemSchema = {
  $id: 'urn:stead:repo:problem',
  type: 'object',
  description: 'A located problem: file, line and column (1-based) and a JSON pointer into the file.',
  additionalProperties: false,
  required: ['code', 'severity', 'file', 'message'],
  properties: {
    code: { type: 'string', description: 'Stable code, e.g. YAML_SYNTAX, UNKNOWN_ROLE, GROUP_CYCLE, TEMPLATE_ERROR.' },
    severity: { enum: ['error', 'warning'], description: 'Errors refuse the repository; warnings do not.' },
    file: { type: 'string', description: 'Path relative to the repository root.' },
    line: { type: 'integer', minimum: 1, description: '1-based line.' },
    column: { type: 'integer', minimum: 1, description: '1-based column.' },
    path: { type: 'string', description: 'JSON pointer into the file\'s document ("" for the whole file).' },
    host: { type: 'string', description: 'The host whose compile found it, when host-specific.' },
    message: { type: 'string', description: 'What is wrong, for a person to act on. Never holds a secret value.' },
  },
} as const;
export type RepoProblem = FromSchema<typeof repoProblemSchema>;
