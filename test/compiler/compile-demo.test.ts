/** The demo repository in manifests/demo: valid, every host compiles, demo-1 is sandbox-safe. */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compileHost } from '../../compiler/compile.js';
import { loadRepository } from '../../compiler/repo/load-repository.js';
import { formatRepoProblem } from '../../compiler/repo/repo-problem.js';
import { validateRepository } from '../../compiler/repo/validate-repository.js';
import { readKeyFile } from '../../compiler/vars/secret-box.js';
import { resourceId } from '../../schemas/index.js';
import { repoRoot, runStead } from '../helpers/cli.js';

const demoDir = join(repoRoot, 'manifests', 'demo');
const keyFile = join(repoRoot, 'manifests', 'demo-secret.key');

t.test('the demo repository validates with its key and every host compiles', async (t) => {
  const repo = await loadRepository(demoDir, { secretKey: await readKeyFile(keyFile) });
  t.same(repo.problems.map(formatRepoProblem), []);
  const v = validateRepository(repo);
  t.ok(v.ok, v.problems.map(formatRepoProblem).join('\n'));
  t.same(v.problems, []);
  t.ok(v.hosts.length >= 5);
  for (const h of v.hosts) t.ok(h.catalogId, `${h.host} compiled`);
  t.same([...repo.roles.keys()].sort(), ['base', 'cache', 'database', 'shop', 'web']);
  const kinds = new Set([...repo.groups.values()].map((g) => g.def.kind));
  t.same([...kinds].sort(), ['custom', 'idc', 'set']);
});

t.test('demo-1 uses only resource types that work in a sandboxed --root', async (t) => {
  const repo = await loadRepository(demoDir);
  const r = compileHost(repo, 'demo-1');
  t.same(r.problems, [], 'demo-1 needs no secret key');
  const types = new Set(r.catalog!.resources.map((x) => x.type));
  for (const ty of types) t.ok(['file', 'directory', 'link', 'exec'].includes(ty), `${ty} allowed`);
  t.ok(r.catalog!.resources.map(resourceId).includes('file:/srv/shop/etc/app.ini'));
  const ini = r.catalog!.resources.find((x) => x.type === 'file' && x.path === '/srv/shop/etc/app.ini');
  const text = ini?.type === 'file' && ini.source ? r.blobs.get(ini.source)?.toString() : undefined;
  t.match(text, /^port = 18000$/m, 'set layer');
  t.match(text, /^log_level = debug$/m, 'host layer');
  t.match(text, /^version = 2026\.11\.1$/m, 'role parameter default');
});

t.test('the database secret: redacted without the key, in the file with it, marked sensitive', async (t) => {
  const noKey = await loadRepository(demoDir);
  const v = validateRepository(noKey);
  t.notOk(v.ok);
  t.same([...new Set(v.problems.map((p) => p.code))], ['SECRET_KEY_MISSING']);
  t.same(v.hosts.filter((h) => !h.catalogId).map((h) => h.host), ['db-1', 'db-2']);
  const repo = await loadRepository(demoDir, { secretKey: await readKeyFile(keyFile) });
  const r = compileHost(repo, 'db-1');
  const rc = r.catalog!.resources.find((x) => x.type === 'file' && x.path === '/root/.mongorc-admin');
  t.equal((rc as { sensitive?: unknown }).sensitive, true);
  t.equal(r.catalog!.resources.filter((x) => (x as { sensitive?: unknown }).sensitive === true).length, 1, 'only the file that uses it');
});

t.test('stead apply manifests/demo --host demo-1 converges in a sandboxed --root, then is in sync', async (t) => {
  const root = t.testdir();
  const first = await runStead(['apply', demoDir, '--host', 'demo-1', '--root', root, '--json']);
  t.equal(first.code, 0, first.stderr);
  const r1 = JSON.parse(first.stdout) as { outcome: string; counts: { failed: number } };
  t.equal(r1.outcome, 'changed');
  t.equal(r1.counts.failed, 0);
  t.match(readFileSync(join(root, 'srv/shop/etc/app.ini'), 'utf8'), /^port = 18000$/m);
  t.equal(readlinkSync(join(root, 'srv/shop/current')), '/srv/shop/releases/2026.11.1');
  const second = await runStead(['apply', demoDir, '--host', 'demo-1', '--root', root, '--json']);
  t.equal((JSON.parse(second.stdout) as { outcome: string }).outcome, 'in-sync');
});
