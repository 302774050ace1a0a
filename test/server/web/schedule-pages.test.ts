/**
 * The schedules console page over HTTP (ManualClock server): list with next and last runs, the
 * form's preview and create (command or plan), enable/disable/delete, errors shown with the
 * form kept, hostile values rendered inert, readonly and cross-origin posts refused; and in
 * headless Chromium (when installed) the page fits a 390 px wide screen.
 */
import t from 'tap';
import { ManualClock } from '../../../server/domain/clock.js';
import { chromiumMissing, openBrowser } from '../../helpers/browser.js';
import { ManualTimer, until } from '../../helpers/manual-timer.js';
import { RecordingLauncher } from '../../helpers/recording-launcher.js';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

const get = async (fx: ServerFixture, cookie: string, path = '/schedules'): Promise<{ status: number; body: string }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString() };
};

const post = async (fx: ServerFixture, cookie: string, path: string, form: Record<string, string>, origin?: string): Promise<{ status: number; body: string; location: string | undefined }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path, headers: { cookie, origin: origin ?? fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: r.status, body: r.body.toString(), location: r.headers.location };
};

const evil = '<script>alert(1)</script>{{ 7*7 }}';

t.test('schedules page: preview, create, fire, disable, delete', async (t) => {
  const launcher = new RecordingLauncher();
  const clock = new ManualClock(Date.parse('2026-11-26T10:00:00Z'));
  const timer = new ManualTimer(clock);
  const fx = await startServer(t, { clock, jobLauncher: launcher, schedules: { timer, pollMs: 86_400_000 } });
  const cookie = await login(fx);

  const empty = await get(fx, cookie);
  t.equal(empty.status, 200);
  t.match(empty.body, /No schedules yet/);
  t.match(empty.body, /<a href="\/schedules" class="on">Schedules<\/a>/, 'in the nav');
  t.match(empty.body, /<form class="card sform" method="post" action="\/schedules\/create">/, 'admins get the form');
  t.notMatch(empty.body, /does not fire schedules/);

  const pv = await post(fx, cookie, '/schedules/create', { name: 'x', when: 'weekdays at 09:00', tz: 'Europe/Berlin', action: 'preview' });
  t.equal(pv.status, 200);
  t.match(pv.body, /<b>weekdays at 09:00 \(Europe\/Berlin\)<\/b>/);
  t.match(pv.body, /2026-11-27T08:00:00.000Z[\s\S]*2026-11-30T08:00:00.000Z[\s\S]*2026-12-03T08:00:00.000Z/, 'five next runs');
  t.match(pv.body, /name="when" value="weekdays at 09:00"/, 'the form is kept');

  const bad = await post(fx, cookie, '/schedules/create', { name: 'x', cron: '0 25 * * *', targets: 'all', command: 'true', action: 'create' });
  t.equal(bad.status, 400);
  t.match(bad.body, /role="alert">cron: the hour field &quot;25&quot;/);
  t.match(bad.body, /name="cron" value="0 25 \* \* \*"/);
  for (const [form, msg] of [
    [{ name: 'x', action: 'create' }, /say when/],
    [{ name: 'x', when: 'daily at 01:00', cron: '* * * * *', action: 'create' }, /not both/],
    [{ name: 'x', when: 'daily at 01:00', action: 'create' }, /a shell command to run, or a saved plan/],
    [{ name: 'x', when: 'daily at 01:00', command: 'true', plan: 'p', action: 'create' }, /either a shell command or a plan/],
    [{ name: 'x', when: 'daily at 01:00', command: 'true', action: 'create' }, /needs targets/],
    [{ name: 'x', when: 'daily at 01:00', plan: '../p', action: 'create' }, /plan id is/],
    [{ name: 'x', when: 'daily at 01:00', tz: 'x'.repeat(70), action: 'preview' }, /schedule: \/tz must NOT have more than 64/],
  ] as const) {
    const r = await post(fx, cookie, '/schedules/create', form);
    t.equal(r.status, 400, JSON.stringify(form));
    t.match(r.body, msg);
  }

  const ok = await post(fx, cookie, '/schedules/create', { name: 'hourly-uptime', cron: '0 * * * *', targets: 'group:web', command: 'uptime', missed: 'run-once', action: 'create' });
  t.equal(ok.status, 303);
  t.equal(ok.location, '/schedules?done=created');
  t.equal((await post(fx, cookie, '/schedules/create', { name: 'deploy', when: 'once at 2026-11-27 06:00', plan: 'deploy-web', action: 'create' })).status, 303);
  const dup = await post(fx, cookie, '/schedules/create', { name: 'deploy', when: 'daily at 01:00', plan: 'deploy-web', action: 'create' });
  t.equal(dup.status, 409);

  await until(() => timer.sleeping === 1 && timer.nextWake === Date.parse('2026-11-26T11:00:00Z'));
  timer.set(Date.parse('2026-11-26T11:00:00Z'));
  await until(() => launcher.launches.length === 1);
  t.same(launcher.launches[0]!.body, { targets: 'group:web', script: { lang: 'shell', source: 'uptime' } });
  let listed = '';
  for (let i = 0; i < 200 && !/job-1/.test(listed); i++) listed = (await get(fx, cookie, '/schedules?done=created')).body;
  t.match(listed, /Schedule created\./);
  t.match(listed, /<tr data-schedule="hourly-uptime">/);
  t.match(listed, /\$ uptime on group:web/);
  t.match(listed, /cron &quot;0 \* \* \* \*&quot; \(UTC\)/);
  t.match(listed, /missed runs: run once/);
  t.match(listed, /2026-11-26T12:00:00.000Z/, 'next run');
  t.match(listed, /2026-11-26T11:00:00.000Z<div class="mono">job-1 <span class="s running">running<\/span>/, 'last run, its job and state');
  t.match(listed, /plan deploy-web/);

  const off = await post(fx, cookie, '/schedules/disable', { name: 'hourly-uptime' });
  t.equal(off.location, '/schedules?done=disabled');
  t.match((await get(fx, cookie)).body, /<span class="s retired">disabled<\/span>/);
  t.equal((await post(fx, cookie, '/schedules/enable', { name: 'hourly-uptime' })).location, '/schedules?done=enabled');
  t.equal((await post(fx, cookie, '/schedules/delete', { name: 'deploy' })).location, '/schedules?done=deleted');
  const gone = await post(fx, cookie, '/schedules/delete', { name: 'deploy' });
  t.equal(gone.status, 404);
  t.match(gone.body, /deploy: no schedule named deploy/);

  t.equal((await post(fx, cookie, '/schedules/delete', { name: 'hourly-uptime' }, 'http://evil.example')).status, 403, 'cross-origin post refused');
  const ro = await login(fx, await fx.token('readonly', 'viewer'));
  const roPage = await get(fx, ro);
  t.notMatch(roPage.body, /class="card sform"/, 'no form for readonly');
  t.notMatch(roPage.body, /action="\/schedules\/delete"/);
  t.equal((await post(fx, ro, '/schedules/delete', { name: 'hourly-uptime' })).status, 403, 'readonly post refused');
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/schedules' })).status, 302, 'no session: login');
});

