/** Small fragments shared by the API schemas. */

/** A host name: DNS-like labels, at most 253 bytes (server/domain/host-name.ts enforces the byte bound). */
export const hostName = {
  type: 'string',
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*$',
  description: 'A DNS-like host name.',
  'x-hint': 'must be a DNS-like host name: labels of letters, digits, "-" or "_" separated by "." (no "/", "..", spaces or control characters)',
} as const;

/** Free-form facts: a JSON object, checked for depth and key hygiene by the server. */
export const factsObject = {
  type: 'object',
  maxProperties: 512,
  description: 'Facts gathered by the agent (hostname, os, ips, ...). Keys must not start with "$", contain "." or be __proto__/constructor/prototype.',
} as const;

export const isoTime = { type: 'string', format: 'date-time', description: 'RFC 3339 time.' } as const;

export const enrollmentStatus = { enum: ['pending', 'approved', 'revoked'], description: 'Enrollment state of a host.' } as const;
