/**
 * The scripts of service actions (server/services/software/service-scripts.ts): systemctl for a
 * systemd unit with the unit quoted, the tracked commands of a process service, the default stop
 * (SIGTERM to the processes matching the pattern) run for real with /bin/sh against a real
 * process, and the refusals.
 */
import { spawn, spawnSync } from 'node:child_process';
import t from 'tap';
import { patternRegex, serviceScript, shQuote } from '../../../../server/services/software/service-scripts.js';

t.test('systemd: systemctl ACTION -- UNIT, the unit single-quoted', async (t) => {
  t.match(serviceScript({ name: 'nginx', kind: 'systemd' }, 'restart'), /\nsystemctl restart -- 'nginx\.service'\n$/);
  t.match(serviceScript({ name: 'x', kind: 'systemd', unit: "odd'unit;rm -rf /" }, 'stop'), /systemctl stop -- 'odd'\\''unit;rm -rf \/'\n$/);
  t.equal(shQuote("a'b"), `'a'\\''b'`);
});

t.test('process: tracked commands; restart is stop, a pause, start; refusals', async (t) => {
  const svc = { name: 'worker', kind: 'process' as const, pattern: 'worker.py', start: '/opt/worker/start', stop: '/opt/worker/stop' };
  t.match(serviceScript(svc, 'start'), /\n\/opt\/worker\/start\n$/);
  t.match(serviceScript(svc, 'restart'), /\n\/opt\/worker\/stop\nsleep 1\n\/opt\/worker\/start\n$/);
  t.throws(() => serviceScript({ name: 'w', kind: 'process', pattern: 'w' }, 'start'), { code: 'BAD_REQUEST' }, 'no start command');
  t.equal(patternRegex('a.b(c)'), 'a\\.b\\(c\\)', 'a substring is escaped');
  t.equal(patternRegex('/^java .*Main$/'), '^java .*Main$', '/regex/ is kept');
});

const havePkill = spawnSync('pkill', ['--version']).status === 0;

t.test('the default stop really stops the matching process (and only it), and succeeds when none runs', { skip: havePkill ? false : 'pkill is not installed' }, async (t) => {
  const marker = `stead-svc-test-${process.pid}-${Date.now()}`;
  // A process whose command line holds the marker: sh -c 'exec sleep 300' with the marker as $0.
  const victim = spawn('sh', ['-c', 'exec sleep 300', marker], { stdio: 'ignore' });
  const bystander = spawn('sleep', ['301'], { stdio: 'ignore' });
  t.teardown(() => {
    victim.kill('SIGKILL');
    bystander.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 200));
  const script = serviceScript({ name: 'sleeper', kind: 'process', pattern: `sleep 300` }, 'stop');
  t.notOk(script.includes(marker));
  // Pattern matches "sleep 300" (the exec'd command line), not "sleep 301".
  const exited = new Promise<NodeJS.Signals | null>((r) => victim.on('exit', (_c, sig) => r(sig)));
  const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  t.equal(run.status, 0, run.stderr);
  t.equal(await exited, 'SIGTERM');
  t.equal(bystander.exitCode, null, 'the other process runs on');
  t.equal(bystander.signalCode, null);
  const again = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  t.equal(again.status, 0, 'nothing to stop is success');
});

t.test('the scripts pass the real safety audit (no block): an action is never refused for its own script', async (t) => {
  const { auditScriptSync } = await import('../../../../compiler/audit/audit-script.js');
  const services = [
    { name: 'nginx', kind: 'systemd' as const },
    { name: 'worker', kind: 'process' as const, pattern: '/^python3 .*worker\\.py$/', user: 'app', start: 'cd /opt/worker && nohup ./run >/dev/null 2>&1 &' },
  ];
  for (const svc of services) {
    for (const action of ['start', 'stop', 'restart'] as const) {
      const v = auditScriptSync({ lang: 'shell', source: serviceScript(svc, action) });
      t.not(v.verdict, 'block', `${svc.name} ${action}: ${JSON.stringify(v.findings)}`);
    }
  }
});
