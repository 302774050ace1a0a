/** Blob storage figures for operators: GET /api/v1/blobs (ADR 0022). */
import { blobStatsSchema, type BlobStatsView } from '../../schemas/api/blobs.js';
import type { Services } from '../services/services.js';
import { requestSignal } from './request-signal.js';
import type { RouteSpec } from './route-spec.js';

/** The figures GET /api/v1/blobs answers (the console's /blobs page shows the same): one full scan of every pruned bucket. */
export async function blobStatsOf(s: Pick<Services, 'blobRetention'>, signal: AbortSignal): Promise<BlobStatsView> {
  const grace = s.blobRetention.graceMs;
  return { retentionDays: grace === undefined ? null : grace / 86_400_000, buckets: await s.blobRetention.stats(signal) };
}

export const blobRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/blobs',
    auth: 'read',
    tag: 'system',
    summary: 'Blob buckets pruned by the blob retention: blobs, bytes, referenced blobs and their bytes per bucket, and the retention in days (null: never pruned).',
    responses: { 200: { description: 'figures', schema: blobStatsSchema } },
    async handler(ctx, s) {
      ctx.body = await blobStatsOf(s, requestSignal(ctx));
    },
  },
];
