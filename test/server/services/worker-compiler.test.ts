/**
 * The compile worker pool (server/services/worker-compiler.ts) with the real worker thread: one
 * host's costly or runaway compile never costs another host its catalog. A host whose facts
 * make a template's regex work blow up (catastrophic under a backtracking engine: the old single
 * worker hung until its deadline and then failed every queued compile too) fails alone with a
 * clear error while an innocent host compiled at the same time gets its catalog; a compile that
 * overruns its deadline is killed, its worker replaced, and the compiles queued behind it run
 * on their own deadlines.
 */
import { getEventListeners } from 'node:events';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WorkerCompiler } from '../../../server/services/worker-compiler.js';
import { writeRepo } from '../../helpers/compiler-repo-fixture.js';

// The workers run the compiled code (a worker thread loading TypeScript sources through the
// test loader takes far longer than the compile itself on a busy machine).
const realWorker = new URL('../../../dist/server/services/compile-worker.js', import.meta.url);
const hangingWorker = new URL('../../../dist/test/helpers/hanging-compile-worker.js', import.meta.url);
const slowStartWorker = new URL('../../../dist/test/helpers/slow-start-compile-worker.js', import.meta.url);
const skip = existsSync(realWorker) && existsSync(hangingWorker) && existsSync(slowStartWorker) ? false : `compiled workers missing under dist/: run npm run build first`;

function repoFiles(): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: pool-test\n',
    'inventory/hosts.yaml': 'hosts:\n  bad-1: { tags: [app] }\n  good-1: { tags: [app] }\n  good-2: { tags: [app] }\n  hang-1: { tags: [app] }\n',
    'groups/app.yaml': 'kind: custom\nmatch:\n  - tags: app\nroles: [app]\n',
    'roles/app/role.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    template: app.conf.j2\n    mode: "0644"\n',
    // A fact checked in a loop: cheap for a short fact, 2^n for a backtracking engine on "aaa…!".
    'templates/app.conf.j2': 'host={{ inventory_hostname }}\n{% for i in range(100) %}{% if facts.label is match("^(\\\\w+\\\\s?)*$") %}.{% endif %}{% endfor %}\n',
  };
}

const evilFacts = { label: 'a'.repeat(60_000) + '!' };
const fineFacts = { label: 'web' };

t.test('a host whose facts trigger a pathological pattern fails alone; an innocent host compiled at once gets its catalog', { skip }, async (t) => {
  const dir = writeRepo(t.testdir(), repoFiles());
  // Deadlines far beyond what either compile needs: the outcome, not the speed, is asserted.
  const wc = new WorkerCompiler({ compileTimeoutMs: 120_000, validateTimeoutMs: 120_000, workerUrl: realWorker });
  t.teardown(() => wc.close());
  const rev = await wc.load(dir, 'r1');
  const never = new AbortController().signal;
  const [bad, good] = await Promise.allSettled([rev.compile('bad-1', evilFacts, never), rev.compile('good-1', fineFacts, never)]);
  t.equal(good.status, 'fulfilled');
  if (good.status === 'fulfilled') {
    t.ok(good.value.catalog, JSON.stringify(good.value.problems));
    t.equal(good.value.catalog?.resources.length, 1);
  }
  t.equal(bad.status, 'fulfilled', 'the costly compile ends with a compile result, not a stopped worker');
  if (bad.status === 'fulfilled') {
    t.equal(bad.value.catalog, undefined);
    t.match(bad.value.problems, [{ code: 'TEMPLATE_ERROR', file: 'templates/app.conf.j2', line: 2, message: /regular expression work limit reached/ }]);
  }
  const again = await rev.compile('good-2', fineFacts, never);
  t.ok(again.catalog, 'the pool keeps compiling');
});

t.test("a new worker's start-up does not count against the first call's deadline", { skip }, async (t) => {
  const dir = writeRepo(t.testdir(), repoFiles());
  const go = join(tmpdir(), `stead-slow-start-${process.pid}.go`);
  rmSync(go, { force: true });
  t.teardown(() => rmSync(go, { force: true }));
  const wc = new WorkerCompiler({ workers: 1, compileTimeoutMs: 1000, validateTimeoutMs: 120_000, workerUrl: slowStartWorker });
  t.teardown(() => wc.close());
  let settled = false;
  const check = wc.check(dir, 'r1', new AbortController().signal, undefined, []).finally(() => {
    settled = true;
  });
  check.catch(() => undefined);
  // Counted from the spawn, the 1 s deadline would have failed the call by now (timers fire in
  // order on this thread whatever the load); the worker has not even loaded the compiler yet.
  await sleep(2500);
  t.equal(settled, false, 'the call is still waiting for its worker, not failed after 1 s');
  writeFileSync(go, '');
  // Once loaded, the call runs on its own 1 s deadline: either outcome is the pool working.
  await check.then(
    () => t.pass('answered once the worker loaded'),
    (err: { message?: string }) => t.match(err.message, /took longer than 1 s/),
  );
});

