/**
 * The console's script library and accounts pages over HTTP (forms post, render, refuse), and
 * in real headless Chromium at 390 px width: no page scrolls sideways, code scrolls in its box.
 */
import t from 'tap';
import { chromiumMissing, openBrowser } from '../../helpers/browser.js';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

const get = async (fx: ServerFixture, cookie: string, path: string): Promise<{ status: number; body: string; location?: string }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString(), ...(r.headers.location ? { location: r.headers.location } : {}) };
};

const post = async (fx: ServerFixture, cookie: string | undefined, path: string, form: [string, string][], headers: Record<string, string> = { origin: fx.base }): Promise<{ status: number; body: string; location?: string }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path, headers: { ...(cookie ? { cookie } : {}), 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  return { status: r.status, body: r.body.toString(), ...(r.headers.location ? { location: r.headers.location } : {}) };
};

const evil = '<script>alert(1)</script>{{ 7*7 }}';

t.test('script pages: list, search, editor, versions, diff, clone, delete', async (t) => {
  const fx = await startServer(t);
  const admin = await login(fx);
  const viewer = await login(fx, await fx.token('readonly', 'viewer'));

  for (const path of ['/scripts', '/scripts/new', '/scripts/log-cleanup', '/scripts/log-cleanup/diff', '/scripts/log-cleanup/edit', '/accounts']) t.equal((await rawRequest(fx.base, { method: 'GET', path })).headers.location, '/login', `${path} without a session: log in`);
  const list = await get(fx, viewer, '/scripts');
  t.equal(list.status, 200);
  t.match(list.body, /<a href="\/scripts" class="on">Scripts<\/a>/, 'nav link, current');
  t.match(list.body, /<a href="\/accounts">Accounts<\/a>/);
  t.match(list.body, /data-script="log-cleanup"/, 'base scripts listed');
  t.notMatch(list.body, /New script/, 'readonly: no editor link');
  t.match(list.body, /id="tag-filter"/);

  const editor = await get(fx, admin, '/scripts/new');
  t.equal(editor.status, 200);
  t.match(editor.body, /<textarea id="source" name="source"/);
  t.equal((await get(fx, viewer, '/scripts/new')).status, 403, 'readonly cannot open the editor');

  const form = (over: Record<string, string> = {}): [string, string][] => [
    ['name', over['name'] ?? 'Web Restart'],
    ['lang', over['lang'] ?? 'shell'],
    ['description', `restarts ${evil}`],
    ['tags', 'web, Ops'],
    ['pname', 'SERVICE'], ['prequired', 'yes'], ['pdefault', ''], ['pdescription', 'unit name'],
    ['pname', 'WAIT'], ['prequired', 'no'], ['pdefault', '5'], ['pdescription', ''],
    ['pname', ''], ['prequired', 'no'], ['pdefault', ''], ['pdescription', ''],
    ['source', over['source'] ?? 'systemctl restart "$SERVICE"\r\nsleep "$WAIT"\r\n'],
    ['message', 'first'],
  ];
  t.equal((await post(fx, viewer, '/scripts/new', form())).status, 403, 'readonly cannot create');
  t.equal((await post(fx, admin, '/scripts/new', form(), { origin: 'http://evil.example' })).status, 403, 'cross-origin refused');
  t.equal((await post(fx, undefined, '/scripts/new', form())).status, 401, 'no session');
  const created = await post(fx, admin, '/scripts/new', form());
  t.equal(created.status, 303, created.body);
  t.equal(created.location, '/scripts/web-restart?done=created');
  const stored = await fx.server.services.scripts.resolve('web-restart');
  t.equal(stored.source, 'systemctl restart "$SERVICE"\nsleep "$WAIT"\n', 'CRLF from the textarea stored as LF');
  t.same(stored.params, [{ name: 'SERVICE', description: 'unit name', required: true }, { name: 'WAIT', default: '5' }], 'parameter rows; the blank one dropped');

  const bad = await post(fx, admin, '/scripts/new', form({ name: 'web restart' }));
  t.equal(bad.status, 409, 'a taken id re-renders the editor');
  t.match(bad.body, /role="alert">a script with the id web-restart exists/);
  t.match(bad.body, /systemctl restart &quot;\$SERVICE&quot;/, 'the input is kept');
  t.equal((await post(fx, admin, '/scripts/new', form({ name: 'x', lang: 'ruby' }))).status, 400);
  t.equal((await post(fx, admin, '/scripts/new', form({ name: 'y', source: '' }))).status, 400, 'an empty source');

  const shown = await get(fx, viewer, '/scripts/web-restart?done=created');
  t.equal(shown.status, 200);
  t.match(shown.body, /Script created\./);
  t.match(shown.body, /<pre class="code" id="source">systemctl restart &quot;\$SERVICE&quot;/);
  t.match(shown.body, /restarts &lt;script&gt;alert\(1\)&lt;\/script&gt;\{\{ 7\*7 \}\}/, 'inert description');
  t.notMatch(shown.body, /\b49\b/);
  t.notMatch(shown.body, /clone-form/, 'readonly: no clone form');

  const edit = await get(fx, admin, '/scripts/web-restart/edit');
  t.match(edit.body, /Saving makes version 2/);
  t.match(edit.body, /value="SERVICE"/);
  const unchanged = await post(fx, admin, '/scripts/web-restart/edit', form());
  t.equal(unchanged.location, '/scripts/web-restart?done=unchanged', 'same source and params: no version');
  const saved = await post(fx, admin, '/scripts/web-restart/edit', form({ source: 'systemctl try-restart "$SERVICE"\n' }));
  t.equal(saved.location, '/scripts/web-restart?done=saved');
  t.match((await get(fx, admin, '/scripts/web-restart?done=saved')).body, /Version 2 saved\./);
  const tooBig = await post(fx, admin, '/scripts/web-restart/edit', form({ source: 'x'.repeat(1024 * 1024 + 1) }));
  t.equal(tooBig.status, 413, 'an over-large source re-renders the editor');
  t.match(tooBig.body, /the limit is 1048576/);
  t.equal((await get(fx, admin, '/scripts/log-cleanup/edit')).status, 403, 'base scripts have no editor');
  t.equal((await post(fx, admin, '/scripts/log-cleanup/edit', form())).status, 403);
  t.equal((await post(fx, admin, '/scripts/nope/edit', form())).status, 404);

  const v1 = await get(fx, viewer, '/scripts/web-restart?version=1');
  t.match(v1.body, /<tr data-shown><td class="num"><a href="\/scripts\/web-restart\?version=1">1<\/a>/);
  t.match(v1.body, /id="diff-form"/);
  const diff = await get(fx, viewer, '/scripts/web-restart/diff?from=1&to=2');
  t.equal(diff.status, 200);
  t.match(diff.body, /<span class="del">-systemctl restart &quot;\$SERVICE&quot;<\/span>/);
  t.match(diff.body, /<span class="add">\+systemctl try-restart &quot;\$SERVICE&quot;<\/span>/);
  t.match((await get(fx, viewer, '/scripts/web-restart/diff')).body, /version 1 → 2/, 'default: the latest against the one before');
  t.equal((await get(fx, viewer, '/scripts/web-restart/diff?from=1&to=9')).status, 404);
  t.equal((await get(fx, viewer, '/scripts/nope')).status, 404);
  t.equal((await get(fx, viewer, '/scripts/Bad_Id')).status, 400);

  const cloned = await post(fx, admin, '/scripts/log-cleanup/clone', [['name', 'My Cleanup'], ['version', '1']]);
  t.equal(cloned.location, '/scripts/my-cleanup?done=cloned');
  t.match((await get(fx, admin, '/scripts/my-cleanup')).body, /Cloned from<\/dt><dd><a href="\/scripts\/log-cleanup\?version=1">/);
  t.equal((await post(fx, admin, '/scripts/log-cleanup/clone', [['name', 'My Cleanup']])).status, 409);
  t.equal((await post(fx, viewer, '/scripts/log-cleanup/clone', [['name', 'z']])).status, 403);

  const search = await get(fx, viewer, '/scripts?q=cleanup&kind=user');
  t.match(search.body, /data-script="my-cleanup"/);
  t.notMatch(search.body, /data-script="log-cleanup"/, 'kind filter');
  t.match((await get(fx, viewer, '/scripts?tag=web')).body, /data-script="web-restart"/);
  t.match((await get(fx, viewer, '/scripts?q=zzz-nothing')).body, /No script matches\./);

  const badParam = await post(fx, admin, '/scripts/web-restart/edit', [...form().filter(([k]) => !k.startsWith('p')), ['pname', 'NO SPACES'], ['prequired', 'no'], ['pdefault', ''], ['pdescription', '']]);
  t.equal(badParam.status, 400, 'a bad parameter name re-renders the editor');
  t.match(badParam.body, /value="NO SPACES"/);
  t.match(badParam.body, /Saving makes version 3/);
  t.equal((await post(fx, admin, '/scripts/web-restart/edit', [...form().filter(([k]) => k !== 'message'), ['message', 'two\nlines'] as [string, string]])).status, 400, 'a one-line message');
  t.equal((await post(fx, admin, '/scripts/new', form({ name: 'bad\u0001name' }))).status, 400, 'control characters in a name');
  t.equal((await post(fx, admin, '/scripts/log-cleanup/clone', [['name', 'two\nlines']])).status, 400, 'clone name: one line');
  t.match((await get(fx, viewer, '/scripts/web-restart?version=abc')).body, /Version<\/dt><dd>2 of 2/, 'a malformed version shows the latest');
  t.match((await get(fx, viewer, '/scripts?kind=base&tag=logs')).body, /data-script="log-cleanup"/);
  t.notMatch((await get(fx, viewer, '/scripts/disk-usage')).body, /id="diff-form"/, 'one version: nothing to compare');

  for (let i = 0; i < 52; i++) await fx.server.services.scripts.create({ name: `bulk ${String(i).padStart(2, '0')}`, lang: 'shell', source: 'true' }, 'admin');
  const p1 = await get(fx, viewer, '/scripts?q=bulk');
  t.match(p1.body, /52 script\(s\) · page 1 of 2/);
  t.match(p1.body, /<a rel="next" href="\?q=bulk&amp;kind=&amp;tag=&amp;page=2">/);
  const p2 = await get(fx, viewer, '/scripts?q=bulk&page=2');
  t.match(p2.body, /data-script="bulk-51"/);
  t.match(p2.body, /rel="prev"/);
  t.notMatch(p2.body, /rel="next"/);

  t.equal((await post(fx, admin, '/scripts/log-cleanup/delete', [])).status, 403, 'base scripts stay');
  t.equal((await post(fx, viewer, '/scripts/my-cleanup/delete', [])).status, 403);
  const del = await post(fx, admin, '/scripts/my-cleanup/delete', []);
  t.equal(del.location, '/scripts?done=deleted');
  t.match((await get(fx, admin, '/scripts?done=deleted')).body, /Script deleted\./);
  t.equal((await get(fx, admin, '/scripts/my-cleanup')).status, 404);
});

