import type { FromSchema } from 'json-schema-to-ts';
import type { Resource } from './resource.js';

/**
 * What the compiler produces for one host and the agent enforces: resolved resources with
 * templates rendered and file contents replaced by blob references ("sha256:<hex>").
 * `id` is the hash of exactly what the agent enforces, and the HTTP ETag of the catalog.
 */
export const catalogSchema = {
  $id: 'urn:stead:catalog',
  type: 'object',
  description: 'The compiled desired state of one host.',
  additionalProperties: false,
  required: ['id', 'host', 'revision', 'resources'],
  properties: {
    id: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'sha256 of the canonical JSON of host, revision-independent content and resources.' },
    host: { type: 'string', minLength: 1, description: 'The host this catalog is for.' },
    revision: { type: 'string', minLength: 1, description: 'The manifest revision it was compiled from.' },
    resources: {
      type: 'array',
      description: 'Resources in manifest order; each valid against its type\'s schema, with file content only as source: "sha256:<hex>".',
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string', description: 'Resource type.' } } },
    },
    blobs: {
      type: 'object',
      description: 'Size in bytes of every blob the resources reference, by "sha256:<hex>".',
      additionalProperties: { type: 'integer', minimum: 0 },
    },
  },
} as const;
type CatalogShape = FromSchema<typeof catalogSchema>;
/** A catalog whose resources have been checked against their types' schemas. */
export type Catalog = Omit<CatalogShape, 'resources'> & { resources: Resource[] };
