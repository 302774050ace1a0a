import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { executeDispatch } from '../../../agent/jobs/job-executor.js';
import { compileGuard, jobProtocolSchemas, jobResultSchema, registerSchemas, type Guard, type JobResult, type JobWork } from '../../../schemas/index.js';
import { jobCtx, tempDir } from './job-fixtures.js';

registerSchemas(jobProtocolSchemas);
const isResult: Guard<JobResult> = compileGuard(jobResultSchema);
const never = new AbortController().signal;

const ref = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function filesWork(files: NonNullable<JobWork['files']>, noop = false, blobs?: Record<string, number>): JobWork {
  return { id: 'f1.1.web-1', jobId: 'f1', step: 1, kind: 'files', noop, timeoutSeconds: 60, files, ...(blobs ? { blobs } : {}) };
}

t.test('files: in-sync without fetching, changed with a diff, would-change in a dry run, failures isolated', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  const same = Buffer.from('same\n');
  const next = Buffer.from('line 1\nline two\n');
  writeFileSync(join(root, 'etc/same.conf'), same, { mode: 0o644 });
  writeFileSync(join(root, 'etc/app.conf'), 'line 1\nline 2\n', { mode: 0o644 });
  const fetched: string[] = [];
  const store = new Map([[ref(next).slice(7), next]]);
  const ctx = await jobCtx(t, dir, {
    root,
    fetchBlob: async (sha) => {
      fetched.push(sha);
      const b = store.get(sha);
      if (!b) throw new Error(`404 ${sha}`);
      return b;
    },
  });
  const files: NonNullable<JobWork['files']> = [
    { path: '/etc/same.conf', source: ref(same), mode: '0644' },
    { path: '/etc/app.conf', source: ref(next), mode: '0640' },
    { path: '/etc/missing-dir/x.conf', source: ref(next) },
    { path: '/etc/gone.conf', source: ref(Buffer.from('not on the server')) },
  ];

  const dry = await executeDispatch(filesWork(files, true), ctx, never);
  t.same(isResult.check(dry), []);
  t.equal(dry.state, 'failed', 'a file that cannot be had fails the step');
  t.same(dry.files?.map((f) => f.outcome), ['in-sync', 'would-change', 'would-change', 'failed']);
  t.match(dry.files?.[1]?.diff, /-line 2\n\+line two\n/);
  t.equal(readFileSync(join(root, 'etc/app.conf'), 'utf8'), 'line 1\nline 2\n', 'a dry run writes nothing');
  t.notOk(fetched.includes(ref(same).slice(7)), 'the blob of an in-sync file is never fetched');

  fetched.length = 0;
  const real = await executeDispatch(filesWork(files.slice(0, 2)), ctx, never);
  t.same(isResult.check(real), []);
  t.equal(real.state, 'succeeded');
  t.equal(real.exitCode, null);
  t.same(real.files?.map((f) => f.outcome), ['in-sync', 'changed']);
  t.match(real.files?.[1]?.diff, /\+line two/);
  t.equal(readFileSync(join(root, 'etc/app.conf'), 'utf8'), 'line 1\nline two\n');
  t.equal(statSync(join(root, 'etc/app.conf')).mode & 0o777, 0o640);
  t.same(fetched, [], 'the blob fetched by the dry run came from the cache');

  const again = await executeDispatch(filesWork(files.slice(0, 2)), ctx, never);
  t.same(again.files?.map((f) => f.outcome), ['in-sync', 'in-sync']);

  const failed = await executeDispatch(filesWork(files.slice(2)), ctx, never);
  t.equal(failed.state, 'failed');
  t.same(failed.files?.map((f) => f.outcome), ['failed', 'failed']);
  t.match(failed.message, /2 of 2 files failed/);
  t.ok(failed.files?.every((f) => typeof f.message === 'string' && f.message.length > 0));
  t.notOk(existsSync(join(root, 'etc/missing-dir')));

  const invalid = await executeDispatch(filesWork([{ path: '/etc/x', source: 'sha256:zz' as `sha256:${string}` }]), ctx, never);
  t.equal(invalid.files?.[0]?.outcome, 'failed');
});

t.test('files: a big blob gets no diff; a long diff is cut; a stop ends the step', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  mkdirSync(join(root, 'srv'), { recursive: true });
  const long = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i}`).join('\n'));
  const store = new Map([[ref(long).slice(7), long]]);
  const ctx = await jobCtx(t, dir, { root, fetchBlob: async (sha) => store.get(sha)! });
  const dry = await executeDispatch(filesWork([{ path: '/srv/long.txt', source: ref(long) }], true), ctx, never);
  t.equal(dry.files?.[0]?.outcome, 'would-change');
  t.ok((dry.files?.[0]?.diff?.length ?? 0) < 70 * 1024);
  t.match(dry.files?.[0]?.diff, /…\[stead: diff cut at 65536 characters\]…\n$/);
  const big = await executeDispatch(filesWork([{ path: '/srv/big.bin', source: ref(long) }], true, { [ref(long)]: 5 * 1024 * 1024 }), ctx, never);
  t.equal(big.files?.[0]?.outcome, 'would-change');
  t.notOk(big.files?.[0]?.diff, 'no diff for a blob too big to diff');

  const stop = new AbortController();
  stop.abort('cancel');
  const cancelled = await executeDispatch(filesWork([{ path: '/srv/a', source: ref(long) }]), ctx, stop.signal);
  t.equal(cancelled.state, 'cancelled');
  t.same(cancelled.files, []);
  const down = new AbortController();
  down.abort('shutdown');
  const interrupted = await executeDispatch(filesWork([{ path: '/srv/a', source: ref(long) }]), ctx, down.signal);
  t.equal(interrupted.state, 'interrupted');
});
