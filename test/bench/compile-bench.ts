/**
 * `npm run bench:compile`: catalogs per second for a fleet of 1,000 hosts, each catalog 200
 * resources of which 20 are files rendered from 20 distinct Jinja2 templates, on one core (one
 * synchronous process). Two figures:
 *   cold   — compileHost for every host (variables merged, 20 templates rendered, blobs hashed,
 *            catalog id computed); the per-revision memo (parsed roles, template cache) is warm
 *            after the first host, as on a server that compiles a revision for its fleet;
 *   cached — CompileCache lookups for every host after one pass (key = revision + host + facts
 *            + launch vars, hashed), as on a server answering polls for an unchanged revision.
 * Plus the time to load (parse and check) the repository once.
 *
 * Environment: BENCH_HOSTS=1000, BENCH_REPEAT=3 (passes per figure; the median is printed),
 * BENCH_KEEP=1 (keep the generated repository).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompileCache } from '../../compiler/cache.js';
import { compileHost } from '../../compiler/compile.js';
import { loadRepository } from '../../compiler/repo/load-repository.js';
import { formatRepoProblem } from '../../compiler/repo/repo-problem.js';

const HOSTS = Number(process.env['BENCH_HOSTS'] ?? 1000);
const REPEAT = Math.max(1, Number(process.env['BENCH_REPEAT'] ?? 3));
const ROLES = 4;
const PER_ROLE = 50; // 4 × 50 = 200 resources per host
const TEMPLATES_PER_ROLE = 5; // 20 templates per host

function write(root: string, rel: string, text: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
}

/** A realistic template: loops over lists and maps, conditionals, filters, facts, groups. */
function template(role: number, i: number): string {
  return [
    `# role${role} config ${i} for {{ inventory_hostname }} ({{ region.name }}/{{ inventory.set }}); managed by Stead`,
    `[service]`,
    `name = svc${role}_${i}`,
    `port = {{ role${role}.base_port + ${i} }}`,
    `workers = {{ app.workers * 2 if facts.cpu_count | default(1) > 4 else app.workers }}`,
    `log_level = {{ app.log_level | upper }}`,
    `{% if app.features.tracing %}tracing = on{% endif %}`,
    ``,
    `[upstreams]`,
    `{% for h in region.mongodb.hosts %}`,
    `mongo{{ loop.index }} = {{ h }}:{{ region.mongodb.port }}`,
    `{% endfor %}`,
    `{% for name in app.limits | sort %}`,
    `limit.{{ name }} = {{ app.limits[name] }}`,
    `{% endfor %}`,
    ``,
    `[peers]`,
    `count = {{ groups['set-' ~ inventory.set] | length }}`,
    `first = {{ (groups['set-' ~ inventory.set] | first) | default('none') }}`,
    `dns = {{ dns.servers | join(' ') }}`,
    `ntp = {{ ntp_servers | join(',') }}`,
    `{% for i in range(5) %}`,
    `slot{{ i }} = {{ (i * 7 + ${i}) % 11 }}`,
    `{% endfor %}`,
    ``,
  ].join('\n');
}

function generate(root: string): void {
  write(root, 'stead.yaml', 'stead: 1\nname: bench\n');
  write(
    root,
    'vars/global.yaml',
    [
      'app:',
      '  workers: 4',
      '  log_level: info',
      '  features: { tracing: false, canary: false }',
      '  limits: { rps: 1000, burst: 200, conns: 4096, body_kb: 512 }',
      'region: { name: default, mongodb: { port: 27017, hosts: [] } }',
      'dns: { servers: [10.0.0.2, 10.0.0.3] }',
      'ntp_servers: [ntp1.example.net, ntp2.example.net]',
      '',
    ].join('\n'),
  );
  const idcs = ['sh', 'bj', 'gz', 'sz'];
  const sets = Array.from({ length: 10 }, (_, i) => `s${i}`);
  const hosts: string[] = ['hosts:'];
  for (let h = 0; h < HOSTS; h++) {
    hosts.push(`  host-${h}:`, `    idc: ${idcs[h % idcs.length]}`, `    set: ${sets[h % sets.length]}`, `    ip: 10.${h >> 16}.${(h >> 8) & 255}.${h & 255}`, `    tags: [${h % 3 === 0 ? 'canary, ' : ''}app]`);
    if (h % 50 === 0) hosts.push('    vars:', '      app: { log_level: debug }');
  }
  write(root, 'inventory/hosts.yaml', hosts.join('\n') + '\n');
  idcs.forEach((idc, i) =>
    write(root, `groups/idc-${idc}.yaml`, `kind: idc\nmatch:\n  - idc: ${idc}\nvars:\n  region:\n    name: ${idc}\n    mongodb:\n      hosts: [172.${16 + i}.0.10, 172.${16 + i}.0.11, 172.${16 + i}.0.12]\n  dns:\n    servers: [172.${16 + i}.0.2]\n`),
  );
  sets.forEach((s, i) => write(root, `groups/set-${s}.yaml`, `kind: set\nmatch:\n  - set: ${s}\nvars:\n  app:\n    workers: ${2 + (i % 4)}\n`));
  write(root, 'groups/app.yaml', `kind: custom\npriority: 10\nmatch:\n  - tags: app\nroles: [${Array.from({ length: ROLES }, (_, r) => `role${r}`).join(', ')}]\nvars:\n  app:\n    limits: { rps: 2000 }\n`);
  write(root, 'groups/canary.yaml', 'kind: custom\npriority: 20\nmatch:\n  - tags: canary\nvars:\n  app:\n    features: { canary: true, tracing: true }\n');
  for (let r = 0; r < ROLES; r++) {
    const res: string[] = [`description: bench role ${r}`, 'parameters:', '  base_port:', '    type: integer', `    default: ${8000 + r * 100}`, 'resources:'];
    res.push('  - type: directory', `    path: /srv/r${r}`, '    mode: "0755"');
    for (let i = 0; i < TEMPLATES_PER_ROLE; i++) {
      write(root, `templates/role${r}/conf${i}.j2`, template(r, i));
      res.push('  - type: file', `    path: /srv/r${r}/conf${i}.ini`, `    template: role${r}/conf${i}.j2`, '    mode: "0644"', `    require: [directory:/srv/r${r}]`);
    }
    const rest = PER_ROLE - 1 - TEMPLATES_PER_ROLE;
    for (let i = 0; i < rest; i++) {
      const k = i % 4;
      if (k === 0) res.push('  - type: directory', `    path: /srv/r${r}/d${i}`, '    mode: "0750"', `    require: [directory:/srv/r${r}]`);
      else if (k === 1) res.push('  - type: file', `    path: /srv/r${r}/static${i}.txt`, `    content: "static content ${r}.${i}\\n"`, '    mode: "0644"');
      else if (k === 2) res.push('  - type: link', `    path: /srv/r${r}/link${i}`, `    target: /srv/r${r}/static${i - 1}.txt`);
      else res.push('  - type: exec', `    name: r${r}-check${i}`, `    command: /bin/true check ${i}`, '    refreshonly: true', `    subscribe: [file:/srv/r${r}/conf0.ini]`);
    }
    write(root, `roles/role${r}/role.yaml`, res.join('\n') + '\n');
  }
}

