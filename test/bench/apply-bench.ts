/**
 * `npm run bench:apply`: the engine's cost per agent poll, against the physical floor.
 *
 * For N = 1,000 and 10,000 managed files (1 KiB each, nested directories, 10 % from a
 * template, a few links) it measures, each phase in its own process:
 *   first apply; no-op runs (the first of the process, cold, then BENCH_REPEAT warm ones: a
 *   running agent's later polls); a re-run after 1 % of the files drifted;
 * and, in the no-op process, the floor: a tight Node loop that stats, reads and sha256-hashes
 * the same files (the faster of a sync and an async loop). Each time is printed as a ratio to
 * the floor, with the peak RSS of each phase's process (the no-op's taken before the floor). The manifest is compiled once by the
 * CLI's catalog builder (in its own process); the engine process loads the catalog and the
 * blobs from disk, as the agent does from its caches.
 *
 * Where `puppet` and `cf-agent` are installed, the same state is applied with them too (first
 * apply and no-op), and our times are printed as a ratio of theirs.
 *
 * Environment: BENCH_N="1000,10000" (sizes), BENCH_REPEAT=3 (no-op and floor repetitions, median
 * kept), BENCH_KEEP=1 (keep the work directory), BENCH_SKIP_OTHERS=1 (skip puppet/cf-agent),
 * BENCH_NODE_FLAGS="--max-semi-space-size=1" (flags for the engine processes only), BENCH_REPARSE=1
 * (parse the catalog again for every run instead of keeping it, as the agent did before),
 * BENCH_GAP_MS=0 (an idle pause before each warm no-op run, as between an agent's polls).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Catalog } from '../../schemas/index.js';
import { benchFileContent, benchLayout, benchTemplateOutput, type BenchLayout } from '../helpers/bench-agent-repository.js';
import { floorAsync as floorAsyncOf, floorSync as floorSyncOf, median } from '../helpers/bench-floor.js';
import { cfAgentPeer, puppetPeer, type Peer } from '../helpers/bench-peers.js';

type Layout = BenchLayout;
const layout = benchLayout;
const fileContent = benchFileContent;
const templateOutput = benchTemplateOutput;
const PAD = 'x'.repeat(1000);

/** Writes manifest.yaml, files/ and templates/ for the layout; returns the manifest path. */
function writeManifest(dir: string, l: Layout): string {
  mkdirSync(join(dir, 'files/data'), { recursive: true });
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'templates/item.j2'), `templated {{ n }}\n${PAD}\n`);
  const out: string[] = ['resources:'];
  for (const d of l.dirs) out.push(`  - type: directory\n    path: ${d}\n    mode: "0755"`);
  l.files.forEach((f, i) => {
    if (f.template) out.push(`  - type: file\n    path: ${f.path}\n    template: item.j2\n    vars: { n: ${i} }\n    mode: "0644"`);
    else {
      writeFileSync(join(dir, `files/data/${i}.txt`), fileContent(i));
      out.push(`  - type: file\n    path: ${f.path}\n    source: data/${i}.txt\n    mode: "0644"`);
    }
  });
  for (const k of l.links) out.push(`  - type: link\n    path: ${k.path}\n    target: ${k.target}`);
  const p = join(dir, 'manifest.yaml');
  writeFileSync(p, `${out.join('\n')}\n`);
  return p;
}


// ---------------------------------------------------------------- child: compile
async function childCompile(manifest: string, out: string): Promise<void> {
  const { loadApplyInput } = await import('../../compiler/catalog/apply-input.js');
  const t0 = performance.now();
  const input = await loadApplyInput(manifest, { host: 'bench' });
  if (!input.catalog) throw new Error(`compile failed: ${JSON.stringify(input.problems.slice(0, 3))}`);
  const ms = performance.now() - t0;
  mkdirSync(join(out, 'blobs'), { recursive: true });
  for (const [ref, data] of input.blobs) writeFileSync(join(out, 'blobs', ref.slice(7)), data);
  writeFileSync(join(out, 'catalog.json'), JSON.stringify(input.catalog));
  process.stdout.write(`${JSON.stringify({ compileMs: ms })}\n`);
}

// ---------------------------------------------------------------- child: engine
/**
 * One phase of the engine in its own process (so the first apply's blob reads do not count
 * against the no-op's memory): "first" (the first apply), "noop" (one cold no-op run, as in a
 * freshly started agent, then `repeat` warm ones, as every later poll of the running agent,
 * then the floor) or "drift" (1 % of the files overwritten, then one run).
 */
