/**
 * Importing a CMDB export end to end (issue 11, ADR 0018 §3–4): a real `stead server`, three
 * real agent daemons and the real `stead` CLI.
 *
 * 1. A 10,000-host CSV with broken rows: `stead hosts import FILE --dry-run` refuses it naming
 *    every bad line, and so does the import itself; nothing is imported.
 * 2. The fixed file: the dry run says 10,000 added; the import applies them all.
 * 3. `stead hosts list --filter 'idc=sz and tag:canary' --json` prints `{ "hosts": [...] }` with
 *    exactly the expected hosts; `business=pay/*` counts exactly the pay hosts.
 * 4. Export round trip: CSV and JSON exports re-imported (dry run) change nothing, and the CSV
 *    export carries every field of every host.
 * 5. A job on `business:pay/*` runs on the enrolled pay hosts that are online; every other pay
 *    host is listed as unavailable, the standby one for its lifecycle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildOnce, hasCommand, waitFor } from '../helpers/e2e-fleet.js';
import { csvRecords, getBody, inventoryRepository, prepareRoot, startFleet, stead } from '../helpers/inventory-fleet.js';

await buildOnce();
const ready = await hasCommand('server');

const N = 10_000;
/** The agents: declared by the repository too (the CSV rows merge over them). */
const agentRows = [
  { hostname: 'pay-1', business: 'pay/api', idc: 'sz', lifecycle: 'online', tags: ['canary'] },
  { hostname: 'pay-2', business: 'pay/gateway', idc: 'gz', lifecycle: 'standby', tags: [] as string[] },
  { hostname: 'shop-1', business: 'shop/web', idc: 'sz', lifecycle: 'online', tags: ['canary'] },
];

interface Row {
  hostname: string;
  ip: string[];
  idc: string;
  rack: string;
  business: string;
  kind: string;
  parent: string;
  lifecycle: string;
  tags: string[];
  owner: string;
  note: string;
}

const idcs = ['sz', 'gz', 'bj', 'sh'];
const businesses = ['pay/api', 'pay/gateway', 'shop/web', 'shop/cart', 'search'];
const lifecycles = ['online', 'online', 'online', 'standby', 'maintenance', 'deploying'];

function rows(): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < N - agentRows.length; i++) {
    const vm = i % 10 !== 0;
    const tags = [i % 3 === 0 ? 'web' : 'db'];
    if (i % 21 === 0) tags.push('canary');
    out.push({
      hostname: `node-${String(i).padStart(5, '0')}`,
      ip: i % 50 === 0 ? [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `192.168.${(i >> 8) & 255}.${i & 255}`] : [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      idc: idcs[i % 4]!,
      rack: `r${i % 40}`,
      business: businesses[i % 5]!,
      kind: vm ? (i % 10 === 5 ? 'db-instance' : 'vm') : 'physical',
      parent: vm ? `node-${String(i - (i % 10)).padStart(5, '0')}` : '',
      lifecycle: lifecycles[i % 6]!,
      tags,
      owner: `team-${i % 9}`,
      note: i % 500 === 0 ? `row ${i}, "quoted" part` : '',
    });
  }
  for (const [k, a] of agentRows.entries()) {
    out.push({ hostname: a.hostname, ip: [`127.0.1.${k + 1}`], idc: a.idc, rack: 'r-agents', business: a.business, kind: 'physical', parent: '', lifecycle: a.lifecycle, tags: a.tags, owner: 'team-agents', note: '' });
  }
  return out;
}

const header = ['hostname', 'ip', 'idc', 'rack', 'business', 'kind', 'parent', 'lifecycle', 'tags', 'owner', 'note'];
const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const line = (r: Row): string => [r.hostname, r.ip.join(';'), r.idc, r.rack, r.business, r.kind, r.parent, r.lifecycle, r.tags.join(';'), r.owner, r.note].map(quote).join(',');

