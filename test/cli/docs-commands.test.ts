/**
 * Every `stead` / `npx stead` command in README.md and docs/*.md code blocks is run (issue 8
 * item 13), each in a fresh world-traversable temporary directory holding a copy of the clone's
 * manifests/ and the few files the docs assume the reader has (site.yaml is the clone's
 * manifests/examples/demo.yaml, the README's "safe first try"). Paths under /tmp and /etc in a
 * command are moved into that directory; a command that would change this machine gets --root.
 *
 * `plans` has one entry per documented command, keyed by "file: command": how it runs and the
 * exit code it must give, or why it is not run. A command added to the docs without an entry
 * fails the first test, and an entry whose command left the docs fails it too, so no doc
 * command is ever silently untested.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

interface Run {
  /** Extra arguments appended to the command, and why. */
  readonly append?: { readonly args: string; readonly why: string };
  /** The exit code the docs promise. */
  readonly code: number;
  /** Another documented command that comes first in the docs and must run first (in the same directory). */
  readonly after?: string;
  /** A server: run until it prints that it listens, then stop it with SIGTERM. */
  readonly serve?: true;
  /** More checks on the output (stdout, files in the directory). */
  readonly check?: (out: { stdout: string; dir: string }) => string | undefined;
}
type Plan = Run | { readonly notRun: string };

