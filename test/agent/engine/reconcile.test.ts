import t, { type Test } from 'tap';
import { existsSync, readFileSync, writeFileSync, chmodSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource, ResourceStatus, RunReport } from '../../../schemas/index.js';
import { reconcile, type EngineLogEntry, type ReconcileOptions } from '../../../agent/engine/reconcile.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { fsRegistry, isRunReport, makeCatalog, snapshot } from '../../helpers/engine-fixtures.js';

const blobs = createMemoryBlobSource();
const A = blobs.put('version A\n');
const B = blobs.put('version B\n');

const bases = new WeakMap<Test, { dir: string; n: number }>();
function setup(t: Test, tree: Record<string, string> = {}) {
  let base = bases.get(t);
  if (!base) {
    base = { dir: t.testdir(), n: 0 };
    bases.set(t, base);
  }
  const d = join(base.dir, String(base.n++));
  const root = join(d, 'root');
  const stateDir = join(d, 'state');
  mkdirSync(root, { recursive: true });
  mkdirSync(stateDir);
  for (const [name, content] of Object.entries(tree)) writeFileSync(join(root, name), content);
  const host = createNodeHost({ root });
  const run = async (resources: Resource[], o: Partial<ReconcileOptions> = {}): Promise<RunReport> => {
    const report = await reconcile(makeCatalog(resources), { host, blobs, stateDir, hostName: 'h1', noop: false, signal: AbortSignal.timeout(120_000), registry: fsRegistry, ...o });
    t.same(isRunReport.check(report), [], 'the report validates against runReportSchema');
    return report;
  };
  return { root, stateDir, host, run };
}

const byId = (r: RunReport, id: string): ResourceStatus | undefined => r.resources.find((s) => s.id === id);
const append = (file: string, word: string): Resource => ({ type: 'exec', name: word, command: `echo ${word} >> "$STEAD_ROOT${file}"` });

t.test('dependency order: require, before, notify, subscribe and the parent directory', async (t) => {
  const { root, run } = setup(t);
  const r = await run([
    { ...append('/log', 'third'), require: ['exec:second'] },
    { ...append('/log', 'first'), before: ['exec:second'] },
    append('/log', 'second'),
    { ...append('/log', 'fourth'), subscribe: ['exec:third'] },
    { type: 'file', path: '/d/sub/f', source: A },
    { type: 'directory', path: '/d/sub' },
    { type: 'directory', path: '/d' },
  ]);
  t.equal(r.outcome, 'changed');
  t.equal(readFileSync(join(root, 'log'), 'utf8'), 'first\nsecond\nthird\nfourth\n');
  t.equal(readFileSync(join(root, 'd/sub/f'), 'utf8'), 'version A\n', 'directories were made before the file inside them');
  const ids = r.resources.map((s) => s.id);
  t.ok(ids.indexOf('directory:/d') < ids.indexOf('directory:/d/sub') && ids.indexOf('directory:/d/sub') < ids.indexOf('file:/d/sub/f'), 'the report lists resources in the order they ran');
});

