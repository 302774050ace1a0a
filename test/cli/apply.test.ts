/**
 * `stead apply` as a real process on real temporary roots: exit codes (plain and detailed),
 * --noop touching nothing, --json and --report valid against the run-report schema, human
 * output, a broken manifest changing nothing, drift shown as a corrective change with a diff.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compileGuard, runReportSchema, type Guard, type RunReport } from '../../schemas/index.js';
import { repoRoot, runStead, snapshotTree } from '../helpers/cli.js';

const isRunReport: Guard<RunReport> = compileGuard(runReportSchema);

const manifest = `vars:
  greeting: hello
  ports: [80, 443]
resources:
  - type: directory
    path: /srv/app
    mode: "0755"
  - type: file
    path: /srv/app/motd
    content: "{{ greeting }} from {{ inventory_hostname }}\\n"
    mode: "0644"
  - type: file
    path: /srv/app/app.conf
    template: app.conf.j2
    vars: { name: shop }
    require: [directory:/srv/app]
  - type: link
    path: /srv/app/current
    target: /srv/app/motd
`;

function workspace(t: { testdir: (typeof import('tap'))['default']['testdir'] }): { dir: string; root: string; file: string } {
  const dir = t.testdir({
    site: {
      'site.yaml': manifest,
      templates: { 'app.conf.j2': 'name={{ name }}\n{% for p in ports %}listen {{ p }}\n{% endfor %}' },
    },
    root: { srv: {} },
  });
  return { dir, root: join(dir, 'root'), file: join(dir, 'site', 'site.yaml') };
}

t.test('apply converges, then a rerun has nothing to do (detailed exit codes 2 then 0)', async (t) => {
  const { root, file } = workspace(t);
  const first = await runStead(['apply', file, '--root', root, '--host', 'web-1', '--detailed-exitcodes']);
  t.equal(first.code, 2, `first run changes (stderr: ${first.stderr})`);
  t.equal(readFileSync(join(root, 'srv/app/motd'), 'utf8'), 'hello from web-1\n');
  t.equal(readFileSync(join(root, 'srv/app/app.conf'), 'utf8'), 'name=shop\nlisten 80\nlisten 443\n');
  t.equal(readlinkSync(join(root, 'srv/app/current')), '/srv/app/motd');
  t.match(first.stdout, /^changed\s+file:\/srv\/app\/motd$/m, 'one line per changed resource');
  t.match(first.stdout, /^Changed: changed 4, failed 0, skipped 0, in sync 0 \(of 4 resources\) in \d+\.\d\d s/m, 'summary line');

  const second = await runStead(['apply', file, '--root', root, '--host', 'web-1', '--detailed-exitcodes']);
  t.equal(second.code, 0, 'nothing to do');
  t.notMatch(second.stdout, /^changed/m, 'in-sync resources print nothing');
  t.match(second.stdout, /^In sync: changed 0, failed 0, skipped 0, in sync 4/m);

  const plain = await runStead(['apply', file, '--root', root, '--host', 'web-1']);
  t.equal(plain.code, 0, 'plain exit code 0 on success');
});

t.test('--noop reports what would change and touches nothing under the root', async (t) => {
  const { root, file } = workspace(t);
  mkdirSync(join(root, 'srv/app'), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, 'srv/app/motd'), 'old content\n');
  const before = snapshotTree(root);
  const r = await runStead(['apply', file, '--root', root, '--host', 'web-1', '--noop', '--detailed-exitcodes']);
  t.equal(r.code, 2, `changes pending (stderr: ${r.stderr})`);
  t.same(snapshotTree(root), before, 'the root is byte-for-byte unchanged, state directory included');
  t.match(r.stdout, /^would change\s+file:\/srv\/app\/motd$/m);
  t.match(r.stdout, /^\s+-old content$/m, 'content diff shown');
  t.match(r.stdout, /^\s+\+hello from web-1$/m);
  t.match(r.stdout, /^Would change: would change 4/m);

  // after a real run (the state directory now exists), a noop run over drift changes nothing either
  t.equal((await runStead(['apply', file, '--root', root, '--host', 'web-1'])).code, 0);
  writeFileSync(join(root, 'srv/app/motd'), 'drifted\n');
  const drifted = snapshotTree(root);
  t.ok(Object.keys(drifted).some((p) => p.startsWith('var/lib/stead/')), 'the state directory is under the root');
  const again = await runStead(['apply', file, '--root', root, '--host', 'web-1', '--noop', '--detailed-exitcodes']);
  t.equal(again.code, 2);
  t.match(again.stdout, /^\s+content sha256:\w{8} -> sha256:\w{8} \(drift\)$/m, 'drift is flagged');
  t.same(snapshotTree(root), drifted, 'nothing changed, state directory included');
});

t.test('--json prints a run report valid against its schema; --report writes the same', async (t) => {
  const { dir, root, file } = workspace(t);
  const reportFile = join(dir, 'report.json');
  const r = await runStead(['apply', file, '--root', root, '--host', 'web-1', '--json', '--report', reportFile]);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as unknown;
  t.same(isRunReport.check(report), [], 'valid run report');
  const written = JSON.parse(readFileSync(reportFile, 'utf8')) as unknown;
  t.same(written, report, '--report holds the same report');
  const rr = report as RunReport;
  t.equal(rr.host, 'web-1');
  t.equal(rr.mode, 'apply');
  t.equal(rr.outcome, 'changed');
  t.same(rr.counts, { total: 4, inSync: 0, changed: 4, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 });
  t.match(rr.revision, /^local-[0-9a-f]{12}$/);
  t.equal(rr.resources.length, 4);
});

t.test('a broken manifest: every problem located, exit 1, nothing touched', async (t) => {
  const dir = t.testdir({
    'bad.yaml': 'resources:\n  - type: file\n    path: /srv/a\n    content: a\n  - type: file\n    path: /srv/b\n    mode: 0644\n  - type: servce\n    name: x\n  - type: file\n    path: /srv/c\n    require: [file:/nope]\n',
    root: { srv: { a: 'keep me\n' } },
  });
  const root = join(dir, 'root');
  const before = snapshotTree(root);
  for (const extra of [[], ['--detailed-exitcodes']]) {
    const r = await runStead(['apply', 'bad.yaml', '--root', root, ...extra], { cwd: dir });
    t.equal(r.code, 1, 'exit 1 for an invalid manifest');
    const lines = r.stderr.trim().split('\n');
    t.same(lines.slice(0, 3), [
      'bad.yaml:7:11: /resources/1/mode: mode 0644 is read by YAML as the number 644, not an octal mode; quote it: mode: "0644"',
      'bad.yaml:8:11: /resources/2/type: unknown resource type "servce" (did you mean "service"?); known types: file, directory, link, archive, package, service, user, group, exec',
      'bad.yaml:12:15: /resources/3/require/0: require: no resource file:/nope in this manifest; a reference is "type:title", the title being the path (file, directory, link, archive), the name, or an exec\'s name or command',
    ]);
    t.match(lines[3], /^stead apply: 3 errors in bad\.yaml; nothing was changed$/);
    t.equal(r.stdout, '');
    t.same(snapshotTree(root), before, 'nothing under the root changed (no state directory either)');
  }
  const j = await runStead(['apply', 'bad.yaml', '--root', root, '--json'], { cwd: dir });
  t.equal(j.code, 1);
  const out = JSON.parse(j.stdout) as { error: string; problems: { line: number; column: number; path: string; code: string }[] };
  t.equal(out.error, 'INVALID_MANIFEST');
  t.same(out.problems.map((p) => [p.line, p.column, p.path, p.code]), [[7, 11, '/resources/1/mode', 'BAD_MODE'], [8, 11, '/resources/2/type', 'UNKNOWN_TYPE'], [12, 15, '/resources/3/require/0', 'UNKNOWN_REF']]);
});

t.test('a template error is reported in the template, and nothing is touched', async (t) => {
  const dir = t.testdir({
    'm.yaml': 'resources:\n  - type: file\n    path: /srv/ok\n    content: ok\n  - type: file\n    path: /srv/x\n    template: x.j2\n',
    templates: { 'x.j2': 'fine\n{{ missing_var }}\n' },
    root: { srv: {} },
  });
  const root = join(dir, 'root');
  const r = await runStead(['apply', 'm.yaml', '--root', root], { cwd: dir });
  t.equal(r.code, 1);
  t.match(r.stderr, /x\.j2/);
  t.match(r.stderr, /\/resources\/1\/template/);
  t.same(snapshotTree(root), { srv: 'dir 755' });
});

t.test('failures: exit 1, or 4 / 6 with detailed exit codes; dependents are skipped', async (t) => {
  const dir = t.testdir({
    'm.yaml': [
      'resources:',
      '  - type: file',
      '    path: /srv/fine',
      '    content: fine',
      '  - type: exec',
      '    name: broken',
      '    command: "exit 3"',
      '  - type: file',
      '    path: /srv/after',
      '    content: never',
      '    require: [exec:broken]',
      '',
    ].join('\n'),
    root: { srv: {} },
  });
  const root = join(dir, 'root');
  const plain = await runStead(['apply', 'm.yaml', '--root', root], { cwd: dir });
  t.equal(plain.code, 1);
  t.match(plain.stdout, /^failed\s+exec:broken: /m);
  t.match(plain.stdout, /^skipped\s+file:\/srv\/after: DEPENDENCY_FAILED/m);
  t.match(plain.stdout, /^Failed: changed 1, failed 1, skipped 1, in sync 0/m, 'the independent file was still written');
  t.notOk(existsSync(join(root, 'srv/after')));
  const detailed = await runStead(['apply', 'm.yaml', '--root', root, '--detailed-exitcodes'], { cwd: dir });
  t.equal(detailed.code, 4, 'failures only');
  writeFileSync(join(root, 'srv/fine'), 'drifted');
  const both = await runStead(['apply', 'm.yaml', '--root', root, '--detailed-exitcodes'], { cwd: dir });
  t.equal(both.code, 6, 'changes and failures');
});

t.test('drift is corrected and shown as a corrective change with a diff', async (t) => {
  const { root, file } = workspace(t);
  t.equal((await runStead(['apply', file, '--root', root, '--host', 'web-1'])).code, 0);
  writeFileSync(join(root, 'srv/app/motd'), 'someone edited this\n');
  const r = await runStead(['apply', file, '--root', root, '--host', 'web-1', '--json']);
  t.equal(r.code, 0);
  const report = JSON.parse(r.stdout) as RunReport;
  const motd = report.resources.find((s) => s.id === 'file:/srv/app/motd');
  t.equal(motd?.state, 'changed');
  t.ok(motd?.changes.some((c) => c.property === 'content' && c.corrective), 'content change is corrective');
  t.equal(report.counts.corrective, 1);
  t.match(motd?.diff, /-someone edited this/);
  t.equal(readFileSync(join(root, 'srv/app/motd'), 'utf8'), 'hello from web-1\n');
});

t.test('a directory of manifests is merged', async (t) => {
  const dir = t.testdir({
    site: {
      'a.yaml': 'vars: { who: world }\nresources:\n  - type: directory\n    path: /etc/app\n',
      'b.yaml': 'resources:\n  - type: file\n    path: /etc/app/hello\n    content: "hello {{ who }}"\n    require: [directory:/etc/app]\n',
      'notes.txt': 'not a manifest',
    },
    root: { etc: {} },
  });
  const r = await runStead(['apply', join(dir, 'site'), '--root', join(dir, 'root')]);
  t.equal(r.code, 0, r.stderr);
  t.equal(readFileSync(join(dir, 'root/etc/app/hello'), 'utf8'), 'hello world');
});

t.test('usage: help, unknown commands and options', async (t) => {
  const help = await runStead(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: stead <command>/);
  t.match(help.stdout, /^\s+apply\s+Enforce a manifest/m);
  const applyHelp = await runStead(['apply', '--help']);
  t.equal(applyHelp.code, 0);
  t.match(applyHelp.stdout, /--detailed-exitcodes/);
  const helpApply = await runStead(['help', 'apply']);
  t.equal(helpApply.stdout, applyHelp.stdout, 'stead help apply = stead apply --help');
  const none = await runStead([]);
  t.equal(none.code, 64);
  const unknown = await runStead(['frobnicate']);
  t.equal(unknown.code, 64);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
  const badFlag = await runStead(['apply', 'x.yaml', '--nope']);
  t.equal(badFlag.code, 64);
  t.match(badFlag.stderr, /stead apply: Unknown option '--nope'/);
  const noPath = await runStead(['apply']);
  t.equal(noPath.code, 64);
  const missing = await runStead(['apply', '/nonexistent/site.yaml', '--root', t.testdir({})]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /\/nonexistent\/site\.yaml: \/: cannot read the manifest: no such file/);
  const version = await runStead(['--version']);
  t.match(version.stdout, /^stead \d+\.\d+\.\d+/);
});

t.test('a manifest repository (stead.yaml) is compiled for --host', async (t) => {
  const dir = t.testdir({ root: { srv: {} } });
  const root = join(dir, 'root');
  const repo = join(repoRoot, 'manifests', 'demo');
  const first = await runStead(['apply', repo, '--host', 'demo-1', '--root', root, '--detailed-exitcodes', '--json']);
  t.equal(first.code, 2, first.stderr);
  const report = JSON.parse(first.stdout) as RunReport;
  t.equal(report.host, 'demo-1');
  t.ok(report.counts.changed > 0);
  const second = await runStead(['apply', repo, '--host', 'demo-1', '--root', root, '--detailed-exitcodes']);
  t.equal(second.code, 0, `${second.stdout}${second.stderr}`);
  const unknown = await runStead(['apply', repo, '--host', 'no-such-host', '--root', root]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no-such-host/);
  t.match(unknown.stderr, /nothing was changed/);
});
