import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { executeDispatch } from '../../../agent/jobs/job-executor.js';
import { compileGuard, jobProtocolSchemas, jobResultSchema, registerSchemas, type Guard, type JobResult } from '../../../schemas/index.js';
import { createRaceUser, noRaceUser } from '../../helpers/race-user.js';
import { jobCtx, scriptWork, tempDir } from './job-fixtures.js';

registerSchemas(jobProtocolSchemas);
const isResult: Guard<JobResult> = compileGuard(jobResultSchema);
const never = new AbortController().signal;

function valid(t: Test, r: JobResult): void {
  t.same(isResult.check(r), [], 'the result validates against jobResultSchema');
}

/** Whether a process exists and is not a zombie (killed, waiting for a reaper that may be slow in a container). */
function aliveNow(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether the process is still alive after up to 2 s (a killed process takes a moment to go). */
async function stillAlive(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && aliveNow(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return aliveNow(pid);
}

t.test('exit codes, output, env and args', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const ok = await executeDispatch(scriptWork('echo "out $1 $2"; echo err >&2; echo "$STEAD_HOST $STEAD_JOB_ID $GREETING"; echo "home=$HOME path=$PATH"; pwd', { args: ['a b', 'c'], env: { GREETING: 'hi $(touch /tmp/stead-pwn-job)' } }), ctx, never);
  valid(t, ok);
  t.equal(ok.state, 'succeeded');
  t.equal(ok.exitCode, 0);
  const lines = ok.stdout.split('\n');
  t.equal(lines[0], 'out a b c');
  t.match(lines[1], /^web-1 j\d+ hi \$\(touch \/tmp\/stead-pwn-job\)$/, 'STEAD_HOST, STEAD_JOB_ID and the step env, not evaluated');
  t.match(lines[2], /^home=\/root path=\/usr\/local\/sbin:/);
  t.equal(ok.stderr, 'err\n');
  t.notOk(existsSync('/tmp/stead-pwn-job'));
  t.notOk(ok.stdoutTruncated);

  const bad = await executeDispatch(scriptWork('exit 7'), ctx, never);
  valid(t, bad);
  t.equal(bad.state, 'failed');
  t.equal(bad.exitCode, 7);

  const syntax = await executeDispatch(scriptWork('if then fi'), ctx, never);
  t.equal(syntax.state, 'failed');
  t.not(syntax.exitCode, 0);

  const py = await executeDispatch(scriptWork('import sys, os\nprint(sys.argv[1:], os.environ["STEAD_JOB_ID"].startswith("j"))\nsys.exit(3)', { lang: 'python', args: ['x'] }), ctx, never);
  valid(t, py);
  t.equal(py.state, 'failed');
  t.equal(py.exitCode, 3);
  t.equal(py.stdout, "['x'] True\n");

  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'here'));
  const inCwd = await executeDispatch(scriptWork('pwd; ls /proc/self/fd | wc -l >/dev/null', { cwd: join(cwd, 'here') }), ctx, never);
  t.equal(inCwd.stdout, `${join(cwd, 'here')}\n`);
  const noCwd = await executeDispatch(scriptWork('pwd', { cwd: '/nonexistent/dir' }), ctx, never);
  t.equal(noCwd.state, 'failed');
  t.match(noCwd.message, /working directory \/nonexistent\/dir does not exist/);

  const nouser = await executeDispatch(scriptWork('id', { user: 'no-such-user-stead' }), ctx, never);
  valid(t, nouser);
  t.equal(nouser.state, 'failed');
  t.equal(nouser.exitCode, null);
  t.match(nouser.message, /no user no-such-user-stead/);

  t.same(readdirSync(ctx.tmpDir), [], 'script files are removed after the run');
  t.equal((await executeDispatch(scriptWork('echo "root=${STEAD_ROOT:-unset}"'), ctx, never)).stdout, 'root=unset\n');
  const rooted = await jobCtx(t, tempDir(t), { root: cwd });
  t.equal((await executeDispatch(scriptWork('echo "root=$STEAD_ROOT"'), rooted, never)).stdout, `root=${cwd}\n`, 'under --root, STEAD_ROOT names it');
});

t.test('a dry run never runs the script: would-run', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const marker = join(tempDir(t), 'ran');
  const r = await executeDispatch(scriptWork(`touch ${marker}`, { noop: true }), ctx, never);
  valid(t, r);
  t.equal(r.state, 'would-run');
  t.equal(r.exitCode, null);
  t.notOk(existsSync(marker));
});

