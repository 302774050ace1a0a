/**
 * Manifest exec resources pass the safety audit when a repository is validated (stead validate
 * and server publish): a block-mode finding refuses the repository with file, line, path and
 * the rule; scan findings and audit_allow'ed rules are warnings; the catalog never carries
 * audit_allow; template syntax counts as a value that may be empty.
 */
import t from 'tap';
import { compileHost } from '../../../compiler/compile.js';
import { auditExecs, maskTemplate } from '../../../compiler/repo/audit-execs.js';
import { validateRepository } from '../../../compiler/repo/validate-repository.js';
import { baseRepoFiles, freshDir, loadFixture } from '../../helpers/compiler-repo-fixture.js';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

function withExecs(files: Record<string, string>, role: string, execs: string[]): Record<string, string> {
  const out = { ...files };
  out[role] = `${out[role]!.replace(/\n*$/, '\n')}${execs.join('\n')}\n`;
  return out;
}

t.test('a dangerous exec command refuses the repository with its file, line, path and rule', async (t) => {
  const files = withExecs(baseRepoFiles(), 'roles/app/role.yaml', [
    '  - type: exec',
    '    name: cleanup',
    '    command: rm -rf "$CACHE_DIR/"*',
    '  - type: exec',
    '    name: wipe',
    '    command: |',
    '      echo wiping',
    '      dd if=/dev/zero of=/dev/sda bs=1M',
    '    unless: test -f /done',
  ]);
  const lines = files['roles/app/role.yaml']!.split('\n');
  const repo = await loadFixture(freshDir(t), files);
  const v = validateRepository(repo);
  t.equal(v.ok, false);
  const audit = v.problems.filter((p) => p.code === 'AUDIT_BLOCKED');
  t.equal(audit.length, 2);
  const [first, second] = audit;
  t.equal(first!.file, 'roles/app/role.yaml');
  t.equal(first!.severity, 'error');
  t.equal(first!.line, lines.indexOf('    command: rm -rf "$CACHE_DIR/"*') + 1);
  t.match(first!.path, /^\/resources\/\d+\/command$/);
  t.match(first!.message, /rule rm-empty-var/);
  t.match(first!.message, /add audit_allow: \[rm-empty-var\]/);
  t.equal(second!.line, lines.indexOf('    command: |') + 1);
  t.match(second!.message, /rule dd-block-device.*line 2, column 1 of command/);
});

t.test('scan-mode findings and audit_allow are warnings: the repository is accepted, audit_allow never reaches the catalog', async (t) => {
  const files = withExecs(baseRepoFiles(), 'roles/app/role.yaml', [
    '  - type: exec',
    '    name: restart-host',
    '    command: shutdown -r +1',
    '  - type: exec',
    '    name: reset-disk',
    '    command: mkfs.ext4 /dev/sdb',
    '    audit_allow: [mkfs]',
    '    onlyif: "echo \'rm -rf /\'"',
  ]);
  const repo = await loadFixture(freshDir(t), files);
  const v = validateRepository(repo);
  t.equal(v.ok, true, JSON.stringify(v.problems.filter((p) => p.severity === 'error')));
  const warnings = v.problems.filter((p) => p.code === 'AUDIT_WARNING');
  t.same(warnings.map((w) => w.severity), ['warning', 'warning']);
  t.match(warnings.map((w) => w.message).join('\n'), /shutdown.*scan mode/);
  t.match(warnings.map((w) => w.message).join('\n'), /mkfs.*allowed by audit_allow/);
  const host = [...repo.hosts.keys()].find((h) => compileHost(repo, h, {}).catalog?.resources.some((r) => r.type === 'exec'));
  t.ok(host, 'some host gets the execs');
  const execs = compileHost(repo, host!, {}).catalog!.resources.filter((r) => r.type === 'exec');
  t.equal(execs.length, 2);
  t.ok(execs.every((r) => !('audit_allow' in r)), 'audit_allow is stripped from the catalog');
});

t.test('settings change modes; unknown audit_allow entries are schema-checked', async (t) => {
  const files = withExecs(baseRepoFiles(), 'roles/app/role.yaml', ['  - type: exec', '    name: x', '    command: rm -rf /']);
  const repo = await loadFixture(freshDir(t), files);
  t.equal(validateRepository(repo, { auditSettings: [{ rule: 'rm-root', mode: 'scan' }] }).ok, true);
  t.same(auditExecs(repo, [{ rule: 'rm-root', mode: 'off' }]), []);
  const bad = withExecs(baseRepoFiles(), 'roles/app/role.yaml', ['  - type: exec', '    name: x', '    command: ls', '    audit_allow: ["Not A Rule"]']);
  const v = validateRepository(await loadFixture(freshDir(t), bad));
  t.equal(v.ok, false, 'a malformed rule id is a schema error');
});

t.test('template syntax in a command is a value that may be empty; positions are kept', async (t) => {
  t.equal(maskTemplate('rm -rf {{ dir }}/'), 'rm -rf ${T_____}/');
  t.equal(maskTemplate('a {{x}} b'), 'a ${T_} b');
  t.equal(maskTemplate('{% if x %}ls{% endif %}'), '          ls           ');
  t.equal(maskTemplate('{{ a\n}} {# c #}'), `    \n${' '.repeat(10)}`);
  const files = withExecs(baseRepoFiles(), 'roles/app/role.yaml', ['  - type: exec', '    name: x', '    command: "rm -rf {{ app_dir }}/"', '  - type: exec', '    name: y', '    command: "rm -rf {{ app_dir }}/cache"']);
  const v = validateRepository(await loadFixture(freshDir(t), files));
  t.same(v.problems.filter((p) => p.code.startsWith('AUDIT')).map((p) => p.message.match(/rule ([a-z-]+)/)?.[1]), ['rm-empty-var']);
});

t.test('server publish refuses a repository with a dangerous exec, naming file, line and rule', async (t) => {
  const fx = await startServer(t);
  const files = smallRepo();
  files['roles/app/role.yaml'] = `${files['roles/app/role.yaml']!.replace(/\n*$/, '\n')}  - type: exec\n    name: bomb\n    command: ":(){ :|:& };:"\n`;
  const line = files['roles/app/role.yaml']!.split('\n').indexOf('    command: ":(){ :|:& };:"') + 1;
  const r = await fx.publish(files);
  t.equal(r.status, 422);
  const body = r.json();
  t.equal(body.error.code, 'REVISION_INVALID');
  const p = body.error.details.problems.find((x: { code: string }) => x.code === 'AUDIT_BLOCKED');
  t.same([p.file, p.line], ['roles/app/role.yaml', line]);
  t.match(p.message, /rule fork-bomb/);
  const ok = await fx.publish(smallRepo());
  t.equal(ok.status, 201, 'a clean repository still publishes');
});
