/**
 * Run reports for bench:fleet, made by the agent's own engine: for one host's real catalog,
 * reconcile() runs in a temp root (converge, then a run that finds everything in sync, then a
 * run after someone edited and chmod-ed managed files: corrective changes). The simulated
 * agents send these reports stamped with their own host, run id, catalog id and time, so
 * their size and shape follow whatever the engine reports (a compact form included).
 */
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../../agent/client/agent-client.js';
import { reconcile } from '../../agent/engine/reconcile.js';
import { createNodeHost } from '../../agent/host/node-host.js';
import type { Catalog, RunReport } from '../../schemas/index.js';

/** The two reports a simulated agent sends: an ordinary run, and a run that found drift. */
export interface ReportExemplars {
  readonly inSync: RunReport;
  readonly drift: RunReport;
}

/** Runs the engine three times on `catalog` in `dir` (blobs fetched through `client`). */
export async function engineReports(catalog: Catalog, client: AgentClient, dir: string): Promise<ReportExemplars> {
  const root = join(dir, 'root');
  // What the OS provides; the catalog manages what lies below.
  for (const d of ['etc', 'var/lib', 'var/log']) mkdirSync(join(root, d), { recursive: true });
  const cache = new Map<string, Buffer>();
  const blobs = {
    async get(ref: string, signal: AbortSignal): Promise<Buffer> {
      const id = ref.replace(/^sha256:/, '');
      let b = cache.get(id);
      if (!b) cache.set(id, (b = await client.fetchBlob(id, signal)));
      return b;
    },
  };
  const run = (n: number): Promise<RunReport> =>
    reconcile(catalog, { host: createNodeHost({ root }), blobs, stateDir: join(dir, 'state'), hostName: catalog.host, noop: false, signal: AbortSignal.timeout(60_000), runId: `exemplar-${n}` });
  const first = await run(1);
  if (first.outcome === 'failed') throw new Error(`the engine could not converge the bench catalog: ${JSON.stringify(first).slice(0, 600)}`);
  const inSync = await run(2);
  // Drift: an operator edited a managed file and loosened another's mode.
  const files = (catalog.resources as { type: string; path?: string }[]).filter((r) => r.type === 'file' && typeof r.path === 'string');
  if (files.length < 2) throw new Error('the bench catalog needs at least two files');
  writeFileSync(join(root, files[0]!.path!), 'edited by hand\n');
  chmodSync(join(root, files[1]!.path!), 0o666);
  const drift = await run(3);
  return { inSync, drift };
}

/** A simulated agent's report: the exemplar with this agent's identity, run and catalog. */
export function stampReport(exemplar: RunReport, host: string, runId: string, catalogId: string, revision: string, nowMs: number): RunReport {
  return { ...exemplar, runId, host, catalogId, revision, startedAt: new Date(nowMs - exemplar.durationMs).toISOString() };
}

/** A simulated agent's next report (its catalog `catalogId`): its run counter advanced, drift drawn with probability `driftShare`. */
export function nextReport(a: { readonly id: { readonly host: string }; runs: number; readonly revision: string }, catalogId: string, ex: ReportExemplars, driftShare: number): { report: RunReport; drift: boolean } {
  a.runs++;
  const drift = Math.random() < driftShare;
  return { report: stampReport(drift ? ex.drift : ex.inSync, a.id.host, `fleet-${a.id.host}-${a.runs}-${Date.now().toString(36)}`, catalogId, a.revision, Date.now()), drift };
}
