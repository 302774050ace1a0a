/**
 * What the operator commands send: the request bodies built from their arguments (job run,
 * schedule create, script add, plan run), the argument checks, and how an error answer becomes
 * a message and an exit code.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { launchBody } from '../../../cli/commands/job.js';
import { planRunRequest, run as planRun } from '../../../cli/commands/plan.js';
import { lastRun, scheduleBody } from '../../../cli/commands/schedule.js';
import { scriptBody } from '../../../cli/commands/script.js';
import { UsageError, type CliIo } from '../../../cli/io.js';
import { keyValues, oneId, readScript, seconds } from '../../../cli/operator/args.js';
import { auditFinding, errorFromResponse, oneLine } from '../../../cli/operator/client.js';
import { operatorExitCodes } from '../../../cli/operator/errors.js';

const io = (cwd: string): CliIo => ({ stdout: new PassThrough(), stderr: new PassThrough(), cwd, env: {} });

t.test('job run: the one-script launch body', async (t) => {
  const dir = t.testdir({ 'backup.py': 'print("hi")\n', 'x.sh': 'echo $1\n' });
  const a = await launchBody(['--targets', 'host:db-1', '--script', 'backup.py', '--as', 'backup', '--param', 'DAYS=7', '--param', 'DIR=/srv/a=b', '--timeout', '600', '--dry-run', '--wait'], io(dir));
  t.not(a, 'help');
  if (a === 'help') return;
  t.same(a.body, { targets: 'host:db-1', script: { lang: 'python', source: 'print("hi")\n', params: { DAYS: '7', DIR: '/srv/a=b' }, account: 'backup' }, timeoutSeconds: 600, dryRun: true });
  t.equal(a.wait, true);
  const b = await launchBody(['--targets', 'group:web', '--command', 'uptime'], io(dir));
  t.same(b !== 'help' && b.body, { targets: 'group:web', script: { lang: 'shell', source: 'uptime' } });
  const c = await launchBody(['--targets', 'group:web', '--script', 'x.sh', '--lang', 'python'], io(dir));
  t.equal(c !== 'help' && (c.body['script'] as { lang: string }).lang, 'python', '--lang wins over the extension');
  t.equal(await launchBody(['--help'], io(dir)), 'help');
  for (const [args, message] of [
    [['--command', 'id'], /--targets SEL is required/],
    [['--targets', 'g:x'], /one of --command CMD or --script FILE/],
    [['--targets', 'g:x', '--command', 'id', '--script', 'x.sh'], /one of --command CMD or --script FILE/],
    [['--targets', 'g:x', '--command', ' '], /--command is empty/],
    [['--targets', 'g:x', '--command', 'id', '--lang', 'perl'], /--lang must be shell or python/],
    [['--targets', 'g:x', '--command', 'id', '--timeout', '1.5'], /--timeout must be a whole number/],
    [['--targets', 'g:x', '--command', 'id', '--param', 'NOEQUALS'], /--param takes NAME=VALUE/],
    [['--targets', 'g:x', '--command', 'id', '--param', 'A=1', '--param', 'A=2'], /--param A is given twice/],
    [['--targets', 'g:x', '--command', 'id', '--as', ''], /--as takes an account name/],
    [['--targets', 'g:x', '--script', 'missing.sh'], /cannot read the script missing.sh: ENOENT/],
    [['--targets', 'g:x', '--command', 'id', 'extra'], /unexpected argument "extra"/],
    [['--targets', 'g:x', '--command', 'id', '--nope'], /Unknown option '--nope'/],
  ] as const) {
    await t.rejects(launchBody([...args], io(dir)), { name: 'UsageError', message }, args.join(' '));
  }
});

t.test('K=V options and ids are checked', async (t) => {
  t.same(keyValues('--var', ['A=1', 'b_2=x=y', 'E=']), { A: '1', b_2: 'x=y', E: '' });
  t.same(keyValues('--param', ['NAME'], { valueOptional: true }), { NAME: '' });
  for (const bad of ['__proto__=1', 'constructor=1', '1A=x', 'a-b=1', 'a.b=1', '=1']) t.throws(() => keyValues('--var', [bad]), UsageError, bad);
  t.throws(() => keyValues('--var', [`A=${'x'.repeat(70_000)}`]), /longer than 65536 bytes/);
  t.throws(() => keyValues('--var', Array.from({ length: 201 }, (_, i) => `A${i}=1`)), /at most 200/);
  t.equal(Object.getPrototypeOf(keyValues('--var', ['A=1'])), Object.prototype);
  t.equal(oneId('job ID', ['j0mwx_1-a']), 'j0mwx_1-a');
  t.throws(() => oneId('job ID', []), /job ID is required/);
  t.throws(() => oneId('job ID', ['a', 'b']), /one job ID only/);
  for (const bad of ['../x', 'a/b', '%2e', 'a b', '']) t.throws(() => oneId('job ID', [bad]), /is not a valid job ID/, bad);
  t.equal(seconds('--timeout', undefined, 1, 10), undefined);
  t.throws(() => seconds('--timeout', '0', 1, 10), /from 1 to 10/);
});

t.test('a script file: regular, at most 1 MiB, UTF-8', async (t) => {
  const dir = t.testdir({ 'ok.sh': 'echo é\n', 'latin1.sh': Buffer.from([0x65, 0xe9, 0x0a]) as unknown as string, d: {} });
  writeFileSync(join(dir, 'big.sh'), Buffer.alloc(1024 * 1024 + 1, 0x61));
  t.equal(await readScript(dir, 'ok.sh'), 'echo é\n');
  await t.rejects(readScript(dir, 'latin1.sh'), /not UTF-8 text/);
  await t.rejects(readScript(dir, 'big.sh'), /larger than 1024 KiB/);
  await t.rejects(readScript(dir, 'd'), /not a regular file/);
});

t.test('schedule create: name, when (cron or words, zone), what', async (t) => {
  const dir = t.testdir({ 'backup.sh': 'tar czf /backup/db.tgz /var/lib/db\n', 'empty.sh': '\n' });
  const a = await scheduleBody(['--name', 'nightly-backup', '--at', 'every day at 03:30', '--tz', 'Europe/Berlin', '--targets', 'group:db', '--script', 'backup.sh'], io(dir));
  t.same(a !== 'help' && a.body, { name: 'nightly-backup', spec: { text: 'every day at 03:30', tz: 'Europe/Berlin' }, job: { targets: 'group:db', script: { lang: 'shell', source: 'tar czf /backup/db.tgz /var/lib/db\n' } } });
  const b = await scheduleBody(['--name', 'hourly-check', '--cron', '0 * * * *', '--targets', 'group:web', '--command', 'curl -fsS localhost/health'], io(dir));
  t.same(b !== 'help' && b.body, { name: 'hourly-check', spec: { cron: '0 * * * *' }, job: { targets: 'group:web', script: { lang: 'shell', source: 'curl -fsS localhost/health' } } });
  const c = await scheduleBody(['--name', 'rr', '--cron', '@daily', '--targets', 'group:web', '--plan', 'rolling-restart'], io(dir));
  t.same(c !== 'help' && c.body, { name: 'rr', spec: { cron: '@daily' }, plan: { id: 'rolling-restart', body: { targets: 'group:web' } } });
  t.equal(await scheduleBody(['-h'], io(dir)), 'help');
  const base = ['--name', 'n', '--targets', 'g:x'];
  for (const [args, message] of [
    [['--cron', '* * * * *', '--targets', 'g:x', '--command', 'id'], /--name N is required/],
    [[...base, '--command', 'id'], /one of --cron EXPR or --at TEXT/],
    [[...base, '--command', 'id', '--cron', 'x', '--at', 'y'], /one of --cron EXPR or --at TEXT/],
    [['--name', 'n', '--cron', 'x', '--command', 'id'], /--targets SEL is required/],
    [[...base, '--cron', 'x'], /one of --command CMD, --script FILE or --plan P/],
    [[...base, '--cron', 'x', '--command', 'id', '--plan', 'p'], /one of --command CMD, --script FILE or --plan P/],
    [[...base, '--cron', 'x', '--plan', 'p', '--lang', 'shell'], /--lang applies to --command and --script/],
    [[...base, '--cron', 'x', '--script', 'empty.sh'], /the script is empty/],
  ] as const) {
    await t.rejects(scheduleBody([...args], io(dir)), { name: 'UsageError', message }, args.join(' '));
  }
});

t.test('script add: name from the file, language, tags, declared parameters', async (t) => {
  const dir = t.testdir({ 'rotate-logs.sh': 'find /var/log -mtime +"$DAYS" -delete\n', 'check.py': 'print(1)\n', 'empty.sh': '  \n' });
  const a = await scriptBody(['rotate-logs.sh', '--tag', 'logs', '--param', 'DAYS=7', '--param', 'DIR'], io(dir));
  t.same(a !== 'help' && a.body, { name: 'rotate-logs', lang: 'shell', source: 'find /var/log -mtime +"$DAYS" -delete\n', tags: ['logs'], params: [{ name: 'DAYS', default: '7' }, { name: 'DIR' }] });
  const b = await scriptBody(['check.py', '--name', 'Disk check'], io(dir));
  t.same(b !== 'help' && b.body, { name: 'Disk check', lang: 'python', source: 'print(1)\n' });
  await t.rejects(scriptBody([], io(dir)), /one script FILE is required/);
  await t.rejects(scriptBody(['empty.sh'], io(dir)), /is empty/);
  await t.rejects(scriptBody(['check.py', '--tag', 'a', '--tag', 'a'], io(dir)), /a --tag is given twice/);
  t.equal(await scriptBody(['--help'], io(dir)), 'help');
});

t.test('plan run: the plan, targets, variables; any other first word is a manifest directory', async (t) => {
  const r = planRunRequest(['rolling-restart', '--targets', 'group:web', '--var', 'BATCH=2', '--wait']);
  t.same(r !== 'help' && [r.id, r.body, r.wait], ['rolling-restart', { targets: 'group:web', vars: { BATCH: '2' } }, true]);
  const bare = planRunRequest(['nightly']);
  t.same(bare !== 'help' && bare.body, {});
  t.throws(() => planRunRequest([]), /plan NAME is required/);
  t.throws(() => planRunRequest(['p', '--targets', '']), /--targets is empty/);
  const dir = t.testdir({ empty: {} });
  await t.rejects(planRun(['no-such-dir/'], io(dir)), { name: 'UsageError', message: /cannot read the manifest directory no-such-dir\/: ENOENT/ });
  await t.rejects(planRun(['constructor'], io(dir)), /cannot read the manifest directory constructor/, 'not an inherited property: a directory');
  await t.rejects(planRun(['empty'], io(dir)), /empty holds no files/);
  await t.rejects(planRun(['a', 'b'], io(dir)), /takes one directory, got 2/);
});

const res = (status: number, body: unknown) => ({ status, headers: {}, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });
const conn = { server: new URL('https://stead.example:8140'), tokenSource: '--token-file t' };
const err = (code: string, message: string, details?: unknown) => ({ error: { code, message, requestId: 'r1', ...(details !== undefined ? { details } : {}) } });

t.test('an error answer becomes one line and an exit code', async (t) => {
  const audit = errorFromResponse(res(400, err('BAD_REQUEST', 'the safety audit blocks step 0', { audit: [{ step: 0, verdict: 'block', findings: [{ rule: 'curl-pipe-sh', mode: 'scan', line: 1, message: 'pipes a download into sh' }, { rule: 'rm-root', mode: 'block', line: 4, column: 1, message: 'removes\nthe root' }] }] })), 'POST', '/jobs', conn);
  t.equal(audit.message, 'refused by the safety audit: rule rm-root at line 4: removes the root', 'the blocking finding, on one line');
  t.equal(audit.exitCode, operatorExitCodes.refused);
  t.equal(audit.requestId, 'r1');
  t.match(errorFromResponse(res(401, err('UNAUTHENTICATED', 'unknown token')), 'GET', '/jobs', conn), { exitCode: operatorExitCodes.auth, message: 'the server refused the token from --token-file t: unknown token' });
  t.match(errorFromResponse(res(403, err('FORBIDDEN', 'needs admin')), 'POST', '/jobs', conn), { exitCode: operatorExitCodes.auth, message: 'not allowed: needs admin' });
  t.match(errorFromResponse(res(404, err('NOT_FOUND', 'no route for GET /api/v1/schedules')), 'GET', '/schedules?x=1', conn), { exitCode: operatorExitCodes.refused, message: 'the server at https://stead.example:8140 has no GET /api/v1/schedules: is it an older Stead?' });
  t.match(errorFromResponse(res(409, err('CONFLICT', 'taken')), 'POST', '/scripts', conn), { exitCode: operatorExitCodes.refused, message: 'CONFLICT: taken', code: 'CONFLICT', status: 409 });
  t.match(errorFromResponse(res(503, err('SERVER_BUSY', 'later')), 'POST', '/jobs?a', conn), { exitCode: operatorExitCodes.unavailable, message: 'the server failed on POST /jobs: SERVER_BUSY: later (request r1)' });
  t.match(errorFromResponse(res(502, '<html>bad gateway</html>'), 'GET', '/jobs', conn), { exitCode: operatorExitCodes.unavailable, code: 'HTTP_502', message: /HTTP_502: HTTP 502/ });
  t.match(errorFromResponse(res(400, { error: 'not our shape' }), 'GET', '/jobs', conn), { code: 'HTTP_400', message: 'HTTP_400: HTTP 400' });
  t.match(errorFromResponse(res(400, err('AUDIT_BLOCKED', 'blocked')), 'POST', '/jobs', conn), { message: 'refused by the safety audit: rule AUDIT_BLOCKED: blocked' }, 'an audit code without findings');
  t.equal(auditFinding('BAD_REQUEST', { problems: [{ path: '/x', message: 'y' }] }), undefined, 'a schema refusal is not an audit refusal');
  t.same(auditFinding('X', { findings: [{ rule: 'r', line: 'two' }] }), { rule: 'r' }, 'a line that is not a number is left out');
  t.equal(oneLine(`a\r\nb\u001b[2J${'x'.repeat(600)}`).length, 500);
  t.match(oneLine('a\r\nb\u001b[2J'), 'a b\\x1b[2J');
});

t.test('stead job|schedule|script|plan: no action prints usage (64); unknown actions are usage errors', async (t) => {
  for (const name of ['job', 'schedule', 'script', 'plan']) {
    const mod = (await import(`../../../cli/commands/${name}.js`)) as { run(a: string[], io: CliIo): Promise<number> };
    const stderr = new PassThrough();
    t.equal(await mod.run([], { stdout: new PassThrough(), stderr, cwd: '/', env: {} }), 64, name);
    t.match(String(stderr.read()), new RegExp(`^Usage: stead ${name}`));
    if (name !== 'plan') await t.rejects(mod.run(['frob'], io('/')), { name: 'UsageError', message: /unknown action "frob"/ });
  }
});

t.test('every action answers --help with the command\'s usage; a schedule\'s last run in words', async (t) => {
  for (const [name, actions] of [['job', ['run', 'redo', 'show', 'list', 'cancel']], ['schedule', ['create', 'list', 'delete']], ['script', ['add', 'list', 'show']], ['plan', ['run']]] as const) {
    const mod = (await import(`../../../cli/commands/${name}.js`)) as { run(a: string[], io: CliIo): Promise<number> };
    for (const action of actions) {
      const stdout = new PassThrough();
      t.equal(await mod.run([action, '--help'], { stdout, stderr: new PassThrough(), cwd: '/', env: {} }), 0, `${name} ${action} --help`);
      t.match(String(stdout.read()), new RegExp(`^Usage: stead ${name}`));
    }
  }
  t.equal(lastRun({ jobId: 'j1', jobState: 'succeeded' }), 'j1 succeeded');
  t.equal(lastRun({ jobId: 'j1' }), 'j1');
  t.equal(lastRun({ error: 'no host matched' }), 'error: no host matched');
  t.equal(lastRun({}), undefined);
  t.equal(lastRun(undefined), undefined);
});