t.test('a cycle or an invalid resource fails the run before any change', async (t) => {
  const { root, stateDir, run } = setup(t);
  const before = snapshot(root);
  const cyc = await run([
    { type: 'file', path: '/would-be-written', source: A },
    { ...append('/log', 'a'), require: ['exec:b'] },
    { ...append('/log', 'b'), require: ['exec:a'] },
  ]);
  t.equal(cyc.outcome, 'failed');
  t.match(cyc.error, /cycle/i);
  t.same(cyc.resources, []);
  const bad = await run([
    { type: 'file', path: '/would-be-written', source: A },
    { type: 'file', path: 'relative/path', source: A } as Resource,
    { type: 'link', path: '/l' } as Resource,
    { type: 'file', path: '/x', require: ['file:/nope'] },
    { type: 'nosuch', path: '/y' } as unknown as Resource,
  ]);
  t.equal(bad.outcome, 'failed');
  t.match(bad.error, /resource #2 \(file\): \/path/);
  t.match(bad.error, /link:\/l: \/target/);
  t.match(bad.error, /unknown resource type "nosuch"/);
  const unknownRef = await run([{ type: 'file', path: '/x', require: ['file:/nope'] }]);
  t.match(unknownRef.error, /no resource file:\/nope/);
  t.same(snapshot(root), before, 'nothing was written');
  t.notOk(existsSync(join(stateDir, 'applied.json')), 'no state was recorded');
  const junk = await reconcile(null as never, { host: createNodeHost({ root }), blobs, stateDir, hostName: 'h', noop: false, signal: AbortSignal.timeout(5000), registry: fsRegistry });
  t.equal(junk.outcome, 'failed', 'a junk catalog is a failed report, not an exception');
  t.same(isRunReport.check(junk), []);
});

t.test('a failure is isolated; dependents are skipped naming the failed dependency', async (t) => {
  const { root, run } = setup(t);
  const r = await run([
    { type: 'exec', name: 'broken', command: 'echo doing; echo oops >&2; exit 3' },
    { type: 'file', path: '/after-broken', source: A, require: ['exec:broken'] },
    { type: 'file', path: '/after-after', source: A, require: ['file:/after-broken'] },
    { type: 'file', path: '/independent', source: A },
  ]);
  t.equal(r.outcome, 'failed');
  const broken = byId(r, 'exec:broken')!;
  t.equal(broken.state, 'failed');
  t.equal(broken.error?.code, 'EXEC_FAILED');
  t.match(broken.error?.message, /exited 3/);
  t.match(broken.output, /doing\n.*oops/s);
  t.same(byId(r, 'file:/after-broken')?.error, { code: 'DEPENDENCY_FAILED', message: 'dependency exec:broken failed' });
  t.same(byId(r, 'file:/after-after')?.error, { code: 'DEPENDENCY_FAILED', message: 'dependency file:/after-broken was skipped' });
  t.equal(byId(r, 'file:/independent')?.state, 'changed');
  t.ok(existsSync(join(root, 'independent')));
  t.notOk(existsSync(join(root, 'after-broken')));
  t.same(r.counts, { total: 4, inSync: 0, changed: 1, wouldChange: 0, failed: 1, skipped: 2, corrective: 0 });
});

t.test('a resource timeout fails that resource and kills its process group', async (t) => {
  const { root, run } = setup(t);
  const r = await run([
    { type: 'exec', name: 'slow', command: 'sleep 60 & echo $! > "$STEAD_ROOT/bg.pid"; wait', timeout: 0.5 },
    { type: 'file', path: '/after-slow', source: A, require: ['exec:slow'] },
    { type: 'file', path: '/other', source: A },
  ]);
  const slow = byId(r, 'exec:slow')!;
  t.equal(slow.error?.code, 'TIMEOUT');
  t.match(slow.error?.message, /0\.5 s/);
  t.equal(byId(r, 'file:/after-slow')?.state, 'skipped');
  t.equal(byId(r, 'file:/other')?.state, 'changed');
  const pid = Number(readFileSync(join(root, 'bg.pid'), 'utf8'));
  t.ok(pid > 0);
  // the background sleep was in the killed group: it is gone or a zombie waiting for init
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && alive(); i++) await new Promise((res) => setTimeout(res, 100));
  t.notOk(alive(), 'no orphan of the timed-out command survives');
});