t.test('accounts page: list, add, refuse, delete', async (t) => {
  const fx = await startServer(t);
  const admin = await login(fx);
  const viewer = await login(fx, await fx.token('readonly', 'viewer'));
  const page = await get(fx, viewer, '/accounts');
  t.match(page.body, /data-account="root"/);
  t.match(page.body, /built in/);
  t.notMatch(page.body, /account-form/, 'readonly: no form');
  t.equal((await post(fx, viewer, '/accounts', [['name', 'x'], ['user', 'x']])).status, 403);
  const added = await post(fx, admin, '/accounts', [['name', 'deploy'], ['user', 'deploy'], ['description', evil]]);
  t.equal(added.location, '/accounts?done=added');
  const after = await get(fx, admin, '/accounts?done=added');
  t.match(after.body, /Account added\./);
  t.match(after.body, /data-account="deploy"/);
  t.match(after.body, /&lt;script&gt;/);
  const bad = await post(fx, admin, '/accounts', [['name', 'bad name'], ['user', 'x']]);
  t.equal(bad.status, 400);
  t.match(bad.body, /value="bad name"/, 'the input is kept');
  t.equal((await post(fx, admin, '/accounts/root/delete', [])).status, 409, 'root stays');
  t.equal((await post(fx, admin, '/accounts/nobody/delete', [])).status, 404);
  t.equal((await post(fx, viewer, '/accounts/root/delete', [])).status, 403);
  t.equal((await post(fx, admin, '/accounts/deploy/delete', [])).location, '/accounts?done=deleted');
  t.equal(await fx.server.services.accounts.get('deploy'), null);
});

