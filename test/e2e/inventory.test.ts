/**
 * The inventory, software and service tables end to end (issue 11, ADR 0018 §1–2, 5–7): a real
 * `stead server` and two real agent daemons, each confined to its own Debian root in which the
 * real apt installed packages built at test time into a local repository; real processes
 * started by the test.
 *
 * - Facts: what `stead hosts show H --json` shows is what this machine is (kernel, OS, memory);
 *   a recorded address the agent does not have is flagged as a mismatch.
 * - Packages: `stead packages --host H --json` matches `dpkg-query -W` in H's root, with the
 *   status dpkg's own ordering gives (`dpkg --compare-versions`): outdated, up to date, ahead,
 *   missing; `--name P` gives the fleet view.
 * - Services: `stead services --host H --json` matches /proc (pid, user, start time) for a
 *   process run as root and one run as nobody; killing a tracked process shows as drift, and
 *   `stead service stop` is not drift on the host it targeted.
 * - Lifecycle: `stead hosts set H lifecycle=maintenance` leaves H out of a job on every host
 *   (`group:all`) unless --include-inactive; each transition is recorded with who and when.
 * - Virtual resources: an operator collector script's database instance and a recorded child
 *   show on the host's page, also once the host is faulty.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildOnce, hasCommand, waitFor, type ServerProcess } from '../helpers/e2e-fleet.js';
import { aptInstall, collectOften, debRepository, dpkgInstalled, expectedStatus, getBody, inventoryRepository, must, prepareRoot, procView, startFleet, startSleeper, stead, waitShowing } from '../helpers/inventory-fleet.js';
import { aptUnavailable } from '../helpers/os-apt-repo.js';

await buildOnce();
const ready = await hasCommand('server');
const why = ready ? aptUnavailable() : 'the build has no `stead server` command';

const P = { alpha: 'stead-e2e-alpha', beta: 'stead-e2e-beta', gamma: 'stead-e2e-gamma', delta: 'stead-e2e-delta' } as const;
/** The approved version of each tracked package. */
const approved: Record<string, string> = { [P.alpha]: '1.2-1', [P.beta]: '2.0-1', [P.gamma]: '3.0-1', [P.delta]: '2.5-1' };
/** What each host's root gets installed (before the agents start). */
const installs: Record<string, string[]> = {
  'inv-a': [`${P.alpha}=1.0-1`, `${P.beta}=2.0~rc1-1`, `${P.delta}=2.6-1`],
  'inv-b': [`${P.alpha}=1.2-1`],
};
const hosts = Object.keys(installs);

type PackageRow = { host: string; name: string; manager: string; installed: string | null; arch?: string; approved?: string; status: string; reportedAt?: string };
type ServiceRow = { host: string; name: string; kind?: string; state: string; pid?: number | null; startedAt?: string | null; checkedAt?: string; user?: string | null; processes?: number; drift?: boolean };

async function apiRows<T>(server: ServerProcess, path: string, key: string): Promise<T[]> {
  const body = await getBody(server, path);
  if (body === undefined) throw new Error(`GET ${path} failed`);
  return body[key] as T[];
}

