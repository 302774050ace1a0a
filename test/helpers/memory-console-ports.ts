/**
 * TEMPORARY in-memory implementations of the console's InventoryPort and SoftwarePort, for the
 * console page tests until InventoryService and SoftwareService are on main (then the tests use
 * the real services through server/compose.ts and this file goes). They keep data in maps and
 * answer in the API's shapes; the filter understands only `FIELD=VALUE` / `tag:NAME` terms joined
 * by "and" (VALUE may end in "*"), and the import only plain CSV (no quoted commas) and JSON.
 * They record every call so tests can check what the pages asked for.
 */
import { ApiError } from '../../server/domain/errors.js';
import type { ImportResult, InventoryHostDetail, InventoryPatch, InventoryRecord, LifecycleEvent, LifecycleState } from '../../schemas/api/inventory.js';
import type { HostPackageRow, HostServiceRow, PackageTable, ServiceTable, TrackedPackage, TrackedService } from '../../schemas/api/software.js';
import type { InventoryActor, InventoryPort } from '../../server/web/inventory/inventory-port.js';
import type { SoftwarePort } from '../../server/web/software/software-port.js';

const lifecycles: readonly LifecycleState[] = ['deploying', 'standby', 'online', 'maintenance', 'faulty', 'retired'];
const hostRe = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*$/;

export interface MemoryHost {
  record: InventoryRecord;
  repository?: Record<string, unknown>;
  facts?: Record<string, unknown>;
  detail?: Partial<Pick<InventoryHostDetail, 'mismatches' | 'groups' | 'children' | 'virtuals'>>;
  history: LifecycleEvent[];
}

export class MemoryInventory implements InventoryPort {
  readonly hosts = new Map<string, MemoryHost>();
  readonly calls: string[] = [];
  constructor(private readonly now: () => string = () => new Date().toISOString()) {}

  add(record: InventoryRecord, more: Partial<Omit<MemoryHost, 'record' | 'history'>> = {}): void {
    this.hosts.set(record.hostname, { record, history: [], ...more });
  }

