/**
 * Issue 8 item 10: no error an operator or agent can see names the server's absolute data
 * directory. Every error answer passes through the error middleware, which replaces the
 * data directory (as configured and as resolved) with "<data-dir>"; the catalog preview's
 * problems, returned in a 200, are treated the same way. The checks provoke real failures that
 * touch files under the data directory (revision checkouts) and scan every answer.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('error answers and preview problems never carry the data directory', async (t) => {
  const fx = await startServer(t);
  const dataDir = fx.server.adminToken.path.replace(/\/admin-token$/, '');
  const real = await fsp.realpath(dataDir);
  const leaks = (text: string): boolean => text.includes(dataDir) || text.includes(real);

  const answers: string[] = [];
  const bad = await fx.publish(smallRepo({ templateError: true }));
  t.equal(bad.status, 422);
  answers.push(bad.body.toString());
  // Files a revision names that it does not hold: an include, an import, a file source, a template.
  const missing = { ...smallRepo(), 'templates/app.conf.j2': '{% include "nope.j2" %}{% import "gone.j2" as g %}\n', 'files/robots.txt': undefined } as Record<string, string | undefined>;
  delete missing['files/robots.txt'];
  const bad2 = await fx.publish(missing as Record<string, string>);
  t.equal(bad2.status, 422);
  answers.push(bad2.body.toString());
  t.equal((await fx.publish(smallRepo())).status, 201);
  // Break the live revision's checkout on disk: compiles then fail reading files under the data dir.
  const revisions = join(dataDir, 'revisions');
  for (const id of await fsp.readdir(revisions)) await fsp.rm(join(revisions, id), { recursive: true, force: true }).catch(() => undefined);
  await fsp.writeFile(revisions + '-blocker', 'x');
  const a = await fx.approvedAgent('web-1');
  for (const r of [await fx.json('GET', '/api/v1/hosts/web-1/preview'), await a.request('GET', '/api/v1/hosts/web-1/catalog'), await fx.json('GET', '/api/v1/hosts/web-1/variables'), await fx.json('GET', '/api/v1/revisions/live')]) {
    answers.push(`${r.status} ${r.body.toString()}`);
  }
  t.comment(answers.map((x) => x.slice(0, 160)).join('\n'));
  for (const text of answers) t.notOk(leaks(text), `no data-dir path in: ${text.slice(0, 200)}`);
});
