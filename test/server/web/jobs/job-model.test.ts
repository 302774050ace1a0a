/** The job pages' pure parts: the launch form's bounds and body, progress, host rows, who cannot run, and escaping. */
import t from 'tap';
import type { Test } from 'tap';
import { ApiError } from '../../../../server/domain/errors.js';
import { cannotRun, countList, durationText, hostsPerPage, jobPageModel, progress, summaryRow, timeText } from '../../../../server/web/jobs/job-model.js';
import type { JobHostView, JobView } from '../../../../server/web/jobs/jobs-port.js';
import { jobsListView, jobView, launchView, planView, plansView } from '../../../../server/web/jobs/job-views.js';
import { emptyLaunch, launchBody, parsePairs, readLaunchFields } from '../../../../server/web/jobs/launch-form.js';
import { auditSummary, refusal } from '../../../../server/web/jobs/job-pages.js';
import { SchemaError } from '../../../../schemas/validate.js';

const evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{ 7*7 }}';

function assertInert(t: Test, html: string, what: string): void {
  t.notMatch(html, /<script>alert/, `${what}: no live <script>`);
  t.notMatch(html, /<img src=x/, `${what}: no live <img>`);
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, `${what}: shown as text`);
  t.match(html, /\{\{ 7\*7 \}\}/, `${what}: data is never template source`);
  t.notMatch(html, /\b49\b/, `${what}: nothing evaluated`);
}

const refused = (t: Test, fn: () => unknown, message: RegExp): void => {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof ApiError && caught.status === 400 && message.test(caught.message), `refused: ${message} (${String(caught)})`);
};

