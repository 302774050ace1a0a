/**
 * The console's blob storage page (ADR 0022; server-rendered, no script):
 *   GET /blobs   per pruned bucket (repo, content, job_blobs): blobs, bytes, referenced and
 *                unreferenced blobs, a bar of referenced against unreferenced bytes, and the
 *                retention in force ("never pruned" when --blob-retention-days is 0). The same
 *                figures as GET /api/v1/blobs and `stead blobs` (blobStatsOf). Any logged-in
 *                operator may read it, as the API route (auth `read`).
 * Every request scans the buckets (a stat per blob), so the page does not refresh itself. When
 * the last sweep ran and what it freed are not kept by the services (each server's housekeeping
 * holds its own timer and logs `pruned unreferenced blobs`), so the page does not show them.
 * Linked from the layout's footer (the header nav already wraps); the table becomes cards below
 * 700 px, so it fits 390 px.
 */
import type { Router } from '@koa/router';
import type { AppState } from '../api/app-state.js';
import { blobStatsOf } from '../api/blob-routes.js';
import { requestSignal } from '../api/request-signal.js';
import type { BlobStatsView } from '../../schemas/api/blobs.js';
import type { ConsoleKit } from './console-kit.js';
import { jobStyle } from './jobs/job-views.js';
import { view } from './ui-env.js';
import { layout } from './views.js';

const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A byte count for people: `512 B`, `1.5 KiB`, `12 MiB` (binary units; one decimal below 10). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`not a byte count: ${n}`);
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let i = 0;
  while (i < units.length - 1 && (v < 10 ? Number(v.toFixed(1)) : Math.round(v)) >= 1024) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : String(Math.round(v))} ${units[i]!}`;
}

/** What each pruned bucket holds, in words (ADR 0022). */
const bucketLabels: Readonly<Record<string, string>> = {
  repo: 'revision files',
  content: 'catalog file contents',
  job_blobs: 'files of job steps',
};

/** `null` (never pruned) or the days, in words. */
export function retentionText(days: number | null): string {
  if (days === null) return 'never pruned';
  return days === 1 ? '1 day' : `${days} days`;
}

export interface BlobRow {
  readonly bucket: string;
  readonly label: string;
  readonly blobs: number;
  readonly bytes: number;
  readonly bytesText: string;
  readonly referenced: number;
  readonly unreferenced: number;
  readonly referencedBytesText: string;
  readonly unreferencedBytesText: string;
  /** Bar widths in percent of the bucket's bytes (0 and 0 for an empty bucket). */
  readonly referencedPct: number;
  readonly unreferencedPct: number;
  /** content: no document references its blobs; marks of served catalogs keep them. */
  readonly keptByMarks: boolean;
  readonly retention: string;
}

/** The page's rows and totals from the API's figures (pure). */
export function blobPageModel(stats: BlobStatsView): { rows: BlobRow[]; total: { blobs: number; bytesText: string; unreferenced: number; unreferencedBytesText: string }; retentionDays: number | null; neverPruned: boolean; retention: string } {
  const retention = retentionText(stats.retentionDays);
  const rows = stats.buckets.map((b): BlobRow => {
    const unreferencedBytes = Math.max(0, b.bytes - b.referencedBytes);
    const referencedPct = b.bytes === 0 ? 0 : Math.round((b.referencedBytes / b.bytes) * 1000) / 10;
    return {
      bucket: b.bucket,
      label: bucketLabels[b.bucket] ?? '',
      blobs: b.blobs,
      bytes: b.bytes,
      bytesText: formatBytes(b.bytes),
      referenced: b.referenced,
      unreferenced: b.blobs - b.referenced,
      referencedBytesText: formatBytes(b.referencedBytes),
      unreferencedBytesText: formatBytes(unreferencedBytes),
      referencedPct,
      unreferencedPct: b.bytes === 0 ? 0 : Math.round((100 - referencedPct) * 10) / 10,
      keptByMarks: b.bucket === 'content',
      retention,
    };
  });
  const sum = (f: (b: BlobStatsView['buckets'][number]) => number): number => stats.buckets.reduce((n, b) => n + f(b), 0);
  return {
    rows,
    total: {
      blobs: sum((b) => b.blobs),
      bytesText: formatBytes(sum((b) => b.bytes)),
      unreferenced: sum((b) => b.blobs - b.referenced),
      unreferencedBytesText: formatBytes(sum((b) => Math.max(0, b.bytes - b.referencedBytes))),
    },
    retentionDays: stats.retentionDays,
    neverPruned: stats.retentionDays === null,
    retention,
  };
}

const blobStyle = `
.split{flex:1 1 auto;min-width:0;max-width:22rem}.nowrap{white-space:nowrap}
.pbar.bytes i.ref{background:var(--in-sync)}.pbar.bytes i.unref{background:var(--drifted)}
.legend i.ref{background:var(--in-sync)}.legend i.unref{background:var(--drifted)}
`;

export const blobsView = view(
  layout(
    `<h1>Blob storage</h1>
