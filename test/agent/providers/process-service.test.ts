import { join } from 'node:path';
import t from 'tap';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createProcessServiceProvider, parsePidfile } from '../../../agent/providers/process-service.js';
import { allProcesses, cmdlineToArgs, isForeign, parseProcStat, processesByPid, processMatcher } from '../../../agent/providers/process-table.js';
import type { ServiceResource } from '../../../schemas/resources/service.js';
import { osContext } from '../../helpers/os-context.js';
import { killMatching, pidsMatching, uniqueMarker } from '../../helpers/os-processes.js';

t.test('/proc parsing: stat with odd command names, cmdline; zombies, kernel threads, PID 1 and the agent\'s group left out', async (t) => {
  t.same(parseProcStat('1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 0 0'), { state: 'S', pgid: 1234 });
  t.same(parseProcStat('77 (sh) Z 1 70 70 0'), { state: 'Z', pgid: 70 });
  t.equal(parseProcStat('garbage'), undefined);
  t.equal(cmdlineToArgs(Buffer.from('/bin/sh\0-c\0sleep 5 # x\0')), '/bin/sh -c sleep 5 # x');
  const proc = t.testdir({
    '12': { stat: '12 (sh) S 1 12 12 0', cmdline: '/bin/sh\0-c\0loop\0' },
    '13': { stat: '13 (sh) Z 12 12 12 0', cmdline: '' },
    '14': { stat: '14 (kthreadd) S 2 0 0 0', cmdline: '' },
    '15': { stat: '15 (sleep) S 12 12 12 0', cmdline: 'sleep\x001\0' },
    '1': { stat: '1 (init) S 0 1 1 0', cmdline: '/sbin/init\0' },
    '20': { stat: '20 (node) S 1 20 20 0', cmdline: 'node agent.js\0' },
    self: { stat: '20 (node) S 1 20 20 0' },
    meminfo: 'x',
  });
  t.same(await allProcesses(proc), [
    { pid: 12, pgid: 12, state: 'S', args: '/bin/sh -c loop' },
    { pid: 15, pgid: 12, state: 'S', args: 'sleep 1' },
  ]);
  t.notOk(isForeign({ pid: 1, pgid: 1, state: 'S', args: 'init' }, 5, 5), 'PID 1 is never a service');
  t.notOk(isForeign({ pid: 30, pgid: 5, state: 'S', args: 'x' }, 5, 5), 'the agent\'s own group is never a service');
  t.ok(isForeign({ pid: 30, pgid: 30, state: 'S', args: 'x' }, 5, 5));
  t.same(await processesByPid([13, 15, 99], proc), [{ pid: 15, pgid: 12, state: 'S', args: 'sleep 1' }], 'zombies and missing pids are not live');
});

t.test('parsePidfile', async (t) => {
  t.equal(parsePidfile('1234\n'), 1234);
  t.equal(parsePidfile(' 77 '), 77);
  for (const bad of ['', 'abc', '12 13', '-5', '1', '0']) t.equal(parsePidfile(bad), undefined, JSON.stringify(bad));
});

t.test('processMatcher', async (t) => {
  const byStart = processMatcher(undefined, `node -e "setInterval(()=>{},1000)"`);
  t.ok(byStart?.('node -e setInterval(()=>{},1000)'), 'matches the argv /bin/sh executed (quotes gone)');
  t.ok(byStart?.('/bin/sh -c node -e "setInterval(()=>{},1000)"'), 'matches the shell wrapper');
  t.notOk(byStart?.('node -e other'));
  const byPattern = processMatcher('^nginx: master', 'ignored');
  t.ok(byPattern?.('nginx: master process /usr/sbin/nginx'));
  t.notOk(byPattern?.('/bin/sh -c nginx: master'));
  t.equal(processMatcher(undefined, undefined), undefined);
});

t.test('stop escalates to SIGKILL when the stop signal is ignored; the whole group goes', async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const marker = uniqueMarker();
  t.teardown(() => killMatching(marker));
  const ctx = osContext(createNodeHost({ root: join(dir, 'root') }), join(dir, 'state'));
  const p = createProcessServiceProvider({ graceMs: 500 });
  // The loop and its `sleep` children ignore SIGTERM (an ignored signal survives exec).
  const d: ServiceResource = { type: 'service', name: 'stubborn', pattern: marker, start: `trap "" TERM; while :; do sleep 1; done # ${marker}` };
  await p.start(d, ctx);
  t.equal((await p.status(d, ctx)).running, true);
  await p.stop(d, ctx);
  t.equal((await p.status(d, ctx)).running, false);
  t.same(pidsMatching(marker), []);
  t.ok(ctx.logs.some((l) => l.message.includes('SIGKILL')), 'the escalation is logged');
});

t.test('stopsignal is sent instead of SIGTERM', async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const marker = uniqueMarker();
  t.teardown(() => killMatching(marker));
  const ctx = osContext(createNodeHost({ root: join(dir, 'root') }), join(dir, 'state'));
  const p = createProcessServiceProvider({ graceMs: 60_000 });
  // Ignores TERM, exits on INT: only the right signal stops it within the (long) grace period.
  const d: ServiceResource = { type: 'service', name: 'int', pattern: marker, stopsignal: 'SIGINT', start: `trap "" TERM; trap "exit 0" INT; while :; do sleep 1; done # ${marker}` };
  await p.start(d, ctx);
  await p.stop(d, ctx);
  t.same(pidsMatching(marker), []);
  t.notOk(ctx.logs.some((l) => l.message.includes('SIGKILL')), 'no escalation was needed');
});

t.test('a service that never shows up fails with TIMEOUT; an abort ends the wait', async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const ctx = osContext(createNodeHost({ root: join(dir, 'root') }), join(dir, 'state'));
  const marker = uniqueMarker();
  const p = createProcessServiceProvider({ settleMs: 300 });
  // The start command does not carry the marker, so nothing can ever match (deterministic).
  await t.rejects(p.start({ type: 'service', name: 'quick', pattern: marker, start: 'true' }, ctx), { code: 'TIMEOUT' });
  const ac = new AbortController();
  const slow = createProcessServiceProvider({ settleMs: 3_600_000 });
  const actx = osContext(ctx.host, join(dir, 'state'), ac.signal);
  const pending = slow.start({ type: 'service', name: 'never', pattern: marker, start: 'true' }, actx);
  setTimeout(() => ac.abort(), 200);
  await t.rejects(pending, { name: 'AbortError' });
});

t.test('no start command: start is refused; enable is not supported', async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const ctx = osContext(createNodeHost({ root: join(dir, 'root') }), join(dir, 'state'));
  const p = createProcessServiceProvider();
  await t.rejects(p.start({ type: 'service', name: 'x', pattern: 'x' }, ctx), { code: 'UNSUPPORTED' });
  await t.rejects(p.setEnabled({ type: 'service', name: 'x' }, true, ctx), { code: 'UNSUPPORTED' });
  await t.rejects(p.status({ type: 'service', name: 'x' }, ctx), { code: 'UNSUPPORTED' });
});
