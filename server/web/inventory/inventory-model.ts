/**
 * Turns the inventory API's answers (schemas/api/inventory.ts) into what the templates show:
 * display strings for multi-valued fields, the record compared field by field (effective, store,
 * repository, agent), the agent's facts flattened, and what ran on a host. Pure functions, no I/O.
 */
import type { InventoryHostDetail, InventoryHostList, InventoryRecord } from '../../../schemas/api/inventory.js';
import type { HostPackageRow, HostServiceRow } from '../../../schemas/api/software.js';
import { factRows } from '../run-model.js';

export const lifecycleStates = ['deploying', 'standby', 'online', 'maintenance', 'faulty', 'retired'] as const;

/** The record's fields in the order the pages show them. */
const recordFields = ['ips', 'idc', 'rack', 'business', 'kind', 'parent', 'lifecycle', 'tags'] as const;

/** A value of a record as one line of text ("" when absent). */
export function fieldText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => fieldText(x)).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export interface HostRow {
  readonly hostname: string;
  readonly ips: string;
  readonly idc: string;
  readonly rack: string;
  readonly business: string;
  readonly kind: string;
  readonly lifecycle: string;
  readonly source: string;
  readonly tags: readonly string[];
  readonly groups: string;
  readonly os: string;
  readonly mismatches: number;
}

export function hostRows(list: InventoryHostList): HostRow[] {
  return list.hosts.map((h) => ({
    hostname: h.hostname,
    ips: fieldText(h.ips),
    idc: h.idc ?? '',
    rack: h.rack ?? '',
    business: h.business ?? '',
    kind: h.kind ?? '',
    lifecycle: h.lifecycle,
    source: h.source,
    tags: h.tags ?? [],
    groups: fieldText(h.groups),
    os: h.os ?? '',
    mismatches: h.mismatches ?? 0,
  }));
}

export interface FieldRow {
  readonly field: string;
  readonly effective: string;
  readonly stored: string;
  readonly repository: string;
  /** Where the effective value comes from: store, repository, both (merged) or "" (unset). */
  readonly from: string;
  /** What the agent reports instead, when it contradicts the record. */
  readonly reported?: string;
  readonly mismatch?: string;
}

/** Which field of the record a mismatch is about. */
const mismatchField: Record<string, string> = { ip: 'ips', hostname: 'hostname', kind: 'kind' };

/** The record compared field by field: effective value, store value, repository value, and the agent's contradiction. */
export function fieldRows(d: InventoryHostDetail): FieldRow[] {
  const eff = d.effective as Record<string, unknown>;
  const st = (d.stored ?? {}) as Record<string, unknown>;
  const repo = (d.repository ?? {}) as Record<string, unknown>;
  const rows: FieldRow[] = [];
  const mism = new Map<string, { reported: string[]; message: string[] }>();
  for (const m of d.mismatches) {
    const f = mismatchField[m.field] ?? m.field;
    const cur = mism.get(f) ?? { reported: [], message: [] };
    cur.reported.push(m.reported);
    cur.message.push(m.message);
    mism.set(f, cur);
  }
  const from = (s: unknown, r: unknown): string => (s !== undefined && r !== undefined ? 'both' : s !== undefined ? 'store' : r !== undefined ? 'repository' : '');
  const push = (field: string, e: unknown, s: unknown, r: unknown): void => {
    const m = mism.get(field);
    rows.push({ field, effective: fieldText(e), stored: fieldText(s), repository: fieldText(r), from: from(s, r), ...(m ? { reported: m.reported.join(', '), mismatch: m.message.join(' ') } : {}) });
  };
  if (mism.has('hostname')) push('hostname', d.host, st['hostname'], repo['hostname'] ?? (d.repository ? d.host : undefined));
  for (const f of recordFields) {
    // The repository may spell the first address `ip`.
    const r = f === 'ips' && repo['ips'] === undefined && repo['ip'] !== undefined ? [repo['ip']] : repo[f];
    push(f, eff[f], st[f], r);
  }
  const attrs = new Set([...Object.keys((eff['attributes'] as object | undefined) ?? {}), ...Object.keys((st['attributes'] as object | undefined) ?? {}), ...Object.keys((repo['attributes'] as object | undefined) ?? {})]);
  for (const a of [...attrs].sort()) {
    const pick = (o: Record<string, unknown>): unknown => (o['attributes'] as Record<string, unknown> | undefined)?.[a];
    push(`attr.${a}`, pick(eff), pick(st), pick(repo));
  }
  // Repository-only fields (set, env, roles, vars…) are shown as they are: manifest decisions.
  for (const k of Object.keys(repo).sort()) {
    if ((recordFields as readonly string[]).includes(k) || k === 'attributes' || k === 'ip' || k === 'hostname') continue;
    push(k, repo[k], undefined, repo[k]);
  }
  return rows;
}

export interface RanOnEntry {
  readonly name: string;
  readonly kind: string;
  readonly state: string;
  readonly source: string;
  /** The inventory host of the same name (a link), when there is one. */
  readonly host?: string;
}

/** What runs (or ran) on a host: the inventory children and the virtual resources the agent reported, each once. */
export function ranOn(d: InventoryHostDetail): RanOnEntry[] {
  const out: RanOnEntry[] = [];
  const seen = new Set<string>();
  for (const v of d.virtuals) {
    out.push({ name: v.name, kind: v.kind, state: v.state ?? '', source: v.source, ...(v.host !== undefined ? { host: v.host } : {}) });
    if (v.host !== undefined) seen.add(v.host);
  }
  for (const c of d.children) if (!seen.has(c)) out.push({ name: c, kind: 'child', state: '', source: 'inventory', host: c });
  return out;
}

export interface HostPageModel {
  readonly d: InventoryHostDetail;
  readonly lifecycle: string;
  readonly fields: FieldRow[];
  readonly facts: { key: string; value: string }[];
  readonly factsTruncated: boolean;
  readonly ranOn: RanOnEntry[];
  readonly faulty: boolean;
  readonly history: { from: string; to: string; by: string; at: string; reason: string; planJob: string }[];
  readonly packages?: readonly HostPackageRow[];
  readonly services?: readonly HostServiceRow[];
  readonly outdated: number;
  readonly drift: number;
}

const factsShown = 300;

export function hostPageModel(d: InventoryHostDetail, software?: { packages: readonly HostPackageRow[]; services: readonly HostServiceRow[] }): HostPageModel {
  const facts = factRows(d.facts as Record<string, unknown> | undefined, factsShown + 1);
  const lifecycle = (d.effective as InventoryRecord).lifecycle ?? 'online';
  return {
    d,
    lifecycle,
    fields: fieldRows(d),
    facts: facts.slice(0, factsShown),
    factsTruncated: facts.length > factsShown,
    ranOn: ranOn(d),
    faulty: lifecycle === 'faulty',
    history: d.lifecycleHistory.map((e) => ({ from: e.from ?? '', to: e.to, by: e.by, at: e.at, reason: e.reason ?? '', planJob: e.planJob ?? '' })),
    ...(software ? { packages: software.packages, services: software.services } : {}),
    outdated: software ? software.packages.filter((p) => p.status === 'outdated' || p.status === 'missing').length : 0,
    drift: software ? software.services.filter((s) => s.drift === true).length : 0,
  };
}
