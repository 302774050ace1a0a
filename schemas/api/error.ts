import type { FromSchema } from 'json-schema-to-ts';

/** Every non-2xx response body of the API. */
export const errorBodySchema = {
  $id: 'urn:stead:api:error',
  type: 'object',
  description: 'An error: a stable machine-readable code, a message a person can act on, the request id.',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      description: 'What went wrong.',
      additionalProperties: false,
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string', description: 'Stable error code, e.g. "SCHEMA_INVALID", "HOST_PENDING".' },
        message: { type: 'string', description: 'What went wrong and what to do.' },
        requestId: { type: 'string', description: 'The X-Request-Id of the request, for the logs.' },
        details: { description: 'Structured details, e.g. the located problems of a rejected body or revision.' },
      },
    },
  },
} as const;
export type ErrorBody = FromSchema<typeof errorBodySchema>;