const plans: Record<string, Plan> = {
  'README.md: npx stead apply site.yaml --noop': { code: 0 },
  'README.md: npx stead apply site.yaml --root /tmp/sandbox': { code: 0 },
  'README.md: npx stead apply site.yaml --detailed-exitcodes': { append: { args: '--root "$T/machine"', why: 'it would enforce on this machine' }, code: 2 },
  'README.md: npx stead apply site.yaml --json': {
    append: { args: '--root "$T/machine"', why: 'it would enforce on this machine' },
    code: 0,
    check: ({ stdout }) => ((JSON.parse(stdout) as { outcome?: string }).outcome === 'changed' ? undefined : 'not a changed run report'),
  },
  'README.md: npx stead apply manifests/examples/demo.yaml --root /tmp/sb': { code: 0 },
  'docs/cli.md: stead apply site.yaml': { append: { args: '--root "$T/machine"', why: 'it would enforce on this machine' }, code: 0 },
  'docs/cli.md: stead apply site.yaml --noop': { code: 0 },
  'docs/cli.md: stead apply site.yaml --root /tmp/sandbox': { code: 0 },
  'docs/cli.md: stead apply site/ --json > report.json': {
    append: { args: '--root "$T/machine"', why: 'it would enforce on this machine' },
    code: 0,
    check: ({ dir }) => ((JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { resources?: unknown[] }).resources?.length ? undefined : 'report.json has no resources'),
  },
  'docs/cli.md: stead apply: 3 errors in site.yaml; nothing was changed': { notRun: 'output shown in the docs, not a command' },
  'docs/cli.md: stead backup list [--path /etc/motd] [--json]': { notRun: 'a synopsis with [optional] parts and backups that exist only after a change; test/cli/backup.test.ts runs list, show and restore' },
  'docs/cli.md: stead backup show 5891b5b5': { notRun: 'the sha256 prefix of a backup made on the reader\'s machine; test/cli/backup.test.ts' },
  'docs/cli.md: stead backup restore 5891b5b5 [--path /etc/motd]': { notRun: 'a synopsis naming a backup of the reader\'s machine; test/cli/backup.test.ts' },
  'docs/agent.md: stead agent --server URL --data-dir DIR [--root DIR] [--host NAME]': { notRun: 'a synopsis with placeholders; a real agent against a real server runs in test/e2e/agent-cli.test.ts' },
  'docs/manifest-repository.md: stead.yaml              marker and settings (required)': { notRun: 'a file in a directory tree, not a command' },
  'docs/manifest-repository.md: stead: 1': { notRun: 'YAML, not a command' },
  'docs/providers.md: stead apply --root DIR': { notRun: 'prose naming the option; README.md and docs/cli.md run it' },
  'docs/manifest-repository.md: stead vars keygen --key-file /etc/stead/secret.key': { code: 0 },
  'docs/manifest-repository.md: stead vars encrypt --key-file /etc/stead/secret.key --value-file pw.txt': {
    after: 'docs/manifest-repository.md: stead vars keygen --key-file /etc/stead/secret.key',
    code: 0,
    check: ({ stdout }) => (/^!secret v1:/.test(stdout) ? undefined : `prints ${stdout}`),
  },
  'docs/operations.md: stead server --cluster --mongodb-url "$STEAD_MONGODB_URL" --host 0.0.0.0 --port 8443 \\': { notRun: 'needs a MongoDB replica set; the cluster contract runs over the embedded store in test/server' },
  'docs/server.md: stead server --port 8140 --data-dir /var/lib/stead-server': { serve: true, code: 0 },
  'docs/server.md: stead server --port 8443 --host 0.0.0.0 --data-dir /var/lib/stead-server \\': { notRun: 'needs a TLS certificate and key from the reader\'s CA; HTTPS is run in test/e2e/tls.test.ts' },
  "docs/server.md: stead server --data-dir /var/lib/stead-server --mongodb-url 'mongodb://db1,db2,db3/stead?replicaSet=rs0'": { notRun: 'needs a MongoDB replica set' },
  "docs/cli.md: stead job run --targets group:web --command 'systemctl is-active nginx' --wait": { notRun: "needs a Stead server with enrolled hosts; test/cli/operator/server.test.ts runs it against a real server" },
  "docs/cli.md: stead job run --targets host:db-1 --script backup.py --as backup --param DAYS=7 --timeout 600 --wait --json": { notRun: "needs a Stead server with enrolled hosts; test/cli/operator/server.test.ts runs it against a real server (--script, --param, --wait --json)" },
  "docs/cli.md: stead job redo j0mwxdsn40a0 --failed --wait": { notRun: "a job id of the reader's server; test/cli/operator/server.test.ts runs it against a real server (redo --failed)" },
  "docs/cli.md: stead job show j0mwxdsn40a0": { notRun: "a job id of the reader's server; test/cli/operator/server.test.ts (job show)" },
  "docs/cli.md: stead job list --limit 50": { notRun: "needs a Stead server with enrolled hosts; test/cli/operator/server.test.ts runs it against a real server" },
  "docs/cli.md: stead job cancel j0mwxdsn40a0": { notRun: "a job id of the reader's server; test/cli/operator/server.test.ts (job cancel)" },
  "docs/cli.md: stead job run: refused by the safety audit: rule rm-root at line 2: removes the root file system": { notRun: "output shown in the docs, not a command; test/cli/operator/server.test.ts checks it" },
  "docs/cli.md: stead schedule create --name nightly-backup --at \"every day at 03:30\" --tz Europe/Berlin --targets group:db --script backup.sh": { notRun: "needs a Stead server with the schedule routes; test/cli/operator/bodies.test.ts checks the request it sends" },
  "docs/cli.md: stead schedule create --name hourly-check --cron \"0 * * * *\" --targets group:web --command 'curl -fsS localhost/health'": { notRun: "needs a Stead server with the schedule routes; test/cli/operator/bodies.test.ts checks the request it sends" },
  "docs/cli.md: stead schedule list": { notRun: "needs a Stead server with the schedule routes" },
  "docs/cli.md: stead schedule delete nightly-backup": { notRun: "needs a Stead server with the schedule routes" },
  "docs/cli.md: stead script add rotate-logs.sh --tag logs --param DAYS=7": { notRun: "needs a Stead server; test/cli/operator/server.test.ts runs script add, list and show against a real one" },
  "docs/cli.md: stead script list --search rotate --tag logs": { notRun: "needs a Stead server; test/cli/operator/server.test.ts" },
  "docs/cli.md: stead script show rotate-logs --version 1": { notRun: "needs a Stead server; test/cli/operator/server.test.ts" },
  "README.md: npx stead job run --targets host:demo-1 --command 'uptime' --wait": { notRun: 'needs the demo (npm start) running; test/e2e/jobs.test.ts runs stead job run --wait against a real server and agents' },
  "docs/jobs.md: stead job run --targets group:web --command 'systemctl is-active nginx' --wait": { notRun: 'needs a Stead server with enrolled hosts; test/e2e/jobs.test.ts and test/cli/operator/server.test.ts run stead job run against real servers' },
  "docs/jobs.md: stead job run --targets idc:sz,tag:canary --script ./rotate.py --param DAYS=7 --as deploy --timeout 300 --wait --json": { notRun: 'needs a Stead server with enrolled hosts; test/cli/operator/server.test.ts runs --script, --param, --wait --json against a real server' },
  "docs/jobs.md: stead job show JOB_ID": { notRun: 'needs a job on a Stead server; test/cli/operator/server.test.ts runs stead job show' },
  "docs/jobs.md: stead job redo JOB_ID --failed --wait": { notRun: 'needs a failed job on a Stead server; test/e2e/jobs.test.ts and test/cli/operator/server.test.ts redo failed hosts' },
  "docs/jobs.md: stead job cancel JOB_ID": { notRun: 'needs a running job on a Stead server; test/cli/operator/server.test.ts runs stead job cancel' },
  "docs/cli.md: stead plan manifests/ --json": { notRun: "needs a Stead server with a live revision and an admin token; test/e2e/fleet-plan.test.ts runs stead plan DIR --json against a real server" },
  "docs/plan.md: stead plan manifests/": { notRun: "needs a Stead server with a live revision and an admin token; test/e2e/fleet-plan.test.ts runs stead plan DIR against a real server" },
  "docs/cli.md: stead plan run rolling-restart --targets group:web --var BATCH=2 --wait": { notRun: "needs a Stead server with saved plans; test/cli/operator/bodies.test.ts checks the request it sends" },
  'docs/rollouts.md: stead publish manifests/ --message "nginx 1.24" --batches 1,10%,+20%,100% --gate manual --wait-between 300 --max-failures 2': { notRun: 'needs a Stead server with enrolled hosts; test/cli/operator/publish.test.ts starts rollouts with these flags against a real server, test/e2e/rollouts.test.ts over 20 agents' },
  'README.md: npx stead plan manifests/demo': { notRun: 'needs a running Stead server (npm start); test/e2e/fleet-plan.test.ts runs stead plan DIR against a real server and agents' },
  'README.md: npx stead publish manifests/demo --batches 1,50%,100% --gate manual': { notRun: 'needs a running Stead server (npm start); test/cli/operator/publish.test.ts starts rollouts with these flags against a real server' },
  'README.md: npx stead rollout list': { notRun: 'needs a running Stead server (npm start); test/cli/operator/publish.test.ts' },
  'docs/cli.md: stead publish manifests/ --message "alpha says bonjour"': { notRun: "needs a Stead server; test/cli/operator/publish.test.ts publishes a checkout against a real server (human and --json output, refused revisions)" },
  'docs/cli.md: stead publish manifests/ --message canary --batches 1,10%,+20%,100% --gate manual --max-failures 5% --json': { notRun: "needs a Stead server with enrolled hosts; test/cli/operator/publish.test.ts starts a rollout with these flags against the real rollout engine" },
  "docs/cli.md: stead rollout list": { notRun: "needs a Stead server; test/cli/operator/publish.test.ts" },
  "docs/cli.md: stead rollout show r0mwxdsn40cfec1b6b": { notRun: "a rollout id of the reader's server; test/cli/operator/publish.test.ts (rollout show, human and --json)" },
  "docs/cli.md: stead job run --targets group:web --command 'systemctl reload nginx' --batches 1,10%,100% --gate manual --wait": { notRun: 'needs a Stead server with enrolled hosts; test/cli/operator/job-rollout.test.ts runs job run --batches --gate manual --wait against a real server and agent daemons' },
  "docs/jobs.md: stead job run --targets group:web --command 'systemctl reload nginx' --batches 1,10%,100% --gate manual --max-failures 2 --wait": { notRun: 'needs a Stead server with enrolled hosts; test/cli/operator/job-rollout.test.ts runs job run --batches with these flags against a real server and agent daemons' },
  'docs/rollouts.md: stead job run --targets group:web --script ./migrate.sh --batches 1,25%,100% --gate manual --json': { notRun: 'needs a Stead server with enrolled hosts; test/cli/operator/job-rollout.test.ts runs job run --batches --gate manual --json against a real server and agent daemons' },
  'docs/cli.md: stead rollout continue r0mwxdsn40cfec1b6b --reason "canary looks fine"': { notRun: "a rollout id of the reader's server; test/cli/operator/publish.test.ts (pause, continue, abort)" },
  'docs/cli.md: stead dashboard': { notRun: 'needs a Stead server with reporting hosts; test/server/api/dashboard-api.test.ts runs it against a real one' },
  'docs/cli.md: stead drift --host web-1 --since 7d': { notRun: 'needs a Stead server with drift history; test/server/api/dashboard-api.test.ts runs stead drift against a real one' },
  'docs/cli.md: stead drift --resource file:/etc/motd': { notRun: 'needs a Stead server with drift history; test/server/api/dashboard-api.test.ts runs stead drift --resource' },
  'docs/cli.md: stead drift --top --since 30d': { notRun: 'needs a Stead server with drift history; test/server/api/dashboard-api.test.ts runs stead drift --top' },
  'docs/cli.md: stead manifests ls': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests cat groups/web.yaml': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests validate templates/app.conf.j2 --file app.conf.j2': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests preview templates/app.conf.j2 --host web-1 --file app.conf.j2': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests vars groups/web.yaml --set app.port=9090 --unset app.legacy': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests edit templates/app.conf.j2 --file app.conf.j2': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests plan': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead manifests commit -m "web: port 9090" --publish --batches 1,10%,100% --gate manual': { notRun: 'needs a Stead server with a live revision; test/cli/operator/manifests.test.ts runs stead manifests against a real one' },
  'docs/cli.md: stead blobs': { notRun: 'needs a Stead server; test/e2e/blob-retention.test.ts runs stead blobs against a real one' },
  'docs/cli.md: stead blobs --json': { notRun: 'needs a Stead server; test/e2e/blob-retention.test.ts runs stead blobs --json against a real one' },
  'docs/cli.md: stead audit --since 24h': { notRun: 'needs a Stead server; test/cli/operator/audit.test.ts runs stead audit with filters against a real one' },
  'docs/cli.md: stead audit --action job. --actor alice': { notRun: 'needs a Stead server; test/cli/operator/audit.test.ts' },
  'docs/cli.md: stead audit --target host:web-1 --json': { notRun: 'needs a Stead server; test/cli/operator/audit.test.ts' },
  'docs/cli.md: stead revisions list --limit 20': { notRun: 'needs a Stead server with a history; test/cli/revisions.test.ts runs it against a real one' },
  'docs/cli.md: stead revisions diff 3f2a9c0d1e4b live': { notRun: "revision ids of the reader's server; test/cli/revisions.test.ts runs diff against a real one" },
  'docs/cli.md: stead revisions activate 3f2a9c0d1e4b': { notRun: "a revision id of the reader's server; test/cli/revisions.test.ts runs activate against a real one" },
  'docs/git.md: stead revisions list': { notRun: 'needs a Stead server with a history; test/cli/revisions.test.ts runs it against a real one' },
  'docs/git.md: stead revisions diff 3f2a9c0d1e4b live': { notRun: "revision ids of the reader's server; test/cli/revisions.test.ts" },
  'docs/git.md: stead revisions activate 3f2a9c0d1e4b': { notRun: "a revision id of the reader's server; test/cli/revisions.test.ts" },
  'docs/software.md: stead packages': { notRun: 'needs a Stead server with agents reporting; test/cli/operator/software.test.ts runs the software commands against a real server' },
  'docs/software.md: stead packages --name openssl': { notRun: 'needs a Stead server with agents reporting; test/cli/operator/software.test.ts runs the software commands against a real server' },
  'docs/software.md: stead services --drift': { notRun: 'needs a Stead server with agents reporting; test/cli/operator/software.test.ts runs the software commands against a real server' },
  'docs/software.md: stead packages upgrade openssl --batches 1,10%,100% --gate manual --wait': { notRun: 'needs a Stead server with agents reporting; test/cli/operator/software.test.ts runs the software commands against a real server' },
  'docs/software.md: stead service restart nginx --targets group:web --batches 1,25%,100% --wait': { notRun: 'needs a Stead server with agents reporting; test/cli/operator/software.test.ts runs the software commands against a real server' },
  'docs/software.md: stead collectors set vms --file list-vms.sh --timeout 20': { notRun: 'needs a Stead server with agents reporting; test/cli/operator/software.test.ts runs the software commands against a real server' },
  'docs/templates.md: stead render --template templates/nginx.conf.j2 --vars vars.yaml': { code: 0, check: ({ stdout }) => (stdout.includes('listen 8080;') ? undefined : `printed ${stdout}`) },
  'docs/templates.md: stead render --template t.j2 --vars vars.json --json': { code: 0, check: ({ stdout }) => ((JSON.parse(stdout) as { output?: string }).output === 'hello web-1\n' ? undefined : `printed ${stdout}`) },
};

