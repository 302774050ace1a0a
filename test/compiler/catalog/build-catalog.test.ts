/** The catalog builder with the real Jinja2 renderer and real files in temporary folders. */
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildCatalog, canonicalJson, catalogId, type CatalogRenderer } from '../../../compiler/catalog/index.js';
import { createRenderer } from '../../../compiler/jinja/renderer.js';
import { catalogSchema, compileGuard, resourceSchemas, type Catalog, type Guard, type Resource } from '../../../schemas/index.js';

const isCatalog: Guard<Catalog> = compileGuard(catalogSchema);
const sha = (s: string | Buffer): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

function repo(t: { testdir: (typeof import('tap'))['default']['testdir'] }): { dir: string; templateRoot: string; filesRoot: string } {
  const dir = t.testdir({
    templates: { 'svc.conf.j2': 'port={{ svc_port }} region={{ region.name }}\n', 'broken.j2': 'line one\n{{ nope( }}\n' },
    files: { 'logo.bin': Buffer.from([0, 1, 2, 255]), 'app.tar.gz': 'not really a tarball' },
    outside: { 'secret.txt': 'top secret' },
  });
  return { dir, templateRoot: join(dir, 'templates'), filesRoot: join(dir, 'files') };
}

t.test('content, template and files/ sources become blobs; the catalog validates', async (t) => {
  const { templateRoot, filesRoot } = repo(t);
  const resources: Resource[] = [
    { type: 'file', path: '/etc/motd', content: 'hello {{ inventory_hostname }}\n', mode: '0644' },
    { type: 'file', path: '/etc/plain', content: 'no template syntax here\n' },
    { type: 'file', path: '/etc/app/svc.conf', template: 'svc.conf.j2', vars: { svc_port: 8000 } },
    { type: 'file', path: '/srv/logo.bin', source: 'logo.bin' },
    { type: 'archive', path: '/srv/app', source: 'app.tar.gz' },
    { type: 'package', name: 'nginx' },
  ];
  const r = buildCatalog({
    resources,
    vars: { inventory_hostname: 'web-1', region: { id: 7001, name: 'js' } },
    host: 'web-1',
    revision: 'r1',
    templateRoot,
    filesRoot,
    renderer: createRenderer({ searchPaths: [templateRoot] }),
  });
  t.same(r.problems, []);
  const c = r.catalog!;
  t.ok(isCatalog.is(c), `valid catalog: ${JSON.stringify(isCatalog.check(c))}`);
  for (const res of c.resources) t.same(compileGuard(resourceSchemas[res.type]).check(res), [], `${res.type} valid against its schema`);
  const [motd, plain, svc, logo, archive, pkg] = c.resources as [Resource, Resource, Resource, Resource, Resource, Resource];
  t.same(motd, { type: 'file', path: '/etc/motd', mode: '0644', source: sha('hello web-1\n') });
  t.same(plain, { type: 'file', path: '/etc/plain', source: sha('no template syntax here\n') });
  t.same(svc, { type: 'file', path: '/etc/app/svc.conf', source: sha('port=8000 region=js\n') });
  t.same(logo, { type: 'file', path: '/srv/logo.bin', source: sha(Buffer.from([0, 1, 2, 255])) });
  t.same(archive, { type: 'archive', path: '/srv/app', source: sha('not really a tarball') });
  t.same(pkg, { type: 'package', name: 'nginx' });
  t.equal(r.blobs.get(sha('hello web-1\n'))?.toString(), 'hello web-1\n');
  t.equal(r.blobs.size, 5);
  t.equal(c.blobs?.[sha('port=8000 region=js\n')], 'port=8000 region=js\n'.length);
  t.equal(c.id, catalogId('web-1', c.resources));
  t.equal(c.revision, 'r1');
});

t.test('the catalog id is canonical: key order and revision do not matter, content does', async (t) => {
  const a = buildCatalog({ resources: [{ type: 'file', path: '/a', content: 'x', mode: '0600' }], vars: {}, host: 'h', revision: 'r1' });
  const b = buildCatalog({ resources: [{ mode: '0600', content: 'x', path: '/a', type: 'file' } as Resource], vars: {}, host: 'h', revision: 'r2' });
  const c = buildCatalog({ resources: [{ type: 'file', path: '/a', content: 'y', mode: '0600' }], vars: {}, host: 'h', revision: 'r1' });
  const d = buildCatalog({ resources: [{ type: 'file', path: '/a', content: 'x', mode: '0600' }], vars: {}, host: 'other', revision: 'r1' });
  t.equal(a.catalog!.id, b.catalog!.id);
  t.not(a.catalog!.id, c.catalog!.id);
  t.not(a.catalog!.id, d.catalog!.id);
  t.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
});

