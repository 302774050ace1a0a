/**
 * Tables of the software commands (`stead packages`, `stead services`, ADR 0018): rows of the
 * API's package and service tables as terminal lines, everything a host wrote made inert by
 * output.ts. Reads defensively: any field may be missing from an odd server.
 */
import { cell, table } from './output.js';

type Row = Readonly<Record<string, unknown>>;

function rows(v: unknown): Row[] {
  return Array.isArray(v) ? v.filter((r): r is Row => r !== null && typeof r === 'object') : [];
}

export const packageHeaders = ['HOST', 'PACKAGE', 'MANAGER', 'INSTALLED', 'APPROVED', 'STATUS'];

/** The package rows as a table ("not installed" for a null version). */
export function packageLines(answer: unknown): string[] {
  const a = (answer ?? {}) as Row;
  const r = rows(a['packages']);
  if (r.length === 0) return ['No tracked package reported.'];
  const lines = table(packageHeaders, r.map((p) => [p['host'], p['name'], p['manager'], p['installed'] === null ? 'not installed' : p['installed'], p['approved'], p['status']]), 64);
  return [...lines, ...pagingLine(a, r.length)];
}

/** The fleet view: per package, hosts per version, newest first. */
export function versionLines(answer: unknown): string[] {
  const out: string[] = [];
  for (const v of rows((answer as Row | null)?.['versions'])) {
    const counts = rows(v['counts']);
    out.push(`${cell(v['manager'], 16)}/${cell(v['name'], 128)} (approved ${cell(v['approved'], 128)}):`);
    if (counts.length === 0) out.push('  no host reports it');
    for (const line of table(['  VERSION', 'HOSTS', 'STATUS'], counts.map((c) => [`  ${c['version'] === null ? 'not installed' : String(c['version'])}`, c['hosts'], c['status']]), 64).slice(1)) out.push(line);
  }
  return out;
}

export const serviceHeaders = ['HOST', 'SERVICE', 'STATE', 'PID', 'UPTIME', 'USER', 'DRIFT', 'LAST ACTION'];

function uptime(s: unknown): string {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '-';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : `${m}m${Math.floor(s % 60)}s`;
}

export function serviceLines(answer: unknown): string[] {
  const a = (answer ?? {}) as Row;
  const r = rows(a['services']);
  if (r.length === 0) return ['No tracked service reported.'];
  const lines = table(
    serviceHeaders,
    r.map((s) => {
      const last = (s['lastAction'] ?? undefined) as Row | undefined;
      return [s['host'], s['name'], s['state'], s['pid'], uptime(s['uptimeSeconds']), s['user'], s['drift'] === true ? 'DRIFT' : '-', last ? `${String(last['action'])} by ${String(last['by'])}` : '-'];
    }),
    64,
  );
  return [...lines, ...pagingLine(a, r.length)];
}

function pagingLine(a: Row, shown: number): string[] {
  const total = typeof a['total'] === 'number' ? a['total'] : shown;
  return typeof a['next'] === 'string' ? [`(${shown} of ${total} rows; next page: --after ${a['next'].slice(0, 200)})`] : [];
}
