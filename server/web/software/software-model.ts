/**
 * Turns the software API's answers (schemas/api/software.ts) into what the templates show: the
 * fleet chart of a package (hosts per version, bar widths relative to the largest), the tracked
 * packages with their counts, service rows with a readable uptime. Pure functions, no I/O.
 */
import type { HostServiceRow, PackageTable, TrackedPackage } from '../../../schemas/api/software.js';

type FleetEntry = NonNullable<PackageTable['versions']>[number];

export interface VersionBar {
  readonly version: string;
  readonly installed: boolean;
  readonly hosts: number;
  readonly status: string;
  /** Percent of the widest bar (0–100). */
  readonly width: number;
}

export interface PackageSummary {
  readonly name: string;
  readonly manager: string;
  readonly approved: string;
  readonly description: string;
  readonly hosts: number;
  readonly upToDate: number;
  /** Hosts not up to date: outdated or missing. */
  readonly behind: number;
  readonly bars: VersionBar[];
}

export function versionBars(e: FleetEntry | undefined): VersionBar[] {
  if (!e) return [];
  const max = Math.max(1, ...e.counts.map((c) => c.hosts));
  return e.counts.map((c) => ({ version: c.version ?? 'not installed', installed: c.version !== null, hosts: c.hosts, status: c.status, width: Math.round((c.hosts / max) * 1000) / 10 }));
}

const key = (manager: string, name: string): string => `${manager}\u0000${name}`;

/** One summary per tracked package (and per package the fleet view names but nobody tracks any more). */
export function packageSummaries(t: PackageTable): PackageSummary[] {
  const fleet = new Map((t.versions ?? []).map((v) => [key(v.manager, v.name), v]));
  const tracked: TrackedPackage[] = [...(t.tracked ?? [])];
  for (const v of t.versions ?? []) if (!tracked.some((p) => p.manager === v.manager && p.name === v.name)) tracked.push({ name: v.name, manager: v.manager, ...(v.approved !== undefined ? { approved: v.approved } : {}) });
  return tracked
    .map((p) => {
      const e = fleet.get(key(p.manager, p.name));
      const sum = (pred: (s: string) => boolean): number => (e ? e.counts.filter((c) => pred(c.status)).reduce((n, c) => n + c.hosts, 0) : 0);
      return {
        name: p.name,
        manager: p.manager,
        approved: p.approved ?? e?.approved ?? '',
        description: p.description ?? '',
        hosts: sum(() => true),
        upToDate: sum((s) => s === 'up-to-date'),
        behind: sum((s) => s === 'outdated' || s === 'missing'),
        bars: versionBars(e),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.manager.localeCompare(b.manager));
}

/** "3d 4h", "5h 2m", "12m", "40s"; "" when unknown. */
export function uptimeText(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${Math.floor(seconds)}s`;
}

export interface ServiceRowView extends HostServiceRow {
  readonly uptime: string;
}

export function serviceRows(rows: readonly HostServiceRow[]): ServiceRowView[] {
  return rows.map((r) => ({ ...r, uptime: uptimeText(r.uptimeSeconds) }));
}