t.test('hostile values render inert; the composed server fires schedules (no warning)', async (t) => {
  const fx = await startServer(t);
  const cookie = await login(fx);
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'evil', spec: { daily: '03:00' }, job: { targets: evil, script: { lang: 'shell', source: evil } } })).status, 201);
  const r = await post(fx, cookie, '/schedules/create', { name: 'x', when: evil, action: 'preview' });
  t.equal(r.status, 400);
  const page = (await get(fx, cookie)).body;
  for (const html of [page, r.body]) {
    t.notMatch(html, /<script>alert/);
    t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    t.notMatch(html, /\b49\b/);
  }
  t.notMatch(page, /does not fire schedules/, 'compose wires the job service as the launcher');
});

t.test('the page fits a 390 px screen', { skip: chromiumMissing }, async (t) => {
  const fx = await startServer(t, { clock: new ManualClock(Date.now()) }); // session cookies expire by the browser's clock
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'nightly-cleanup-of-old-releases', spec: { text: 'every mon, wed, fri at 03:30 in America/Argentina/Buenos_Aires' }, job: { targets: 'group:web,group:api,tag:canary,idc:sz', script: { lang: 'shell', source: 'find /srv/releases -mtime +30 -delete' } } })).status, 201);
  const { page } = await openBrowser(t, { width: 390, height: 844 });
  await page.goto(`${fx.base}/login`);
  await page.fill('#token', fx.adminToken);
  await Promise.all([page.waitForURL(`${fx.base}/`), page.click('#token-login button[type=submit]')]);
  await page.goto(`${fx.base}/schedules`);
  await page.waitForSelector('#schedules');
  const widths = (await page.evaluate("({ doc: document.documentElement.scrollWidth, view: window.innerWidth, form: document.querySelector('form.sform').getBoundingClientRect().right })")) as { doc: number; view: number; form: number };
  t.ok(widths.doc <= widths.view, `no sideways scrolling: ${widths.doc} ≤ ${widths.view}`);
  t.ok(widths.form <= widths.view, `the form fits: ${widths.form}`);
});