t.test('template errors name the template and the line', async (t) => {
  const { templateRoot } = repo(t);
  const r = buildCatalog({
    resources: [
      { type: 'file', path: '/etc/ok', content: 'fine' },
      { type: 'file', path: '/etc/broken', template: 'broken.j2' },
      { type: 'file', path: '/etc/undef', content: 'x={{ undefined_variable }}' },
    ],
    vars: {},
    host: 'h',
    revision: 'r',
    templateRoot,
    renderer: createRenderer({ searchPaths: [templateRoot] }),
  });
  t.equal(r.catalog, undefined, 'no catalog when a template fails');
  t.equal(r.problems.length, 2);
  const [broken, undef] = r.problems;
  t.match(broken, { index: 1, id: 'file:/etc/broken', path: '/template', code: 'TEMPLATE_ERROR', template: 'broken.j2' });
  t.match(broken?.message, /broken\.j2/);
  t.match(undef, { index: 2, path: '/content', code: 'TEMPLATE_ERROR' });
  t.match(undef?.message, /^file:\/etc\/undef content/, 'names the resource whose inline content failed');
});

t.test('a renderer reporting a line and column passes them through', async (t) => {
  const { templateRoot } = repo(t);
  const renderer: CatalogRenderer = {
    renderString: () => 'unused',
    renderFile: (rel) => {
      throw Object.assign(new Error(`${rel}:2: unexpected token`), { code: 'TEMPLATE_ERROR', template: rel, line: 2, column: 4 });
    },
  };
  const r = buildCatalog({ resources: [{ type: 'file', path: '/x', template: 'broken.j2' }], vars: {}, host: 'h', revision: 'r', templateRoot, renderer });
  t.match(r.problems[0], { template: 'broken.j2', line: 2, column: 4, message: 'broken.j2:2: unexpected token' });
});

t.test('sources and templates are confined to their folders', async (t) => {
  const { dir, templateRoot, filesRoot } = repo(t);
  symlinkSync(join(dir, 'outside', 'secret.txt'), join(filesRoot, 'escape.txt'));
  symlinkSync(join(dir, 'outside', 'secret.txt'), join(templateRoot, 'escape.j2'));
  symlinkSync('/etc', join(filesRoot, 'etc'));
  mkdirSync(join(filesRoot, 'sub'));
  writeFileSync(join(filesRoot, 'sub', 'inner.txt'), 'inner');
  symlinkSync('inner.txt', join(filesRoot, 'sub', 'alias.txt'));
  const r = buildCatalog({
    resources: [
      { type: 'file', path: '/a', source: 'escape.txt' },
      { type: 'file', path: '/b', template: 'escape.j2' },
      { type: 'file', path: '/c', source: 'etc/hostname' },
      { type: 'file', path: '/d', source: 'missing.txt' },
      { type: 'file', path: '/e', source: 'sub' },
      { type: 'file', path: '/f', source: 'sub/alias.txt' },
      { type: 'file', path: '/g', source: '../outside/secret.txt' },
    ],
    vars: {},
    host: 'h',
    revision: 'r',
    templateRoot,
    filesRoot,
    renderer: createRenderer({ searchPaths: [templateRoot] }),
  });
  t.same(
    r.problems.map((p) => [p.index, p.code]),
    [[0, 'SOURCE_UNSAFE'], [1, 'SOURCE_UNSAFE'], [2, 'SOURCE_UNSAFE'], [3, 'SOURCE_NOT_FOUND'], [4, 'SOURCE_UNSAFE'], [6, 'SOURCE_UNSAFE']],
    'escapes refused, a link inside the folder allowed',
  );
  for (const p of r.problems) t.notMatch(p.message, /top secret/);
  t.equal(r.blobs.get(sha('inner'))?.toString(), 'inner', 'the in-folder link was read');
});

t.test('a template or relative source without a folder or renderer is a problem, not a crash', async (t) => {
  const r = buildCatalog({
    resources: [
      { type: 'file', path: '/a', template: 'x.j2' },
      { type: 'file', path: '/b', source: 'x.bin' },
      { type: 'file', path: '/c', content: '{{ x }}' },
      { type: 'file', path: '/d', source: `sha256:${'a'.repeat(64)}` },
    ],
    vars: {},
    host: 'h',
    revision: 'r',
  });
  t.same(r.problems.map((p) => [p.index, p.code]), [[0, 'NO_RENDERER'], [1, 'SOURCE_NOT_FOUND'], [2, 'NO_RENDERER']]);
});

t.test('resource vars merge deeply over the host vars without touching them', async (t) => {
  const vars = { region: { id: 7001, name: 'js' } };
  const r = buildCatalog({
    resources: [{ type: 'file', path: '/a', content: '{{ region.id }}-{{ region.name }}', vars: { region: { name: 'sh' } } }],
    vars,
    host: 'h',
    revision: 'r',
    renderer: createRenderer({ searchPaths: [] }),
  });
  t.same(r.problems, []);
  t.equal([...r.blobs.values()][0]?.toString(), '7001-sh');
  t.same(vars, { region: { id: 7001, name: 'js' } });
});
