/**
 * The store's inventory reaches every consumer of the live revision (ADR 0018 §1–2): catalogs
 * recompile when the inventory changes (and only then), a store-only host gets a catalog,
 * selectors read the merged record, and jobs leave out hosts that are not online unless the
 * launch includes inactive hosts. The real compile workers, store and HTTP API; the inventory
 * is handed to RevisionService through its overlay-source seam (InventoryService implements it).
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import type { InventoryRecord } from '../../../schemas/api/inventory.js';
import { jobRepo, startJobServer } from '../../helpers/job-fixture.js';
import type { TestAgent } from '../../helpers/server-fixture.js';

function repo(): Record<string, string> {
  return {
    ...jobRepo(),
    'groups/web.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: [app]\n',
    'roles/app/role.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    template: app.conf.j2\n    mode: "0644"\n',
    'templates/app.conf.j2': 'idc={{ inventory.idc | default("-") }} business={{ inventory.business | default("-") }} lifecycle={{ inventory.lifecycle }}\n',
  };
}

/** A mutable inventory: each set() is a new generation. */
function inventory() {
  let state = { generation: 0, records: new Map<string, InventoryRecord>(), digest: 'empty' };
  return {
    overlay: async () => state,
    set(records: InventoryRecord[]) {
      const digest = createHash('sha256').update(JSON.stringify(records)).digest('hex');
      state = { generation: state.generation + 1, records: new Map(records.map((r) => [r.hostname, r] as const)), digest };
    },
  };
}

async function appConf(a: TestAgent): Promise<{ etag: string; text: string }> {
  const r = await a.request('GET', `/api/v1/hosts/${a.host}/catalog`);
  if (r.status !== 200) throw new Error(`catalog of ${a.host}: ${r.status} ${r.body.toString()}`);
  const cat = r.json();
  const file = cat.resources.find((x: { path?: string }) => x.path === '/etc/app.conf');
  const blob = await a.request('GET', `/api/v1/blobs/${String(file.source).replace(/^sha256:/, '')}`);
  return { etag: cat.id, text: blob.body.toString() };
}

/** Polls until the catalog of `a` says `want` (the live pointer is re-read every couple of seconds). */
async function until(a: TestAgent, want: string): Promise<{ etag: string; text: string }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const got = await appConf(a);
    if (got.text === want || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('an inventory change recompiles catalogs; store-only hosts, selectors and lifecycle follow it', async (t) => {
  const fx = await startJobServer(t, {}, { worker: true, publish: false });
  const pub = await fx.publish(repo());
  t.equal(pub.status, 201, pub.body.toString().slice(0, 300));
  const inv = inventory();
  fx.server.services.revisions.setInventory(inv);
  const web1 = fx.agents['web-1']!;
  const before = await appConf(web1);
  t.equal(before.text, 'idc=sz business=- lifecycle=online\n', 'no store record yet: the files\' record');
  t.equal((await appConf(web1)).etag, before.etag, 'unchanged inventory: the same catalog');

  inv.set([
    { hostname: 'web-1', idc: 'gz', business: 'pay/gateway' },
    { hostname: 'web-2', lifecycle: 'maintenance' },
    { hostname: 'new-1', tags: ['web'], idc: 'sz', business: 'pay/api' },
  ]);
  const after = await until(web1, 'idc=gz business=pay/gateway lifecycle=online\n');
  t.equal(after.text, 'idc=gz business=pay/gateway lifecycle=online\n', 'the store record wins over the files');
  t.not(after.etag, before.etag, 'a new catalog id: the agent will fetch it');

  const new1 = await fx.approvedAgent('new-1');
  t.equal((await appConf(new1)).text, 'idc=sz business=pay/api lifecycle=online\n', 'a host only the store knows gets its catalog; its tags put it in the web group');

  const pay = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'business:pay/*', script: { lang: 'shell', source: 'true\n' } });
  t.equal(pay.status, 200, pay.body.toString());
  t.same(pay.json().targets[0].hosts.sort(), ['new-1', 'web-1'], 'business:pay/* reads the store\'s business lines');

  const web = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'group:web', script: { lang: 'shell', source: 'true\n' } });
  t.same(web.json().targets[0].hosts.sort(), ['new-1', 'web-1'], 'web-2 (maintenance) is left out');
  t.match(web.json().unavailable, [{ host: 'web-2', reason: /lifecycle maintenance/ }]);
  const all = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'group:web', includeInactive: true, script: { lang: 'shell', source: 'true\n' } });
  t.same(all.json().targets[0].hosts.sort(), ['new-1', 'web-1', 'web-2'], 'includeInactive brings it back');
  const launched = await fx.launch({ targets: 'group:web', script: { lang: 'shell', source: 'true\n' } });
  t.equal(launched.status, 201, launched.body.toString());
  t.notOk(launched.json().hosts.some((h: { host: string }) => h.host === 'web-2'), 'the job does not run on web-2');
  const mnt = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'lifecycle:maintenance', includeInactive: true, script: { lang: 'shell', source: 'true\n' } });
  t.same(mnt.json().targets[0].hosts, ['web-2'], 'lifecycle: selects by state');

  inv.set([]);
  t.equal((await until(web1, 'idc=sz business=- lifecycle=online\n')).text, 'idc=sz business=- lifecycle=online\n', 'removing the record restores the files\' values');
  const gone = await new1.request('GET', '/api/v1/hosts/new-1/catalog');
  t.equal(gone.status, 404, 'a host the store no longer knows has no catalog');
});
