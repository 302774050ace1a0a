/**
 * The built `stead server` (a snapshot of dist/, as shipped) finds its base scripts beside the
 * compiled service, seeds them at first start, and keeps the same versions across a restart.
 */
import { join } from 'node:path';
import t from 'tap';
import { buildOnce, freePort, ServerProcess } from '../../helpers/e2e-fleet.js';

await buildOnce();

t.test('a real server process seeds the base scripts once', async (t) => {
  const dir = t.testdir();
  const first = new ServerProcess(join(dir, 'data'), await freePort());
  await first.start(t);
  const list = await first.api('GET', '/api/v1/scripts?kind=base');
  t.equal(list.status, 200);
  const scripts = (list.body as { scripts: { id: string; latest: number }[] }).scripts;
  t.same(scripts.map((s) => s.id), ['disk-usage', 'log-cleanup', 'server-init'], 'seeded from dist/');
  t.notMatch(first.stdout.join('\n') + first.stderr.join('\n'), /base scripts could not be seeded/);
  t.equal(await first.stop(), 0);

  const second = new ServerProcess(join(dir, 'data'), await freePort());
  await second.start(t);
  const again = (await second.api('GET', '/api/v1/scripts?kind=base')).body as { scripts: { id: string; latest: number }[] };
  t.same(again.scripts.map((s) => [s.id, s.latest]), scripts.map((s) => [s.id, s.latest]), 'a restart adds no version');
  const source = (await second.api('GET', '/api/v1/scripts/log-cleanup')).body as { source: string };
  t.match(source.source, /\$\{DIR:\?/, 'the shipped source');
  t.equal(await second.stop(), 0);
});