t.test('launch form: fields, picks, bounds and the body', async (t) => {
  const form = new URLSearchParams([
    ['name', '  nightly  '],
    ['targets', 'group:web, host:db-1'],
    ['pick', 'group:web'],
    ['pick', 'idc:sz'],
    ['source', 'echo hi\r\nexit 0'],
    ['lang', 'python'],
    ['account', 'deploy'],
    ['timeout', '120'],
    ['vars', '# comment\nREGION=sz\n\nEMPTY='],
    ['dryRun', 'on'],
  ]);
  const f = readLaunchFields(form);
  t.equal(f.targets, 'group:web,host:db-1,idc:sz', 'picks are added once, in order');
  t.equal(f.name, 'nightly');
  t.equal(f.source, 'echo hi\nexit 0', 'CRLF from the textarea becomes LF');
  t.same(launchBody(f), {
    name: 'nightly',
    targets: 'group:web,host:db-1,idc:sz',
    vars: { REGION: 'sz', EMPTY: '' },
    dryRun: true,
    steps: [{ kind: 'script', script: { lang: 'python', source: 'echo hi\nexit 0', account: 'deploy' }, timeoutSeconds: 120 }],
  });

  const lib = readLaunchFields(new URLSearchParams({ targets: 'tag:canary', mode: 'library', scriptId: 'rotate-logs', version: '3', params: 'DAYS=7', lang: 'shell', timeout: '', approve: 'on', reason: 'reviewed by ops' }));
  t.same(launchBody(lib), {
    targets: 'tag:canary',
    approve: { reason: 'reviewed by ops' },
    steps: [{ kind: 'script', script: { scriptId: 'rotate-logs', version: 3, params: { DAYS: '7' } } }],
  }, 'a library script brings its own language; an empty timeout is the default');

  refused(t, () => launchBody({ ...emptyLaunch, source: 'x' }), /choose the targets/);
  refused(t, () => launchBody({ ...emptyLaunch, targets: 'host:a', source: '  \n' }), /write the command/);
  refused(t, () => launchBody({ ...emptyLaunch, targets: 'host:a', mode: 'library' }), /choose a library script/);
  refused(t, () => launchBody({ ...emptyLaunch, targets: 'host:a', source: 'x', timeout: '0' }), /timeout must be a whole number from 1 to 86400/);
  refused(t, () => launchBody({ ...emptyLaunch, targets: 'host:a', source: 'x', timeout: '86401' }), /timeout/);
  refused(t, () => launchBody({ ...emptyLaunch, targets: 'host:a', mode: 'library', scriptId: 's', version: '1.5' }), /version/);
  refused(t, () => launchBody({ ...emptyLaunch, targets: 'host:a', source: 'x', approve: true }), /approval needs a reason/);
  refused(t, () => readLaunchFields(new URLSearchParams({ targets: 'x'.repeat(4097) })), /selector is longer/);
  refused(t, () => readLaunchFields(new URLSearchParams({ source: 'x'.repeat(256 * 1024 + 1) })), /script is longer/);
  refused(t, () => readLaunchFields(new URLSearchParams([['pick', 'group:web,host:evil']])), /not a target pick/);
  refused(t, () => readLaunchFields(new URLSearchParams([['targets', 'x'.repeat(4000)], ['pick', `group:${'y'.repeat(200)}`]])), /selector is longer/);
  refused(t, () => parsePairs('NOEQUALS', 'parameters'), /parameters, line 1: write KEY=value/);
  refused(t, () => parsePairs('ok=1\n1BAD=2', 'job variables'), /line 2/);
  refused(t, () => parsePairs('__proto__.x=1', 'job variables'), /line 1/);
  refused(t, () => parsePairs(Array.from({ length: 65 }, (_, i) => `K${i}=v`).join('\n'), 'job variables'), /at most 64/);
  t.equal(parsePairs('\n# only a comment\n', 'x'), undefined, 'nothing given: no map');
  const proto = parsePairs('constructor=1', 'x');
  t.same(proto, { constructor: '1' }, 'a key named like a prototype member is plain data');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

const host = (name: string, state: string, extra: Partial<JobHostView> = {}): JobHostView => ({
  host: name,
  state,
  exitCode: state === 'succeeded' ? 0 : state === 'failed' ? 2 : null,
  steps: [{ step: 0, state, exitCode: state === 'succeeded' ? 0 : null, startedAt: '2026-12-06T10:00:00.000Z', ...(state === 'running' ? {} : { finishedAt: '2026-12-06T10:00:02.500Z' }), startAcks: state === 'failed' ? 2 : 1 }],
  ...extra,
});

function job(hosts: JobHostView[], state = 'running'): JobView {
  const counts: Record<string, number> = {};
  for (const h of hosts) counts[h.state] = (counts[h.state] ?? 0) + 1;
  return {
    id: 'j1',
    name: 'deploy',
    state,
    createdBy: 'admin',
    createdAt: '2026-12-06T10:00:00.000Z',
    dryRun: false,
    targets: 'group:web',
    steps: [{ index: 0, name: 'run', kind: 'script', state: state === 'paused' ? 'waiting' : 'running', onFailure: 'pause', counts }],
    hosts,
  };
}

t.test('progress, durations and host rows', async (t) => {
  t.same(countList({ queued: 2, succeeded: 3, zzz: 1, failed: 0 }), [{ state: 'succeeded', n: 3 }, { state: 'queued', n: 2 }, { state: 'zzz', n: 1 }], 'known states in order, zeros left out');
  const p = progress({ succeeded: 2, failed: 1, running: 1 });
  t.same([p.done, p.total, p.percent], [3, 4, 75]);
  t.same(p.segments.map((s) => `${s.state}:${s.width}`), ['succeeded:50', 'failed:25', 'running:25']);
  t.same(progress(undefined), { done: 0, total: 0, percent: 0, segments: [] });
  t.equal(timeText('2026-12-06T10:00:00.123Z'), '2026-12-06 10:00:00 UTC');
  t.equal(timeText(Date.parse('2026-12-06T10:00:00Z')), '2026-12-06 10:00:00 UTC');
  t.equal(timeText('not a time'), undefined);
  const at = Date.parse('2026-12-06T10:00:00Z');
  t.equal(durationText(at, at + 850, 0), '850 ms');
  t.equal(durationText(at, at + 12_340, 0), '12.3 s');
  t.equal(durationText(at, at + 245_000, 0), '4 min 05 s');
  t.equal(durationText(at, at + 7_380_000, 0), '2 h 03 min');
  t.equal(durationText(at, undefined, at + 2000), '2.0 s', 'a running thing counts to now');
  t.equal(durationText(undefined, at, at), undefined);

  const hosts = [host('web-2', 'succeeded', { stdout: 'ok\n' }), host('web-1', 'failed', { stderr: 'boom', stderrTruncated: true }), host('web-3', 'running')];
  const m = jobPageModel(job(hosts), { page: 1, now: at + 5000 });
  t.same(m.rows.map((r) => r.host), ['web-1', 'web-2', 'web-3'], 'failed hosts first, then by name');
  const failed = m.rows[0]!;
  t.same([failed.exitCode, failed.duration, failed.open, failed.stderrTruncated, failed.hasOutput], ['2', '2.5 s', true, true, true]);
  t.match(failed.steps[0]!.title, /step 1 \(run\): failed, exit signal, 2 start acknowledgements/);
  t.equal(m.rows[2]!.duration, '5.0 s', 'still running: counted to now');
  t.equal(m.rows[2]!.exitCode, 'signal', 'null exit code (not finished or killed) is not shown as 0');
  t.same([m.progress.done, m.progress.total, m.live, m.failedHosts], [2, 3, true, 1]);
  t.same(jobPageModel(job(hosts), { page: 1, state: 'running', now: at }).rows.map((r) => r.host), ['web-3'], 'state filter');
  t.equal(jobPageModel(job(hosts), { page: 1, state: 'bogus', now: at }).filter, undefined, 'an unknown state does not filter');
  t.equal(jobPageModel(job(hosts, 'paused'), { page: 1, now: at }).steps[0]!.waiting, true, 'a waiting step offers continue/stop');
  t.equal(jobPageModel(job(hosts, 'succeeded'), { page: 1, now: at }).live, false);

  const many = Array.from({ length: hostsPerPage * 2 + 3 }, (_, i) => host(`h${String(i).padStart(3, '0')}`, 'succeeded'));
  const last = jobPageModel(job(many), { page: 99, now: at });
  t.same([last.page, last.pages, last.shownFrom, last.shownTo, last.rows.length], [3, 3, 101, 103, 3], 'a page past the end shows the last page');

  const row = summaryRow({ id: 'j9', state: 'failed', createdBy: 'ops', createdAt: at, finishedAt: at + 61_000, hostCount: 4, dryRun: true }, at);
  t.same([row.name, row.duration, row.hostCount, row.dryRun, row.progress.total], ['', '1 min 01 s', '4', true, 0]);

  const notes = cannotRun(['a', 'b', 'c', 'd'], new Map([['b', 'pending'], ['c', 'approved'], ['d', 'approved']]), new Set(['d']));
  t.same(notes, [
    { host: 'a', reason: 'no agent has enrolled for this host' },
    { host: 'b', reason: 'its agent is pending' },
    { host: 'd', reason: 'its agent has not reported recently (it may be down)' },
  ]);
});

t.test('job views escape everything they are given', async (t) => {
  const frame = { operator: evil, role: 'admin', nav: 'jobs', pendingCount: 0, refreshable: true, refresh: 5, pauseQuery: 'refresh=0', resumeQuery: '', now: 'now' };
  const at = Date.parse('2026-12-06T10:00:00Z');
  const list = jobsListView({ ...frame, canWrite: true, jobs: [summaryRow({ id: 'j1', name: evil, state: evil, createdBy: evil, createdAt: at, targets: evil, counts: { succeeded: 1 } }, at)], next: 'j0' });
  assertInert(t, list, 'jobs list');
  t.match(list, /href="\/jobs\?before=j0"/, 'older page link');
  const hosts = [host(evil.replace(/[^a-z]/g, ''), 'failed', { stdout: evil, stderr: evil, message: evil })];
  const j = { ...job(hosts, 'paused'), name: evil, targets: evil, createdBy: evil, unavailable: [{ host: evil, reason: evil }] };
  const page = jobView({ ...frame, canWrite: true, m: jobPageModel(j, { page: 1, now: at }), pageHref: () => '?', filterHref: () => '?' });
  assertInert(t, page, 'job page');
  t.match(page, /action="\/jobs\/j1\/confirm"/, 'continue/stop offered for the waiting step');
  t.match(page, /action="\/jobs\/j1\/cancel"/, 'cancel offered while live');
  t.notMatch(page, /\/redo"/, 'no redo while live');
  const reader = jobView({ ...frame, canWrite: false, m: jobPageModel(j, { page: 1, now: at }), pageHref: () => '?', filterHref: () => '?' });
  t.notMatch(reader, /<form method="post" action="\/jobs/, 'no action forms for a readonly operator');
  const launch = launchView({
    ...frame,
    canWrite: true,
    isAdmin: true,
    f: { ...emptyLaunch, targets: evil, source: evil, name: evil },
    picks: { groups: [{ value: 'group:web', label: evil, checked: false }], idcs: [], tags: [] },
    accounts: [evil],
    scripts: [{ id: 's1', name: evil, latestVersion: 2 }],
    preview: { count: 1, shown: 1, hosts: [evil], cannot: [{ host: evil, reason: evil }] },
    audit: { blocked: true, findings: [{ rule: evil, mode: 'block', line: 3, column: 1, message: evil, excerpt: evil }] },
    error: evil,
  });
  assertInert(t, launch, 'launch page');
  t.match(launch, /name="approve"/, 'a blocked script offers the admin approval');
  const plan = { id: 'p1', name: evil, description: evil, targets: evil, steps: [{ kind: 'script', name: evil, script: { lang: 'shell' as const, scriptId: evil } }, { kind: 'confirm', message: evil, targets: { failedOf: 0 } }] };
  assertInert(t, plansView({ ...frame, plans: [{ ...plan, updated: evil }] }), 'plans');
  const pv = planView({ ...frame, canWrite: true, plan, targets: evil, error: evil });
  assertInert(t, pv, 'plan page');
  t.match(pv, /failed hosts of step 1/);
});

t.test('refusals shown on a page, and the audit summary', async (t) => {
  t.same(refusal(new ApiError('CONFLICT', 'already done')), { status: 409, message: 'already done' });
  t.same(refusal(new SchemaError('urn:x', [{ path: '/name', message: 'too long' }])), { status: 400, message: 'urn:x: /name too long' }, 'a schema refusal is a 400 on the page');
  t.equal(refusal(new Error('boom')), undefined, 'anything else is not a refusal (the error middleware answers it)');
  t.equal(auditSummary(undefined), undefined);
  t.same(auditSummary({ audit: [] }), { blocked: false, findings: [] });
  t.same(auditSummary({ audit: [{ step: 0, verdict: 'block', findings: [] }] }), { blocked: true, findings: [] }, 'a block verdict blocks even without a listed finding');
  const scan = { rule: 'curl-pipe-sh', mode: 'scan' as const, line: 2, message: 'm' };
  t.same(auditSummary({ audit: [{ step: 0, verdict: 'warn', findings: [scan] }, { step: 1, verdict: 'pass', findings: [] }] }), { blocked: false, findings: [scan] }, 'warnings do not block');
});