/** `stead`/`npx stead` lines of fenced code blocks (a trailing "  # comment" dropped), as "file: command". */
function docCommands(): string[] {
  const files = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const out: string[] = [];
  for (const f of files) {
    let fenced = false;
    for (const raw of readFileSync(join(repoRoot, f), 'utf8').split('\n')) {
      if (raw.startsWith('```')) {
        fenced = !fenced;
        continue;
      }
      const line = raw.trim().replace(/^\$ /, '');
      if (fenced && /^(?:npx )?stead\b/.test(line)) out.push(`${f}: ${line.replace(/\s{2,}# .*$/, '').trim()}`);
    }
    // Inline commands in prose: `npx stead …` / `stead apply …` between backticks.
    for (const m of readFileSync(join(repoRoot, f), 'utf8').matchAll(/`((?:npx )?stead apply [^`]*--root [^`]+)`/g)) out.push(`${f}: ${m[1]!}`);
  }
  return [...new Set(out)];
}

/** A fresh directory as a new user has it: the clone's manifests, and the files the docs assume. */
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stead-docs-'));
  chmodSync(dir, 0o755);
  cpSync(join(repoRoot, 'manifests'), join(dir, 'manifests'), { recursive: true });
  const examples = join(repoRoot, 'manifests/examples');
  for (const d of [dir, join(dir, 'site')]) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'site.yaml'), readFileSync(join(examples, 'demo.yaml')));
    cpSync(join(examples, 'templates'), join(d, 'templates'), { recursive: true });
    cpSync(join(examples, 'files'), join(d, 'files'), { recursive: true });
  }
  writeFileSync(join(dir, 'templates/nginx.conf.j2'), 'server {\n    listen {{ port }};\n}\n');
  writeFileSync(join(dir, 'vars.yaml'), 'port: 8080\n');
  writeFileSync(join(dir, 't.j2'), 'hello {{ name }}\n');
  writeFileSync(join(dir, 'vars.json'), '{"name": "web-1"}');
  writeFileSync(join(dir, 'pw.txt'), 's3cret\n');
  return dir;
}