function csv(all: readonly Row[], broken: ReadonlyMap<number, string> = new Map()): string {
  // Line 1 is the header; row k is on line k + 2 (no field holds a newline).
  return [header.join(','), ...all.map((r, k) => broken.get(k + 2) ?? line(r))].join('\n') + '\n';
}

t.test('a 10,000-host CMDB import through the CLI', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ files: {} });
  const agentNames = agentRows.map((a) => a.hostname);
  for (const h of agentNames) prepareRoot(join(dir, h, 'root'));
  const fleet = await startFleet(t, dir, agentNames, inventoryRepository(agentNames.map((name) => ({ name }))));
  const { server } = fleet;

  const all = rows();
  t.equal(all.length, N);
  const good = csv(all);
  const goodFile = join(dir, 'files', 'cmdb.csv');
  writeFileSync(goodFile, good);

  // Broken rows, each on a known line, each with a different mistake (none of them a parent of another row).
  const brokenLines = new Map<number, string>();
  const at = (k: number, edit: (r: Row) => Row | string): void => {
    const r = edit({ ...all[k]!, tags: [...all[k]!.tags], ip: [...all[k]!.ip] });
    brokenLines.set(k + 2, typeof r === 'string' ? r : line(r));
  };
  at(17, (r) => ({ ...r, lifecycle: 'zombie' }));
  at(1_234, (r) => ({ ...r, ip: ['not-an-ip'] }));
  at(4_321, (r) => ({ ...r, business: 'pay//api' }));
  at(5_001, (r) => ({ ...r, hostname: '' }));
  at(7_777, (r) => ({ ...r, kind: 'mainframe' }));
  at(9_001, (r) => ({ ...r, tags: ['has space'] }));
  at(9_501, (r) => `${line(r)},extra,fields`);
  const badFile = join(dir, 'files', 'cmdb-broken.csv');
  writeFileSync(badFile, csv(all, brokenLines));
  const badLines = [...brokenLines.keys()].sort((a, b) => a - b);

  const storeHosts = async (): Promise<number> => {
    const r = await server.api('GET', '/api/v1/inventory/hosts?filter=source%3Dstore%20or%20source%3Dboth');
    if (r.status !== 200) throw new Error(`GET /api/v1/inventory/hosts: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body.total as number;
  };
  const listAll = async (): Promise<number> => {
    const r = await server.api('GET', '/api/v1/inventory/hosts');
    if (r.status !== 200) throw new Error(`GET /api/v1/inventory/hosts: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body.total as number;
  };
  const before = await listAll();
  t.equal(before, agentNames.length, 'before the import: the repository\'s hosts only');

  await t.test('broken rows: the dry run and the import refuse, naming every bad line; nothing is imported', async (t) => {
    const names = (text: string, n: number): boolean => new RegExp(`(\\bline ${n}\\b|:${n}:)`, 'i').test(text);
    const dry = await stead(server, ['hosts', 'import', badFile, '--dry-run']);
    t.not(dry.code, 0, 'the dry run of a broken file fails');
    for (const n of badLines) t.ok(names(dry.stdout + dry.stderr, n), `the dry run names line ${n}`);
    t.notOk(names(dry.stdout + dry.stderr, 3), 'a good line is not named');
    const imp = await stead(server, ['hosts', 'import', badFile, '--format', 'csv']);
    t.not(imp.code, 0, 'the import of a broken file fails');
    for (const n of badLines) t.ok(names(imp.stdout + imp.stderr, n), `the import names line ${n}`);
    // The API's answer: every problem with its line, and applied: false.
    const api = await server.fetch('POST', '/api/v1/inventory/import?format=csv&dryRun=false', { authorization: `Bearer ${server.adminToken}`, 'content-type': 'text/csv' }, csv(all, brokenLines));
    const body = JSON.parse(api.text);
    t.equal(body.applied, false, `applied: false (status ${api.status})`);
    t.same([...new Set((body.problems as { line: number }[]).map((p) => p.line))].sort((a, b) => a - b), badLines, 'exactly the bad lines');
    t.equal(await listAll(), before, 'nothing was imported');
    t.equal(await storeHosts(), 0, 'no store record exists');
  });

  await t.test('the fixed file: the dry run shows 10,000 added; the import applies every row', async (t) => {
    const dry = await stead(server, ['hosts', 'import', goodFile, '--dry-run']);
    t.equal(dry.code, 0, dry.stderr);
    t.match(dry.stdout + dry.stderr, /\badd\w*\b[^\n]*\b10[,.\s]?000\b|\b10[,.\s]?000\b[^\n]*\badd/i, `the dry run says 10,000 added: ${dry.stdout.slice(0, 300)}`);
    t.equal(await storeHosts(), 0, 'a dry run writes nothing');
    const apiDry = await server.fetch('POST', '/api/v1/inventory/import?format=csv&dryRun=true', { authorization: `Bearer ${server.adminToken}`, 'content-type': 'text/csv' }, good);
    const d = JSON.parse(apiDry.text);
    t.equal(apiDry.status, 200, apiDry.text.slice(0, 300));
    t.equal(d.dryRun, true);
    t.equal(d.applied, false);
    t.same(d.problems, []);
    t.equal(d.counts?.added ?? d.added.length, N, 'counts.added = 10,000');
    t.ok(d.added.length > 0 && d.added.length <= 1000, 'the names are bounded to 1,000');

    const imp = await stead(server, ['hosts', 'import', goodFile]);
    t.equal(imp.code, 0, imp.stderr);
    t.equal(await listAll(), N, '10,000 hosts (the agents\' rows merged over the repository\'s)');
    t.equal(await storeHosts(), N, 'each one a store record');
  });

  await t.test('filters: idc=sz and tag:canary; business=pay/*', async (t) => {
    const want = all.filter((r) => r.idc === 'sz' && r.tags.includes('canary')).map((r) => r.hostname).sort();
    t.ok(want.length > 100, `${want.length} hosts expected`);
    const r = await stead(server, ['hosts', 'list', '--filter', 'idc=sz and tag:canary', '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = r.json();
    t.same(Object.keys(out), ['hosts'], 'exactly { "hosts": [...] }');
    t.same((out.hosts as { hostname: string }[]).map((h) => h.hostname), want, 'exactly the sz canary hosts, sorted by hostname');
    const byName = new Map(all.map((x) => [x.hostname, x]));
    for (const h of out.hosts as { hostname: string; idc: string; business: string; lifecycle: string; tags: string[]; rack: string; kind: string }[]) {
      const src = byName.get(h.hostname)!;
      if (h.idc !== 'sz' || !h.tags.includes('canary') || h.business !== src.business || h.lifecycle !== src.lifecycle || h.rack !== src.rack || h.kind !== src.kind) {
        t.fail(`${h.hostname}: the row does not carry the imported record: ${JSON.stringify(h)}`);
        break;
      }
    }
    const pay = all.filter((x) => x.business.startsWith('pay/')).length;
    const api = await server.api('GET', `/api/v1/inventory/hosts?filter=${encodeURIComponent('business=pay/*')}`);
    t.equal(api.status, 200);
    t.equal(api.body.total, pay, 'business=pay/* matches every pay host');
    const online = await server.api('GET', `/api/v1/inventory/hosts?filter=${encodeURIComponent('idc=sz and tag:canary and lifecycle=online')}`);
    t.equal(online.body.total, all.filter((x) => x.idc === 'sz' && x.tags.includes('canary') && x.lifecycle === 'online').length, 'and lifecycle=online narrows it');
  });

  await t.test('export round trip: CSV and JSON re-imported change nothing; the CSV carries every field', async (t) => {
    const ex = await server.fetch('GET', '/api/v1/inventory/export?format=csv', { authorization: `Bearer ${server.adminToken}` });
    t.equal(ex.status, 200);
    const records = new Map(csvRecords(ex.text).map((r) => [r.hostname!, r]));
    t.equal(records.size, N, 'every host exported');
    let bad = 0;
    for (const r of all) {
      const e = records.get(r.hostname);
      const same = e !== undefined
        && (e.ip ?? '').split(';').filter(Boolean).join(';') === r.ip.join(';')
        && e.idc === r.idc && e.rack === r.rack && e.business === r.business && e.kind === r.kind && (e.parent ?? '') === r.parent && e.lifecycle === r.lifecycle
        && [...(e.tags ?? '').split(';').filter(Boolean)].sort().join(';') === [...r.tags].sort().join(';')
        && (e.owner ?? '') === r.owner && (e.note ?? '') === r.note;
      if (!same && bad++ < 3) t.fail(`${r.hostname} exported as ${JSON.stringify(e)}, imported as ${line(r)}`);
    }
    t.equal(bad, 0, 'every exported row equals its imported row');
    const again = await server.fetch('POST', '/api/v1/inventory/import?format=csv&dryRun=true', { authorization: `Bearer ${server.adminToken}`, 'content-type': 'text/csv' }, ex.text);
    const a = JSON.parse(again.text);
    t.same(a.problems, [], 'the export is a valid import');
    t.same([a.counts?.added ?? a.added.length, a.counts?.changed ?? a.changed.length, a.counts?.removed ?? a.removed.length, a.unchanged], [0, 0, 0, N], 'CSV re-import: nothing added, changed or removed');

    const exJson = await server.fetch('GET', '/api/v1/inventory/export?format=json', { authorization: `Bearer ${server.adminToken}` });
    t.equal(exJson.status, 200);
    const j = JSON.parse(exJson.text);
    t.equal((Array.isArray(j) ? j : j.hosts).length, N, 'every host in the JSON export');
    const fromJson = await server.fetch('POST', '/api/v1/inventory/import?format=json&dryRun=true', { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, exJson.text);
    const b = JSON.parse(fromJson.text);
    t.same(b.problems, []);
    t.same([b.counts?.added ?? b.added.length, b.counts?.changed ?? b.changed.length, b.unchanged], [0, 0, N], 'JSON re-import: nothing added or changed');
  });

  await t.test('a job on business:pay/* runs on the enrolled online pay host; every other pay host is unavailable', async (t) => {
    const pay = all.filter((x) => x.business.startsWith('pay/')).map((x) => x.hostname).sort();
    // The agents recompile on the new generation; wait until pay-1's catalog is the merged one (idc sz).
    await waitFor('the imported record of pay-1', async () => {
      const h = await getBody(server, '/api/v1/inventory/hosts/pay-1');
      return h?.effective?.idc === 'sz' && h?.source === 'both';
    }, 120_000);
    const r = await stead(server, ['job', 'run', '--targets', 'business:pay/*', '--command', 'echo "ran on $STEAD_HOST"', '--wait', '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = r.json();
    t.same((out.hosts as { host: string }[]).map((h) => h.host), ['pay-1'], 'the one enrolled, online pay host ran it');
    t.match((out.hosts as { stdout: string }[])[0]!.stdout, 'ran on pay-1');
    const view = (await server.api('GET', `/api/v1/jobs/${out.id}`)).body as { unavailable?: { host: string; reason: string }[] };
    const unavailable = view.unavailable ?? [];
    t.same([...unavailable.map((u) => u.host), 'pay-1'].sort(), pay, 'every other pay host is listed as unavailable');
    t.match(unavailable.find((u) => u.host === 'pay-2')?.reason, /lifecycle standby/, 'pay-2 is left out for its lifecycle');
    t.notOk(unavailable.some((u) => u.host === 'shop-1'), 'shop-1 is not selected at all');
    const inc = await stead(server, ['job', 'run', '--targets', 'business:pay/*', '--include-inactive', '--command', 'true', '--wait', '--json']);
    t.same((inc.json().hosts as { host: string }[]).map((h) => h.host).sort(), ['pay-1', 'pay-2'], '--include-inactive brings pay-2 in');
  });

  await fleet.stop();
});
