/**
 * GET /api/v1/audit/events on a real server over loopback: changes made through the API are
 * listed newest first with actor, action, target and address; the filters, the cursor, the
 * schema of the answer, bad filters (400), a viewer may read; and the housekeeping deletes
 * events past the retention (manual clock).
 */
import t from 'tap';
import { auditEventListSchema } from '../../../schemas/api/audit-events.js';
import { compileGuard } from '../../../schemas/validate.js';
import { Housekeeping } from '../../../server/scheduler/housekeeping.js';
import { createLogger } from '../../../server/log.js';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const listGuard = compileGuard(auditEventListSchema);
const DAY = 86_400_000;

t.test('search the audit log over the API', async (t) => {
  const fx = await startServer(t);
  const viewer = await fx.token('readonly', 'viewer');
  fx.clock.advance(60_000);
  t.equal((await fx.publish(smallRepo())).status, 201);
  fx.clock.advance(60_000);
  t.equal((await fx.json('POST', '/api/v1/accounts', { name: 'deploy', user: 'deploy' })).status, 201);
  fx.clock.advance(60_000);
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'hello', lang: 'shell', source: 'echo hello\n' })).status, 201);
  fx.clock.advance(60_000);
  t.equal((await fx.json('DELETE', '/api/v1/accounts/deploy')).status, 204);

  const all = await fx.json('GET', '/api/v1/audit/events', undefined, viewer);
  t.equal(all.status, 200, 'a viewer reads the audit log');
  t.same(listGuard.check(all.json()), [], 'the answer matches its schema');
  const events = all.json().events as { action: string; actor: string; address?: string; target: string; at: string; before?: unknown; after?: unknown }[];
  t.same(events.slice(0, 4).map((e) => e.action), ['account.delete', 'script.create', 'account.create', 'revision.publish'], 'newest first');
  const publish = events.find((e) => e.action === 'revision.publish')!;
  t.equal(publish.actor, 'admin');
  t.match(publish.address, /127\.0\.0\.1/);
  t.match(publish.after, { live: String, revision: String }, 'publishing records the live revision after');
  t.match(publish.before, { live: null }, 'and before');
  t.same(events.find((e) => e.action === 'account.delete')!.before, { user: 'deploy' });

  const q = async (query: string) => {
    const r = await fx.json('GET', `/api/v1/audit/events?${query}`);
    t.equal(r.status, 200, `${query}: ${r.body.toString().slice(0, 200)}`);
    return r.json() as { events: { action: string; target: string }[]; next?: string };
  };
  t.same((await q('action=account.')).events.map((e) => e.action), ['account.delete', 'account.create'], 'action prefix');
  t.same((await q('action=account.create')).events.map((e) => e.target), ['account:deploy'], 'exact action');
  t.same((await q('target=script:hello')).events.map((e) => e.action), ['script.create']);
  t.same((await q('target=account:*')).events.length, 2, 'target prefix');
  t.same((await q('actor=nobody')).events, []);
  t.same((await q('q=HELLO')).events.map((e) => e.action), ['script.create'], 'free text');
  t.same((await q('since=90s')).events.map((e) => e.action), ['account.delete', 'script.create'], 'since an age');
  t.same((await q(`until=${encodeURIComponent(new Date(fx.clock.now() - 60_000).toISOString())}&action=account.`)).events.map((e) => e.action), ['account.create'], 'until an ISO time');
  const p1 = await q('limit=2');
  t.equal(p1.events.length, 2);
  t.ok(p1.next, 'a cursor to the next page');
  const p2 = await q(`limit=2&cursor=${encodeURIComponent(p1.next!)}`);
  t.same(p2.events.map((e) => e.action), ['account.create', 'revision.publish'], 'the next page goes on where the first ended');

  for (const bad of ['since=yesterday', 'limit=0', 'limit=501', 'cursor=xyz', `q=${'x'.repeat(201)}`, 'actor=a&actor=b']) {
    const r = await fx.json('GET', `/api/v1/audit/events?${bad}`);
    t.equal(r.status, 400, `${bad.slice(0, 40)} → 400`);
    t.equal(r.json().error.code, 'BAD_REQUEST');
  }
  t.equal((await fx.json('GET', '/api/v1/audit/events', undefined, null)).status, 401, 'operators only');
});

t.test('housekeeping deletes audit events past the retention', async (t) => {
  const fx = await startServer(t);
  const log = fx.server.services.auditLog;
  await log.record({ actor: 'alice', action: 'x.old', target: 't:1' });
  fx.clock.advance(10 * DAY);
  await log.record({ actor: 'alice', action: 'x.new', target: 't:2' });
  fx.clock.advance(5 * DAY);
  const hk = new Housekeeping(fx.server.services, createLogger({ write: () => undefined }), { auditRetentionMs: 12 * DAY });
  t.equal(hk.auditRetentionMs, 12 * DAY);
  const r = await hk.tick();
  t.equal(r.auditDeleted, 1, 'the 15-day-old event goes, the 5-day-old one stays');
  t.same((await log.search({ action: 'x.' })).events.map((e) => e.action), ['x.new']);
  t.equal((await hk.tick()).auditDeleted, 0, 'idempotent');
  t.equal(new Housekeeping(fx.server.services, createLogger({ write: () => undefined })).auditRetentionMs, 400 * DAY, 'default 400 days');
});
