/**
 * The repository bench:agent publishes (test/helpers/bench-agent-repository.ts), loaded and
 * compiled by the real compiler for host `bench`: the expected resources, contents and blobs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { loadRepositoryCatalog } from '../../compiler/repo/apply-input.js';
import { benchFileContent, benchHost, benchLayout, benchRepository, benchResourceCount, benchTemplateOutput } from '../helpers/bench-agent-repository.js';

t.test('the layout matches bench:apply: 112 directories, n files, 10 links', async (t) => {
  const l = benchLayout(50);
  t.equal(l.dirs.length, 112);
  t.equal(l.files.length, 50);
  t.equal(l.links.length, 10);
  t.equal(l.files.filter((f) => f.template).length, 5, 'every tenth file is templated');
  t.equal(new Set(l.files.map((f) => f.path)).size, 50, 'file paths are distinct');
  t.equal(benchResourceCount(50), 172);
  t.throws(() => benchLayout(0), RangeError);
});

t.test('host bench compiles to every resource of the generated repository', async (t) => {
  const n = 50;
  const dir = t.testdir();
  for (const [rel, content] of Object.entries(benchRepository(n))) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  const r = await loadRepositoryCatalog(dir, benchHost);
  t.same(r.messages, [], 'no problems');
  const catalog = r.catalog;
  if (!catalog) return t.fail('no catalog');
  t.equal(catalog.resources.length, benchResourceCount(n));
  const byPath = new Map(catalog.resources.map((res) => [(res as { path?: string }).path, res as Record<string, unknown>]));
  const l = benchLayout(n);
  for (const p of [...l.dirs, ...l.files.map((f) => f.path), ...l.links.map((k) => k.path)]) t.ok(byPath.has(p), `${p} is managed`);
  // file 0 comes from files/: its source is the blob of its content; file 9 is rendered.
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const f0 = byPath.get(l.files[0]!.path)!;
  t.equal(f0['source'], `sha256:${sha(benchFileContent(0))}`, 'file 0 references the blob of its content');
  t.ok(r.blobs.has(`sha256:${sha(benchFileContent(0))}`), 'the blob is shipped');
  const f9 = byPath.get(l.files[9]!.path)!;
  const rendered = typeof f9['content'] === 'string' ? f9['content'] : r.blobs.get(String(f9['source']))?.toString('utf8');
  t.equal(rendered, benchTemplateOutput(9), 'file 9 is rendered from the template with its own vars');
});
