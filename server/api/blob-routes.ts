/** Blob storage figures for operators: GET /api/v1/blobs (ADR 0022). */
import { blobStatsSchema } from '../../schemas/api/blobs.js';
import { requestSignal } from './request-signal.js';
import type { RouteSpec } from './route-spec.js';

export const blobRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/blobs',
    auth: 'read',
    tag: 'system',
    summary: 'Blob buckets pruned by the blob retention: blobs, bytes and referenced blobs per bucket, and the retention in days (null: never pruned).',
    responses: { 200: { description: 'figures', schema: blobStatsSchema } },
    async handler(ctx, s) {
      const grace = s.blobRetention.graceMs;
      ctx.body = { retentionDays: grace === undefined ? null : grace / 86_400_000, buckets: await s.blobRetention.stats(requestSignal(ctx)) };
    },
  },
];
