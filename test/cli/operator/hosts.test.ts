/**
 * `stead hosts` as a real process against a real server on loopback (ADR 0018): import with a
 * refusal naming the line, dry run and apply; list with a filter and --json over several pages;
 * show; set fields, tags, attributes and the lifecycle (an event with who and why).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runStead, type SteadResult } from '../../helpers/cli.js';
import { startJobServer } from '../../helpers/job-fixture.js';

t.test('stead hosts import, list, show, set', async (t) => {
  const fx = await startJobServer(t, {}, { enroll: false });
  const dir = t.testdir({});
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${fx.adminToken}\n`);
  chmodSync(tokenFile, 0o600);
  const env = { STEAD_SERVER: fx.base, STEAD_TOKEN_FILE: tokenFile, STEAD_TOKEN: '' };
  const stead = (args: string[]): Promise<SteadResult> => runStead(args, { cwd: dir, env, timeoutMs: 120_000 });

  const rows = Array.from({ length: 1500 }, (_, i) => `n-${String(i).padStart(4, '0')},10.1.${i >> 8}.${i & 255},${i % 2 ? 'sz' : 'gz'},,pay/api,,canary;x,team${i % 3}`);
  writeFileSync(join(dir, 'bad.csv'), `hostname,ip,idc,kind,business,lifecycle,tags,owner\n${rows.slice(0, 10).join('\n')}\nn-x,10.0.0.1,sz,toaster,pay/api,,,\n`);
  const bad = await stead(['hosts', 'import', 'bad.csv']);
  t.equal(bad.code, 1, bad.stderr);
  t.match(bad.stdout, /line 12, column kind \(n-x\)/, 'the refusal names the line');
  t.match(bad.stderr, /nothing was imported/);

  writeFileSync(join(dir, 'hosts.csv'), `hostname,ip,idc,kind,business,lifecycle,tags,owner\n${rows.join('\n')}\n`);
  const dry = await stead(['hosts', 'import', join(dir, 'hosts.csv'), '--dry-run']);
  t.equal(dry.code, 0, 'FILE may be any path, here an absolute one');
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /would import: 1500 added, 0 changed, 0 removed/);
  const applied = await stead(['hosts', 'import', 'hosts.csv', '--format', 'csv']);
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, /imported: 1500 added/);

  const list = await stead(['hosts', 'list', '--filter', 'idc=sz and attr.owner=team1', '--json']);
  t.equal(list.code, 0, list.stderr);
  const hosts = JSON.parse(list.stdout).hosts as { hostname: string; idc: string }[];
  t.equal(hosts.length, 250, 'every matching host (odd i with i % 3 == 1)');
  t.ok(hosts.every((h) => h.idc === 'sz'));
  const all = JSON.parse((await stead(['hosts', 'list', '--json'])).stdout).hosts as unknown[];
  t.equal(all.length, 1500 + 4, 'all pages are followed (1,000 a page), repository hosts included');
  const human = await stead(['hosts', 'list', '--filter', 'hostname=n-000*']);
  t.match(human.stdout, /^HOST\s+LIFECYCLE/);
  t.match(human.stdout, /10 host\(s\)/);
  const badFilter = await stead(['hosts', 'list', '--filter', 'idc=sz and']);
  t.equal(badFilter.code, 2);
  t.match(badFilter.stderr, /column 11/);

  const set = await stead(['hosts', 'set', 'n-0001', 'lifecycle=maintenance', 'reason=disk swap', 'rack=r9', 'ip=10.9.9.9,10.9.9.10', 'tag+=blue', 'tag-=x', 'attr.owner=', 'attr.slot=7']);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /lifecycle online -> maintenance/);
  const show = await stead(['hosts', 'show', 'n-0001', '--json']);
  const d = JSON.parse(show.stdout);
  t.match(d.effective, { lifecycle: 'maintenance', rack: 'r9', ips: ['10.9.9.9', '10.9.9.10'], tags: ['canary', 'blue'], attributes: { slot: '7' } });
  t.notOk('owner' in d.effective.attributes, 'attr.owner= removed it');
  t.match(d.lifecycleHistory[0], { from: 'online', to: 'maintenance', by: 'admin', reason: 'disk swap' });
  const text = await stead(['hosts', 'show', 'n-0001']);
  t.match(text.stdout, /lifecycle\s+maintenance/);
  t.match(text.stdout, /online -> maintenance by admin: disk swap/);
  t.equal((await stead(['hosts', 'set', 'n-0001', 'colour=red'])).code, 64, 'an unknown key is a usage error');
  const invalid = await stead(['hosts', 'set', 'n-0001', 'lifecycle=sleeping']);
  t.equal(invalid.code, 2, 'the server refuses an invalid state');
  t.equal((await stead(['hosts', 'show', 'nope-1'])).code, 2);
});