/** The documented command as run: stead → the built CLI, /tmp and /etc paths → the fresh dir, --port → a free one. */
function shellLine(command: string, plan: Run): string {
  let cmd = command.replace(/^(?:npx )?stead\b/, '"$STEAD"');
  cmd = cmd.replace(/\/tmp\/(sandbox|sb)\b/g, '"$T/$1"').replace(/\/etc\/stead\//g, '"$T"/').replace(/\/var\/lib\/stead-server/g, '"$T/server"');
  if (plan.serve) cmd = cmd.replace(/--port \d+/, '--port 0');
  const redirect = / > \S+$/.exec(cmd);
  const base = redirect ? cmd.slice(0, redirect.index) : cmd;
  return `${base}${plan.append ? ` ${plan.append.args}` : ''}${redirect ? redirect[0] : ''}`;
}

function runShell(line: string, dir: string, serve: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // cli/stead is what `npx stead` runs (package.json bin): a sh wrapper that execs node dist/cli/main.js.
    const child = spawn('/bin/sh', ['-c', serve ? `exec ${line}` : line], { cwd: dir, env: { ...process.env, STEAD: join(repoRoot, 'cli/stead'), T: dir, NO_COLOR: '1', PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env['PATH'] ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (serve && /listening on/.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const found = docCommands();

t.test('every documented command has a plan, and every plan a documented command', async (t) => {
  t.same(found.filter((c) => !(c in plans)), [], 'documented commands without a plan: add one (how it runs, or why not)');
  t.same(Object.keys(plans).filter((k) => !found.includes(k)), [], 'plans whose command is no longer in the docs');
});

for (const key of found) {
  const plan = plans[key];
  if (plan === undefined) continue;
  if ('notRun' in plan) {
    t.test(key, { skip: `not run: ${plan.notRun}` }, () => undefined);
    continue;
  }
  t.test(key, async (t) => {
    const dir = freshDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const command = key.slice(key.indexOf(': ') + 2);
    const line = shellLine(command, plan);
    if (plan.append) t.comment(`run with ${plan.append.args}: ${plan.append.why}`);
    if (plan.after !== undefined) {
      const first = plans[plan.after] as Run;
      const pre = await runShell(shellLine(plan.after.slice(plan.after.indexOf(': ') + 2), first), dir, false);
      t.equal(pre.code, first.code, `first: ${plan.after}\n${pre.stderr}`);
    }
    const r = await runShell(line, dir, plan.serve === true);
    t.equal(r.code, plan.code, `${line}\n${r.stderr.slice(-2000)}`);
    const problem = plan.check?.({ stdout: r.stdout, dir });
    t.equal(problem, undefined, problem ?? 'output as documented');
  });
}
