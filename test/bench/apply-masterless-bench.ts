/**
 * `npm run bench:apply-masterless`: the real `stead apply` command (cli/stead, a fresh process
 * each run, as an operator or cron runs it) on a 5,000-resource manifest with 500 templates,
 * against cf-agent (and puppet apply, where installed) applying the same state in the same run.
 *
 * Layout (BENCH_N resources, default 5000): bench:apply's 112 directories and 10 links, and
 * BENCH_N - 122 files of 1 KiB under /srv/bench/aX/bY, of which BENCH_TEMPLATES (500) are
 * rendered each from its own Jinja2 template (with `vars:` and `inventory_hostname`), the rest
 * copied from files/. Phases, each a new process, wall time and peak RSS (from /usr/bin/time):
 *   stead: first apply (compile + converge; stores the compiled catalog), then BENCH_REPEAT (5)
 *   no-op runs (inputs unchanged: the catalog comes from the state directory), then
 *   BENCH_REPEAT no-op runs with --no-cache (parse, check, compile every time);
 *   cf-agent / puppet: first run, then BENCH_REPEAT no-op runs,
 * the no-op runs of every tool interleaved so that the machine's load affects them alike.
 * Medians are printed, with stead's times as a ratio of cf-agent's.
 *
 * Environment: BENCH_N, BENCH_TEMPLATES, BENCH_REPEAT, BENCH_KEEP=1 (keep the work directory),
 * BENCH_SKIP_OTHERS=1 (no cf-agent / puppet).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { benchFileContent, benchLayout } from '../helpers/bench-agent-repository.js';
import { median } from '../helpers/bench-floor.js';
import { cfAgentPeer as cfAgent, puppetPeer as puppet, type Peer } from '../helpers/bench-peers.js';

const PAD = 'x'.repeat(1000);
const HOST = 'bench';
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const stead = join(repo, 'cli/stead');
const TIME = '/usr/bin/time';

interface ManagedFile {
  readonly path: string;
  /** Index of its template, or -1 for a files/ copy. */
  readonly template: number;
  readonly content: string;
}

interface Layout {
  readonly dirs: readonly string[];
  readonly files: readonly ManagedFile[];
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

/** n resources: 112 directories, 10 links, the rest files, `templates` of them rendered (spread evenly). */
function layout(n: number, templates: number): Layout {
  const base = benchLayout(Math.max(1, n - 122));
  const count = base.files.length;
  let t = 0;
  const files = base.files.map((f, i) => {
    const templated = Math.floor(((i + 1) * templates) / count) > Math.floor((i * templates) / count);
    if (!templated) return { path: f.path, template: -1, content: benchFileContent(i) };
    const k = t++;
    return { path: f.path, template: k, content: `templated ${i} (${k}) on ${HOST}\n${PAD}\n` };
  });
  return { dirs: base.dirs, files, links: base.links };
}

/** manifest.yaml, templates/ and files/ for stead; returns the manifest's path. */
function writeManifest(dir: string, l: Layout): string {
  mkdirSync(join(dir, 'files/data'), { recursive: true });
  mkdirSync(join(dir, 'templates'), { recursive: true });
  const out: string[] = ['resources:'];
  for (const d of l.dirs) out.push(`  - type: directory\n    path: ${d}\n    mode: "0755"`);
  l.files.forEach((f, i) => {
    if (f.template >= 0) {
      writeFileSync(join(dir, `templates/t${f.template}.j2`), `templated {{ n }} ({{ k }}) on {{ inventory_hostname }}\n${PAD}\n`);
      out.push(`  - type: file\n    path: ${f.path}\n    template: t${f.template}.j2\n    vars: { n: ${i}, k: ${f.template} }\n    mode: "0644"`);
    } else {
      writeFileSync(join(dir, `files/data/${i}.txt`), f.content);
      out.push(`  - type: file\n    path: ${f.path}\n    source: data/${i}.txt\n    mode: "0644"`);
    }
  });
  for (const k of l.links) out.push(`  - type: link\n    path: ${k.path}\n    target: ${k.target}`);
  const p = join(dir, 'manifest.yaml');
  writeFileSync(p, `${out.join('\n')}\n`);
  return p;
}

/** The expected content of every file, for the peers' copies. */
function writeExpected(dir: string, l: Layout): void {
  for (const f of l.files) {
    const p = join(dir, f.path);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, f.content);
  }
}

interface Run {
  readonly ms: number;
  /** Peak RSS in MB, when /usr/bin/time is there. */
  readonly rssMb: number | undefined;
  readonly code: number | null;
  readonly tail: string;
}

