/**
 * The bad-manifest table: each broken input is rejected with exactly the expected problems
 * (line, column, JSON pointer, code and the gist of the message), all in one pass.
 */
import t from 'tap';
import { parseManifest, type ManifestProblem } from '../../../compiler/manifest/index.js';

interface Expected {
  line: number;
  column: number;
  path: string;
  code: ManifestProblem['code'];
  /** Substrings the message must contain. */
  says: string[];
}

interface Case {
  name: string;
  yaml: string;
  errors: Expected[];
  /** Warnings expected besides the errors (default none). */
  warnings?: Expected[];
}

const e = (line: number, column: number, path: string, code: ManifestProblem['code'], ...says: string[]): Expected => ({ line, column, path, code, says });

const cases: Case[] = [
  {
    name: 'YAML syntax: unclosed flow sequence',
    yaml: 'resources:\n  - type: package\n    name: [nginx\n',
    errors: [e(4, 1, '', 'YAML_SYNTAX', 'indentation')],
  },
  {
    name: 'YAML syntax: unterminated quoted string',
    yaml: 'resources:\n  - type: file\n    path: "/etc/motd\n',
    errors: [e(4, 1, '', 'YAML_SYNTAX', 'closing "quote')],
  },
  {
    name: 'YAML syntax: tab indentation',
    yaml: 'resources:\n\t- type: file\n',
    errors: [e(2, 1, '', 'YAML_SYNTAX', 'Tabs', 'spaces')],
  },
  {
    name: 'YAML: two documents in one file',
    yaml: 'resources: []\n---\nresources: []\n',
    errors: [e(2, 1, '', 'YAML_SYNTAX', 'one YAML document')],
  },
  {
    name: 'YAML: duplicate key in a resource',
    yaml: 'resources:\n  - type: file\n    path: /a\n    path: /b\n',
    errors: [e(4, 5, '', 'DUPLICATE_KEY', 'duplicate key "path"')],
  },
  {
    name: 'YAML: duplicate top-level key',
    yaml: 'resources: []\nvars: {}\nresources: []\n',
    errors: [e(3, 1, '', 'DUPLICATE_KEY', 'duplicate key "resources"')],
  },
  {
    name: 'YAML: unknown tag',
    yaml: 'resources:\n  - type: exec\n    command: !!js/function "f"\n',
    errors: [e(3, 14, '', 'YAML_SYNTAX', 'Unresolved tag', 'not allowed')],
  },
  {
    name: 'prototype pollution key in vars',
    yaml: 'vars:\n  __proto__:\n    isAdmin: true\nresources: []\n',
    errors: [e(2, 3, '/vars/__proto__', 'FORBIDDEN_KEY', '"__proto__" is not allowed')],
  },
  {
    name: 'constructor key nested in a file resource\'s vars',
    yaml: 'resources:\n  - type: file\n    path: /a\n    content: x\n    vars:\n      constructor: { prototype: 1 }\n',
    errors: [e(6, 7, '/resources/0/vars/constructor', 'FORBIDDEN_KEY', '"constructor"')],
  },
  {
    name: 'top level is a list, not a map',
    yaml: '- type: package\n  name: nginx\n',
    errors: [e(1, 1, '', 'NOT_A_MANIFEST', 'resources:', 'list')],
  },
  {
    name: 'unknown top-level key',
    yaml: 'resource:\n  - type: package\n    name: nginx\n',
    errors: [e(1, 1, '/resource', 'UNKNOWN_PROPERTY', 'unknown property "resource"', '"resources" and "vars"')],
  },
  {
    name: 'resources is a map, not a list',
    yaml: 'resources:\n  type: package\n  name: nginx\n',
    errors: [e(2, 3, '/resources', 'INVALID_VALUE', 'must be array')],
  },
  {
    name: 'vars is a list',
    yaml: 'vars: [a, b]\nresources: []\n',
    errors: [e(1, 7, '/vars', 'INVALID_VALUE', 'must be object')],
  },
  {
    name: 'a resource that is a string',
    yaml: 'resources:\n  - package:nginx\n',
    errors: [e(2, 5, '/resources/0', 'INVALID_VALUE', 'a map with a "type"', '"package:nginx"')],
  },
  {
    name: 'missing type',
    yaml: 'resources:\n  - name: nginx\n    ensure: present\n',
    errors: [e(2, 5, '/resources/0', 'MISSING_PROPERTY', 'missing required property "type"', 'file, directory')],
  },
  {
    name: 'unknown type, with a suggestion',
    yaml: 'resources:\n  - type: pakage\n    name: nginx\n',
    errors: [e(2, 11, '/resources/0/type', 'UNKNOWN_TYPE', 'unknown resource type "pakage"', 'did you mean "package"', 'known types: file, directory, link, archive, package, service, user, group, exec')],
  },
  {
    name: 'type is not a string',
    yaml: 'resources:\n  - type: 42\n',
    errors: [e(2, 11, '/resources/0/type', 'UNKNOWN_TYPE', 'unknown resource type 42')],
  },
  {
    name: 'unknown property, misspelt',
    yaml: 'resources:\n  - type: file\n    path: /etc/motd\n    contnet: hello\n',
    errors: [e(4, 5, '/resources/0/contnet', 'UNKNOWN_PROPERTY', 'unknown property "contnet"', 'did you mean "content"', 'file accepts: path, ensure, content')],
  },
  {
    name: 'missing required property (file path)',
    yaml: 'resources:\n  - type: file\n    content: hi\n',
    errors: [e(2, 5, '/resources/0', 'MISSING_PROPERTY', 'missing required property "path" for a file')],
  },
  {
    name: 'wrong type: uid as a string',
    yaml: 'resources:\n  - type: user\n    name: deploy\n    uid: "2001"\n',
    errors: [e(4, 10, '/resources/0/uid', 'INVALID_VALUE', 'uid must be integer', '(got "2001")')],
  },
  {
    name: 'wrong type: enable: yes (a string in YAML 1.2)',
    yaml: 'resources:\n  - type: service\n    name: nginx\n    enable: yes\n',
    errors: [e(4, 13, '/resources/0/enable', 'INVALID_VALUE', 'must be boolean', 'write true or false')],
  },
  {
    name: 'bad enum value',
    yaml: 'resources:\n  - type: service\n    name: nginx\n    ensure: started\n',
    errors: [e(4, 13, '/resources/0/ensure', 'INVALID_VALUE', 'must be one of "running", "stopped"', '(got "started")')],
  },
  {
    name: 'bad mode: bare 0644 is the number 644',
    yaml: 'resources:\n  - type: file\n    path: /etc/motd\n    mode: 0644\n',
    errors: [e(4, 11, '/resources/0/mode', 'BAD_MODE', 'mode 0644 is read by YAML as the number 644', 'quote it: mode: "0644"')],
  },
  {
    name: 'bad mode: bare 755 on a directory',
    yaml: 'resources:\n  - type: directory\n    path: /srv\n    mode: 755\n',
    errors: [e(4, 11, '/resources/0/mode', 'BAD_MODE', 'number 755', 'mode: "0755"')],
  },
  {
    name: 'bad mode: not octal',
    yaml: 'resources:\n  - type: file\n    path: /etc/motd\n    mode: "0999"\n',
    errors: [e(4, 11, '/resources/0/mode', 'INVALID_VALUE', 'octal mode written as a quoted string', '(got "0999")')],
  },
  {
    name: 'relative path',
    yaml: 'resources:\n  - type: file\n    path: etc/motd\n',
    errors: [e(3, 11, '/resources/0/path', 'INVALID_VALUE', 'must be an absolute path', '(got "etc/motd")')],
  },
  {
    name: 'path with ..',
    yaml: 'resources:\n  - type: directory\n    path: /srv/../etc\n',
    errors: [e(3, 11, '/resources/0/path', 'INVALID_VALUE', 'without ".." segments')],
  },
  {
    name: 'template path escaping templates/',
    yaml: 'resources:\n  - type: file\n    path: /etc/x\n    template: ../../etc/shadow\n',
    errors: [e(4, 15, '/resources/0/template', 'INVALID_VALUE', 'relative to the templates/ folder', 'without ".."')],
  },
  {
    name: 'absolute files/ source',
    yaml: 'resources:\n  - type: file\n    path: /etc/x\n    source: /etc/passwd\n',
    errors: [e(4, 13, '/resources/0/source', 'INVALID_VALUE', 'relative to the files/ folder')],
  },
  {
    name: 'file with both content and template',
    yaml: 'resources:\n  - type: file\n    path: /etc/x\n    content: hi\n    template: x.j2\n',
    errors: [e(5, 15, '/resources/0/template', 'CONFLICT', 'one of content, source or template', 'content and template')],
  },
  {
    name: 'content with ensure: absent',
    yaml: 'resources:\n  - type: file\n    path: /etc/x\n    ensure: absent\n    content: hi\n',
    errors: [e(5, 14, '/resources/0/content', 'CONFLICT', 'no effect with ensure: absent')],
  },
  {
    name: 'vars without a template',
    yaml: 'resources:\n  - type: file\n    path: /etc/x\n    vars: { a: 1 }\n',
    errors: [e(4, 11, '/resources/0/vars', 'CONFLICT', 'vars are passed to a template')],
  },
  {
    name: 'link without target',
    yaml: 'resources:\n  - type: link\n    path: /srv/current\n',
    errors: [e(2, 5, '/resources/0', 'MISSING_PROPERTY', 'a link needs a target')],
  },
  {
    name: 'purge without recurse',
    yaml: 'resources:\n  - type: directory\n    path: /etc/nginx/conf.d\n    purge: true\n',
    errors: [e(4, 12, '/resources/0/purge', 'CONFLICT', 'needs recurse: true')],
  },
  {
    name: 'process service without start',
    yaml: 'resources:\n  - type: service\n    name: app\n    provider: process\n    ensure: running\n',
    errors: [e(2, 5, '/resources/0/start', 'MISSING_PROPERTY', 'needs start')],
  },
  {
    name: 'sensitive names an unknown property',
    yaml: 'resources:\n  - type: file\n    path: /etc/x\n    content: s3cret\n    sensitive: [contents]\n',
    errors: [e(5, 17, '/resources/0/sensitive/0', 'INVALID_VALUE', '"contents" is not a property of file')],
  },
  {
    name: 'malformed reference',
    yaml: 'resources:\n  - type: service\n    name: nginx\n    require: [nginx]\n',
    errors: [e(4, 15, '/resources/0/require/0', 'INVALID_VALUE', 'must be a reference "type:title"')],
  },
  {
    name: 'unknown reference, with a suggestion',
    yaml: 'resources:\n  - type: package\n    name: nginx\n  - type: service\n    name: nginx\n    require: [package:ngnix]\n',
    errors: [e(6, 15, '/resources/1/require/0', 'UNKNOWN_REF', 'no resource package:ngnix in this manifest', 'did you mean "package:nginx"')],
  },
  {
    name: 'notify to a missing service',
    yaml: 'resources:\n  - type: file\n    path: /etc/nginx/nginx.conf\n    content: x\n    notify:\n      - service:nginx\n',
    errors: [e(6, 9, '/resources/0/notify/0', 'UNKNOWN_REF', 'notify: no resource service:nginx')],
  },
  {
    name: 'duplicate titles',
    yaml: 'resources:\n  - type: file\n    path: /etc/motd\n    content: a\n  - type: file\n    path: /etc/motd\n    content: b\n',
    errors: [e(6, 11, '/resources/1/path', 'DUPLICATE_TITLE', 'duplicate resource file:/etc/motd', 'resource #1')],
  },
  {
    name: 'two-resource cycle through require',
    yaml: 'resources:\n  - type: package\n    name: a\n    require: [package:b]\n  - type: package\n    name: b\n    require: [package:a]\n',
    errors: [e(7, 15, '/resources/1/require/0', 'CYCLE', 'dependency cycle: package:b -> package:a -> package:b')],
  },
  {
    name: 'three-resource cycle mixing before and require',
    yaml: [
      'resources:',
      '  - type: package',
      '    name: a',
      '    before: [package:b]',
      '  - type: package',
      '    name: b',
      '    before: [package:c]',
      '  - type: package',
      '    name: c',
      '    require: []',
      '    before: [package:a]',
      '',
    ].join('\n'),
    errors: [e(7, 14, '/resources/1/before/0', 'CYCLE', 'dependency cycle', 'package:a', 'package:b', 'package:c')],
  },
  {
    name: 'self reference',
    yaml: 'resources:\n  - type: exec\n    command: /bin/true\n    require: [exec:/bin/true]\n',
    errors: [e(4, 15, '/resources/0/require/0', 'CYCLE', 'refers to the resource itself')],
  },
  {
    name: 'unreadable bytes are still located: control character',
    yaml: 'resources:\n  - type: user\n    name: deploy\n    comment: "a:b"\n',
    errors: [e(4, 14, '/resources/0/comment', 'INVALID_VALUE', 'must not contain ":"')],
  },
  {
    name: 'negative uid and a bad shell in one resource: both reported',
    yaml: 'resources:\n  - type: user\n    name: deploy\n    uid: -1\n    shell: bash\n',
    errors: [
      e(4, 10, '/resources/0/uid', 'INVALID_VALUE', 'must be >= 0'),
      e(5, 12, '/resources/0/shell', 'INVALID_VALUE', 'absolute path', '(got "bash")'),
    ],
  },
  {
    name: 'many mistakes in one file are all reported, in order',
    yaml: [
      'vars:',
      '  region: js',
      'resources:',
      '  - type: file',
      '    path: /etc/motd',
      '    mode: 0644',
      '  - type: fiel',
      '    path: /x',
      '  - type: directory',
      '    path: relative/dir',
      '    purge: true',
      '  - type: service',
      '    name: nginx',
      '    require: [package:nginx]',
      '',
    ].join('\n'),
    errors: [
      e(6, 11, '/resources/0/mode', 'BAD_MODE', 'quote it'),
      e(7, 11, '/resources/1/type', 'UNKNOWN_TYPE', 'did you mean "file"'),
      e(10, 11, '/resources/2/path', 'INVALID_VALUE', 'absolute path'),
      e(11, 12, '/resources/2/purge', 'CONFLICT', 'recurse'),
      e(14, 15, '/resources/3/require/0', 'UNKNOWN_REF', 'package:nginx'),
    ],
  },
  {
    name: 'a bad reference does not hide a cycle elsewhere',
    yaml: [
      'resources:',
      '  - type: package',
      '    name: a',
      '    require: [package:b, package:zzz]',
      '  - type: package',
      '    name: b',
      '    require: [package:a]',
      '',
    ].join('\n'),
    errors: [
      e(4, 26, '/resources/0/require/1', 'UNKNOWN_REF', 'package:zzz'),
      e(7, 15, '/resources/1/require/0', 'CYCLE', 'dependency cycle'),
    ],
  },
  {
    name: 'blob source that is not a sha256',
    yaml: 'resources:\n  - type: file\n    path: /x\n    source: "sha256:abc"\n',
    errors: [e(4, 13, '/resources/0/source', 'INVALID_VALUE', '64 lowercase hex digits')],
  },
  {
    name: 'refreshonly exec nobody notifies is only a warning, next to a real error',
    yaml: 'resources:\n  - type: exec\n    command: /usr/bin/reload\n    refreshonly: true\n  - type: package\n    name: "Bad Name"\n',
    errors: [e(6, 11, '/resources/1/name', 'INVALID_VALUE', 'must be a package name')],
    warnings: [e(4, 5, '/resources/0/refreshonly', 'UNUSED_REFRESHONLY', 'no resource notifies exec:/usr/bin/reload')],
  },
];

