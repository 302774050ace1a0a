/**
 * `stead render` as a real process (node dist/cli/main.js render …): output byte for byte,
 * YAML 1.1 variables as Ansible reads them, includes relative to the template, errors located on
 * stderr with exit 1, --json, usage errors; and the corpus' own shell runner driving it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { repoRoot, runStead, steadMain } from '../../helpers/cli.js';

if (!existsSync(steadMain)) {
  t.test('stead render', { skip: `${steadMain} is missing: build first (npx tsc -p tsconfig.json)` }, async () => {});
} else {
  t.test('renders a template with YAML 1.1 variables and includes', async (t) => {
    const dir = t.testdir({
      tpl: {
        'main.j2': '{{ ansible_managed | comment }}\n{% include "part.j2" %}\nmode={{ mode }} on={{ enabled }} ratio={{ ratio }} port={{ port | int + 1 }}\n{% for u in users if u.admin %}\n{{ u.name }}\n{% endfor %}\n',
        'part.j2': 'included {{ name }}',
      },
      'vars.yaml': 'ansible_managed: managed\nname: web\nmode: 0644\nenabled: yes\nratio: 1.0\nport: "8080"\nusers:\n  - {name: a, admin: true}\n  - {name: b, admin: no}\n',
      'vars.json': '{"ansible_managed": "m", "name": "j", "mode": "0644", "enabled": true, "ratio": 1.0, "port": 1, "users": []}',
    });
    const r = await runStead(['render', '--template', 'tpl/main.j2', '--vars', 'vars.yaml'], { cwd: dir });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, '#\n# managed\n#\nincluded webmode=420 on=True ratio=1.0 port=8081\na\n');
    const j = await runStead(['render', '--template', join(dir, 'tpl', 'main.j2'), '--vars', join(dir, 'vars.json'), '--json']);
    t.equal(j.code, 0, j.stderr);
    t.same(JSON.parse(j.stdout), { template: join(dir, 'tpl', 'main.j2'), output: '#\n# m\n#\nincluded jmode=0644 on=True ratio=1 port=2\n' });
    // (JSON.parse cannot tell 1.0 from 1, so JSON variables print 1; YAML variables keep 1.0.)
  });

  t.test('errors are located and exit 1; usage errors exit 64', async (t) => {
    const dir = t.testdir({ 'bad.j2': 'a\n{{ nope }}\n', 'evil.j2': '{% include "../x" %}', 'v.yaml': 'a: [1\n' });
    let r = await runStead(['render', '--template', 'bad.j2'], { cwd: dir });
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^stead render: bad\.j2:2: 'nope' is undefined$/m);
    r = await runStead(['render', '--template', 'bad.j2', '--json'], { cwd: dir });
    t.equal(r.code, 1);
    t.match(JSON.parse(r.stdout), { error: { code: 'TEMPLATE_ERROR', kind: 'UNDEFINED', template: 'bad.j2', line: 2 } });
    r = await runStead(['render', '--template', 'evil.j2'], { cwd: dir });
    t.equal(r.code, 1);
    t.match(r.stderr, /leaves the template directory/);
    r = await runStead(['render', '--template', 'bad.j2', '--vars', 'v.yaml'], { cwd: dir });
    t.equal(r.code, 1);
    t.match(r.stderr, /v\.yaml: invalid YAML/);
    r = await runStead(['render', '--template', 'missing.j2'], { cwd: dir });
    t.equal(r.code, 1);
    t.match(r.stderr, /not found/);
    r = await runStead(['render'], { cwd: dir });
    t.equal(r.code, 64);
    t.match(r.stderr, /--template/);
    r = await runStead(['render', '--template', 'bad.j2', '--bogus'], { cwd: dir });
    t.equal(r.code, 64);
  });

  const runner = fileURLToPath(new URL('../../../../shared/corpus/jinja/run.sh', import.meta.url));
  t.test('the corpus shell runner passes with stead render', { skip: existsSync(runner) ? false : `corpus runner not found at ${runner}` }, async (t) => {
    const res = spawnSync('bash', [runner], {
      env: { ...process.env, RENDER_CMD: `${JSON.stringify(process.execPath)} dist/cli/main.js render --template {T} --vars {V}`, RENDER_CWD: repoRoot },
      encoding: 'utf8',
      timeout: 600_000,
    });
    const last = res.stdout.trim().split('\n').pop() ?? '';
    t.comment(`run.sh: ${last}`);
    const m = /^(\d+) passed, (\d+) failed$/.exec(last);
    t.ok(m, `runner summary: ${last} ${res.stderr}`);
    t.ok(Number(m?.[1]) >= 40, `at least 40 cases pass through the CLI (${last})`);
  });
}