t.test('results through stead.sh and stead.py, on the private channel only', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const sh = await executeDispatch(scriptWork([
    '. "$STEAD_LIB/stead.sh"',
    'stead_log info "starting"',
    'stead_result version 1.2.3',
    'stead_result multi "line one',
    'line two"',
    'stead_result "bad key!" x || echo refused',
    'printf "result 9bad 1\\nx\\n" >&3',
    'echo "result fake 3"; echo "abc"',
    'stead_result version 1.2.4',
    'stead_fail "disk full" 4',
    'echo never',
  ].join('\n')), ctx, never);
  valid(t, sh);
  t.equal(sh.state, 'failed');
  t.equal(sh.exitCode, 4);
  t.same(sh.results, { version: '1.2.4', multi: 'line one\nline two' }, 'results from the channel; the last value of a key wins');
  t.match(sh.message, /^disk full; result key "9bad" is not a valid name/);
  t.match(sh.stderr, /stead_result: invalid key 'bad key!'/);
  t.match(sh.stdout, /^refused\n/);
  t.match(sh.stderr, /stead: info: starting\n/);
  t.match(sh.stderr, /stead: error: disk full\n/);
  t.notMatch(sh.stdout, /never/);

  const py = await executeDispatch(scriptWork([
    'import stead',
    'stead.log("warn", "careful")',
    'stead.result("count", 42)',
    'stead.result("blob", b"a\\nb\\x00c")',
    'stead.result("utf", "héllo")',
    'stead.fail("nope", code=9)',
  ].join('\n'), { lang: 'python' }), ctx, never);
  valid(t, py);
  t.equal(py.state, 'failed');
  t.equal(py.exitCode, 9);
  t.same(py.results, { count: '42', blob: 'a\nb\u0000c', utf: 'héllo' });
  t.equal(py.message, 'nope');
  t.match(py.stderr, /stead: warn: careful/);

  const ok = await executeDispatch(scriptWork('import stead\nstead.result("k", "v")\ntry:\n    stead.result("1x", "v")\nexcept ValueError as e:\n    print(e)', { lang: 'python' }), ctx, never);
  t.match(ok.stdout, /invalid key '1x'/);
  t.equal(ok.state, 'succeeded');
  t.same(ok.results, { k: 'v' });
  t.notOk('message' in ok);

  // Outside the agent the helpers say so instead of failing.
  const lib = ctx.libDir;
  const out = execFileSync('/bin/sh', ['-c', `. ${lib}/stead.sh; stead_result a b; echo rc=$?`], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(out, 'rc=0\n');
});

t.test('the results channel is bounded: too many keys, too long values, malformed records', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const r = await executeDispatch(scriptWork([
    '. "$STEAD_LIB/stead.sh"',
    'i=0; while [ $i -lt 300 ]; do stead_result "k$i" "$i"; i=$((i+1)); done',
    'big=$(head -c 70000 /dev/zero | tr "\\0" x); stead_result big "$big"',
    'printf "garbage\\n" >&3',
    'stead_result after x',
  ].join('\n')), ctx, never);
  valid(t, r);
  t.equal(Object.keys(r.results ?? {}).length, 256);
  t.equal(r.results?.k255, '255');
  t.notOk(r.results?.big);
  t.match(r.message, /more than 256 result keys/);
  t.match(r.message, /malformed record/);

  const flood = await executeDispatch(scriptWork('head -c 3000000 /dev/zero >&3; echo done'), ctx, never);
  t.equal(flood.state, 'succeeded', 'a flood on the results channel is read and dropped, the script is not blocked');
  t.match(flood.message, /exceeded its size limit/);
});

t.test('output is bounded: head and tail kept, a visible marker, memory stays small', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const small = await executeDispatch(scriptWork('seq 1 20000; seq 1 20000 >&2'), { ...ctx, headBytes: 1000, tailBytes: 1000 }, never);
  valid(t, small);
  t.ok(small.stdoutTruncated);
  t.ok(small.stderrTruncated);
  t.ok(small.stdout.startsWith('1\n2\n3\n'));
  t.ok(small.stdout.endsWith('19999\n20000\n'));
  t.match(small.stdout, /\n…\[stead: 106\.\d kB of output cut\]…\n/);
  t.ok(small.stdout.length < 2200);

  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const big = await executeDispatch(scriptWork('yes 0123456789abcdef | head -c 200000000; echo; echo tail-line'), ctx, never);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  valid(t, big);
  t.equal(big.state, 'succeeded');
  t.ok(big.stdoutTruncated);
  t.ok(big.stdout.endsWith('tail-line\n'));
  t.match(big.stdout, /…\[stead: 199\.9 MB of output cut\]…/);
  t.ok(big.stdout.length < 70 * 1024, `kept ${big.stdout.length} characters`);
  const growth = (peak - before) / 1024 / 1024;
  t.comment(`agent RSS grew ${growth.toFixed(1)} MiB while the script printed 200 MB`);
  t.ok(growth < 100, `RSS growth ${growth.toFixed(1)} MiB stays far below the 200 MB printed`);
});