t.test('inventory, packages and services reported by real agents', { skip: why ?? false }, async (t) => {
  const dir = t.testdir({ debs: {} });
  const repo = debRepository(join(dir, 'debs'), [
    { name: P.alpha, version: '1.0-1', files: { 'usr/share/stead-e2e-alpha/VERSION': '1.0\n' } },
    { name: P.alpha, version: '1.2-1', files: { 'usr/share/stead-e2e-alpha/VERSION': '1.2\n' } },
    { name: P.beta, version: '2.0~rc1-1', files: { 'usr/share/stead-e2e-beta/VERSION': '2.0~rc1\n' } },
    { name: P.beta, version: '2.0-1', files: { 'usr/share/stead-e2e-beta/VERSION': '2.0\n' } },
    { name: P.gamma, version: '3.0-1', files: { 'usr/share/stead-e2e-gamma/VERSION': '3.0\n' } },
    { name: P.delta, version: '2.6-1', files: { 'usr/share/stead-e2e-delta/VERSION': '2.6\n' } },
  ]);
  for (const h of hosts) {
    const root = join(dir, h, 'root');
    prepareRoot(root, repo);
    aptInstall(root, installs[h]!);
  }
  const fleet = await startFleet(t, dir, hosts, inventoryRepository(hosts.map((name) => ({ name }))));
  const { server } = fleet;
  await collectOften(server, t);

  await t.test('facts: what the agent reported is this machine; a recorded address it lacks is a mismatch', async (t) => {
    await waitFor('inv-a facts', async () => (await getBody(server, '/api/v1/inventory/hosts/inv-a'))?.facts?.kernel !== undefined, 120_000);
    const show = await stead(server, ['hosts', 'show', 'inv-a', '--json']);
    t.equal(show.code, 0, show.stderr);
    const d = show.json();
    t.equal(d.host, 'inv-a');
    t.equal(d.facts.kernel.release, os.release(), 'kernel release');
    const osId = /^ID=("?)([^"\n]*)\1$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[2];
    t.equal(d.facts.os.id, osId, 'OS id from /etc/os-release');
    t.equal(d.facts.memory.totalBytes, os.totalmem(), 'memory');
    // The agents run on this machine under other names (--host): the host name is a mismatch.
    const hostnameMismatch = os.hostname() === 'inv-a' ? [] : [{ field: 'hostname', recorded: 'inv-a', reported: os.hostname() }];
    t.match(d.mismatches, hostnameMismatch, 'the only mismatch: the machine\'s own host name');
    t.equal(d.mismatches.length, hostnameMismatch.length);

    const patch = await server.api('PATCH', '/api/v1/inventory/hosts/inv-a', { ips: ['10.255.255.1'], idc: 'sz' });
    t.equal(patch.status, 200, JSON.stringify(patch.body).slice(0, 300));
    const after = await waitFor('the ip mismatch', async () => {
      const b = await getBody(server, '/api/v1/inventory/hosts/inv-a');
      return b?.mismatches?.some((m: { field: string }) => m.field === 'ip') ? b : undefined;
    }, 60_000);
    t.ok(after.mismatches.some((m: { field: string; recorded: string }) => m.field === 'ip' && m.recorded === '10.255.255.1'), `the recorded address the agent does not have is flagged: ${JSON.stringify(after.mismatches)}`);
    t.equal(after.effective.idc, 'sz', 'the store record wins over the repository\'s idc');
  });

  await t.test('packages: the table matches dpkg-query in each root', async (t) => {
    for (const [name, version] of Object.entries(approved)) {
      must(await server.api('PUT', `/api/v1/software/packages/dpkg/${name}`, { name, manager: 'dpkg', approved: version }), `tracking ${name}`);
    }
    for (const h of hosts) {
      await waitShowing(`${h}: every tracked package reported`, async () => {
        const rows = await apiRows<PackageRow>(server, `/api/v1/software/packages?host=${h}`, 'packages');
        return rows.length === Object.keys(approved).length && rows.every((r) => r.reportedAt !== undefined);
      }, 180_000, () => getBody(server, `/api/v1/software/hosts/${h}`));
      const r = await stead(server, ['packages', '--host', h, '--json']);
      t.equal(r.code, 0, r.stderr);
      const rows = r.json().packages as PackageRow[];
      const dpkg = dpkgInstalled(join(dir, h, 'root'));
      t.same(rows.map((x) => x.name), Object.keys(approved).sort(), `${h}: one row per tracked package, sorted`);
      for (const row of rows) {
        const real = dpkg.get(row.name);
        t.equal(row.host, h);
        t.equal(row.manager, 'dpkg');
        t.equal(row.installed, real?.version ?? null, `${h} ${row.name}: installed = dpkg-query (${real?.version ?? 'not installed'})`);
        if (real) t.equal(row.arch, real.arch, `${h} ${row.name}: arch`);
        t.equal(row.approved, approved[row.name]);
        t.equal(row.status, expectedStatus(real?.version ?? null, approved[row.name]), `${h} ${row.name}: status as dpkg orders ${real?.version} against ${approved[row.name]}`);
      }
    }
    // The cases the fixture was built for, spelled out (dpkg said so above too).
    const a = (await stead(server, ['packages', '--host', 'inv-a', '--json'])).json().packages as PackageRow[];
    t.same(a.map((x) => [x.name, x.status]), [[P.alpha, 'outdated'], [P.beta, 'outdated'], [P.delta, 'ahead'], [P.gamma, 'missing']], 'inv-a: 2.0~rc1 sorts before 2.0; 2.6 is ahead of 2.5');

    const byName = await stead(server, ['packages', '--name', P.alpha, '--json']);
    t.equal(byName.code, 0, byName.stderr);
    const fleet = byName.json();
    t.same((fleet.packages as PackageRow[]).map((x) => [x.host, x.installed]), [['inv-a', '1.0-1'], ['inv-b', '1.2-1']], '--name: one row per host');
    if (fleet.versions !== undefined) {
      const v = (fleet.versions as { name: string; counts: { version: string | null; hosts: number; status: string }[] }[]).find((x) => x.name === P.alpha);
      t.same(v?.counts, [{ version: '1.2-1', hosts: 1, status: 'up-to-date' }, { version: '1.0-1', hosts: 1, status: 'outdated' }], 'fleet view: hosts per version, newest first');
    }
  });

  await t.test('services: the table matches /proc; a killed process is drift', async (t) => {
    // Two process services: one run as root, one as nobody.
    const worker = startSleeper(t);
    const nobody = startSleeper(t, { uid: 65534, gid: 65534 });
    const services = { 'e2e-worker': worker, 'e2e-nobody': nobody };
    for (const [name, p] of Object.entries(services)) {
      must(await server.api('PUT', `/api/v1/software/services/${name}`, { name, kind: 'process', pattern: p.pattern }), `tracking ${name}`);
    }
    const running = async (h: string): Promise<ServiceRow[] | undefined> => {
      const rows = await apiRows<ServiceRow>(server, `/api/v1/software/services?host=${h}`, 'services');
      return rows.length === 2 && rows.every((r) => r.state === 'running') ? rows : undefined;
    };
    for (const h of hosts) {
      await waitShowing(`${h}: both services reported running`, () => running(h), 180_000, () => getBody(server, `/api/v1/software/hosts/${h}`));
      const r = await stead(server, ['services', '--host', h, '--json']);
      t.equal(r.code, 0, r.stderr);
      const rows = r.json().services as ServiceRow[];
      t.same(rows.map((x) => x.name), ['e2e-nobody', 'e2e-worker'], `${h}: one row per tracked service, sorted`);
      for (const row of rows) {
        const p = services[row.name as keyof typeof services];
        const proc = procView(p.pid);
        t.equal(row.host, h);
        t.equal(row.state, 'running');
        t.equal(row.pid, p.pid, `${h} ${row.name}: pid`);
        t.equal(row.user, proc.user, `${h} ${row.name}: user ${proc.user} (from /proc/${p.pid}/status)`);
        t.equal(row.processes, 1);
        t.ok(row.startedAt && Math.abs(Date.parse(row.startedAt) - proc.startedAt.getTime()) <= 2000, `${h} ${row.name}: started at ${row.startedAt}, /proc says ${proc.startedAt.toISOString()}`);
        t.ok(row.checkedAt && Date.parse(row.checkedAt) >= Date.parse(row.startedAt!), 'checked after it started');
        t.notOk(row.drift, 'no drift while it runs');
      }
      t.equal(rows.find((x) => x.name === 'e2e-nobody')?.user, 'nobody');
    }

    await worker.kill();
    for (const h of hosts) {
      await waitShowing(`${h}: e2e-worker reported stopped`, async () => {
        const rows = await apiRows<ServiceRow>(server, `/api/v1/software/services?host=${h}`, 'services');
        return rows.find((x) => x.name === 'e2e-worker')?.state === 'stopped';
      }, 180_000, () => getBody(server, `/api/v1/software/hosts/${h}`));
      const rows = (await stead(server, ['services', '--host', h, '--json'])).json().services as ServiceRow[];
      const w = rows.find((x) => x.name === 'e2e-worker')!;
      t.equal(w.state, 'stopped');
      t.equal(w.pid ?? null, null, 'no pid once stopped');
      t.equal(w.drift, true, `${h}: stopped without an operator asking → drift`);
      const n = rows.find((x) => x.name === 'e2e-nobody')!;
      t.equal(n.state, 'running');
      t.equal(n.pid, nobody.pid);
      t.notOk(n.drift);
    }

    // An operator's stop is not drift — on the host it targeted. Both agents watch this same
    // machine, so inv-a sees the process go too, without anyone asking on inv-a: drift there.
    const stop = await stead(server, ['service', 'stop', 'e2e-nobody', '--targets', 'host:inv-b']);
    t.equal(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
    await waitFor('the nobody process is gone', () => nobody.child.exitCode !== null || nobody.child.signalCode !== null, 120_000);
    const rowOf = async (h: string): Promise<ServiceRow | undefined> => (await apiRows<ServiceRow>(server, `/api/v1/software/services?host=${h}`, 'services')).find((x) => x.name === 'e2e-nobody');
    for (const h of hosts) await waitShowing(`${h}: e2e-nobody reported stopped`, async () => (await rowOf(h))?.state === 'stopped', 180_000, () => getBody(server, `/api/v1/software/hosts/${h}`));
    const rows = async (h: string): Promise<ServiceRow[]> => (await stead(server, ['services', '--host', h, '--json'])).json().services as ServiceRow[];
    const b = (await rows('inv-b')).find((x) => x.name === 'e2e-nobody') as ServiceRow & { lastAction?: { action: string; by: string } };
    t.equal(b.drift, false, 'inv-b: stopped by an operator → not drift');
    t.equal(b.lastAction?.action, 'stop', 'inv-b: the last action is the stop');
    const a = (await rows('inv-a')).find((x) => x.name === 'e2e-nobody')!;
    t.equal(a.drift, true, 'inv-a: nobody asked there → drift');
  });

  await t.test('lifecycle: maintenance leaves a host out of a job on every host unless --include-inactive; history recorded', async (t) => {
    const set = await stead(server, ['hosts', 'set', 'inv-a', 'lifecycle=maintenance']);
    t.equal(set.code, 0, set.stderr);
    // At once: a lifecycle change made on this server reaches the next selector (no cache window).
    const run = await stead(server, ['job', 'run', '--targets', 'group:all', '--command', 'echo "on $STEAD_HOST"', '--wait', '--json']);
    t.equal(run.code, 0, run.stderr);
    const out = run.json();
    t.same((out.hosts as { host: string }[]).map((h) => h.host), ['inv-b'], 'inv-a is left out');
    const view = (await server.api('GET', `/api/v1/jobs/${out.id}`)).body;
    t.match(view.unavailable, [{ host: 'inv-a', reason: /lifecycle maintenance/ }], 'and listed as unavailable');
    const inc = await stead(server, ['job', 'run', '--targets', 'group:all', '--include-inactive', '--command', 'echo "on $STEAD_HOST"', '--wait', '--json']);
    t.equal(inc.code, 0, inc.stderr);
    t.same((inc.json().hosts as { host: string }[]).map((h) => h.host).sort(), ['inv-a', 'inv-b'], '--include-inactive runs on it too');

    const back = await stead(server, ['hosts', 'set', 'inv-a', 'lifecycle=online']);
    t.equal(back.code, 0, back.stderr);
    const d = (await stead(server, ['hosts', 'show', 'inv-a', '--json'])).json();
    t.equal(d.effective.lifecycle, 'online');
    const history = d.lifecycleHistory as { host: string; from: string | null; to: string; by: string; at: string }[];
    t.ok(history.length >= 2, `both transitions recorded: ${JSON.stringify(history)}`);
    t.match(history[0], { host: 'inv-a', from: 'maintenance', to: 'online' }, 'newest first');
    t.match(history[1], { host: 'inv-a', to: 'maintenance' });
    t.ok(history[1]!.from === 'online' || history[1]!.from === null, `the first transition starts from online (or the record's creation): ${history[1]!.from}`);
    for (const e of history.slice(0, 2)) {
      t.ok(typeof e.by === 'string' && e.by.length > 0, `who: ${e.by}`);
      t.ok(Number.isFinite(Date.parse(e.at)) && Math.abs(Date.now() - Date.parse(e.at)) < 3_600_000, `when: ${e.at}`);
    }
    t.ok(Date.parse(history[0]!.at) >= Date.parse(history[1]!.at), 'in order');
    const again = await stead(server, ['job', 'run', '--targets', 'group:all', '--command', 'true', '--wait', '--json']);
    t.same((again.json().hosts as { host: string }[]).map((h) => h.host).sort(), ['inv-a', 'inv-b'], 'online again: back in jobs');
  });

  await t.test('virtual resources: an operator collector\'s instances and recorded children show on the host page, faulty included', async (t) => {
    const script = join(dir, 'dbprobe.sh');
    writeFileSync(script, `#!/bin/sh\necho '{"resources":[{"kind":"db-instance","name":"mysql-3306","id":"m3306","state":"running","attributes":{"port":3306}}]}'\n`);
    const set = await stead(server, ['collectors', 'set', 'dbprobe', '--file', script, '--lang', 'shell']);
    t.equal(set.code, 0, `${set.stdout}\n${set.stderr}`);
    must(await server.api('PATCH', '/api/v1/inventory/hosts/db-b-1', { kind: 'db-instance', parent: 'inv-b' }), 'a recorded DB instance on inv-b');
    const page = await waitShowing('inv-b lists the collector\'s instance', async () => {
      const b = await getBody(server, '/api/v1/inventory/hosts/inv-b');
      return b?.virtuals?.some((v: { name: string }) => v.name === 'mysql-3306') ? b : undefined;
    }, 180_000, () => getBody(server, '/api/v1/software/hosts/inv-b'));
    t.match(page.virtuals, [{ kind: 'db-instance', name: 'mysql-3306', id: 'm3306', state: 'running', source: 'dbprobe' }]);
    t.same(page.children, ['db-b-1'], 'the recorded DB instance is a child of inv-b');
    const faulty = await stead(server, ['hosts', 'set', 'inv-b', 'lifecycle=faulty']);
    t.equal(faulty.code, 0, faulty.stderr);
    const show = (await stead(server, ['hosts', 'show', 'inv-b', '--json'])).json();
    t.equal(show.effective.lifecycle, 'faulty');
    t.same(show.children, ['db-b-1'], 'a faulty host still lists what ran on it');
    t.ok(show.virtuals.some((v: { name: string }) => v.name === 'mysql-3306'));
  });

  await fleet.stop();
});
