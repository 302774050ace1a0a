/**
 * "Upgrade to approved" as a canary rollout end to end (issue 11, ADR 0018 §6): a real
 * `stead server` and 10 real agent daemons, each confined to its own Debian root where the real
 * apt installed package P 1.0-1 from a repository built at test time (1.1-1 is in it too).
 *
 * P is tracked with approved version 1.1-1; `stead packages upgrade P --batches 1,50%,100%
 * --gate manual --max-failures 0` starts a job rollout of a `resources` step. The canary batch
 * upgrades; before the second batch is let through, one of its hosts has its apt source
 * pointed at a repository whose P 1.1-1 has a preinst that refuses to install — a real dpkg
 * failure. The second batch fails on that host, the rollout pauses per the threshold and the
 * third batch is never started. The package table then says what dpkg-query says in each root:
 * 1.1-1 (up to date) on the hosts upgraded before the stop, 1.0-1 (outdated) on the others.
 */
import { join } from 'node:path';
import t from 'tap';
import { buildOnce, hasCommand, waitFor, type ServerProcess } from '../helpers/e2e-fleet.js';
import { aptInstall, collectOften, debRepository, dpkgInstalled, expectedStatus, getBody, inventoryRepository, must, prepareRoot, startFleet, stead, switchRepository, waitShowing } from '../helpers/inventory-fleet.js';
import { aptUnavailable } from '../helpers/os-apt-repo.js';

await buildOnce();
const ready = await hasCommand('server');
const why = ready ? aptUnavailable() : 'the build has no `stead server` command';

const P = 'stead-e2e-pkg';
const names = Array.from({ length: 10 }, (_, i) => `up-${String(i + 1).padStart(2, '0')}`);
const topo = names.map((name, i) => ({ name, idc: i % 2 === 0 ? 'x' : 'y', set: `s${(i % 4 >> 1) + 1}` }));

type PackageRow = { host: string; name: string; installed: string | null; approved?: string; status: string; reportedAt?: string };

async function table(server: ServerProcess): Promise<PackageRow[]> {
  const body = await getBody(server, `/api/v1/software/packages?name=${P}&manager=dpkg`);
  if (body === undefined) throw new Error('GET packages failed');
  return body.packages as PackageRow[];
}