t.test('a compile that overruns its deadline is killed alone; compiles queued behind it run on their own deadlines', { skip }, async (t) => {
  const dir = writeRepo(t.testdir(), repoFiles());
  const workerUrl = hangingWorker;
  // One worker, so the innocent compile is queued behind the runaway one; 15 s: the runaway
  // never ends, and the innocent compile (milliseconds) has 15 s of its own once it starts.
  const wc = new WorkerCompiler({ workers: 1, compileTimeoutMs: 15_000, validateTimeoutMs: 120_000, workerUrl });
  t.teardown(() => wc.close());
  const rev = await wc.load(dir, 'r1');
  const never = new AbortController().signal;
  const hang = rev.compile('hang-1', fineFacts, never);
  const queued = rev.compile('good-1', fineFacts, never);
  const gaveUp = new AbortController();
  const abandoned = rev.compile('good-2', fineFacts, gaveUp.signal);
  gaveUp.abort(new Error('client went away'));
  await t.rejects(abandoned, { message: 'client went away' }, 'a caller that gives up while queued leaves the queue');
  await t.rejects(hang, { code: 'COMPILE_FAILED', message: /^compiling hang-1 took longer than 15 s and was stopped/ });
  const r = await queued;
  t.ok(r.catalog, 'the compile queued behind the runaway one gets its catalog from a fresh worker');
  t.equal(wc.workerCount, 1);
});

t.test('with two workers a runaway compile holds one while the other compiles', { skip }, async (t) => {
  const dir = writeRepo(t.testdir(), repoFiles());
  const workerUrl = hangingWorker;
  const wc = new WorkerCompiler({ workers: 2, compileTimeoutMs: 120_000, validateTimeoutMs: 120_000, workerUrl, idleMs: 600_000 });
  t.teardown(() => wc.close());
  const rev = await wc.load(dir, 'r1');
  const never = new AbortController().signal;
  let hangSettled = false;
  const hang = rev.compile('hang-1', fineFacts, never).then(
    () => (hangSettled = true),
    () => (hangSettled = true),
  );
  const goods = await Promise.all(['good-1', 'good-2', 'bad-1'].map((h) => rev.compile(h, fineFacts, never)));
  t.same(goods.map((g) => g.catalog !== undefined), [true, true, true], 'three compiles done while the runaway one still runs');
  t.notOk(hangSettled, 'the runaway compile is still running (its deadline is 120 s)');
  t.equal(wc.workerCount, 2);
  await wc.close();
  await hang;
  t.ok(hangSettled, 'closing the compiler ends it');
});

t.test('the inventory overlay crosses to each worker once: a worker that lacks it asks, and the call is resent with it (ADR 0018)', { skip }, async (t) => {
  const dir = writeRepo(t.testdir(), {
    'stead.yaml': 'stead: 1\nname: overlay-pool\n',
    'inventory/hosts.yaml': 'hosts:\n  a-1: { idc: gz, tags: [app] }\n',
    'groups/app.yaml': 'kind: custom\nmatch:\n  - tags: app\nroles: [app]\n',
    'roles/app/role.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    template: app.conf.j2\n    mode: "0644"\n',
    'templates/app.conf.j2': 'idc={{ inventory.idc | default("-") }} business={{ inventory.business | default("-") }}\n',
  });
  const wc = new WorkerCompiler({ compileTimeoutMs: 120_000, validateTimeoutMs: 120_000, workerUrl: realWorker, workers: 2 });
  t.teardown(() => wc.close());
  const overlay = { digest: 'g1', records: new Map([['a-1', { hostname: 'a-1', idc: 'sz', business: 'pay/gw' }], ['b-1', { hostname: 'b-1', tags: ['app'] }]]) };
  const rev = await wc.load(dir, 'r1', undefined, overlay);
  t.same(rev.hosts.map((h) => [h.name, h.source, h.idc]), [['a-1', 'both', 'sz'], ['b-1', 'store', undefined]], 'merged and store-only hosts, with where they come from');
  t.equal(rev.hosts[0]!.repositoryRecord?.idc, 'gz', 'the files\' record rides along');
  const never = new AbortController().signal;
  // Two compiles at once: the first goes to the warm worker, the second starts a new one that has never seen the overlay.
  const [a, b] = await Promise.all([rev.compile('a-1', {}, never), rev.compile('b-1', {}, never)]);
  t.equal(wc.workerCount, 2, 'a second worker served the second compile');
  const text = (r: typeof a) => [...r.blobs.values()].map((x) => x.toString()).join('');
  t.equal(text(a), 'idc=sz business=pay/gw\n');
  t.ok(b.catalog, JSON.stringify(b.problems));
  t.equal(text(b), 'idc=- business=-\n', 'the store-only host compiles on the new worker');
  const plain = await wc.load(dir, 'r1');
  t.equal(text(await plain.compile('a-1', {}, never)), 'idc=gz business=-\n', 'the same revision without the overlay is another load');
});

t.test('a compile leaves no listener on its signal once it settled: one signal may serve many compiles', { skip }, async (t) => {
  const dir = writeRepo(t.testdir(), repoFiles());
  const wc = new WorkerCompiler({ compileTimeoutMs: 120_000, validateTimeoutMs: 120_000, workerUrl: realWorker });
  t.teardown(() => wc.close());
  const rev = await wc.load(dir, 'r1');
  const shared = new AbortController().signal;
  const pending = ['good-1', 'good-2', 'good-1'].map((h) => rev.compile(h, fineFacts, shared));
  t.equal(getEventListeners(shared, 'abort').length, 3, 'each queued or running compile listens');
  for (const r of await Promise.all(pending)) t.ok(r.catalog);
  t.equal(getEventListeners(shared, 'abort').length, 0, 'none is left behind');
});