  #match(h: MemoryHost, filter: string | undefined): boolean {
    if (!filter) return true;
    return filter.split(/\s+and\s+/).every((term) => {
      const tag = /^tag:(\S+)$/.exec(term);
      if (tag) return (h.record.tags ?? []).includes(tag[1]!);
      const m = /^([a-z.]+)=(\S+)$/.exec(term);
      if (!m) throw new ApiError('BAD_REQUEST', `filter: cannot read "${term.slice(0, 40)}" at character ${filter.indexOf(term) + 1}`);
      const v = (h.record as Record<string, unknown>)[m[1] === 'ip' ? 'ips' : m[1]!] ?? (m[1] === 'lifecycle' ? 'online' : undefined);
      const want = m[2]!;
      const eq = (x: unknown): boolean => (want.endsWith('*') ? String(x).startsWith(want.slice(0, -1)) : String(x) === want);
      return Array.isArray(v) ? v.some(eq) : v !== undefined && eq(v);
    });
  }

  async list(q: { filter?: string; after?: string; limit: number }): Promise<import('../../schemas/api/inventory.js').InventoryHostList> {
    this.calls.push(`list ${JSON.stringify(q)}`);
    const all = [...this.hosts.values()].filter((h) => this.#match(h, q.filter)).sort((a, b) => (a.record.hostname < b.record.hostname ? -1 : 1));
    const from = q.after ? all.filter((h) => h.record.hostname > q.after!) : all;
    const page = from.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      total: all.length,
      hosts: page.map((h) => ({ ...h.record, lifecycle: h.record.lifecycle ?? 'online', source: h.repository ? 'both' : 'store', groups: (h.detail?.groups ?? []).map((g) => g.group), ...(typeof h.facts?.['os'] === 'string' ? { os: h.facts['os'] } : {}), mismatches: h.detail?.mismatches?.length ?? 0 })),
      ...(from.length > q.limit && last ? { next: last.record.hostname } : {}),
    };
  }

  async detail(host: string): Promise<InventoryHostDetail | undefined> {
    this.calls.push(`detail ${host}`);
    const h = this.hosts.get(host);
    if (!h) return undefined;
    const children = [...this.hosts.values()].filter((c) => c.record.parent === host).map((c) => c.record.hostname);
    return {
      host,
      source: h.repository ? 'both' : 'store',
      effective: { ...(h.repository as object | undefined), ...h.record, hostname: host } as InventoryRecord,
      stored: h.record,
      ...(h.repository ? { repository: h.repository } : {}),
      ...(h.facts ? { facts: h.facts, factsUpdatedAt: this.now() } : {}),
      mismatches: h.detail?.mismatches ?? [],
      groups: h.detail?.groups ?? [],
      lifecycleHistory: [...h.history].reverse(),
      children: h.detail?.children ?? children,
      virtuals: h.detail?.virtuals ?? [],
      ...(h.detail?.virtuals ? { virtualsUpdatedAt: this.now() } : {}),
    };
  }

  async patch(host: string, patch: InventoryPatch, by: InventoryActor): Promise<void> {
    this.calls.push(`patch ${host} ${JSON.stringify(patch)} by ${by.name}`);
    const h = this.hosts.get(host);
    if (!h) throw new ApiError('NOT_FOUND', `no host ${host}`);
    if (patch.lifecycle !== undefined && patch.lifecycle !== (h.record.lifecycle ?? 'online')) {
      h.history.push({ host, from: h.record.lifecycle ?? 'online', to: patch.lifecycle, by: by.name, at: this.now(), ...(patch.reason ? { reason: patch.reason } : {}) });
      h.record = { ...h.record, lifecycle: patch.lifecycle };
    }
  }

  async exportFile(format: 'csv' | 'json'): Promise<string> {
    this.calls.push(`export ${format}`);
    const recs = [...this.hosts.values()].map((h) => h.record);
    if (format === 'json') return `${JSON.stringify({ hosts: recs })}\n`;
    return ['hostname,ip,idc,lifecycle,tags', ...recs.map((r) => [r.hostname, (r.ips ?? []).join(';'), r.idc ?? '', r.lifecycle ?? '', (r.tags ?? []).join(';')].join(','))].join('\n') + '\n';
  }

  async importFile(body: Buffer, opts: { format: 'csv' | 'json'; dryRun: boolean; mode: 'merge' | 'replace' }, by: InventoryActor): Promise<ImportResult> {
    this.calls.push(`import ${JSON.stringify(opts)} by ${by.name}`);
    const problems: ImportResult['problems'] = [];
    const rows: { line: number; rec: InventoryRecord }[] = [];
    const text = body.toString('utf8');
    if (opts.format === 'json') {
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        problems.push({ line: 1, message: `not JSON: ${(err as Error).message}` });
      }
      const list = Array.isArray(data) ? data : ((data as { hosts?: unknown[] } | undefined)?.hosts ?? []);
      list.forEach((r, i) => rows.push({ line: i + 1, rec: r as InventoryRecord }));
    } else {
      const lines = text.split(/\r?\n/);
      const head = (lines[0] ?? '').split(',').map((s) => s.trim());
      lines.slice(1).forEach((l, i) => {
        if (l.trim() === '') return;
        const cells = l.split(',');
        const rec: Record<string, unknown> = {};
        head.forEach((k, j) => {
          const v = (cells[j] ?? '').trim();
          if (v === '') return;
          if (k === 'ip') rec['ips'] = v.split(';');
          else if (k === 'tags') rec['tags'] = v.split(';');
          else if (['hostname', 'idc', 'rack', 'business', 'kind', 'parent', 'lifecycle'].includes(k)) rec[k] = v;
          else rec['attributes'] = { ...(rec['attributes'] as object | undefined), [k]: v };
        });
        rows.push({ line: i + 2, rec: rec as InventoryRecord });
      });
    }
    for (const { line, rec } of rows) {
      if (typeof rec.hostname !== 'string' || !hostRe.test(rec.hostname)) problems.push({ line, column: 'hostname', ...(typeof rec.hostname === 'string' ? { hostname: rec.hostname } : {}), message: 'hostname: must be a DNS-like host name' });
      else if (rec.lifecycle !== undefined && !lifecycles.includes(rec.lifecycle)) problems.push({ line, column: 'lifecycle', hostname: rec.hostname, message: `lifecycle: one of ${lifecycles.join(', ')}` });
    }
    const added: string[] = [];
    const changed: { hostname: string; fields: string[] }[] = [];
    let unchanged = 0;
    for (const { rec } of rows) {
      const cur = this.hosts.get(rec.hostname);
      if (!cur) added.push(rec.hostname);
      else {
        const fields = Object.keys(rec).filter((k) => JSON.stringify((rec as Record<string, unknown>)[k]) !== JSON.stringify((cur.record as Record<string, unknown>)[k]));
        if (fields.length) changed.push({ hostname: rec.hostname, fields });
        else unchanged++;
      }
    }
    const names = new Set(rows.map((r) => r.rec.hostname));
    const removed = opts.mode === 'replace' ? [...this.hosts.keys()].filter((h) => !names.has(h)) : [];
    const applied = !opts.dryRun && problems.length === 0;
    if (applied) {
      for (const { rec } of rows) {
        const cur = this.hosts.get(rec.hostname);
        if (cur) cur.record = { ...cur.record, ...rec };
        else this.add(rec);
      }
      for (const h of removed) this.hosts.delete(h);
    }
    return problems.length
      ? { dryRun: opts.dryRun, applied: false, mode: opts.mode, added: [], changed: [], removed: [], unchanged: 0, problems }
      : { dryRun: opts.dryRun, applied, mode: opts.mode, added, changed, removed, unchanged, counts: { added: added.length, changed: changed.length, removed: removed.length }, problems };
  }
}