<p class="muted">File bytes the server keeps as content-addressed blobs, per pruned bucket. The same figures: <code>GET /api/v1/blobs</code>, <code>stead blobs</code>.</p>
<div class="card"><dl class="meta">
<dt>Retention</dt><dd id="retention">{% if neverPruned %}<b>never pruned</b> (<code class="nowrap">--blob-retention-days 0</code>): unreferenced blobs are kept{% else %}<b>{{ retention }}</b>: an unreferenced blob is deleted once it was last needed longer ago than that (<code class="nowrap">--blob-retention-days</code>){% endif %}</dd>
<dt>Total</dt><dd id="total">{{ total.blobs }} blob(s), {{ total.bytesText }}; {{ total.unreferenced }} unreferenced ({{ total.unreferencedBytesText }})</dd>
</dl></div>
<p class="legend"><span><i class="ref"></i>referenced bytes</span><span><i class="unref"></i>unreferenced bytes</span></p>
<div class="box"><table id="blobs" class="cards"><thead><tr><th>Bucket</th><th class="num">Blobs</th><th class="num">Bytes</th><th class="num">Referenced</th><th class="num">Unreferenced</th><th>Bytes: referenced / unreferenced</th><th>Retention</th></tr></thead><tbody>
{% for b in rows %}<tr data-bucket="{{ b.bucket }}">
<td data-label="Bucket"><span><span class="mono">{{ b.bucket }}</span>{% if b.label %}<br><span class="muted">{{ b.label }}</span>{% endif %}</span></td>
<td data-label="Blobs" class="num" data-n="blobs">{{ b.blobs }}</td>
<td data-label="Bytes" class="num" data-n="bytes" title="{{ b.bytes }} bytes">{{ b.bytesText }}</td>
<td data-label="Referenced" class="num" data-n="referenced">{{ b.referenced }}</td>
<td data-label="Unreferenced" class="num" data-n="unreferenced"><span>{{ b.unreferenced }}{% if b.keptByMarks and b.unreferenced %}<br><span class="muted">kept while served</span>{% endif %}</span></td>
<td data-label="Bytes split"><div class="split">{% if b.bytes %}<div class="pbar bytes" role="img" aria-label="{{ b.referencedBytesText }} referenced, {{ b.unreferencedBytesText }} unreferenced"><i class="ref" style="width:{{ b.referencedPct }}%"></i><i class="unref" style="width:{{ b.unreferencedPct }}%"></i></div>
<div class="plabel">{{ b.referencedBytesText }} · {{ b.unreferencedBytesText }}</div>{% else %}<span class="muted">empty</span>{% endif %}</div></td>
<td data-label="Retention">{{ b.retention }}</td></tr>
{% else %}<tr><td colspan="7" class="empty muted">This server prunes no blob bucket.</td></tr>{% endfor %}</tbody></table></div>
<p class="muted">Referenced: a stored document names the blob (a revision's file, a job dispatch's file); referenced blobs are never deleted.
Unreferenced: nothing stored names it; {% if neverPruned %}with the retention off it is kept{% else %}the sweep (housekeeping, on every server) deletes it once its mark is older than the retention{% endif %}.
<code>content</code> blobs are never referenced by a document: catalogs are compiled in memory, and every server re-marks the blobs of the catalogs it serves, so those stay.</p>`,
    jobStyle + blobStyle,
  ),
);

export function mountBlobPage(router: Router<AppState>, kit: ConsoleKit): void {
  router.get('/blobs', async (ctx) => {
    ctx.state.routeName = '/blobs';
    const op = kit.operator(ctx);
    if (!op) return;
    const model = blobPageModel(await blobStatsOf(kit.services, requestSignal(ctx)));
    kit.html(ctx, blobsView({ ...(await kit.frame(ctx, op, 'blobs')), title: 'Blob storage', ...model }));
  });
}
