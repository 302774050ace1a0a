/**
 * What the change-delivery pages (revision history and diffs, the fleet plan, rollouts; ADR
 * 0017) need from the services, in the API's shapes (schemas/api/revision.ts, fleet-plan.ts,
 * rollouts.ts). `deliveryPort(services)` builds it from the composed services, so the pages never
 * speak HTTP to their own server. A part whose service this server lacks is undefined and the
 * page says so (503) instead of failing.
 */
import type { FleetPlan } from '../../../schemas/api/fleet-plan.js';
import type { RolloutView } from '../../../schemas/api/rollouts.js';
import { ApiError } from '../../domain/errors.js';
import { activateRevision } from '../../services/activate-revision.js';
import { diffRevisions } from '../../services/git/revision-diff.js';
import type { Services } from '../../services/services.js';
import type { Role, Scope } from '../../domain/roles.js';

/** Who acts (the session's operator). */
export interface Actor {
  readonly name: string;
  readonly role: Role;
  readonly scope?: Scope | undefined;
  readonly address?: string;
}

/** One history entry (GET /api/v1/revisions). */
export interface HistoryEntry {
  readonly id: string;
  readonly createdAt: number | string;
  readonly createdBy?: string;
  readonly message?: string;
  readonly fileCount?: number;
  readonly live: boolean;
  readonly commit?: string;
  readonly parent?: string;
  readonly author?: string;
}

/** One file of a diff between two revisions. */
export interface FileDiff {
  readonly path: string;
  /** added, removed, modified (or what the service says). */
  readonly status: string;
  /** The unified diff; absent for a binary or too large file. */
  readonly diff?: string;
  readonly note?: string;
}

export interface SurpriseListView {
  readonly revision: string;
  readonly planned?: boolean;
  readonly surprises: readonly { host: string; resource: string; runId: string; at: string; reason?: string }[];
}

export type RolloutAction = 'continue' | 'pause' | 'abort' | 'rollback';

export interface RolloutsApi {
  list(q: { limit: number; before?: string }): Promise<{ rollouts: readonly RolloutView[]; next?: string }>;
  get(id: string): Promise<RolloutView | undefined>;
  act(id: string, action: RolloutAction, reason: string | undefined, by: Actor): Promise<RolloutView>;
}

export interface DeliveryPort {
  /** Newest first. */
  history(limit: number): Promise<readonly HistoryEntry[]>;
  /** A revision by id, unique prefix or "live"; undefined when unknown. */
  revision(ref: string): Promise<HistoryEntry | undefined>;
  /** Per-file diff from `a` to `b`; undefined when this server keeps no history to diff. */
  diff: ((a: string, b: string, signal: AbortSignal) => Promise<readonly FileDiff[]>) | undefined;
  plan: ((id: string, base: string | undefined, signal: AbortSignal) => Promise<FleetPlan>) | undefined;
  surprises: ((id: string) => Promise<SurpriseListView>) | undefined;
  /** Make an old revision live again (a new history entry). */
  activate: ((id: string, by: Actor) => Promise<HistoryEntry>) | undefined;
  rollouts: RolloutsApi | undefined;
}

/** Normalises the diff answers a history service may give: a unified diff of all files, or per-file entries. */
export function fileDiffs(answer: unknown): FileDiff[] {
  if (typeof answer === 'string') return splitUnified(answer);
  if (answer === null || typeof answer !== 'object') return [];
  const files = (answer as { files?: unknown }).files;
  if (typeof (answer as { diff?: unknown }).diff === 'string' && !Array.isArray(files)) return splitUnified((answer as { diff: string }).diff);
  if (!Array.isArray(files)) return [];
  return files
    .filter((f): f is Record<string, unknown> => f !== null && typeof f === 'object' && typeof (f as { path?: unknown }).path === 'string')
    .map((f) => {
      const diff = typeof f['diff'] === 'string' ? f['diff'] : typeof f['patch'] === 'string' ? f['patch'] : undefined;
      const status = typeof f['status'] === 'string' ? f['status'] : typeof f['change'] === 'string' ? f['change'] : 'modified';
      const notes = [f['binary'] === true ? 'binary file' : undefined, f['truncated'] === true ? 'diff truncated' : undefined, typeof f['note'] === 'string' ? f['note'] : undefined].filter((x): x is string => x !== undefined);
      return { path: f['path'] as string, status, ...(diff !== undefined ? { diff } : {}), ...(notes.length ? { note: notes.join(', ') } : {}) };
    });
}

/** A multi-file unified diff (`diff --git` or `---`/`+++` headers) cut into files. */
export function splitUnified(text: string): FileDiff[] {
  const out: FileDiff[] = [];
  let cur: { path: string; lines: string[]; status: string } | undefined;
  const flush = (): void => {
    if (cur) out.push({ path: cur.path, status: cur.status, diff: cur.lines.join('\n') });
  };
  for (const line of text.split('\n')) {
    const git = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
    if (git) {
      flush();
      cur = { path: git[2]!, lines: [], status: 'modified' };
      continue;
    }
    if (line.startsWith('--- ') && (!cur || cur.lines.some((l) => l.startsWith('@@')))) {
      flush();
      cur = { path: line.slice(4).replace(/^a\//, '').replace(/\t.*$/, ''), lines: [], status: 'modified' };
    }
    if (!cur) continue;
    if (line.startsWith('new file')) cur.status = 'added';
    else if (line.startsWith('deleted file')) cur.status = 'removed';
    else if (line.startsWith('+++ ')) {
      const to = line.slice(4).replace(/^b\//, '').replace(/\t.*$/, '');
      if (to !== '/dev/null') cur.path = to;
      else cur.status = 'removed';
      cur.lines.push(line);
    } else if (line.startsWith('--- /dev/null')) {
      cur.status = 'added';
      cur.lines.push(line);
    } else if (!/^(index |similarity |rename |old mode|new mode)/.test(line)) cur.lines.push(line);
  }
  flush();
  return out;
}

/** The port over the composed services. */
export function deliveryPort(services: Services): DeliveryPort {
  const resolve = async (ref: string): Promise<string | undefined> => {
    if (ref === 'live') return services.revisions.liveId();
    try {
      return await services.revisions.resolveId(ref);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return undefined;
      throw err;
    }
  };
  const history = async (limit: number): Promise<readonly HistoryEntry[]> => (services.git ? services.git.list(limit) : services.revisions.list(limit));
  const fleetPlans = services.fleetPlans;
  return {
    history,
    async revision(ref) {
      const id = await resolve(ref);
      if (id === undefined) return undefined;
      const found = (await history(500)).find((h) => h.id === id);
      if (found) return found;
      return services.revisions.get(id);
    },
    // The same diff as GET /api/v1/revisions/:a/diff/:b.
    diff: async (a, b) => {
      const d = diffRevisions(await services.revisions.files(a), await services.revisions.files(b));
      return fileDiffs({ files: d.files });
    },
    plan: (id, base, signal) => fleetPlans.planRevision(id, base, signal),
    surprises: (id) => fleetPlans.surprises(id),
    activate: (id, by) => activateRevision(services, id, { name: by.name, ...(by.address !== undefined ? { address: by.address } : {}) }),
    rollouts: {
      list: (q) => services.rollouts.list(q),
      get: async (id) => {
        try {
          return await services.rollouts.get(id);
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) return undefined;
          throw err;
        }
      },
      act: (id, action, reason, by) => services.rollouts[action](id, { name: by.name, scope: by.scope, ...(by.address !== undefined ? { address: by.address } : {}) }, reason),
    },
  };
}
