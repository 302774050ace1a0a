import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import t from 'tap';
import { parseBootTime, parseStatFields, parseSystemctlShow, patternMatcher, processCollector, systemdCollector, systemdEntry } from '../../../agent/inventory/services.js';
import { inventoryEnv, trackingConfig } from '../../helpers/inventory-env.js';

// Output of `systemctl show -p Id,LoadState,ActiveState,SubState,Result,MainPID,ExecMainStartTimestampMonotonic,User,TasksCurrent -- nginx.service crashy.service nope.service idle.service`
// in systemd's format (blocks in the order asked, separated by an empty line; unset TasksCurrent is [not set]).
const FIXTURE = `Id=nginx.service
LoadState=loaded
ActiveState=active
SubState=running
Result=success
MainPID=812
ExecMainStartTimestampMonotonic=5123456
User=www-data
TasksCurrent=3

Id=crashy.service
LoadState=loaded
ActiveState=failed
SubState=failed
Result=exit-code
MainPID=0
ExecMainStartTimestampMonotonic=0
User=
TasksCurrent=[not set]

Id=nope.service
LoadState=not-found
ActiveState=inactive
SubState=dead
Result=success
MainPID=0
ExecMainStartTimestampMonotonic=0
User=
TasksCurrent=[not set]

Id=idle.service
LoadState=loaded
ActiveState=activating
SubState=auto-restart
Result=exit-code
MainPID=0
ExecMainStartTimestampMonotonic=0
User=
TasksCurrent=18446744073709551615
`;

t.test('systemctl show output becomes service entries', async (t) => {
  const blocks = parseSystemctlShow(FIXTURE);
  t.equal(blocks.length, 4);
  const m = { bootMs: Date.UTC(2026, 0, 1), uidOf: (pid: number) => (pid === 812 ? 33 : undefined), users: new Map([[33, 'www-data']]) };
  t.same(systemdEntry('nginx', blocks[0]!, m), { name: 'nginx', state: 'running', pid: 812, startedAt: new Date(Date.UTC(2026, 0, 1) + 5123).toISOString(), user: 'www-data', processes: 3 });
  t.same(systemdEntry('crashy', blocks[1]!, m), { name: 'crashy', state: 'failed', pid: null, startedAt: null, user: null, message: 'failed (failed): result exit-code' });
  t.same(systemdEntry('nope', blocks[2]!, m), { name: 'nope', state: 'unknown', pid: null, startedAt: null, user: null, message: 'no such unit on this host' });
  t.match(systemdEntry('idle', blocks[3]!, m), { name: 'idle', state: 'restarting', pid: null, message: 'activating (auto-restart)' });
  t.notOk('processes' in systemdEntry('idle', blocks[3]!, m), 'an unset task count is left out');
});

const systemdPid1 = readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
t.test('systemd collector, live', async (t) => {
  const out = await systemdCollector.collect(trackingConfig({ services: [{ name: 'stead-no-such-unit', kind: 'systemd' }] }), inventoryEnv(t.testdir()));
  if (!systemdPid1) {
    t.comment(`live systemd part skipped: PID 1 is ${readFileSync('/proc/1/comm', 'utf8').trim()}, not systemd; checking the failure path instead`);
    t.match(out.services, [{ name: 'stead-no-such-unit', state: 'unknown', pid: null }], 'every tracked service is still reported');
    t.match(out.errors, [{ source: 'systemd' }]);
    return;
  }
  t.same(out.errors ?? [], []);
  t.match(out.services, [{ name: 'stead-no-such-unit', state: 'unknown', message: 'no such unit on this host' }]);
});

t.test('stat and boot time parsing', async (t) => {
  t.same(parseStatFields('42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10'), { state: 'S', pgid: 42, startTicks: 98765 });
  t.equal(parseBootTime('cpu 1 2 3\nbtime 1700000000\nprocesses 5\n'), 1700000000);
  t.ok(patternMatcher('/^node .*marker-[0-9]+$/')('node x marker-12'));
  t.throws(() => patternMatcher('/(a+)+$/'), /nested quantifiers/);
  t.throws(() => patternMatcher('/(a)\\1/'), /backreferences/);
  t.ok(patternMatcher('plain text')('x plain text y'));
});

/** Start time of a pid computed from /proc the way the kernel defines it (not from wall-clock speed). */
function procStart(pid: number): number {
  const ticks = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
  const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  return btime * 1000 + (ticks * 1000) / 100;
}

t.test('process collector: real processes the test spawns, then a stopped one', async (t) => {
  const marker = `stead-inv-marker-${process.pid}-${Date.now()}`;
  const spawnOne = () => {
    const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', marker], { detached: true, stdio: 'ignore' });
    t.teardown(() => {
      try {
        process.kill(c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    });
    return c;
  };
  const first = spawnOne();
  await new Promise((r) => setTimeout(r, 300));
  const second = spawnOne();
  await new Promise((r) => setTimeout(r, 300));
  const me = os.userInfo().username;
  const config = trackingConfig({ services: [
    { name: 'marked', kind: 'process', pattern: marker },
    { name: 'marked-re', kind: 'process', pattern: `/ ${marker}$/`, user: me },
    { name: 'other-user', kind: 'process', pattern: marker, user: 'nobody' },
  ] });
  const out = await processCollector.collect(config, inventoryEnv(t.testdir()));
  t.same(out.errors, []);
  const marked = out.services?.find((s) => s.name === 'marked');
  t.equal(marked?.state, 'running');
  t.equal(marked?.pid, first.pid, 'the oldest match is the main pid');
  t.equal(marked?.processes, 2);
  t.equal(marked?.user, me, 'the real uid, named through /etc/passwd');
  const startMs = Date.parse(marked!.startedAt!);
  // /proc start time has a resolution of one clock tick (10 ms at CLK_TCK 100).
  t.ok(Math.abs(startMs - procStart(first.pid!)) <= 20, `started at ${marked?.startedAt}, /proc says ${new Date(procStart(first.pid!)).toISOString()}`);
  t.match(out.services?.find((s) => s.name === 'marked-re'), { state: 'running', pid: first.pid, processes: 2 });
  t.match(out.services?.find((s) => s.name === 'other-user'), { state: 'stopped', pid: null, processes: 0 }, 'the user filter applies');

  process.kill(first.pid!, 'SIGKILL');
  process.kill(second.pid!, 'SIGKILL');
  await Promise.all([first, second].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
  const after = await processCollector.collect(config, inventoryEnv(t.testdir()));
  t.same(after.services?.find((s) => s.name === 'marked'), { name: 'marked', state: 'stopped', pid: null, startedAt: null, user: null, processes: 0 });
});