t.ok(cases.length >= 30, `at least 30 broken inputs (${cases.length})`);

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { manifest, problems } = parseManifest(c.yaml, 'bad.yaml');
    t.equal(manifest, undefined, 'the manifest is rejected');
    const pick = (p: ManifestProblem): Omit<Expected, 'says'> => ({ line: p.line, column: p.column, path: p.path, code: p.code });
    const errors = problems.filter((p) => p.severity === 'error');
    const warnings = problems.filter((p) => p.severity === 'warning');
    t.same(errors.map(pick), c.errors.map(({ says: _s, ...rest }) => rest), 'errors at the expected places');
    t.same(warnings.map(pick), (c.warnings ?? []).map(({ says: _s, ...rest }) => rest), 'warnings at the expected places');
    const all = [...errors, ...warnings];
    [...c.errors, ...(c.warnings ?? [])].forEach((exp, i) => {
      for (const s of exp.says) t.match(all[i]?.message ?? '', s, `message says ${JSON.stringify(s)}`);
    });
    for (const p of problems) t.equal(p.file, 'bad.yaml', 'names the file');
  });
}

t.test('a valid manifest with only a warning is accepted', async (t) => {
  const { manifest, problems } = parseManifest('resources:\n  - type: exec\n    command: /bin/true\n    refreshonly: true\n', 'ok.yaml');
  t.ok(manifest, 'accepted');
  t.equal(problems.length, 1);
  t.equal(problems[0]?.severity, 'warning');
});

