/**
 * Local script steps (server/services/jobs/local-run.ts) with real processes: exit codes,
 * arguments and environment as data, no server environment leaking, output bounds with the
 * visible marker, timeout and abort killing the whole process group (a background child
 * included), a script's own end taking its leftovers with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { localOutputLimit, runLocal, truncationMarker } from '../../../../server/services/jobs/local-run.js';
import { ManualClock } from '../../../../server/domain/clock.js';

const never = new AbortController().signal;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until `pid` is gone; resolves whether it went. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

t.test('shell: exit 0 succeeds, output captured, args and env stay data', async (t) => {
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const marker = join(t.testdir(), 'pwn');
  const r = await runLocal({ lang: 'shell', source: 'printf "%s|" "$@"; echo "[$GREETING]"; echo oops >&2', args: ['a b', `$(touch ${marker})`, ';touch x', '-n'], env: { GREETING: '`id`' } }, 10, never, clock);
  t.equal(r.state, 'succeeded');
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, `a b|$(touch ${marker})|;touch x|-n|[\`id\`]\n`);
  t.equal(r.stderr, 'oops\n');
  t.notOk(existsSync(marker), 'no argument was run');
  t.equal(r.startedAt, '2026-12-01T00:00:00.000Z');
  t.equal(r.message, undefined);
});

t.test('a non-zero exit fails with its code; python runs too', async (t) => {
  const r = await runLocal({ lang: 'shell', source: 'exit 3' }, 10, never);
  t.same([r.state, r.exitCode, r.message], ['failed', 3, 'exited with code 3']);
  const py = await runLocal({ lang: 'python', source: 'import sys\nprint(sys.argv[1:])\nsys.exit(0)\n', args: ['x'] }, 10, never);
  t.same([py.state, py.stdout], ['succeeded', "['x']\n"]);
});

t.test('the environment is built from scratch: nothing of the server leaks', async (t) => {
  process.env['STEAD_TEST_CANARY'] = 'canary-9f2c';
  t.teardown(() => delete process.env['STEAD_TEST_CANARY']);
  const r = await runLocal({ lang: 'shell', source: 'env; pwd' }, 10, never);
  t.notMatch(r.stdout, /canary-9f2c/);
  t.match(r.stdout, /^STEAD_LOCAL=1$/m);
  t.match(r.stdout, /^\/$/m, 'runs in /');
});

t.test('output beyond the bound is cut with a visible marker and counted', async (t) => {
  const extra = 5000;
  const total = localOutputLimit + extra;
  const r = await runLocal({ lang: 'python', source: `import sys\nsys.stdout.write('x' * ${total})\nsys.stderr.write('e' * 10)\n` }, 30, never);
  t.equal(r.state, 'succeeded');
  t.equal(r.stdoutTruncated, true);
  t.equal(r.stderrTruncated, undefined);
  t.ok(r.stdout.endsWith(truncationMarker(extra)), 'ends with the marker naming the dropped bytes');
  t.equal(r.stdout.length, localOutputLimit + truncationMarker(extra).length);
  t.ok(r.stdout.length <= 1048576, 'fits the JobResult schema');
  t.equal(r.stderr, 'eeeeeeeeee');
});

t.test('timeout kills the whole process group, background children included', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'bg.pid');
  const r = await runLocal({ lang: 'shell', source: `sleep 300 & echo $! > ${pidFile}; echo started; wait` }, 1, never);
  t.equal(r.state, 'timeout');
  t.equal(r.exitCode, null);
  t.equal(r.signal, 'SIGKILL');
  t.match(r.message, /timed out after 1 s; its process group was killed/);
  t.equal(r.stdout, 'started\n');
  const bg = Number(readFileSync(pidFile, 'utf8'));
  t.ok(await gone(bg), `the background sleep ${bg} is gone`);
});

t.test('abort cancels and kills the group; an aborted signal starts nothing', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'bg.pid');
  const ac = new AbortController();
  const p = runLocal({ lang: 'shell', source: `sleep 300 & echo $! > ${pidFile}; wait` }, 600, ac.signal);
  for (let i = 0; i < 250 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  const r = await p;
  t.equal(r.state, 'cancelled');
  t.match(r.message, /cancelled/);
  const bg = Number(readFileSync(pidFile, 'utf8'));
  t.ok(await gone(bg), 'the background sleep is gone');
  const again = await runLocal({ lang: 'shell', source: 'echo never' }, 10, ac.signal);
  t.same([again.state, again.stdout], ['cancelled', '']);
});

t.test('a script that ends leaves nothing running behind it', async (t) => {
  const pidFile = join(t.testdir(), 'bg.pid');
  // The background child does not hold the pipes: the script ends at once, and the group goes.
  const r = await runLocal({ lang: 'shell', source: `sleep 300 >/dev/null 2>&1 & echo $! > ${pidFile}; exit 0` }, 30, never);
  t.equal(r.state, 'succeeded');
  t.ok(await gone(Number(readFileSync(pidFile, 'utf8'))), 'the leftover is killed');
});

t.test('a script killed by a signal fails with the signal', async (t) => {
  const r = await runLocal({ lang: 'shell', source: 'kill -TERM $$' }, 10, never);
  t.same([r.state, r.exitCode, r.signal, r.message], ['failed', null, 'SIGTERM', 'killed by SIGTERM']);
});

t.test('invalid input is refused before anything runs', async (t) => {
  const cases: [Parameters<typeof runLocal>[0], number, RegExp][] = [
    [{ lang: 'ruby' as 'shell', source: '' }, 10, /unknown script language/],
    [{ lang: 'shell', source: 'x'.repeat(1024 * 1024 + 1) }, 10, /at most 1 MiB/],
    [{ lang: 'shell', source: 'true' }, 0, /timeoutSeconds must be an integer/],
    [{ lang: 'shell', source: 'true' }, 1.5, /timeoutSeconds must be an integer/],
    [{ lang: 'shell', source: 'true', args: ['a\0b'] }, 10, /without NUL/],
    [{ lang: 'shell', source: 'true', env: { 'BAD-NAME': 'x' } }, 10, /environment variable "BAD-NAME" is not valid/],
  ];
  for (const [script, timeout, re] of cases) {
    const r = await runLocal(script, timeout, never);
    t.equal(r.state, 'failed');
    t.match(r.message, re);
  }
});
