/**
 * `stead audit` as a built process against a real server on loopback: the human table (newest
 * first, with actor and address), the filters, --json, paging beyond one server page, and
 * usage errors. Build first (npm run build).
 */
import t from 'tap';
import { runStead } from '../../helpers/cli.js';
import { startServer } from '../../helpers/server-fixture.js';

t.test('stead audit', async (t) => {
  const fx = await startServer(t);
  const env = { STEAD_SERVER: fx.base, STEAD_TOKEN: fx.adminToken, STEAD_TOKEN_FILE: '' };
  const stead = (...args: string[]) => runStead(args, { env });
  t.equal((await fx.json('POST', '/api/v1/accounts', { name: 'deploy', user: 'deploy' })).status, 201);
  fx.clock.advance(1000);
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'hello', lang: 'shell', source: 'echo hello\n' })).status, 201);

  const table = await stead('audit');
  t.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.match(lines[0], /^TIME\s+ACTOR\s+ACTION\s+TARGET\s+ADDRESS$/);
  t.match(lines[1], /^2026-11-26T10:00:01\.000Z\s+admin\s+script\.create\s+script:hello\s+(::ffff:)?127\.0\.0\.1$/);
  t.match(lines[2], /^2026-11-26T10:00:00\.000Z\s+admin\s+account\.create\s+account:deploy\s+/);

  const filtered = await stead('audit', '--action', 'account.', '--actor', 'admin', '--since', '24h');
  t.equal(filtered.code, 0, filtered.stderr);
  t.equal(filtered.stdout.trim().split('\n').length, 2, 'header and one event');
  const json = await stead('audit', '--target', 'script:hello', '--json');
  t.equal(json.code, 0);
  const out = JSON.parse(json.stdout);
  t.same(out.events.map((e: { action: string }) => e.action), ['script.create']);
  t.match(out.events[0].after, { name: 'hello', lang: 'shell' });
  const none = await stead('audit', '--actor', 'nobody');
  t.equal(none.stdout.trim(), 'No audit events.');

  // More events than one server page: the command follows the cursor.
  for (let i = 0; i < 520; i++) await fx.server.services.auditLog.record({ actor: 'bulk', action: 'test.bulk', target: `t:${i}` });
  const many = await stead('audit', '--actor', 'bulk', '--limit', '510', '--json');
  t.equal(many.code, 0, many.stderr);
  const m = JSON.parse(many.stdout);
  t.equal(m.events.length, 510);
  t.equal(new Set(m.events.map((e: { target: string }) => e.target)).size, 510, 'no event twice across pages');
  t.ok(m.next, 'the cursor of the rest');
  const short = await stead('audit', '--actor', 'bulk', '--limit', '3');
  t.match(short.stderr, /more: older events exist/);

  const bad = await stead('audit', '--since', 'yesterday');
  t.equal(bad.code, 2, 'the server refuses a bad filter');
  t.match(bad.stderr, /since/);
  t.equal((await stead('audit', '--limit', '0')).code, 64);
  t.equal((await stead('audit', 'extra')).code, 64);
  const help = await stead('audit', '--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /--action ACTION/);
});