t.test('script pages fit a 390 px screen (real Chromium)', { skip: chromiumMissing }, async (t) => {
  const fx = await startServer(t);
  const long = `${'a_very_long_line_without_any_break_'.repeat(20)}\n`;
  await fx.server.services.scripts.create({ name: 'wide script', lang: 'shell', source: `echo start\n${long}`, description: 'd'.repeat(300), tags: ['wide', 'mobile'], params: [{ name: 'SOME_LONG_PARAMETER_NAME_FOR_WIDTH', default: 'x'.repeat(200), description: 'a long default' }] }, 'admin');
  await fx.server.services.scripts.addVersion('wide-script', { source: `echo start\n${long}${long}` }, 'admin');
  // The session cookie's expiry comes from the server's clock: make it the browser's now.
  fx.clock.set(Date.now());
  const { page, errors } = await openBrowser(t, { width: 390, height: 844 });
  await page.goto(`${fx.base}/login`);
  await page.fill('input[name=token]', fx.adminToken);
  await page.click('#token-login button[type=submit]');
  await page.waitForSelector('#compliance-chart');
  for (const path of ['/scripts', '/scripts/wide-script', '/scripts/wide-script/diff?from=1&to=2', '/scripts/wide-script/edit', '/scripts/new', '/accounts']) {
    await page.goto(`${fx.base}${path}`);
    await page.waitForSelector('main h1');
    const m = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })')) as { scroll: number; client: number };
    t.ok(m.scroll <= m.client, `${path}: no horizontal page scroll (${m.scroll} <= ${m.client})`);
  }
  await page.goto(`${fx.base}/scripts/wide-script`);
  const code = (await page.evaluate("(() => { const pre = document.querySelector('#source'); return { scroll: pre.scrollWidth, client: pre.clientWidth, overflow: getComputedStyle(pre).overflowX }; })()")) as { scroll: number; client: number; overflow: string };
  t.ok(code.scroll > code.client, 'the long line is wider than its box');
  t.equal(code.overflow, 'auto', 'and scrolls inside it');
  t.same(errors, [], 'no page errors');
});
