/**
 * `stead hosts`: the inventory (CMDB, ADR 0018) from the command line — import a CSV or JSON file
 * (a refusal names every bad line), list hosts with a filter expression (every page followed),
 * show one host, and set fields or the lifecycle of one host's store record.
 */
import { promises as fsp } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { ImportResult, InventoryHostList } from '../../schemas/api/inventory.js';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { oneId, parse } from '../operator/args.js';
import { connectionOptions, connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, inert, printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead hosts import FILE [--dry-run] [--format csv|json] [--replace] [--json]
       stead hosts list [--filter EXPR] [--json]
       stead hosts show HOST [--json]
       stead hosts set HOST KEY=VALUE... [--json]

The inventory: operator records kept by the server, merged over the repository's inventory
files (docs/inventory.md).

stead hosts import FILE imports a CSV (header: hostname, ip, idc, rack, business, kind, parent,
lifecycle, tags, and any other column as an attribute; ip and tags take several values separated
by ";") or JSON ({"hosts": [records]}) file. Every row is checked first: any bad row and nothing
is imported; each problem is printed with its line. --dry-run shows what would be added,
changed and removed. --replace also removes store records the file does not name.

stead hosts list prints the hosts a filter expression selects (every page), e.g.
  --filter 'idc=sz and tag:canary and lifecycle=online'   --filter 'business=pay/*'

stead hosts set HOST changes the host's store record (created when missing). KEY=VALUE pairs:
  lifecycle=online|standby|deploying|maintenance|faulty|retired   reason=TEXT (kept with a
  lifecycle change)   idc=  rack=  business=product/module  kind=physical|mgmt-vm|vm|db-instance
  parent=HOST   ip=A,B (the first is the management address)   tag+=T   tag-=T   attr.K=V
  An empty value (idc=) removes the field; attr.K= removes the attribute.

Options:
  --filter EXPR     a filter expression (list)
  --dry-run         import: check and show the changes, write nothing
  --format F        import: csv or json (default: from the file's extension, else csv)
  --replace         import: remove store records absent from the file
  --json            JSON on stdout (list: {"hosts": [...]}, all pages)
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done (an import applied, or a dry run without problems)
  1   the import was refused: the file has bad rows (nothing was imported)
  2   the server refused the request (bad filter, unknown host, invalid value)
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error`;

const forms: Record<string, (args: string[], io: CliIo) => Promise<number>> = { import: importHosts, list: listHosts, show: showHost, set: setHost };

export async function run(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help') {
    writeLine(first === undefined ? io.stderr : io.stdout, usage);
    return first === undefined ? operatorExitCodes.usage : operatorExitCodes.ok;
  }
  const form = Object.hasOwn(forms, first) ? forms[first] : undefined;
  if (form === undefined) throw new UsageError(`stead hosts: unknown action ${JSON.stringify(first.slice(0, 40))} (import, list, show or set)`);
  return form(rest, io);
}

const common = { ...connectionOptions, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
const MAX_FILE = 64 * 1024 * 1024;

async function importHosts(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, 'dry-run': { type: 'boolean' }, format: { type: 'string' }, replace: { type: 'boolean' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  // FILE is any path (absolute or relative to the working directory), not an id.
  if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('stead hosts import takes one FILE (a CSV or JSON export of your CMDB)');
  const file = positionals[0]!;
  const format = values.format ?? (extname(file).toLowerCase() === '.json' ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json') throw new UsageError('--format is csv or json');
  const path = resolve(io.cwd, file);
  let data: Buffer;
  try {
    const st = await fsp.stat(path);
    if (!st.isFile()) throw new UsageError(`${file.slice(0, 200)} is not a file`);
    if (st.size > MAX_FILE) throw new UsageError(`${file.slice(0, 200)} is larger than 64 MiB (the server's limit)`);
    data = await fsp.readFile(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file.slice(0, 200)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const dryRun = values['dry-run'] === true;
  const query = `format=${format}&dryRun=${dryRun}&mode=${values.replace ? 'replace' : 'merge'}`;
  const conn = { ...values, 'request-timeout': values['request-timeout'] ?? '600' };
  return withSession(io, 'hosts import', conn, async (s) => {
    const r = await s.client.send<ImportResult>('POST', `/inventory/import?${query}`, data, format === 'json' ? 'application/json' : 'text/csv');
    if (s.json) printJson(io, r);
    else printLines(io, importText(r, file));
    if (r.problems.length > 0) {
      if (!s.json) writeLine(io.stderr, `stead hosts import: refused: ${r.problems.length}${r.problems.length >= 1000 ? ' or more' : ''} problem(s); nothing was imported (first: line ${r.problems[0]!.line})`);
      return operatorExitCodes.failed;
    }
    return operatorExitCodes.ok;
  });
}

export function importText(r: ImportResult, file: string): string[] {
  if (r.problems.length > 0) {
    return [`${inert(file)}: refused, nothing imported:`, ...r.problems.map((p) => `  line ${p.line}${p.column !== undefined ? `, column ${inert(p.column)}` : ''}${p.hostname !== undefined ? ` (${inert(p.hostname)})` : ''}: ${inert(p.message)}`)];
  }
  const c = r.counts ?? { added: r.added.length, changed: r.changed.length, removed: r.removed.length };
  const out = [`${r.dryRun ? 'would import' : 'imported'}: ${c.added} added, ${c.changed} changed, ${c.removed} removed, ${r.unchanged} unchanged${r.generation !== undefined ? ` (inventory generation ${r.generation})` : ''}`];
  for (const h of r.added.slice(0, 50)) out.push(`  + ${inert(h)}`);
  for (const h of r.changed.slice(0, 50)) out.push(`  ~ ${inert(h.hostname)} (${h.fields.join(', ')})`);
  for (const h of r.removed.slice(0, 50)) out.push(`  - ${inert(h)}`);
  const shown = Math.min(r.added.length, 50) + Math.min(r.changed.length, 50) + Math.min(r.removed.length, 50);
  if (c.added + c.changed + c.removed > shown) out.push(`  … and ${c.added + c.changed + c.removed - shown} more (--json lists up to 1,000 of each)`);
  return out;
}

type Row = InventoryHostList['hosts'][number];

async function listHosts(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, filter: { type: 'string' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  if (positionals.length > 0) throw new UsageError(`stead hosts list takes no arguments (give --filter EXPR), got ${JSON.stringify(positionals[0]!.slice(0, 60))}`);
  return withSession(io, 'hosts list', values, async (s) => {
    const hosts: Row[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const q = new URLSearchParams({ limit: '1000' });
      if (values.filter !== undefined) q.set('filter', values.filter);
      if (after !== undefined) q.set('after', after);
      const r = await s.client.request<InventoryHostList>('GET', `/inventory/hosts?${q.toString()}`);
      hosts.push(...r.hosts);
      if (r.next === undefined || r.hosts.length === 0) break;
      after = r.next;
    }
    if (s.json) printJson(io, { hosts });
    else printLines(io, [...table(['HOST', 'LIFECYCLE', 'IDC', 'RACK', 'BUSINESS', 'KIND', 'IP', 'SOURCE', 'TAGS'], hosts.map((h) => [h.hostname, h.lifecycle, h.idc, h.rack, h.business, h.kind, h.ips?.[0], h.source, h.tags?.join(',')])), `${hosts.length} host(s)`]);
    return operatorExitCodes.ok;
  });
}

async function showHost(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  const host = oneId('HOST', positionals);
  return withSession(io, 'hosts show', values, async (s) => {
    const d = await s.client.request<Record<string, any>>('GET', `/inventory/hosts/${encodeURIComponent(host)}`);
    if (s.json) printJson(io, d);
    else printLines(io, detailText(d));
    return operatorExitCodes.ok;
  });
}

function detailText(d: Record<string, any>): string[] {
  const e = d['effective'] ?? {};
  const out = [`${inert(String(d['host']))} (${d['source']})`];
  const field = (name: string, v: unknown): void => {
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) out.push(`  ${name.padEnd(10)} ${cell(Array.isArray(v) ? v.join(', ') : v, 200)}`);
  };
  field('lifecycle', e.lifecycle ?? 'online');
  field('ip', e.ips);
  field('idc', e.idc);
  field('rack', e.rack);
  field('business', e.business);
  field('kind', e.kind);
  field('parent', e.parent);
  field('tags', e.tags);
  for (const [k, v] of Object.entries((e.attributes ?? {}) as Record<string, unknown>)) field(`attr.${k}`, v);
  const groups = (d['groups'] ?? []) as { group: string; source: string; why: string }[];
  if (groups.length > 0) out.push('groups:', ...groups.map((g) => `  ${cell(g.group, 64)} (${g.source}): ${cell(g.why, 200)}`));
  const mism = (d['mismatches'] ?? []) as { message: string }[];
  if (mism.length > 0) out.push('mismatches:', ...mism.map((m) => `  ! ${cell(m.message, 200)}`));
  const facts = d['facts'] as Record<string, any> | undefined;
  if (facts) out.push(`facts: ${cell(facts['os']?.prettyName ?? facts['os']?.name, 80)}, kernel ${cell(facts['kernel']?.release, 60)}${d['factsUpdatedAt'] ? ` (at ${d['factsUpdatedAt']})` : ''}`);
  const children = (d['children'] ?? []) as string[];
  if (children.length > 0) out.push(`children: ${children.map((c) => inert(c)).join(', ')}`);
  const virtuals = (d['virtuals'] ?? []) as { kind: string; name: string; state?: string; source: string }[];
  if (virtuals.length > 0) out.push('virtual resources:', ...virtuals.map((v) => `  ${v.kind} ${cell(v.name, 80)} ${cell(v.state ?? '', 20)} (${cell(v.source, 30)})`));
  const hist = (d['lifecycleHistory'] ?? []) as { from: string | null; to: string; by: string; at: string; reason?: string; planJob?: string }[];
  if (hist.length > 0) out.push('lifecycle history:', ...hist.slice(0, 20).map((h) => `  ${h.at} ${h.from ?? '(new)'} -> ${h.to} by ${cell(h.by, 40)}${h.reason ? `: ${cell(h.reason, 120)}` : ''}${h.planJob ? ` [job ${h.planJob}]` : ''}`));
  return out;
}

const simpleKeys = new Set(['lifecycle', 'idc', 'rack', 'business', 'kind', 'parent']);

/** The PATCH body of `stead hosts set`, and the tag edits that need the current tags. */
export function setRequest(pairs: readonly string[]): { patch: Record<string, unknown>; addTags: string[]; removeTags: string[] } {
  const patch: Record<string, unknown> = {};
  const attrs: Record<string, string | null> = {};
  const addTags: string[] = [];
  const removeTags: string[] = [];
  if (pairs.length === 0) throw new UsageError('stead hosts set HOST needs at least one KEY=VALUE (e.g. lifecycle=online)');
  if (pairs.length > 200) throw new UsageError('at most 200 KEY=VALUE pairs');
  for (const kv of pairs) {
    const m = /^(tag\+|tag-|attr\.[A-Za-z_][A-Za-z0-9_-]{0,63}|[a-z]+)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`${JSON.stringify(kv.slice(0, 80))} is not KEY=VALUE (keys: lifecycle, idc, rack, business, kind, parent, ip, tag+, tag-, attr.NAME, reason)`);
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'tag+' || key === 'tag-') {
      if (value === '') throw new UsageError(`${key}= needs a tag`);
      (key === 'tag+' ? addTags : removeTags).push(value);
    } else if (key.startsWith('attr.')) {
      const name = key.slice(5);
      if (name === '__proto__' || name === 'constructor' || name === 'prototype') throw new UsageError(`attribute name ${name} is not allowed`);
      attrs[name] = value === '' ? null : value;
    } else if (key === 'ip') {
      patch['ips'] = value === '' ? null : value.split(',').map((x) => x.trim()).filter(Boolean);
    } else if (key === 'reason') {
      patch['reason'] = value;
    } else if (simpleKeys.has(key)) {
      if (key === 'lifecycle' && value === '') throw new UsageError('lifecycle cannot be removed; give a state');
      patch[key] = value === '' ? null : value;
    } else throw new UsageError(`unknown key ${JSON.stringify(key)} (lifecycle, idc, rack, business, kind, parent, ip, tag+, tag-, attr.NAME, reason)`);
    if (Object.hasOwn(patch, key) && key !== 'ip' && pairs.filter((p) => p.startsWith(`${key}=`)).length > 1) throw new UsageError(`${key} is given twice`);
  }
  if (Object.keys(attrs).length > 0) {
    const a: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(attrs)) Object.defineProperty(a, k, { value: v, enumerable: true, writable: true, configurable: true });
    patch['attributes'] = a;
  }
  return { patch, addTags, removeTags };
}