export class MemorySoftware implements SoftwarePort {
  readonly tracked: TrackedPackage[] = [];
  readonly trackedServices: TrackedService[] = [];
  readonly packageRows: HostPackageRow[] = [];
  readonly serviceRows: HostServiceRow[] = [];
  readonly calls: string[] = [];
  #next = 0;

  async packages(q: { host?: string; name?: string; manager?: string; after?: string; limit: number }): Promise<PackageTable> {
    this.calls.push(`packages ${JSON.stringify(q)}`);
    const rows = this.packageRows.filter((r) => (q.host === undefined || r.host === q.host) && (q.name === undefined || r.name === q.name) && (q.manager === undefined || r.manager === q.manager));
    const tracked = this.tracked.filter((p) => (q.name === undefined || p.name === q.name) && (q.manager === undefined || p.manager === q.manager));
    const from = q.after ? rows.filter((r) => r.host > q.after!) : rows;
    const page = from.slice(0, q.limit);
    return {
      packages: page,
      tracked,
      versions: tracked.map((p) => {
        const counts = new Map<string | null, { hosts: number; status: HostPackageRow['status'] }>();
        for (const r of this.packageRows.filter((x) => x.name === p.name && x.manager === p.manager)) {
          const c = counts.get(r.installed) ?? { hosts: 0, status: r.status };
          c.hosts++;
          counts.set(r.installed, c);
        }
        return { name: p.name, manager: p.manager, ...(p.approved ? { approved: p.approved } : {}), counts: [...counts].sort((a, b) => String(b[0]).localeCompare(String(a[0]), 'en', { numeric: true })).map(([version, c]) => ({ version, ...c })) };
      }),
      total: rows.length,
      ...(from.length > q.limit ? { next: page[page.length - 1]!.host } : {}),
    };
  }

  async services(q: { host?: string; name?: string; after?: string; limit: number }): Promise<ServiceTable> {
    this.calls.push(`services ${JSON.stringify(q)}`);
    const rows = this.serviceRows.filter((r) => (q.host === undefined || r.host === q.host) && (q.name === undefined || r.name === q.name));
    const from = q.after ? rows.filter((r) => r.host > q.after!) : rows;
    return { services: from.slice(0, q.limit), tracked: this.trackedServices, total: rows.length, ...(from.length > q.limit ? { next: from[q.limit - 1]!.host } : {}) };
  }

  async upgrade(manager: string, name: string, req: object, by: InventoryActor): Promise<{ rollout?: string; job?: string; hosts: string[] }> {
    this.calls.push(`upgrade ${manager}/${name} ${JSON.stringify(req)} by ${by.name}`);
    if (!this.tracked.some((p) => p.manager === manager && p.name === name)) throw new ApiError('NOT_FOUND', `${name} is not tracked`);
    return { rollout: `r-mem-${++this.#next}`, hosts: this.packageRows.filter((r) => r.name === name && r.status !== 'up-to-date').map((r) => r.host) };
  }

  async serviceAction(name: string, req: { action: string; targets: string; policy?: object }, by: InventoryActor): Promise<{ rollout?: string; job?: string; hosts: string[] }> {
    this.calls.push(`service ${name} ${JSON.stringify(req)} by ${by.name}`);
    if (req.targets.includes('nothing')) throw new ApiError('BAD_REQUEST', `no host matches ${req.targets}`);
    return req.policy ? { rollout: `r-mem-${++this.#next}`, hosts: [] } : { job: `j-mem-${++this.#next}`, hosts: [] };
  }
}