async function childRun(phase: string, work: string, n: number, repeat: number): Promise<void> {
  const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
  const peakMb = () => process.resourceUsage().maxRSS / 1024;
  // As `stead agent` does at start (cli/main.ts): this process models the agent; STEAD_V8_HEAP=default turns it off.
  const { useFrugalHeap } = await import('../../agent/daemon/heap-tuning.js');
  const heapFlags = useFrugalHeap();
  const { reconcile } = await import('../../agent/engine/reconcile.js');
  const { createNodeHost } = await import('../../agent/host/node-host.js');
  const { createDirectoryBlobSource } = await import('../../agent/blobs/directory-blob-source.js');
  const loadedRssMb = rssMb();
  const root = join(work, 'root');
  const host = createNodeHost({ root });
  const blobs = createDirectoryBlobSource(join(work, 'compiled/blobs'));
  const stateDir = join(work, 'state');
  const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
  // The catalog is parsed once per process and the same object is reconciled on every run, as the
  // agent daemon does: it keeps the validated catalog in memory while its id is unchanged
  // (agent/daemon/catalog-cache.ts); BENCH_REPARSE=1 parses it again for every run (the old agent).
  const reparse = process.env['BENCH_REPARSE'] === '1';
  const readCatalog = () => JSON.parse(readFileSync(join(work, 'compiled/catalog.json'), 'utf8')) as Catalog;
  let kept: Catalog | undefined;
  const run = async () => {
    const catalog = reparse || kept === undefined ? (kept = readCatalog()) : kept;
    const t0 = performance.now();
    const r = await reconcile(catalog, { host, blobs, stateDir, hostName: 'bench', noop: false, signal: new AbortController().signal, concurrency });
    return { ms: performance.now() - t0, outcome: r.outcome, counts: r.counts };
  };
  const out: Record<string, unknown> = { phase, n, concurrency, loadedRssMb, heapFlags };
  if (phase === 'first') {
    const first = await run();
    Object.assign(out, { firstMs: first.ms, firstOutcome: first.outcome, peakRssMb: peakMb() });
  } else if (phase === 'noop') {
    const cold = await run();
    const noops: number[] = [];
    let noopOutcome = cold.outcome;
    // BENCH_GAP_MS: an idle pause before each warm run (not timed), as between an agent's polls.
    const gapMs = Number(process.env['BENCH_GAP_MS'] ?? 0);
    for (let i = 0; i < repeat; i++) {
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      const r = await run();
      noops.push(r.ms);
      if (r.outcome !== 'in-sync') noopOutcome = r.outcome;
    }
    // the peak before the floor loop runs: what the no-op runs alone cost
    Object.assign(out, { coldNoopMs: cold.ms, noopMs: median(noops), noopAllMs: noops, noopOutcome, peakRssMb: peakMb() });
    const real = layout(n).files.map((f) => join(root, f.path));
    const floorSync = () => floorSyncOf(real);
    const floorAsync = () => floorAsyncOf(real);
    const floors: number[] = [];
    for (let i = 0; i < repeat; i++) floors.push(Math.min(floorSync(), await floorAsync()));
    out['floorMs'] = median(floors);
    if (gapMs > 0) {
      // The floor under the same conditions as the warm runs: after the same idle pause (caches
      // and CPU cooled alike), one pass each.
      const after: number[] = [];
      for (let i = 0; i < repeat; i++) {
        await new Promise((resolve) => setTimeout(resolve, gapMs));
        after.push(floorSync());
      }
      out['floorAfterGapMs'] = median(after);
    }
  } else {
    const real = layout(n).files.map((f) => join(root, f.path));
    for (const p of real.filter((_, i) => i % 100 === 0)) writeFileSync(p, 'drifted\n');
    const drift = await run();
    Object.assign(out, { driftMs: drift.ms, driftChanged: drift.counts.changed, driftCorrective: drift.counts.corrective, peakRssMb: peakMb() });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// ---------------------------------------------------------------- parent
function runChild(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // BENCH_NODE_FLAGS: V8/Node flags for the engine processes (not the compile), e.g. "--max-semi-space-size=1"
    const flags = args[0] === '--run' ? (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '') : [];
    const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench child ${args[0]} exited ${code}`));
      const last = out.trim().split('\n').pop() ?? '{}';
      resolve(JSON.parse(last) as Record<string, unknown>);
    });
  });
}

function which(cmd: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function timed(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; ok: boolean; tail: string } {
  const t0 = performance.now();
  const r = spawnSync(file, args, { encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - t0;
  return { ms, ok: r.status === 0 || r.status === 2, tail: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ') };
}

/** Expected content of every file, written to expected/ (for puppet's file() and cf-agent's copy_from). */
function writeExpected(dir: string, l: Layout): void {
  l.files.forEach((f, i) => {
    const p = join(dir, 'expected', f.path);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, f.template ? templateOutput(i) : fileContent(i));
  });
}

/** Runs a peer twice (first apply, then no-op); its times, or why it failed. */
function peerBench(peer: Peer): { first: number; noop: number } | string {
  const args = [...peer.args];
  const first = timed(peer.cmd, args);
  if (!first.ok) return `${peer.name} failed: ${first.tail}`;
  const noop = timed(peer.cmd, args);
  if (!noop.ok) return `${peer.name} (second run) failed: ${noop.tail}`;
  return { first: first.ms, noop: noop.ms };
}

async function main(): Promise<void> {
  const [mode, a1, a2, a3, a4] = process.argv.slice(2);
  if (mode === '--compile') return childCompile(a1!, a2!);
  if (mode === '--run') return childRun(a1!, a2!, Number(a3), Number(a4));

  const sizes = (process.env['BENCH_N'] ?? '1000,10000').split(',').map(Number);
  const repeat = Number(process.env['BENCH_REPEAT'] ?? 3);
  const skipOthers = process.env['BENCH_SKIP_OTHERS'] === '1';
  const base = mkdtempSync(join(tmpdir(), 'stead-bench-'));
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(`stead bench:apply — node ${process.version}, work dir ${base}${process.env['BENCH_NODE_FLAGS'] ? `, engine flags ${process.env['BENCH_NODE_FLAGS']}` : ''}`);
  try {
    for (const n of sizes) {
      const work = join(base, `n${n}`);
      mkdirSync(join(work, 'root'), { recursive: true });
      const l = layout(n);
      const manifest = writeManifest(join(work, 'manifest'), l);
      const compiled = await runChild(['--compile', manifest, join(work, 'compiled')]);
      const f = await runChild(['--run', 'first', work, String(n), String(repeat)]);
      const o = await runChild(['--run', 'noop', work, String(n), String(repeat)]);
      const d = await runChild(['--run', 'drift', work, String(n), String(repeat)]);
      const r = { firstMs: f['firstMs'] as number, noopMs: o['noopMs'] as number, driftMs: d['driftMs'] as number };
      const floor = o['floorMs'] as number;
      const mb = (x: unknown) => `${(x as number).toFixed(0)} MB`;
      console.log(`\nN = ${n} files (+ ${l.dirs.length} directories, ${l.links.length} links); compile ${fmt(compiled['compileMs'] as number)}; engine concurrency ${String(o['concurrency'])}; each phase in its own process`);
      console.log(`  floor (lstat + read + sha256 loop)  ${fmt(floor)}   (${((floor * 1000) / n).toFixed(1)} µs/file)`);
      console.log(`  first apply                         ${fmt(r.firstMs)}   ${ratio(r.firstMs, floor)} floor   (${String(f['firstOutcome'])}; peak RSS ${mb(f['peakRssMb'])})`);
      console.log(`  no-op, first run of a process       ${fmt(o['coldNoopMs'] as number)}   ${ratio(o['coldNoopMs'] as number, floor)} floor   (validates the catalog; cold JIT)`);
      const gapFloor = o['floorAfterGapMs'] as number | undefined;
      const pause = gapFloor !== undefined ? `, each after ${String(Number(process.env['BENCH_GAP_MS']) / 1000)} s idle` : '';
      console.log(`  no-op re-run (median of ${repeat}${pause})  ${fmt(r.noopMs)}   ${ratio(r.noopMs, floor)} floor   (${String(o['noopOutcome'])}; ${((r.noopMs * 1000) / n).toFixed(1)} µs/file; all: ${(o['noopAllMs'] as number[]).map((x) => x.toFixed(0)).join(', ')} ms)`);
      if (gapFloor !== undefined) console.log(`  floor after the same idle pause     ${fmt(gapFloor)}   no-op re-run ${ratio(r.noopMs, gapFloor)} of it`);
      console.log(`  peak RSS of the no-op process       ${mb(o['peakRssMb'])}   (target 100 MB; ${mb(o['loadedRssMb'])} after loading the engine; V8 heap ${(o['heapFlags'] as string[]).length > 0 ? `${(o['heapFlags'] as string[]).join(' ')}, as the agent sets it` : 'V8 defaults'})`);
      console.log(`  re-run after 1 % drift              ${fmt(r.driftMs)}   ${ratio(r.driftMs, floor)} floor   (${String(d['driftChanged'])} changed, ${String(d['driftCorrective'])} corrective; peak RSS ${mb(d['peakRssMb'])})`);
      if (skipOthers) {
        console.log('  puppet, cf-agent: skipped (BENCH_SKIP_OTHERS=1)');
        continue;
      }
      const havePuppet = which('puppet');
      const haveCf = which('cf-agent');
      if (havePuppet || haveCf) writeExpected(work, l);
      if (!havePuppet) console.log('  puppet apply: skipped (puppet is not installed)');
      else {
        const p = peerBench(puppetPeer(work, l));
        if (typeof p === 'string') console.log(`  puppet apply: skipped (${p})`);
        else console.log(`  puppet apply: first ${fmt(p.first)}, no-op ${fmt(p.noop)}; stead/puppet: first ${ratio(r['firstMs'] as number, p.first)}, no-op ${ratio(r['noopMs'] as number, p.noop)}`);
      }
      if (!haveCf) console.log('  cf-agent: skipped (cfengine3 is not installed)');
      else {
        const c = peerBench(cfAgentPeer(work, l));
        if (typeof c === 'string') console.log(`  cf-agent: skipped (${c})`);
        else console.log(`  cf-agent: first ${fmt(c.first)}, no-op ${fmt(c.noop)}; stead/cf-agent: first ${ratio(r['firstMs'] as number, c.first)}, no-op ${ratio(r['noopMs'] as number, c.noop)}`);
      }
    }
  } finally {
    if (process.env['BENCH_KEEP'] === '1') console.log(`\nkept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
