/** Loading manifests from disk: files, directories merged, unreadable input, positions kept. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { formatProblem, listManifestFiles, loadManifestDir, loadManifestFile, loadManifestFiles, parseManifest } from '../../../compiler/manifest/index.js';

t.test('a valid file: vars, resources and where each resource starts', async (t) => {
  const dir = t.testdir({
    'site.yaml': '# comment\nvars:\n  a: { b: 1 }\nresources:\n  - type: package\n    name: nginx\n  - type: service\n    name: nginx\n    require: [package:nginx]\n',
  });
  const r = await loadManifestFile(join(dir, 'site.yaml'));
  t.same(r.problems, []);
  t.same(r.manifest?.vars, { a: { b: 1 } });
  t.same(r.manifest?.resources.map((x) => x.type), ['package', 'service']);
  t.same(r.manifest?.origins.map((o) => [o.line, o.column, o.path]), [[5, 5, '/resources/0'], [7, 5, '/resources/1']]);
  t.same(r.manifest?.locate(1, '/require/0'), { file: join(dir, 'site.yaml'), line: 9, column: 15, path: '/resources/1/require/0' });
});

t.test('an empty file is an empty manifest', async (t) => {
  const r = parseManifest('', 'empty.yaml');
  t.same(r.problems, []);
  t.same(r.manifest?.resources, []);
  const comments = parseManifest('# nothing yet\n', 'c.yaml');
  t.same(comments.manifest?.resources, []);
});

t.test('a directory: *.yaml and *.yml merged in name order, references across files', async (t) => {
  const dir = t.testdir({
    '20-app.yml': 'resources:\n  - type: service\n    name: app\n    require: [package:app]\n',
    '10-base.yaml': 'vars: { env: prod }\nresources:\n  - type: package\n    name: app\n',
    'README.md': 'not a manifest',
    '.hidden.yaml': 'resources: [oops',
    sub: { 'ignored.yaml': 'not: [valid' },
  });
  t.same((await listManifestFiles(dir)).map((f) => f.slice(dir.length + 1)), ['10-base.yaml', '20-app.yml']);
  const r = await loadManifestDir(dir);
  t.same(r.problems, []);
  t.same(r.manifest?.resources.map((x) => `${x.type}:${'name' in x ? x.name : ''}`), ['package:app', 'service:app']);
  t.same(r.manifest?.vars, { env: 'prod' });
  t.equal(r.manifest?.origins[1]?.file, join(dir, '20-app.yml'));
});

t.test('across files: duplicate titles, duplicate variables and bad references name the right file', async (t) => {
  const dir = t.testdir({
    'a.yaml': 'vars: { region: js }\nresources:\n  - type: package\n    name: app\n',
    'b.yaml': 'vars:\n  region: sh\nresources:\n  - type: package\n    name: app\n  - type: service\n    name: app\n    require: [package:nope]\n',
  });
  const r = await loadManifestDir(dir);
  t.equal(r.manifest, undefined);
  t.same(
    r.problems.map((p) => formatProblem({ ...p, file: p.file.slice(dir.length + 1) })),
    [
      'b.yaml:2:3: /vars/region: variable "region" is also defined in ' + join(dir, 'a.yaml') + '; define each variable in one file',
      'b.yaml:5:11: /resources/0/name: duplicate resource package:app (first declared as resource #1)',
      'b.yaml:8:15: /resources/1/require/0: require: no resource package:nope in this manifest; a reference is "type:title", the title being the path (file, directory, link, archive), the name, or an exec\'s name or command',
    ],
  );
});

t.test('unreadable input is a located problem, not an exception', async (t) => {
  const dir = t.testdir({ 'ok.yaml': 'resources: []\n', folder: {} });
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x72, 0x3a, 0x20, 0xe9, 0x0a]));
  const missing = await loadManifestFile(join(dir, 'missing.yaml'));
  t.match(missing.problems, [{ code: 'READ_FAILED', line: 0, message: /no such file/ }]);
  const isDir = await loadManifestFile(join(dir, 'folder'));
  t.match(isDir.problems, [{ code: 'READ_FAILED', message: /is a directory/ }]);
  const latin1 = await loadManifestFile(join(dir, 'latin1.yaml'));
  t.match(latin1.problems, [{ code: 'READ_FAILED', message: /not valid UTF-8/ }]);
  const several = await loadManifestFiles([join(dir, 'ok.yaml'), join(dir, 'missing.yaml')]);
  t.equal(several.manifest, undefined);
  t.equal(several.problems.length, 1);
  t.equal(formatProblem(missing.problems[0]!), `${join(dir, 'missing.yaml')}: /: cannot read the manifest: no such file`);
});

t.test('an aborted load throws the abort reason', async (t) => {
  const dir = t.testdir({ 'a.yaml': 'resources: []\n' });
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await t.rejects(loadManifestDir(dir, { signal: ac.signal }), /stop|abort/i);
});

t.test('a byte order mark and CRLF line ends are fine, positions still right', async (t) => {
  const r = parseManifest('\uFEFFresources:\r\n  - type: file\r\n    path: relative\r\n', 'crlf.yaml');
  t.match(r.problems, [{ line: 3, column: 11, path: '/resources/0/path' }]);
});
