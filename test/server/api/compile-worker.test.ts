/**
 * Compiles run in a worker thread: a runaway template at publish is stopped at its deadline
 * (422, live revision unchanged) while the server keeps answering; the worker restarts and
 * later compiles work.
 */
import t from 'tap';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('a runaway template does not stall the server', async (t) => {
  // Generous deadlines: the good publish and the fresh worker's compile must finish within them
  // on a loaded CI machine (20 s was not enough at a load average of 20); the runaway below
  // takes minutes on any machine, so it still meets the deadline.
  const fx = await startServer(t, { validateTimeoutMs: 60_000, compileTimeoutMs: 60_000 });
  const good = await fx.publish(smallRepo());
  t.equal(good.status, 201, good.body.toString().slice(0, 300));
  // Each render stays under the Jinja layer's own budgets (loop iterations, range size), but
  // 1,500 of them (1.5e9 iterations) take many minutes: only the worker's deadline stops it.
  const slowRole = ['resources:', ...Array.from({ length: 1500 }, (_, i) => `  - type: file\n    path: /srv/app/slow-${i}\n    template: slow.j2\n    vars: { n: ${i} }`)].join('\n') + '\n';
  const runaway = { ...smallRepo(), 'roles/app/role.yaml': slowRole, 'templates/slow.j2': '{% for i in range(999) %}{% for j in range(999) %}{% endfor %}{% endfor %}{{ n }}\n' };
  let settled = false;
  const pending = fx.publish(runaway).finally(() => (settled = true));
  // While the worker grinds, health checks and catalog polls are answered promptly.
  const a = await fx.approvedAgent('db-1');
  for (let i = 0; i < 5; i++) {
    t.equal((await rawRequest(fx.base, { method: 'GET', path: '/healthz' })).status, 200);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.notOk(settled, 'five health checks were answered while the compile was still running');
  const r = await pending;
  t.equal(r.status, 422, r.body.toString().slice(0, 300));
  t.equal(r.json().error.code, 'COMPILE_FAILED');
  t.match(r.json().error.message, /longer than 60 s/);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, good.json().id, 'live revision unchanged');
  const cat = await a.request('GET', '/api/v1/hosts/db-1/catalog');
  t.equal(cat.status, 200, 'a fresh worker compiles again');
});