t.test('notify refreshes only when the source changed; noop marks refreshed without running', async (t) => {
  const { root, run } = setup(t);
  const catalog = (src: string): Resource[] => [
    { type: 'file', path: '/app.conf', source: src, notify: ['exec:reload'] },
    { type: 'exec', name: 'reload', command: 'echo reloaded >> "$STEAD_ROOT/reloads"', refreshonly: true },
  ];
  const r1 = await run(catalog(A));
  t.equal(byId(r1, 'exec:reload')?.refreshed, true);
  t.equal(byId(r1, 'exec:reload')?.state, 'changed');
  t.match(byId(r1, 'exec:reload')?.output, /^$|reloaded/);
  t.equal(readFileSync(join(root, 'reloads'), 'utf8'), 'reloaded\n');
  const r2 = await run(catalog(A));
  t.equal(r2.outcome, 'in-sync', 'nothing changed: no refresh');
  t.equal(byId(r2, 'exec:reload')?.refreshed, undefined);
  t.equal(readFileSync(join(root, 'reloads'), 'utf8'), 'reloaded\n');
  const r3 = await run(catalog(B), { noop: true });
  t.equal(byId(r3, 'file:/app.conf')?.state, 'would-change');
  t.equal(byId(r3, 'exec:reload')?.state, 'would-change');
  t.equal(byId(r3, 'exec:reload')?.refreshed, true);
  t.equal(readFileSync(join(root, 'reloads'), 'utf8'), 'reloaded\n', 'noop never runs refresh');
  t.equal(readFileSync(join(root, 'app.conf'), 'utf8'), 'version A\n');
  // a refresh of a failed source does not happen; subscribe works like notify
  const r4 = await run([
    { type: 'file', path: '/app.conf', source: B },
    { type: 'exec', name: 'reload', command: 'echo again >> "$STEAD_ROOT/reloads"', refreshonly: true, subscribe: ['file:/app.conf'] },
  ]);
  t.equal(byId(r4, 'exec:reload')?.refreshed, true);
  t.equal(readFileSync(join(root, 'reloads'), 'utf8'), 'reloaded\nagain\n');
});

t.test('corrective (drift) versus intentional changes', async (t) => {
  const { root, run } = setup(t, { pre: 'version A\n' });
  const r1 = await run([{ type: 'file', path: '/f', source: A, mode: '0644' }, { type: 'file', path: '/pre', source: A, mode: '0644' }]);
  t.equal(r1.outcome, 'changed');
  t.notOk(byId(r1, 'file:/f')?.changes.some((c) => c.corrective), 'a first apply is intentional');
  writeFileSync(join(root, 'f'), 'edited by hand\n');
  chmodSync(join(root, 'pre'), 0o600);
  const r2 = await run([{ type: 'file', path: '/f', source: A, mode: '0644' }, { type: 'file', path: '/pre', source: A, mode: '0644' }]);
  t.same(byId(r2, 'file:/f')?.changes.map((c) => [c.property, c.corrective]), [['content', true]], 'a hand edit is drift');
  t.same(byId(r2, 'file:/pre')?.changes.map((c) => [c.property, c.corrective]), [['mode', true]], 'drift on a resource that was in sync at first contact');
  t.equal(r2.counts.corrective, 2);
  const r3 = await run([{ type: 'file', path: '/f', source: B, mode: '0644' }, { type: 'file', path: '/pre', source: A, mode: '0644' }]);
  t.same(byId(r3, 'file:/f')?.changes.map((c) => [c.property, c.corrective]), [['content', false]], 'a new desired state is intentional');
  t.equal(r3.counts.corrective, 0);
  unlinkSync(join(root, 'f'));
  const r4 = await run([{ type: 'file', path: '/f', source: B, mode: '0644' }], { noop: true });
  t.same(byId(r4, 'file:/f')?.changes.map((c) => [c.property, c.corrective]), [['ensure', true]], 'a deleted file is drift (noop too)');
});

