/**
 * Fixtures of the inventory end-to-end tests (issue 11, ADR 0018): a real `stead server` with
 * real `stead agent` daemons (each confined to its own --root), Debian roots with packages
 * installed by the real apt/dpkg from a repository built at test time, processes started by the
 * test, and the independent readings the tables are checked against (`dpkg-query` in the
 * agent's root, /proc). Nothing here calls the code under test except through its processes,
 * its HTTP API and its CLI.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess, freePort, ServerProcess, steadAsOperator, WaitAborted, waitFor, type ApiAnswer, type Teardown } from './e2e-fleet.js';
import { buildRepo, makeAptRoot, type TestDeb } from './os-apt-repo.js';

export interface FleetHost {
  readonly name: string;
  readonly idc?: string;
  readonly set?: string;
}

/**
 * A small manifest repository declaring `hosts` (group `fleet`, role `base`: one directory), so
 * every agent gets a catalog and converges; nothing in it manages packages or processes.
 */
export function inventoryRepository(hosts: readonly FleetHost[]): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: inventory-e2e\n',
    'inventory/hosts.yaml': `hosts:\n${hosts.map((h) => `  ${h.name}: { idc: ${h.idc ?? 'lo'}, set: ${h.set ?? 's1'} }`).join('\n')}\n`,
    'groups/fleet.yaml': `description: every host\nkind: custom\npriority: 10\nhosts: [${hosts.map((h) => h.name).join(', ')}]\nroles: [base]\n`,
    'roles/base/role.yaml': ['description: a marker directory', 'resources:', '  - type: directory', '    path: /srv', '    mode: "0755"', ''].join('\n'),
  };
}

export interface Fleet {
  readonly server: ServerProcess;
  readonly agents: Record<string, AgentProcess>;
  /** Kills every agent and the server (call before tap removes the test directory). */
  stop(): Promise<void>;
}

/**
 * Starts a server in `<dir>/server`, publishes `repository`, starts one agent per host (root
 * `<dir>/<host>/root`, data `<dir>/<host>/data`), approves each and waits for its first
 * converging run. Each root must exist already (prepare it first: an apt root, /etc/passwd …).
 */
export async function startFleet(t: Teardown & { comment(...m: unknown[]): void; counts: { fail: number } }, dir: string, hosts: readonly string[], repository: Record<string, string>, intervalSeconds = 2): Promise<Fleet> {
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  mkdirSync(server.dataDir, { recursive: true });
  await server.start(t);
  const pub = await server.publish(repository);
  if (pub.status !== 201) throw new Error(`the repository was refused: ${pub.status} ${JSON.stringify(pub.body).slice(0, 500)}`);
  const agents: Record<string, AgentProcess> = {};
  for (const h of hosts) {
    mkdirSync(join(dir, h, 'data'), { recursive: true });
    agents[h] = new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds }).start(t);
  }
  t.teardown(() => {
    if (t.counts.fail > 0) {
      t.comment(`server stderr (last 40 lines):\n${server.stderr.slice(-40).join('\n')}`);
      for (const h of hosts) t.comment(`${h} log (last 15):\n${agents[h]!.logs.slice(-15).join('\n')}`);
    }
  });
  for (const h of hosts) {
    await waitFor(`${h} enrolled`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).status === 200, 120_000);
    const ok = await server.api('POST', `/api/v1/agents/${h}/approve`);
    if (ok.status !== 200) throw new Error(`approving ${h}: ${ok.status} ${JSON.stringify(ok.body)}`);
  }
  for (const h of hosts) await agents[h]!.waitForRun('the first converging run', (r) => r.outcome === 'changed' || r.outcome === 'in-sync', 0, 180_000);
  const stop = async (): Promise<void> => {
    await Promise.all(Object.values(agents).map((a) => a.kill()));
    await server.kill();
  };
  // Also when the test ends early: every process gone (and waited for) before tap removes the directory.
  t.teardown(stop);
  return { server, agents, stop };
}

/** The answer when its status is one of `ok`; else throws with the answer (a missing route ends the test at once, not after every wait). */
export function must(r: ApiAnswer, what: string, ok: readonly number[] = [200, 201, 204]): ApiAnswer {
  if (!ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  return r;
}

/**
 * GET `path` as the admin: the body on 200, undefined on another status (a probe keeps waiting),
 * WaitAborted when the server has no such route (the feature is not there: waiting is pointless).
 */
export async function getBody(server: ServerProcess, path: string): Promise<any> {
  const r = await server.api('GET', path);
  if (r.status === 404 && /no route/.test(JSON.stringify(r.body))) throw new WaitAborted(`GET ${path}: the server has no such route`);
  return r.status === 200 ? r.body : undefined;
}

/**
 * Asks agents to collect every 10 s (the least the settings allow; default 60) so reports follow
 * changes sooner. Only a speed-up: the waits do not depend on it.
 */
export async function collectOften(server: ServerProcess, t: { comment(...m: unknown[]): void }): Promise<void> {
  const r = await server.api('PUT', '/api/v1/software/settings', { intervalSeconds: 10 });
  if (r.status !== 200 && r.status !== 204) t.comment(`PUT /api/v1/software/settings answered ${r.status}: agents collect at their default interval`);
}

/**
 * waitFor, and when it times out, an error that also says what `context` finds then (the last
 * table rows, the host's last report …), so a failure shows what the server did say.
 */
export async function waitShowing<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, context: () => Promise<unknown>): Promise<T> {
  try {
    return await waitFor(what, probe, timeoutMs, 500);
  } catch (err) {
    let seen: string;
    try {
      seen = JSON.stringify(await context()).slice(0, 3000);
    } catch (e) {
      seen = `(context unavailable: ${String(e)})`;
    }
    throw new Error(`${(err as Error).message}; the server said: ${seen}`);
  }
}

