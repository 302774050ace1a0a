/**
 * The operator commands as a built `stead` process against a real server (test/helpers/
 * server-fixture.ts) on loopback: jobs (run, --wait, show, list, redo, cancel), the safety
 * audit's refusal, the script library, and the error mapping (bad token, missing role, unknown
 * id, a route the server does not have).
 *
 * The hosts are test agents that speak the real job channel (signed long-poll, start, result)
 * and run each script for real with /bin/sh. The safety audit is given to the server as its
 * auditor port (compiler/audit is not merged yet): it blocks a script with `rm -rf /`, naming
 * the rule and the line.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStead, steadMain, type SteadResult } from '../../helpers/cli.js';
import { startServer, type ServerFixture, type TestAgent } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';
import type { AuditVerdict, ScriptAuditor } from '../../../server/services/jobs/ports.js';

const auditor: ScriptAuditor = {
  async check({ source }): Promise<AuditVerdict> {
    const lines = source.split('\n');
    const at = lines.findIndex((l) => /rm -rf \/(\s|$)/.test(l));
    if (at < 0) return { verdict: 'pass', findings: [] };
    return { verdict: 'block', findings: [{ rule: 'rm-root', mode: 'block', line: at + 1, column: 1, message: 'removes the root file system', excerpt: lines[at]! }] };
  },
};

interface Work {
  id: string;
  script?: { source: string; env?: Record<string, string> };
}

/** Runs a script like an agent would (sh -c, its env), returning what the result reports. */
function runScript(source: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', source], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Serves the job channel for one host until stopped: poll, start, run, result. */
function serveJobs(agent: TestAgent, opts: { hold: () => boolean }): { stop(): Promise<void>; ran: string[] } {
  let stopped = false;
  const ran: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const poll = await agent.request('GET', `/api/v1/hosts/${agent.host}/jobs?wait=1`);
      if (poll.status !== 200) throw new Error(`poll ${agent.host}: ${poll.status} ${poll.body.toString()}`);
      const { work } = poll.json() as { work: Work[] };
      for (const w of work) {
        if (opts.hold()) continue;
        const start = await agent.request('POST', `/api/v1/hosts/${agent.host}/jobs/${w.id}/start`, {});
        if (start.status !== 200 || (start.json() as { run: boolean }).run !== true) continue;
        const startedAt = new Date(agent.fx.clock.now()).toISOString();
        const r = await runScript(w.script?.source ?? 'true', { ...(w.script?.env ?? {}), STEAD_HOST: agent.host });
        ran.push(w.id);
        const result = await agent.request('POST', `/api/v1/hosts/${agent.host}/jobs/${w.id}/result`, {
          state: r.code === 0 ? 'succeeded' : 'failed',
          exitCode: r.code,
          stdout: r.stdout,
          stderr: r.stderr,
          startedAt,
          finishedAt: new Date(agent.fx.clock.now()).toISOString(),
        });
        if (result.status !== 200) throw new Error(`result ${agent.host}: ${result.status} ${result.body.toString()}`);
      }
    }
  })();
  return {
    ran,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

interface World {
  fx: ServerFixture;
  env: NodeJS.ProcessEnv;
  dir: string;
  agents: ReturnType<typeof serveJobs>[];
  /** While true the hosts take no work (jobs stay running). */
  hold: boolean;
}

/** One server for the whole file: publishing the inventory compiles it, which is slow on a busy machine. */
async function world(t: { testdir(files?: Record<string, string>): string; teardown(fn: () => unknown): void }): Promise<World> {
  const fx = await startServer(t, { jobs: { auditor } });
  const pub = await fx.publish(smallRepo());
  if (pub.status !== 201) throw new Error(`publish: ${pub.status} ${pub.body.toString()}`);
  const dir = t.testdir({ token: `${fx.adminToken}\n`, 'hello.sh': 'echo "hello from $STEAD_HOST"\n', 'bad.sh': 'echo cleaning\nrm -rf /\n', 'fail.sh': 'echo out; echo err >&2; exit 3\n' });
  chmodSync(join(dir, 'token'), 0o600);
  const w: World = { fx, dir, agents: [], hold: false, env: { STEAD_SERVER: fx.base, STEAD_TOKEN_FILE: join(dir, 'token'), STEAD_TOKEN: '' } };
  const hold = (): boolean => w.hold;
  w.agents.push(serveJobs(await fx.approvedAgent('web-1'), { hold }), serveJobs(await fx.approvedAgent('web-2'), { hold }));
  t.teardown(async () => {
    for (const a of w.agents) await a.stop();
  });
  return w;
}

const w = await world(t);

const stead = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<SteadResult> => runStead(args, { cwd: w.dir, env: { ...w.env, ...env }, timeoutMs: 120_000 });


t.test('job run --wait --json: one object, exit 0 when every host succeeded', async (t) => {
  const r = await stead(['job', 'run', '--targets', 'group:web', '--script', 'hello.sh', '--wait', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'no progress lines in --json mode');
  const out = JSON.parse(r.stdout) as { id: string; state: string; hosts: Record<string, unknown>[] };
  t.same(Object.keys(out), ['id', 'state', 'hosts']);
  t.equal(out.state, 'succeeded');
  t.same(out.hosts.map((h) => Object.keys(h)), [['host', 'state', 'exitCode', 'stdout', 'stderr'], ['host', 'state', 'exitCode', 'stdout', 'stderr']]);
  t.same(out.hosts.map((h) => [h['host'], h['state'], h['exitCode'], h['stdout']]).sort(), [['web-1', 'succeeded', 0, 'hello from web-1\n'], ['web-2', 'succeeded', 0, 'hello from web-2\n']]);

  const show = await stead(['job', 'show', out.id]);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, new RegExp(`^Job ${out.id}: succeeded\\n`));
  t.match(show.stdout, /web-1 stdout:\n {2}\| hello from web-1/);
  const showJson = JSON.parse((await stead(['job', 'show', out.id, '--json'])).stdout) as { id: string; targets: string };
  t.equal(showJson.id, out.id);
  t.equal(showJson.targets, 'group:web');

  const list = await stead(['job', 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^ID +STATE +CREATED +BY +TARGETS +NAME\n/);
  t.match(list.stdout, new RegExp(`^${out.id} +succeeded .* group:web`, 'm'));
  const listJson = JSON.parse((await stead(['job', 'list', '--json', '--limit', '5'])).stdout) as { jobs: { id: string }[] };
  t.equal(listJson.jobs[0]?.id, out.id, 'newest first');
});

t.test('job run --wait (human): progress on stderr, output and a summary on stdout; a failed host exits 1; redo --failed', async (t) => {
  const r = await stead(['job', 'run', '--targets', 'host:web-1,host:web-2', '--command', 'if [ "$STEAD_HOST" = web-2 ]; then echo bad >&2; exit 3; fi; echo fine', '--wait']);
  t.equal(r.code, 1, 'one host failed');
  t.match(r.stderr, /^job \S+ running/m, 'progress lines on stderr');
  t.match(r.stdout, /^Job \S+: failed\n/);
  t.match(r.stdout, /web-2 +failed +3/);
  t.match(r.stdout, /web-2 stderr:\n {2}\| bad/);
  t.match(r.stdout, /2 hosts: 1 failed, 1 succeeded\n$/);
  const id = /^Job (\S+):/.exec(r.stdout)![1]!;

  const redo = await stead(['job', 'redo', id, '--failed', '--wait', '--json']);
  t.equal(redo.code, 1, 'web-2 fails again');
  const again = JSON.parse(redo.stdout) as { id: string; hosts: { host: string; state: string }[] };
  t.not(again.id, id, 'a new job');
  t.same(again.hosts.filter((h) => h.state !== 'skipped').map((h) => h.host), ['web-2'], 'only the failed host ran');
  const redoJob = JSON.parse((await stead(['job', 'show', again.id, '--json'])).stdout) as { redoOf?: string };
  t.equal(redoJob.redoOf, id);
});

t.test('without --wait: the job id at once, exit 0; cancel', async (t) => {
  w.hold = true;
  t.teardown(() => {
    w.hold = false;
  });
  const r = await stead(['job', 'run', '--targets', 'group:web', '--command', 'sleep 100']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^Started job (\S+) running/);
  t.match(r.stdout, /Follow it with: stead job show \S+\n$/);
  const id = /^Started job (\S+) /.exec(r.stdout)![1]!;
  const c = await stead(['job', 'cancel', id]);
  t.equal(c.code, 0, c.stderr);
  t.match(c.stdout, new RegExp(`^Cancelling: job ${id} `));
  const shown = JSON.parse((await stead(['job', 'show', id, '--json'])).stdout) as { state: string };
  t.equal(shown.state, 'cancelled');
  const json = await stead(['job', 'run', '--targets', 'group:web', '--command', 'true', '--json']);
  t.equal(json.code, 0);
  t.equal((JSON.parse(json.stdout) as { targets: string }).targets, 'group:web', 'the job view');
});

t.test('a script the safety audit refuses: non-zero before anything runs, naming rule and line', async (t) => {
  const jobsBefore = (JSON.parse((await stead(['job', 'list', '--json'])).stdout) as { jobs: unknown[] }).jobs.length;
  const ranBefore = w.agents.flatMap((a) => a.ran).length;
  const r = await stead(['job', 'run', '--targets', 'group:web', '--script', 'bad.sh', '--wait']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^stead job run: refused by the safety audit: rule rm-root at line 2: removes the root file system\n$/);
  t.equal(r.stdout, '');
  const json = await stead(['job', 'run', '--targets', 'group:web', '--script', 'bad.sh', '--json']);
  t.equal(json.code, 2);
  t.match(JSON.parse(json.stdout), { error: { code: 'BAD_REQUEST', status: 400, message: /rule rm-root at line 2/ } });
  const list = JSON.parse((await stead(['job', 'list', '--json'])).stdout) as { jobs: unknown[] };
  t.equal(list.jobs.length, jobsBefore, 'no job was created');
  t.equal(w.agents.flatMap((a) => a.ran).length, ranBefore, 'nothing ran');
});

t.test('errors: a refused token, a missing role, an unknown job, a route the server lacks, no server', async (t) => {
  const bad = await stead(['job', 'list'], { STEAD_TOKEN_FILE: '', STEAD_TOKEN: 'not-the-token' });
  t.equal(bad.code, 3);
  t.match(bad.stderr, /^stead job list: the server refused the token from STEAD_TOKEN: /);
  const ro = await w.fx.token('readonly');
  const forbidden = await stead(['job', 'run', '--targets', 'group:web', '--command', 'id'], { STEAD_TOKEN_FILE: '', STEAD_TOKEN: ro });
  t.equal(forbidden.code, 3);
  t.match(forbidden.stderr, /^stead job run: not allowed: /);
  const unknown = await stead(['job', 'show', 'nope']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^stead job show: NOT_FOUND: /);
  const noRoute = await stead(['plan', 'run', 'nightly', '--json']);
  t.equal(noRoute.code, 2);
  t.match(noRoute.stderr, /NOT_FOUND: no plan with the id or name "nightly"/);
  t.match(JSON.parse(noRoute.stdout), { error: { code: 'NOT_FOUND', status: 404 } });
  const badTargets = await stead(['job', 'run', '--targets', 'nosuchkind:x', '--command', 'id']);
  t.equal(badTargets.code, 2);
  t.match(badTargets.stderr, /^stead job run: BAD_REQUEST: /);
  const down = await stead(['job', 'list', '--server', 'http://127.0.0.1:1']);
  t.equal(down.code, 4);
  t.match(down.stderr, /cannot reach the server at http:\/\/127.0.0.1:1: ECONNREFUSED/);
  const missing = await stead(['job', 'list'], { STEAD_SERVER: '' });
  t.equal(missing.code, 64);
  t.match(missing.stderr, /no server: give --server URL or set STEAD_SERVER/);
  const flagWins = await stead(['job', 'list', '--token-file', join(w.dir, 'token'), '--server', w.fx.base], { STEAD_SERVER: 'http://127.0.0.1:1', STEAD_TOKEN_FILE: '/nonexistent' });
  t.equal(flagWins.code, 0, `flags win over the environment: ${flagWins.stderr}`);
});

t.test('script add, list, show against the script library', async (t) => {
  writeFileSync(join(w.dir, 'rotate-logs.sh'), '#!/bin/sh\nfind /var/log/app -mtime +"$DAYS" -delete\n');
  const add = await stead(['script', 'add', 'rotate-logs.sh', '--tag', 'logs', '--tag', 'cleanup', '--param', 'DAYS=7', '--param', 'DIR']);
  t.equal(add.code, 0, add.stderr);
  t.equal(add.stdout, 'Added script rotate-logs (rotate-logs), version 1\n');
  const list = await stead(['script', 'list', '--tag', 'logs']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^ID +LANG +KIND +VERSION +TAGS +NAME\n/);
  t.match(list.stdout, /^rotate-logs +shell +user +1 +cleanup,logs +rotate-logs$/m, 'tags as the server keeps them (sorted)');
  const search = JSON.parse((await stead(['script', 'list', '--search', 'rotate', '--json'])).stdout) as { scripts: { id: string }[] };
  t.same(search.scripts.map((s) => s.id), ['rotate-logs']);
  const show = await stead(['script', 'show', 'rotate-logs']);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /^Script rotate-logs: rotate-logs \(shell, user\)\n {2}version: {2}1 of 1, by admin at /);
  t.match(show.stdout, /param: {4}DAYS=7\n {2}param: {4}DIR\n/);
  t.match(show.stdout, /\n\n#!\/bin\/sh\nfind \/var\/log\/app -mtime \+"\$DAYS" -delete\n$/);
  const v = JSON.parse((await stead(['script', 'show', 'rotate-logs', '--version', '1', '--json'])).stdout) as { version: { version: number }; params: unknown[] };
  t.equal(v.version.version, 1);
  t.same(v.params, [{ name: 'DAYS', default: '7' }, { name: 'DIR' }]);
  const taken = await stead(['script', 'add', 'rotate-logs.sh']);
  t.equal(taken.code, 2, 'the id is taken');
  const none = await stead(['script', 'show', 'no-such-script']);
  t.equal(none.code, 2);
  t.match(none.stderr, /NOT_FOUND/);
});

t.test('Ctrl-C while waiting: exit 130, the job keeps running', async (t) => {
  w.hold = true;
  t.teardown(() => {
    w.hold = false;
  });
  const child = spawn(process.execPath, [steadMain, 'job', 'run', '--targets', 'group:web', '--command', 'true', '--wait'], { cwd: w.dir, env: { ...process.env, ...w.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let sent = false;
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && /^job \S+ running/m.test(stderr)) {
        sent = true; // once: a second Ctrl-C after the wait stopped would end the process by the signal
        child.kill('SIGINT');
      }
    });
    child.on('close', (c) => resolve(c));
  });
  t.equal(code, 130, stderr);
  t.match(stderr, /stopped waiting; job (\S+) keeps running \(stead job show \S+, stead job cancel \S+\)/);
  const id = /job (\S+) keeps running/.exec(stderr)![1]!;
  const shown = JSON.parse((await stead(['job', 'show', id, '--json'])).stdout) as { state: string };
  t.equal(shown.state, 'running');
});