t.test('secrets are redacted from the report, progress and logs', async (t) => {
  const { root, run } = setup(t, { 'secret.conf': 'password=old-canary-0000\n' });
  const canary = 'CANARY-7f3a9c1e-secret';
  const secretBlob = blobs.put(`password=${canary}\n`);
  const seen: ResourceStatus[] = [];
  const logs: EngineLogEntry[] = [];
  const resources: Resource[] = [
    { type: 'file', path: '/secret.conf', source: secretBlob, sensitive: true },
    { type: 'exec', name: 'leaky', command: `echo ${canary}; echo ${canary} >&2; exit 1`, sensitive: ['command'] },
    { type: 'exec', name: 'env', command: 'echo "$TOKEN"', environment: { TOKEN: canary }, sensitive: ['environment'] },
  ];
  const noop = await run(resources, { noop: true, onResource: (s) => seen.push(s), log: (e) => logs.push(e) });
  const applied = await run(resources, { onResource: (s) => seen.push(s), log: (e) => logs.push(e) });
  t.equal(readFileSync(join(root, 'secret.conf'), 'utf8'), `password=${canary}\n`, 'the secret reaches the host');
  const everything = JSON.stringify({ noop, applied, seen, logs });
  t.notOk(everything.includes(canary), 'the canary appears nowhere');
  t.notOk(everything.includes('old-canary-0000'), 'the replaced secret content appears nowhere');
  const file = byId(applied, 'file:/secret.conf')!;
  t.equal(file.diff, undefined, 'no content diff for a sensitive file');
  t.match(file.changes[0], { property: 'content', before: /^\[redacted sha256:[0-9a-f]{12}\]$/, after: /^\[redacted sha256:[0-9a-f]{12}\]$/ });
  t.equal(byId(applied, 'exec:leaky')?.state, 'failed');
  t.equal(byId(applied, 'exec:leaky')?.output, '[redacted]', 'a sensitive command hides its output');
  t.match(byId(applied, 'exec:env')?.output, /^\[redacted sha256:[0-9a-f]{12}\]\n?$/, 'other output keeps its shape with the secret replaced');
  t.equal(byId(applied, 'exec:env')?.state, 'changed');
});

t.test('concurrency gives the same result as a serial run', async (t) => {
  const files: Resource[] = [{ type: 'directory', path: '/many' }];
  for (let i = 0; i < 60; i++) files.push({ type: 'file', path: `/many/f${i}`, source: i % 2 ? A : B, mode: '0640' });
  const serial = setup(t);
  const parallel = setup(t);
  const a = await serial.run(files, { concurrency: 1 });
  const b = await parallel.run(files, { concurrency: 16 });
  t.same(a.counts, b.counts);
  t.same(a.resources.map((s) => [s.id, s.state]), b.resources.map((s) => [s.id, s.state]));
  const strip = (s: ReturnType<typeof snapshot>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, { ...v, mtimeMs: 0 }]));
  t.same(strip(snapshot(join(serial.root, 'many'))), strip(snapshot(join(parallel.root, 'many'))));
});

t.test('an aborted run stops: the running resource fails, the rest are skipped', async (t) => {
  const { root, run: run2 } = setup(t);
  const poll = setInterval(() => { if (existsSync(join(root, 'started'))) ac2.abort(); }, 20);
  const ac2 = new AbortController();
  const r2 = await run2(
    [
      { type: 'exec', name: 'long', command: 'touch "$STEAD_ROOT/started"; sleep 60' },
      { type: 'exec', name: 'next', command: 'true' },
    ],
    { signal: ac2.signal },
  );
  clearInterval(poll);
  t.equal(byId(r2, 'exec:long')?.error?.code, 'ABORTED');
  t.equal(byId(r2, 'exec:next')?.error?.code, 'ABORTED');
  t.equal(byId(r2, 'exec:next')?.state, 'skipped');
  t.equal(r2.outcome, 'failed');
});

t.test('a noop run creates nothing, not even the state directory', async (t) => {
  const { root, host } = setup(t);
  const stateDir = join(root, '..', 'never-created');
  const before = snapshot(root);
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/f', source: A }, { type: 'directory', path: '/d' }]), { host, blobs, stateDir, hostName: 'h', noop: true, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.outcome, 'would-change');
  t.equal(r.mode, 'noop');
  t.same(isRunReport.check(r), []);
  t.same(snapshot(root), before);
  t.notOk(existsSync(stateDir));
});