/** Runs the built `stead` as the admin operator; `json` parses stdout (throws with the output when it is not JSON). */
export async function stead(server: ServerProcess, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; json: () => any }> {
  const r = await steadAsOperator(server, args);
  return {
    ...r,
    json: () => {
      try {
        return JSON.parse(r.stdout);
      } catch {
        throw new Error(`stead ${args.join(' ')} printed no JSON (exit ${r.code}): stdout ${JSON.stringify(r.stdout.slice(0, 500))} stderr ${JSON.stringify(r.stderr.slice(0, 500))}`);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Debian roots

/** Builds `debs` into `<dir>/repo` (build trees in `<dir>/build`) and returns the repository path. */
export function debRepository(dir: string, debs: readonly TestDeb[]): string {
  mkdirSync(dir, { recursive: true });
  return buildRepo(dir, debs);
}

/**
 * An agent root at `root` whose apt sources list only `repo` (apt lists fetched), and whose
 * etc/passwd and etc/group are the machine's (so a uid means the same user inside and out).
 */
export function prepareRoot(root: string, repo?: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  for (const f of ['passwd', 'group']) if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(root, 'etc', f));
  if (repo !== undefined) makeAptRoot(root, repo);
}

/** The APT_CONFIG file makeAptRoot wrote for `root`. */
function aptConfig(root: string): string {
  return join(root, '..', 'apt-update.conf');
}

/** Points the root's apt sources at `repo` instead, and refreshes its lists. */
export function switchRepository(root: string, repo: string): void {
  execFileSync('sh', ['-c', 'printf "%s\\n" "$1" > "$2"', 'sh', `deb [trusted=yes] file:${repo} ./`, join(root, 'etc/apt/sources.list')]);
  execFileSync('apt-get', ['-q', 'update'], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C', APT_CONFIG: aptConfig(root) }, timeout: 120_000 });
}

/** Installs `specs` ("name=version" or "name") into the root with the real apt-get (confined as the agent confines it). */
export function aptInstall(root: string, specs: readonly string[]): void {
  const r = spawnSync('apt-get', ['-q', '-y', '--allow-downgrades', 'install', ...specs], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive', APT_CONFIG: aptConfig(root) }, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`apt-get install ${specs.join(' ')} in ${root} failed (${r.status}): ${r.stderr}${r.stdout.slice(-2000)}`);
}

/** What dpkg-query says is installed in the root: name → { version, arch } (only fully installed packages). */
export function dpkgInstalled(root: string): Map<string, { version: string; arch: string }> {
  const out = execFileSync('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f=${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n'], { encoding: 'utf8' });
  const m = new Map<string, { version: string; arch: string }>();
  for (const line of out.split('\n')) {
    const [name, version, arch, status] = line.split('\t');
    if (name && version && status?.startsWith('ii')) m.set(name, { version, arch: arch ?? '' });
  }
  return m;
}

/** `dpkg --compare-versions a op b` (the real dpkg decides the ordering). */
export function dpkgCompare(a: string, op: 'lt' | 'eq' | 'gt', b: string): boolean {
  return spawnSync('dpkg', ['--compare-versions', a, op, b]).status === 0;
}

/** The status a package row must show, decided by dpkg's own ordering. */
export function expectedStatus(installed: string | null, approved: string | undefined): string {
  if (installed === null) return 'missing';
  if (approved === undefined) return 'unknown';
  if (dpkgCompare(installed, 'eq', approved)) return 'up-to-date';
  return dpkgCompare(installed, 'lt', approved) ? 'outdated' : 'ahead';
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** A substring of its command line no other process has. */
  readonly pattern: string;
  kill(): Promise<void>;
}

/**
 * Starts `sleep N` (N unique, so its command line "sleep N" is the pattern) as `uid`/`gid` (default:
 * this process's), killed at teardown (and ending by itself within the hour).
 */
export function startSleeper(t: Teardown, opts: { uid?: number; gid?: number } = {}): StartedProcess {
  // A unique command line, and a bounded life: if this test process dies without its teardown,
  // the sleeper (in its own group, so not killed with it) ends within the hour by itself.
  const n = `3600.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  // Its own process group, as a daemon an init system started: the agent (spawned by this test
  // process, so in its process group) never matches processes of its own group.
  const child = spawn('sleep', [n], { stdio: 'ignore', detached: true, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}) });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.teardown(kill);
  if (child.pid === undefined) throw new Error('sleep did not start');
  return { child, pid: child.pid, pattern: `sleep ${n}`, kill };
}

/** The user name of a uid, from the machine's /etc/passwd. */
export function userOf(uid: number): string {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[2] === String(uid) && f[0]) return f[0];
  }
  return String(uid);
}

/** What /proc says of a pid: its real user and its start time (boot time + starttime ticks). */
export function procView(pid: number): { user: string; startedAt: Date } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]); // field 22 of stat; fields[0] is field 3
  const btime = Number(/^btime\s+(\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return { user: userOf(uid), startedAt: new Date((btime + ticks / hz) * 1000) };
}

// ---------------------------------------------------------------------------------------------
// CSV

/** RFC 4180 CSV into rows of fields (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as objects keyed by the header row. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.filter((r) => r.length > 1 || r[0] !== '').map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}