t.test('refreshonly with a notifier has no warning', async (t) => {
  const yaml = 'resources:\n  - type: exec\n    command: /bin/true\n    refreshonly: true\n  - type: file\n    path: /x\n    content: a\n    notify: [exec:/bin/true]\n';
  const { manifest, problems } = parseManifest(yaml, 'ok.yaml');
  t.ok(manifest);
  t.same(problems, []);
});

t.test('parsing never pollutes Object.prototype', async (t) => {
  parseManifest('vars:\n  __proto__:\n    polluted: true\n  a: { __proto__: { polluted2: true } }\nresources: []\n', 'p.yaml');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.equal(({} as Record<string, unknown>)['polluted2'], undefined);
});

t.test('an alias bomb fails instead of exhausting memory', async (t) => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const { manifest, problems } = parseManifest(`vars:\n${lines.map((l) => `  ${l}`).join('\n')}\nresources: []\n`, 'bomb.yaml');
  t.equal(manifest, undefined);
  t.equal(problems[0]?.code, 'YAML_SYNTAX');
});

t.test('absurd nesting is a problem, not a crash', async (t) => {
  const deep = `vars:\n  a: ${'['.repeat(100000)}${']'.repeat(100000)}\nresources: []\n`;
  const { manifest, problems } = parseManifest(deep, 'deep.yaml');
  t.equal(manifest, undefined);
  t.match(problems[0], { file: 'deep.yaml', line: 2, code: 'YAML_SYNTAX' });
});
