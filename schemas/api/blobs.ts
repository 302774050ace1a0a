/** Blob storage figures: GET /api/v1/blobs (ADR 0022). */
import type { FromSchema } from 'json-schema-to-ts';

export const blobStatsSchema = {
  $id: 'urn:stead:api:blob-stats',
  type: 'object',
  additionalProperties: false,
  required: ['retentionDays', 'buckets'],
  description: 'The pruned blob buckets: how many blobs and bytes each holds, how many documents reference, and the retention in force.',
  properties: {
    retentionDays: { type: ['number', 'null'], minimum: 0, description: 'Days an unreferenced blob is kept after it was last needed (--blob-retention-days); null: blobs are never deleted.' },
    buckets: {
      type: 'array',
      description: 'One entry per pruned bucket.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['bucket', 'blobs', 'bytes', 'referenced', 'referencedBytes'],
        description: 'A bucket.',
        properties: {
          bucket: { type: 'string', description: 'repo (revision files), content (catalog file contents), job_blobs (files of job steps).' },
          blobs: { type: 'integer', minimum: 0, description: 'Blobs stored.' },
          bytes: { type: 'integer', minimum: 0, description: 'Their total size.' },
          referenced: { type: 'integer', minimum: 0, description: 'Blobs a stored document references (content: always 0; its blobs are kept by the catalogs servers serve, through marks).' },
          referencedBytes: { type: 'integer', minimum: 0, description: 'Total size of the referenced blobs; bytes minus this is what no document references.' },
        },
      },
    },
  },
} as const;
export type BlobStatsView = FromSchema<typeof blobStatsSchema>;
