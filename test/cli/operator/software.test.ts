/**
 * The software commands as built `stead` processes against a real server on loopback (ADR 0018,
 * docs/software.md): track packages and services, agents report (signed requests), the human
 * tables and --json, the fleet view, "upgrade to approved" starting a rollout, a service restart
 * starting a job, collectors set/list, and the usage errors (exit 64). Build first (npm run build).
 */
import { join } from 'node:path';
import t from 'tap';
import { runStead } from '../../helpers/cli.js';
import { startJobServer } from '../../helpers/job-fixture.js';

t.test('stead packages, services, service, collectors', async (t) => {
  const fx = await startJobServer(t, { rollouts: { driver: { tickMs: 3_600_000 } }, software: { configTtlMs: 0, refreshMs: 0 } });
  const env = { STEAD_SERVER: fx.base, STEAD_TOKEN: fx.adminToken, STEAD_TOKEN_FILE: '' };
  const stead = (...args: string[]) => runStead(args, { env });

  const track = await stead('packages', 'track', 'curl', '--manager', 'dpkg', '--approved', '7.88.1-10+deb12u12');
  t.equal(track.code, 0, track.stderr);
  t.match(track.stdout, /Tracking dpkg\/curl, approved 7\.88\.1-10\+deb12u12/);
  t.equal((await stead('services', 'track', 'nginx', '--kind', 'systemd')).code, 0);
  const collectedAt = '2026-11-26T10:00:00.000Z';
  const put = async (host: string, version: string | null, state: 'running' | 'failed') => {
    const r = await fx.agents[host]!.request('PUT', `/api/v1/hosts/${host}/inventory`, { configVersion: 'x', collectedAt, packages: [{ name: 'curl', manager: 'dpkg', version }], services: [{ name: 'nginx', state, pid: state === 'running' ? 7 : null, startedAt: state === 'running' ? '2026-11-26T08:00:00.000Z' : null, user: 'root' }], virtuals: [], errors: [] });
    t.equal(r.status, 200, r.body.toString());
  };
  await put('web-1', '7.88.1-10+deb12u5', 'running');
  await put('web-2', '7.88.1-10+deb12u12', 'running');
  await put('db-1', null, 'running');
  fx.clock.advance(60_000);
  await put('web-2', '7.88.1-10+deb12u12', 'failed');

  const table = await stead('packages');
  t.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.match(lines[0], /^HOST\s+PACKAGE\s+MANAGER\s+INSTALLED\s+APPROVED\s+STATUS$/);
  t.match(lines[1], /^db-1\s+curl\s+dpkg\s+not installed\s+7\.88\.1-10\+deb12u12\s+missing$/);
  t.match(lines[2], /^web-1\s+curl\s+dpkg\s+7\.88\.1-10\+deb12u5\s+7\.88\.1-10\+deb12u12\s+outdated$/);
  const json = await stead('packages', '--host', 'web-1', '--json');
  t.equal(json.code, 0);
  t.same(JSON.parse(json.stdout).packages.map((r: any) => r.status), ['outdated']);
  const fleet = await stead('packages', '--name', 'curl');
  t.match(fleet.stdout, /dpkg\/curl \(approved 7\.88\.1-10\+deb12u12\):\n\s+7\.88\.1-10\+deb12u12\s+1\s+up-to-date\n\s+7\.88\.1-10\+deb12u5\s+1\s+outdated\n\s+not installed\s+1\s+missing/);

  const services = await stead('services');
  t.equal(services.code, 0, services.stderr);
  t.match(services.stdout, /web-2\s+nginx\s+failed\s+-\s+-\s+root\s+DRIFT/);
  t.match(services.stdout, /web-1\s+nginx\s+running\s+7\s+2h0m\s+root\s+-/);
  const drift = await stead('services', '--drift', '--json');
  t.same(JSON.parse(drift.stdout).services.map((s: any) => s.host), ['web-2']);

  const restart = await stead('service', 'restart', 'nginx', '--targets', 'host:web-2', '--json');
  t.equal(restart.code, 0, restart.stderr);
  const job = JSON.parse(restart.stdout);
  t.match(job.name, /restart nginx/);
  const row = (await fx.json('GET', '/api/v1/software/services?host=web-2')).json().services[0];
  t.equal(row.lastAction.job, job.id, 'the table shows the action');

  const upgrade = await stead('packages', 'upgrade', 'curl', '--batches', '1,100%', '--gate', 'manual');
  t.equal(upgrade.code, 0, upgrade.stderr);
  t.match(upgrade.stdout, /Upgrading curl on 2 host\(s\): rollout r/);

  const dir = t.testdir({ 'vms.sh': 'echo \'{"resources":[]}\'\n' });
  const set = await runStead(['collectors', 'set', 'vms', '--file', join(dir, 'vms.sh'), '--timeout', '20'], { env });
  t.equal(set.code, 0, set.stderr);
  const listed = await stead('collectors');
  t.match(listed.stdout, /^NAME\s+LANG\s+TIMEOUT/);
  t.match(listed.stdout, /vms\s+shell\s+20\s+/);
  const readonly = await fx.token('readonly', 'viewer');
  const denied = await runStead(['collectors'], { env: { ...env, STEAD_TOKEN: readonly } });
  t.equal(denied.code, 3, 'collectors are for admins');

  t.equal((await stead('service', 'restart', 'nginx')).code, 64, 'no --targets');
  t.equal((await stead('service', 'reload', 'nginx', '--targets', 'host:web-1')).code, 64, 'unknown action');
  t.equal((await stead('packages', 'track', 'curl')).code, 64, 'no --manager');
  t.equal((await stead('packages', '--host', 'a', '--name', 'b')).code, 64);
  const bad = await stead('packages', 'upgrade', 'curl', '--batches', 'lots');
  t.equal(bad.code, 2, 'a bad --batches is refused before anything is sent');
  t.equal((await stead('service', 'start', 'nope', '--targets', 'host:web-1')).code, 2, 'not tracked');
});