t.test('a package upgrade rollout over 10 agents stops at the failure threshold', { skip: why ?? false }, async (t) => {
  const dir = t.testdir({ good: {}, bad: {} });
  const good = debRepository(join(dir, 'good'), [
    { name: P, version: '1.0-1', files: { 'usr/share/stead-e2e-pkg/VERSION': '1.0\n' } },
    { name: P, version: '1.1-1', files: { 'usr/share/stead-e2e-pkg/VERSION': '1.1\n' } },
  ]);
  const bad = debRepository(join(dir, 'bad'), [
    { name: P, version: '1.0-1', files: { 'usr/share/stead-e2e-pkg/VERSION': '1.0\n' } },
    { name: P, version: '1.1-1', files: { 'usr/share/stead-e2e-pkg/VERSION': '1.1\n' }, scripts: { preinst: '#!/bin/sh\necho "stead-e2e-pkg preinst refuses to upgrade this host" >&2\nexit 1\n' } },
  ]);
  const root = (h: string): string => join(dir, h, 'root');
  for (const h of names) {
    prepareRoot(root(h), good);
    aptInstall(root(h), [`${P}=1.0-1`]);
  }
  const fleet = await startFleet(t, dir, names, inventoryRepository(topo));
  const { server } = fleet;
  await collectOften(server, t);
  const installed = (h: string): string | null => dpkgInstalled(root(h)).get(P)?.version ?? null;

  must(await server.api('PUT', `/api/v1/software/packages/dpkg/${P}`, { name: P, manager: 'dpkg', approved: '1.1-1' }), `tracking ${P}`);
  await waitShowing('every host reports 1.0-1, outdated', async () => {
    const rows = await table(server);
    return rows.length === names.length && rows.every((r) => r.installed === '1.0-1' && r.status === 'outdated');
  }, 240_000, () => table(server));
  t.pass('the table shows 10 outdated hosts');

  const up = await stead(server, ['packages', 'upgrade', P, '--batches', '1,50%,100%', '--gate', 'manual', '--max-failures', '0', '--json']);
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const launched = up.json();
  const id = (launched.rollout ?? launched.id) as string;
  t.ok(id, `a rollout: ${up.stdout.slice(0, 300)}`);
  const rollout = async (): Promise<any> => (await server.api('GET', `/api/v1/rollouts/${id}`)).body;
  const until = (what: string, pred: (r: any) => boolean): Promise<any> => waitFor(`rollout ${id}: ${what}`, async () => {
    const r = await rollout();
    return pred(r) ? r : undefined;
  }, 300_000, 500);

  const first = await rollout();
  t.equal(first.kind, 'job', 'a job rollout');
  t.same(first.batches.map((b: any) => b.hosts.length), [1, 4, 5], 'batches 1, 50 %, 100 % of 10 hosts');
  t.same(first.batches.flatMap((b: any) => b.hosts).sort(), names, 'every outdated host is a target');
  const [canary, second, third] = first.batches.map((b: any) => b.hosts as string[]) as [string[], string[], string[]];

  const gated = await until('the canary batch done, waiting at the gate', (r) => r.state === 'waiting' || r.state === 'paused' || r.state === 'aborted');
  t.equal(gated.state, 'waiting', JSON.stringify(gated.batches[0]));
  t.equal(gated.batches[0].state, 'succeeded');
  t.equal(installed(canary[0]!), '1.1-1', `the canary ${canary[0]} runs 1.1-1 (dpkg-query)`);
  for (const h of [...second, ...third]) t.equal(installed(h), '1.0-1', `${h} untouched while the gate holds`);

  // Break one host of the second batch for real: its apt now offers a 1.1-1 whose preinst fails.
  const failing = second[1]!;
  switchRepository(root(failing), bad);
  const cont = await stead(server, ['rollout', 'continue', id]);
  t.equal(cont.code, 0, cont.stderr);

  const stopped = await until('stopped by the threshold', (r) => (r.state !== 'running' && r.state !== 'waiting') || r.batches[1].state === 'failed');
  t.equal(stopped.state, 'paused', `paused: ${stopped.reason}`);
  t.equal(stopped.batches[1].state, 'failed');
  t.same(stopped.batches[1].failures.map((f: any) => f.host), [failing], 'the broken host is the failure');
  t.equal(stopped.batches[2].state, 'pending', 'the third batch never started');
  t.notOk(stopped.batches[2].jobId, 'no job for the third batch');
  t.match(stopped.reason, /batch 2 of 3/);
  const job = (await server.api('GET', `/api/v1/jobs/${stopped.batches[1].jobId}?output=true`)).body;
  const failed = job.hosts.find((h: any) => h.host === failing);
  t.equal(failed?.state, 'failed');
  t.match(JSON.stringify(failed), /stead-e2e-pkg[^"]*(exited with code|error)/, 'the job shows the package install failed');
  t.match(JSON.stringify(failed), /preinst|pre-installation/, 'and why: dpkg\'s reason, the preinst refused');

  const upgraded = [...canary, ...second.filter((h) => h !== failing)];
  const kept = [failing, ...third];
  for (const h of upgraded) t.equal(installed(h), '1.1-1', `${h} upgraded (dpkg-query)`);
  for (const h of kept) t.equal(installed(h), '1.0-1', `${h} kept 1.0-1 (dpkg-query)`);

  // The table catches up with what the agents now report.
  await waitShowing('the table reports the upgraded hosts', async () => {
    const rows = await table(server);
    return rows.length === names.length && rows.every((r) => r.installed === installed(r.host));
  }, 300_000, () => table(server));
  const cli = await stead(server, ['packages', '--name', P, '--json']);
  t.equal(cli.code, 0, cli.stderr);
  const out = cli.json();
  const rows = out.packages as PackageRow[];
  t.same(rows.map((r) => r.host), names, 'one row per host, sorted');
  for (const r of rows) {
    t.equal(r.installed, installed(r.host), `${r.host}: the table says what dpkg-query says`);
    t.equal(r.status, expectedStatus(installed(r.host), '1.1-1'), `${r.host}: ${r.status}`);
  }
  t.same(rows.filter((r) => r.installed === '1.1-1').map((r) => r.host).sort(), upgraded.sort(), 'exactly the hosts upgraded before the stop report 1.1-1');
  if (out.versions !== undefined) {
    const v = (out.versions as { name: string; counts: { version: string | null; hosts: number }[] }[]).find((x) => x.name === P);
    t.same(v?.counts.map((c) => [c.version, c.hosts]), [['1.1-1', upgraded.length], ['1.0-1', kept.length]], 'fleet view: hosts per version');
  }

  await fleet.stop();
});