t.test('timeout kills the whole process group: TERM, then KILL after the grace', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const dir = tempDir(t);
  const r = await executeDispatch(scriptWork(`sleep 300 & echo $! > ${dir}/child; trap '' TERM; echo started; while :; do sleep 1; done`, { timeoutSeconds: 1 }), ctx, never);
  valid(t, r);
  t.equal(r.state, 'timeout');
  t.equal(r.exitCode, null);
  t.equal(r.signal, 'SIGKILL', 'the script ignored TERM and was killed');
  t.equal(r.stdout, 'started\n');
  t.match(r.message, /timeout of 1 s/);
  const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
  t.notOk(await stillAlive(child), 'the background child is gone too');
});

t.test('cancel kills the group including grandchildren: cancelled; shutdown: interrupted', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const dir = tempDir(t);
  const stop = new AbortController();
  const running = executeDispatch(scriptWork(`sh -c 'sleep 300 & echo $! > ${dir}/grandchild; wait' & echo go; wait`), ctx, stop.signal);
  for (let i = 0; i < 500 && !existsSync(join(dir, 'grandchild')); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  const grandchild = Number(readFileSync(join(dir, 'grandchild'), 'utf8'));
  t.ok(aliveNow(grandchild));
  stop.abort('cancel');
  const r = await running;
  valid(t, r);
  t.equal(r.state, 'cancelled');
  t.equal(r.signal, 'SIGTERM');
  t.match(r.message, /cancelled/);
  t.notOk(await stillAlive(grandchild), 'the grandchild was killed with the group');

  const down = new AbortController();
  const p = executeDispatch(scriptWork('echo up; sleep 300'), ctx, down.signal);
  setTimeout(() => down.abort('shutdown'), 200);
  const s = await p;
  t.equal(s.state, 'interrupted');
  t.match(s.message, /agent stopped/);
});

t.test('runs as the step user: uid, primary gid, no supplementary groups, its home', async (t) => {
  const why = noRaceUser();
  if (why) {
    t.comment(`skipped: ${why}`);
    t.pass('skipped');
    return;
  }
  const user = createRaceUser(t);
  const ctx = await jobCtx(t, tempDir(t));
  const r = await executeDispatch(scriptWork('id -u; id -g; id -G; echo "$HOME $USER"; . "$STEAD_LIB/stead.sh"; stead_result me "$(id -un)"', { user: user.name }), ctx, never);
  valid(t, r);
  t.equal(r.state, 'succeeded', r.stderr);
  t.same(r.stdout.split('\n').slice(0, 3), [String(user.uid), String(user.gid), String(user.gid)], 'uid, gid, and only the primary group');
  t.match(r.stdout.split('\n')[3], new RegExp(` ${user.name}$`));
  t.same(r.results, { me: user.name });
  const py = await executeDispatch(scriptWork('import os, stead\nstead.result("uid", os.getuid())', { user: user.name, lang: 'python' }), ctx, never);
  t.same(py.results, { uid: String(user.uid) }, py.stderr);
  // The script file is the user's own, read-only, in the agent's private dir.
  const peek = await executeDispatch(scriptWork('stat -L -c "%u %a" /dev/fd/4; ls ' + ctx.tmpDir + ' 2>&1 || echo denied', { user: user.name }), ctx, never);
  t.match(peek.stdout, new RegExp(`^${user.uid} 400\\n`));
  t.match(peek.stdout, /denied|Permission denied/);
  t.equal(statSync(ctx.tmpDir).mode & 0o777, 0o700);
});

t.test('a missing interpreter fails the dispatch with a message', async (t) => {
  const ctx = await jobCtx(t, tempDir(t));
  const r = await executeDispatch(scriptWork('print(1)', { lang: 'python', env: { PATH: '/nonexistent' } }), ctx, never);
  valid(t, r);
  t.equal(r.state, 'failed');
  t.match(r.message, /cannot run python3/);
});