async function setHost(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  const [host, ...pairs] = positionals;
  if (host === undefined) throw new UsageError('stead hosts set HOST KEY=VALUE...: give the host');
  const req = setRequest(pairs);
  return withSession(io, 'hosts set', values, async (s) => {
    const path = `/inventory/hosts/${encodeURIComponent(host)}`;
    if (req.addTags.length + req.removeTags.length > 0) {
      // Tags of the store record (the repository's stay: the effective tags are the union).
      let stored: string[] = [];
      try {
        const d = await s.client.request<{ stored?: { tags?: string[] } }>('GET', path);
        stored = d.stored?.tags ?? [];
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err;
      }
      const tags = [...new Set([...stored, ...req.addTags])].filter((x) => !req.removeTags.includes(x));
      req.patch['tags'] = tags.length > 0 ? tags : null;
    }
    if (Object.keys(req.patch).length === 1 && req.patch['reason'] !== undefined) throw new UsageError('reason= goes with a change (e.g. lifecycle=maintenance reason=…)');
    const r = await s.client.request<{ record: Record<string, unknown>; event?: { from: string | null; to: string; planJob?: string } }>('PATCH', path, req.patch);
    if (s.json) printJson(io, r);
    else {
      const lines = [`${inert(host)}: record saved`];
      if (r.event) lines.push(`lifecycle ${r.event.from ?? '(new)'} -> ${r.event.to}${r.event.planJob ? ` (on-online plan launched: job ${r.event.planJob})` : ''}`);
      printLines(io, lines);
    }
    return operatorExitCodes.ok;
  });
}