t.test('schedule create (words and zone, or cron), list, delete against the schedule routes', async (t) => {
  const words = await stead(['schedule', 'create', '--name', 'nightly-backup', '--at', 'every day at 03:30', '--tz', 'Europe/Berlin', '--targets', 'group:web', '--script', 'hello.sh']);
  t.equal(words.code, 0, words.stderr);
  t.match(words.stdout, /^Created schedule nightly-backup: .*03:30.*Europe\/Berlin.*\nNext runs: \d{4}-\d\d-\d\dT0[12]:30:00(\.000)?Z, /);
  const cron = await stead(['schedule', 'create', '--name', 'hourly-check', '--cron', '0 * * * *', '--targets', 'group:web', '--command', 'true', '--json']);
  t.equal(cron.code, 0, cron.stderr);
  const view = JSON.parse(cron.stdout) as { name: string; spec: unknown; job: unknown; nextRuns: string[] };
  t.same([view.name, view.spec, view.job], ['hourly-check', { cron: '0 * * * *' }, { targets: 'group:web', script: { lang: 'shell', source: 'true' } }]);
  t.equal(view.nextRuns.length, 5);
  const list = await stead(['schedule', 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^NAME +WHEN +NEXT RUN +LAST RUN +ENABLED\n/);
  t.match(list.stdout, /^hourly-check +.+ +\d{4}-.+ +- +yes$/m);
  t.match(list.stdout, /^nightly-backup +.*Europe\/Berlin.* +yes$/m);
  const taken = await stead(['schedule', 'create', '--name', 'hourly-check', '--cron', '0 * * * *', '--targets', 'group:web', '--command', 'true']);
  t.equal(taken.code, 2, 'the name is taken');
  const unreadable = await stead(['schedule', 'create', '--name', 'never', '--at', 'when pigs fly', '--targets', 'group:web', '--command', 'true']);
  t.equal(unreadable.code, 2);
  t.match(unreadable.stderr, /^stead schedule create: BAD_REQUEST: /);
  const del = await stead(['schedule', 'delete', 'hourly-check']);
  t.equal(del.code, 0, del.stderr);
  t.equal(del.stdout, 'Deleted schedule hourly-check\n');
  const names = (JSON.parse((await stead(['schedule', 'list', '--json'])).stdout) as { schedules: { name: string }[] }).schedules.map((s) => s.name);
  t.same(names, ['nightly-backup']);
  const gone = await stead(['schedule', 'delete', 'hourly-check']);
  t.equal(gone.code, 2);
  t.match(gone.stderr, /NOT_FOUND/);
});
