/**
 * The manifest editor's pages over HTTP, as a browser without scripts uses them: save posts the
 * form and the server checks on save (problems listed with their line), the key table's forms,
 * the draft page's commit and publish forms; the JSON check endpoint of editor.js; the guards
 * (no session, another origin, a viewer); hostile file text inert in the page.
 */
import t from 'tap';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}
const page = async (fx: ServerFixture, cookie: string, path: string): Promise<{ status: number; body: string }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString('utf8') };
};
const post = async (fx: ServerFixture, cookie: string | undefined, path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: fx.base }): Promise<{ status: number; body: string; location: string | undefined }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: r.status, body: r.body.toString('utf8'), location: r.headers.location };
};

t.test('the editor without scripts', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const cookie = await login(fx);

  const list = await page(fx, cookie, '/manifests');
  t.equal(list.status, 200);
  t.match(list.body, /data-path="groups\/web.yaml"/);
  t.match(list.body, /Start a draft/);

  const edit = await page(fx, cookie, '/manifests/edit?path=groups/web.yaml');
  t.match(edit.body, /<script src="\/assets\/editor.js" defer><\/script>/);
  t.match(edit.body, /<pre class="gutter" id="gutter" aria-hidden="true">1\n2\n/);
  t.match(edit.body, /No problems found\./);

  // Save a broken file: it is kept in a new draft and the check on save lists the problem at its line.
  const saved = await post(fx, cookie, '/manifests/save', { path: 'groups/web.yaml', content: 'kind: custom\r\npriority: high\r\nroles: [app]\r\n' });
  t.equal(saved.status, 303);
  const draft = /draft=(d-[0-9a-z]+)/.exec(saved.location ?? '')?.[1];
  t.ok(draft, String(saved.location));
  const after = await page(fx, cookie, saved.location!);
  t.match(after.body, /Saved to the draft, with the problems below/);
  t.match(after.body, /<a href="#content" data-line="2" data-column="1">line 2, column 1<\/a>/);
  t.match(after.body, /priority: high/, 'CRLF from the form is stored as LF');

  // The key table's forms.
  const set = await post(fx, cookie, '/manifests/vars', { path: 'vars/global.yaml', draft: draft!, key: 'app.port', value: '8100', op: 'set' });
  t.equal(set.status, 303);
  const vars = await page(fx, cookie, set.location!);
  t.match(vars.body, /data-key="app.port"/);
  t.match(vars.body, /value="8100"/);
  const badKey = await post(fx, cookie, '/manifests/vars', { path: 'vars/global.yaml', draft: draft!, key: 'a..b', value: '1', op: 'set' });
  t.equal(badKey.status, 400);
  t.match(badKey.body, /not a variable key/);

  // The commit is refused while the draft does not compile; the page says why.
  const refused = await post(fx, cookie, `/manifests/drafts/${draft}/commit`, { message: 'try', publish: 'none' });
  t.equal(refused.status, 422);
  t.match(refused.body, /groups\/web.yaml:2/);
  // Fix it, commit, publish at once.
  t.equal((await post(fx, cookie, '/manifests/revert', { path: 'groups/web.yaml', draft: draft! })).status, 303);
  const committed = await post(fx, cookie, `/manifests/drafts/${draft}/commit`, { message: 'global port', publish: 'none' });
  t.equal(committed.status, 303, committed.body.slice(0, 500));
  t.match((await page(fx, cookie, committed.location!)).body, /id="publish-form"/);
  const noBatches = await post(fx, cookie, `/manifests/drafts/${draft}/publish`, { mode: 'batches', batches: '' });
  t.equal(noBatches.status, 400);
  const published = await post(fx, cookie, `/manifests/drafts/${draft}/publish`, { mode: 'now' });
  t.equal(published.status, 303);
  t.match((await page(fx, cookie, published.location!)).body, /Published: it is live on every host\./);
  const live = (await fx.json('GET', '/api/v1/manifests/file?path=vars/global.yaml')).json();
  t.match(live.content, /port: 8100/);

  // editor.js's JSON check: the session cookie, same origin only.
  const check = await rawRequest(fx.base, { method: 'POST', path: '/manifests/check', headers: { cookie, origin: fx.base, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'templates/app.conf.j2', content: '{% for %}\n' }) });
  t.equal(check.status, 200);
  t.equal(check.json().problems[0].line, 1);
  const cross = await rawRequest(fx.base, { method: 'POST', path: '/manifests/check', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{}' });
  t.equal(cross.status, 403);
  t.equal((await post(fx, undefined, '/manifests/save', { path: 'a.yaml', content: 'x' })).status, 401);
  t.equal((await post(fx, cookie, '/manifests/save', { path: 'a.yaml', content: 'x' }, { origin: 'https://evil.example' })).status, 403);

  // A viewer reads but cannot save; hostile text stays inert.
  const viewer = await login(fx, await fx.token('readonly', 'viewer-1'));
  t.equal((await post(fx, viewer, '/manifests/save', { path: 'vars/global.yaml', content: 'a: 1\n' })).status, 403);
  const vEdit = await page(fx, viewer, '/manifests/edit?path=vars/global.yaml');
  t.match(vEdit.body, /textarea[^>]* readonly/);
  t.notMatch(vEdit.body, /Save to draft/);
  const hostile = await post(fx, cookie, '/manifests/save', { path: 'templates/x.j2', content: '</textarea><script>alert(1)</script>{{ 7*7 }}\n' });
  t.equal(hostile.status, 303);
  const shown = await page(fx, cookie, hostile.location!);
  t.notMatch(shown.body, /<script>alert/);
  t.match(shown.body, /&lt;\/textarea&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});
