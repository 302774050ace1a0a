/** Run reports for server tests, valid against schemas/report.ts. */
export interface ReportShape {
  readonly outcome?: 'in-sync' | 'changed' | 'would-change' | 'failed';
  readonly corrective?: boolean;
  readonly startedAt?: string;
  readonly catalogId?: string;
}

export function makeReport(host: string, runId: string, o: ReportShape = {}): Record<string, unknown> {
  const outcome = o.outcome ?? 'in-sync';
  const failed = outcome === 'failed';
  const changed = outcome === 'changed';
  const corrective = o.corrective ?? false;
  const resources = [
    {
      id: 'file:/srv/app/app.conf',
      type: 'file',
      state: failed ? 'failed' : changed ? 'changed' : outcome === 'would-change' ? 'would-change' : 'in-sync',
      changes: changed || outcome === 'would-change' ? [{ property: 'content', before: 'sha256:aa', after: 'sha256:bb', corrective }] : [],
      durationMs: 3,
      ...(failed ? { error: { code: 'APPLY_FAILED', message: 'disk full' } } : {}),
    },
    { id: 'file:/srv/app/static.txt', type: 'file', state: 'in-sync', changes: [], durationMs: 1 },
  ];
  return {
    runId,
    host,
    catalogId: o.catalogId ?? 'c'.repeat(64),
    revision: 'r1',
    mode: outcome === 'would-change' ? 'noop' : 'apply',
    startedAt: o.startedAt ?? '2026-11-26T10:00:00.000Z',
    durationMs: 12,
    outcome,
    counts: {
      total: 2,
      inSync: failed || changed || outcome === 'would-change' ? 1 : 2,
      changed: changed ? 1 : 0,
      wouldChange: outcome === 'would-change' ? 1 : 0,
      failed: failed ? 1 : 0,
      skipped: 0,
      corrective: corrective ? 1 : 0,
    },
    resources,
  };
}