function facts(h: number): Record<string, unknown> {
  return { cpu_count: 2 + (h % 8), memory_mb: 4096 * (1 + (h % 4)), os: { family: 'debian', release: '12', kernel: '6.1.0-26-amd64' }, hostname: `host-${h}`, uptime_s: 1000 + h, interfaces: { eth0: { ip: `10.0.${h >> 8}.${h & 255}` } } };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'stead-compile-bench-'));
  try {
    generate(root);
    const t0 = performance.now();
    const repo = await loadRepository(root);
    const loadMs = performance.now() - t0;
    if (repo.problems.length > 0) throw new Error(repo.problems.map(formatRepoProblem).join('\n'));
    const names = [...repo.hosts.keys()];
    const allFacts = names.map((_, i) => facts(i));

    // Check the shape once: 200 resources, 20 rendered templates per catalog.
    const sample = compileHost(repo, names[0]!, allFacts[0]);
    if (!sample.catalog) throw new Error(sample.problems.map(formatRepoProblem).join('\n'));
    const resources = sample.catalog.resources.length;

    const cold: number[] = [];
    for (let rep = 0; rep < REPEAT; rep++) {
      const start = performance.now();
      for (let i = 0; i < names.length; i++) {
        const r = compileHost(repo, names[i]!, allFacts[i]);
        if (!r.catalog) throw new Error(`${names[i]}: ${r.problems.map(formatRepoProblem).join('; ')}`);
      }
      cold.push((names.length * 1000) / (performance.now() - start));
    }

    const cache = new CompileCache({ maxEntries: names.length * 2 });
    for (let i = 0; i < names.length; i++) cache.compile(repo, names[i]!, allFacts[i]);
    const cached: number[] = [];
    for (let rep = 0; rep < REPEAT; rep++) {
      const start = performance.now();
      for (let i = 0; i < names.length; i++) if (!cache.compile(repo, names[i]!, allFacts[i]).cached) throw new Error('cache miss');
      cached.push((names.length * 1000) / (performance.now() - start));
    }

    const coldRate = median(cold);
    const cachedRate = median(cached);
    const lines = [
      `bench:compile — ${names.length} hosts × ${resources} resources (${ROLES * TEMPLATES_PER_ROLE} templates rendered per catalog), one core, Node ${process.version}`,
      `  load repository   ${loadMs.toFixed(0)} ms (parse and check every file once per revision)`,
      `  cold compile      ${coldRate.toFixed(0)} catalogs/s  (${(1000 / coldRate).toFixed(2)} ms per catalog; median of ${REPEAT}; target ≥ 100)`,
      `  cached compile    ${cachedRate.toFixed(0)} catalogs/s  (${((1000 * 1000) / cachedRate).toFixed(1)} µs per lookup; median of ${REPEAT}; target ≥ 1000)`,
      `  peak RSS          ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`,
      `  ${coldRate >= 100 && cachedRate >= 1000 ? 'PASS' : 'BELOW TARGET'}`,
    ];
    for (const l of lines) process.stdout.write(`${l}\n`);
    if (process.env['BENCH_KEEP']) process.stdout.write(`repository kept in ${root}\n`);
  } finally {
    if (!process.env['BENCH_KEEP']) rmSync(root, { recursive: true, force: true });
  }
}

await main();
