/**
 * bench:inventory — filter expressions and dynamic inventory groups (ADR 0018 §4) over 100,000
 * synthetic effective hosts held in memory, as the server's snapshot holds them. Each pass
 * scans every host once; p50 and p99 of PASSES passes per expression. The baseline, measured in
 * the same run, is the physical floor of a scan: a plain loop that reads one field of every
 * host and compares it (no parser, no closures); figures are given as ratios to it too.
 *
 *   npm run bench:inventory            (HOSTS=100000 PASSES=40 adjust it)
 */
import { parseFilter, type FilterHost } from '../../server/services/inventory/filter-expr.js';
import { evaluateGroups, groupContext } from '../../server/services/inventory/dynamic-groups.js';

const HOSTS = Number(process.env['HOSTS'] ?? 100_000);
const PASSES = Number(process.env['PASSES'] ?? 40);
const lifecycles = ['online', 'online', 'online', 'online', 'maintenance', 'standby', 'faulty', 'retired'] as const;
const kinds = ['physical', 'vm', 'vm', 'db-instance', 'mgmt-vm'] as const;

function hosts(n: number): { hosts: FilterHost[]; facts: Map<string, Record<string, unknown>> } {
  const out: FilterHost[] = [];
  const facts = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < n; i++) {
    const name = `host-${String(i).padStart(6, '0')}.example`;
    const tags = [`t${i % 50}`, ...(i % 10 === 0 ? ['canary'] : []), ...(i % 7 === 0 ? ['db'] : [])];
    out.push({
      hostname: name,
      record: {
        hostname: name,
        ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `192.168.${(i >> 8) & 255}.${i & 255}`],
        idc: ['sz', 'gz', 'sh', 'bj', 'hk'][i % 5]!,
        rack: `r${i % 400}`,
        business: `${['pay', 'crm', 'search', 'ads'][i % 4]}/${['api', 'web', 'batch'][i % 3]}`,
        kind: kinds[i % kinds.length]!,
        ...(i % 5 !== 0 ? { parent: `host-${String(i - (i % 5)).padStart(6, '0')}.example` } : {}),
        lifecycle: lifecycles[i % lifecycles.length]!,
        tags,
        attributes: { owner: `team${i % 30}`, cores: 8 + (i % 4) * 8, ssd: i % 2 === 0 },
      },
      lifecycle: lifecycles[i % lifecycles.length]!,
      source: i % 3 === 0 ? 'both' : i % 3 === 1 ? 'store' : 'repository',
      groups: ['all', `idc-${i % 5}`, ...(i % 10 === 0 ? ['canary'] : [])],
      set: `s${i % 20}`,
      env: i % 4 === 0 ? 'staging' : 'prod',
    });
    facts.set(name, { os: { family: i % 3 === 0 ? 'rhel' : 'debian', release: String(10 + (i % 3)) }, ipv4: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] });
  }
  return { hosts: out, facts };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function measure(pass: () => number): { p50: number; p99: number; matched: number } {
  let matched = 0;
  for (let i = 0; i < 3; i++) matched = pass(); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < PASSES; i++) {
    const t0 = performance.now();
    matched = pass();
    times.push(performance.now() - t0);
  }
  return { p50: pct(times, 50), p99: pct(times, 99), matched };
}

const { hosts: all, facts } = hosts(HOSTS);
const rows: string[][] = [];
const baseline = measure(() => {
  let n = 0;
  for (const h of all) if (h.record.idc === 'sz') n++;
  return n;
});
const ms = (x: number): string => x.toFixed(2);
const ratio = (x: number): string => `${(x / baseline.p50).toFixed(1)}×`;
rows.push(['baseline: plain loop, `h.record.idc === "sz"`', String(baseline.matched), ms(baseline.p50), ms(baseline.p99), '1.0×']);

const staticGroups = new Map([['dyn-a', parseFilter('idc=sz and tag:canary')], ['dyn-b', parseFilter('group:dyn-a or business=ads/*')]]);
const ctx = groupContext(staticGroups, facts);
const expressions = [
  'idc=sz',
  'idc=sz and tag:canary and lifecycle=online',
  'business=pay/*',
  'not lifecycle=retired',
  'ip=10.0.1.*',
  'hostname=*-0999*',
  'attr.owner=team7 or rack=r1*',
  'fact.os.family=debian and fact.os.release=12',
  '(idc=sz or idc=gz) and not (kind=vm and tag:db) and business=*/api and env=prod',
  'group:canary and group:dyn-b',
];
for (const e of expressions) {
  const f = parseFilter(e);
  const r = measure(() => {
    let n = 0;
    for (const h of all) if (f.matches(h, ctx)) n++;
    return n;
  });
  rows.push([`\`${e}\``, String(r.matched), ms(r.p50), ms(r.p99), ratio(r.p50)]);
}

// Dynamic groups: 20 stored filters evaluated over every host (what groupMembers does once per snapshot).
const groupFilters = new Map<string, ReturnType<typeof parseFilter>>();
for (let g = 0; g < 19; g++) groupFilters.set(`g${g}`, parseFilter(g % 3 === 0 ? `idc=${['sz', 'gz', 'sh'][g % 3]} and tag:t${g}` : g % 3 === 1 ? `business=${['pay', 'crm', 'ads'][g % 3]}/* and lifecycle=online` : `attr.owner=team${g} or rack=r${g}*`));
groupFilters.set('g19', parseFilter('group:g0 or group:g1'));
const groups = measure(() => {
  const m = evaluateGroups(all, groupFilters, facts);
  let n = 0;
  for (const s of m.values()) n += s.size;
  return n;
});
rows.push(['20 dynamic groups (one refers to two others), all members', String(groups.matched), ms(groups.p50), ms(groups.p99), ratio(groups.p50)]);

const mem = process.memoryUsage();
console.log(`bench:inventory — ${HOSTS.toLocaleString('en')} effective hosts in memory, ${PASSES} passes each (Node ${process.version}); one pass = a scan of every host`);
console.log('');
console.log('| expression | hosts matched | p50 ms | p99 ms | p50 / baseline |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('');
console.log(`heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MiB, RSS ${(mem.rss / 1024 / 1024).toFixed(0)} MiB (hosts + facts)`);