/** Runs a command as a new process; wall time from here, peak RSS from /usr/bin/time (its last stderr line). */
function run(cmd: string, args: readonly string[]): Run {
  const useTime = existsSync(TIME);
  const t0 = performance.now();
  const r = useTime
    ? spawnSync(TIME, ['-f', 'stead-bench-rss-kb %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const m = /stead-bench-rss-kb (\d+)/.exec(r.stderr ?? '');
  const tail = `${r.stdout ?? ''}${(r.stderr ?? '').replace(/stead-bench-rss-kb \d+\n?/, '')}`.trim().split('\n').slice(-2).join(' | ');
  return { ms, rssMb: m ? Number(m[1]) / 1024 : undefined, code: r.status, tail };
}

function which(cmd: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (runs: readonly Run[]) => {
  const xs = runs.map((r) => r.rssMb).filter((x): x is number => x !== undefined);
  return xs.length === 0 ? 'n/a (no /usr/bin/time)' : `${Math.max(...xs).toFixed(0)} MB`;
};
const med = (runs: readonly Run[]) => median(runs.map((r) => r.ms));

function main(): void {
  const n = Number(process.env['BENCH_N'] ?? 5000);
  const templates = Number(process.env['BENCH_TEMPLATES'] ?? 500);
  const repeat = Number(process.env['BENCH_REPEAT'] ?? 5);
  if (!existsSync(join(repo, 'dist/cli/main.js'))) throw new Error('build first (npm run build)');
  const work = mkdtempSync(join(tmpdir(), 'stead-bench-masterless-'));
  const l = layout(n, templates);
  const manifest = writeManifest(join(work, 'manifest'), l);
  const root = join(work, 'stead-root');
  mkdirSync(root, { recursive: true });
  const steadArgs = ['apply', manifest, '--root', root, '--host', HOST];
  const resources = l.dirs.length + l.files.length + l.links.length;
  console.log(`stead bench:apply-masterless — node ${process.version}, ${resources} resources (${l.files.length} files, ${l.files.filter((f) => f.template >= 0).length} from their own template, ${l.dirs.length} directories, ${l.links.length} links), work dir ${work}`);
  console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  try {
    const peers: Peer[] = [];
    if (process.env['BENCH_SKIP_OTHERS'] === '1') console.log('cf-agent, puppet apply: skipped (BENCH_SKIP_OTHERS=1)');
    else {
      const haveCf = which('cf-agent');
      const havePuppet = which('puppet');
      if (haveCf || havePuppet) writeExpected(join(work, 'expected'), l);
      if (haveCf) peers.push(cfAgent(work, l));
      else console.log('cf-agent: skipped (not installed: apt-get install -y cfengine3)');
      if (havePuppet) peers.push(puppet(work, l));
      else console.log('puppet apply: skipped (not installed: apt-get install -y puppet)');
    }

    const first = run(stead, steadArgs);
    if (first.code !== 0) throw new Error(`stead apply (first) exited ${first.code}: ${first.tail}`);
    const check = l.files.filter((_, i) => i % 97 === 0).find((f) => readFileSync(join(root, f.path), 'utf8') !== f.content);
    if (check) throw new Error(`stead apply wrote ${check.path} differently from the peers' expected content`);
    const peerFirst = new Map<Peer, Run>();
    for (const p of peers) {
      const r = run(p.cmd, p.args);
      if (!p.ok.has(r.code ?? -1)) {
        console.log(`${p.name}: skipped (its first run exited ${r.code}: ${r.tail})`);
        continue;
      }
      peerFirst.set(p, r);
    }
    const hits: Run[] = [];
    const compiles: Run[] = [];
    const peerNoop = new Map<Peer, Run[]>([...peerFirst.keys()].map((p) => [p, []]));
    for (let i = 0; i < repeat; i++) {
      const hit = run(stead, [...steadArgs, '--detailed-exitcodes']);
      if (hit.code !== 0) throw new Error(`stead apply (no-op) exited ${hit.code}: ${hit.tail}`);
      hits.push(hit);
      const full = run(stead, [...steadArgs, '--detailed-exitcodes', '--no-cache']);
      if (full.code !== 0) throw new Error(`stead apply --no-cache (no-op) exited ${full.code}: ${full.tail}`);
      compiles.push(full);
      for (const [p, runs] of peerNoop) runs.push(run(p.cmd, p.args));
    }

    const cf = [...peerNoop].find(([p]) => p.name === 'cf-agent');
    const cfFirst = cf ? peerFirst.get(cf[0]) : undefined;
    const vsCf = (ms: number, base: number | undefined) => (base === undefined ? '' : `   ${(ms / base).toFixed(2)}x cf-agent`);
    console.log(`\nmedian of ${repeat} no-op runs, each a new process; peak RSS the highest of the runs`);
    console.log(`  stead apply, first run (compile + converge)   ${fmt(first.ms)}   peak RSS ${mb([first])}${vsCf(first.ms, cfFirst?.ms)}`);
    console.log(`  stead apply, no-op (catalog from the cache)   ${fmt(med(hits))}   peak RSS ${mb(hits)}${vsCf(med(hits), cf ? med(cf[1]) : undefined)}   (all: ${hits.map((r) => (r.ms / 1000).toFixed(2)).join(', ')} s)`);
    console.log(`  stead apply --no-cache, no-op (compiles)      ${fmt(med(compiles))}   peak RSS ${mb(compiles)}${vsCf(med(compiles), cf ? med(cf[1]) : undefined)}   (all: ${compiles.map((r) => (r.ms / 1000).toFixed(2)).join(', ')} s)`);
    for (const [p, runs] of peerNoop) {
      const f = peerFirst.get(p)!;
      console.log(`  ${`${p.name}, first run`.padEnd(46)}${fmt(f.ms)}   peak RSS ${mb([f])}`);
      console.log(`  ${`${p.name}, no-op`.padEnd(46)}${fmt(med(runs))}   peak RSS ${mb(runs)}   (all: ${runs.map((r) => (r.ms / 1000).toFixed(2)).join(', ')} s)`);
    }
    if (cf) console.log(`\ngoal: stead no-op ≤ 0.5x cf-agent and < 100 MB: ${(med(hits) / med(cf[1])).toFixed(2)}x, ${mb(hits)}`);
    console.log(`load average at end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  } finally {
    if (process.env['BENCH_KEEP'] === '1') console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main();
