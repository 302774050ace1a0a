import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { artifactChecksum, artifactCollector, artifactVersion } from '../../../agent/inventory/artifact.js';
import { scriptsCollector } from '../../../agent/inventory/scripts.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { inventoryEnv, trackingConfig } from '../../helpers/inventory-env.js';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

t.test('collector scripts: good JSON, bad JSON, wrong shape, a failure, oversize output, python', async (t) => {
  const env = inventoryEnv(t.testdir());
  const config = trackingConfig({ collectors: [
    { name: 'dbs', lang: 'shell', source: 'echo \'{"resources":[{"kind":"db-instance","name":"mysql-3306","state":"running","attributes":{"port":3306,"engine":"mysql"}}]}\'\n' },
    { name: 'garbage', lang: 'shell', source: 'echo not json\n' },
    { name: 'shape', lang: 'shell', source: 'echo \'{"resources":[{"kind":"toaster","name":"x"}]}\'\n' },
    { name: 'fails', lang: 'shell', source: 'echo boom >&2; exit 3\n' },
    { name: 'huge', lang: 'shell', source: 'head -c 2000000 /dev/zero | tr "\\0" x\n' },
    ...(spawnSync('python3', ['--version']).status === 0 ? [{ name: 'py', lang: 'python' as const, source: 'import json\nprint(json.dumps({"resources": [{"kind": "other", "name": "from-python", "source": "ignored"}]}))\n' }] : []),
  ] });
  const out = await scriptsCollector.collect(config, env);
  t.match(out.virtuals, [{ kind: 'db-instance', name: 'mysql-3306', source: 'dbs', state: 'running', attributes: { port: 3306, engine: 'mysql' } }]);
  const errors = new Map((out.errors ?? []).map((e) => [e.source, e.message]));
  t.match(errors.get('collector:garbage'), /did not print JSON/);
  t.match(errors.get('collector:shape'), /not \{"resources"/);
  t.match(errors.get('collector:fails'), /exited with code 3: boom/);
  t.match(errors.get('collector:huge'), /more than the 1048576 allowed/);
  if (config.collectors.some((c) => c.name === 'py')) t.match(errors.get('collector:py'), /unknown property "source"/, 'a script may not set the source');
  t.same(readdirSync(env.tmpDir), [], 'no script file is left behind');
});

t.test('a collector script that hangs is killed at its deadline, with its children', async (t) => {
  const dir = t.testdir();
  const env = inventoryEnv(dir);
  const pidFile = join(dir, 'child.pid');
  const source = `sleep 300 & echo $! > ${pidFile}\nwait\n`;
  const out = await scriptsCollector.collect(trackingConfig({ collectors: [{ name: 'hangs', lang: 'shell', source, timeoutSeconds: 1 }] }), env);
  t.match(out.errors, [{ source: 'collector:hangs', message: /killed after its timeout of 1 s/ }]);
  const child = Number(readFileSync(pidFile, 'utf8'));
  // The group got SIGTERM then SIGKILL; give the kernel a moment to reap.
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      const state = readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]![0];
      alive = state !== 'Z';
    } catch {
      alive = false;
    }
    if (alive) await new Promise((r) => setTimeout(r, 100));
  }
  t.notOk(alive, `the script's child ${child} was killed with its process group`);
});

t.test('artifact checksums: a file, a directory, symlinks never followed', async (t) => {
  const dir = t.testdir({ rel: { 'app.tar.gz': 'archive bytes', tree: { 'b.txt': 'bee', a: { 'x.txt': 'ex' }, empty: {} } }, secret: 'do not read' });
  const tree = join(dir, 'rel', 'tree');
  symlinkSync(join(dir, 'secret'), join(tree, 'link-to-secret'));
  symlinkSync(join(dir, 'secret'), join(dir, 'rel', 'link'));
  const signal = new AbortController().signal;
  t.equal(await artifactChecksum('/', join(dir, 'rel', 'app.tar.gz'), signal), sha('archive bytes'));
  // sorted "relpath\0sha256\n" lines of the regular files; the symlink inside is not counted.
  const expected = sha(Buffer.concat([Buffer.from(`a/x.txt\0${sha('ex')}\n`), Buffer.from(`b.txt\0${sha('bee')}\n`)]));
  t.equal(await artifactChecksum('/', tree, signal), expected);
  await t.rejects(artifactChecksum('/', join(dir, 'rel', 'link'), signal), /symbolic link; it is not followed/);
  t.equal(await artifactChecksum('/', join(dir, 'rel', 'missing'), signal), undefined);
  // Confined under a root: the same tree seen as /rel/tree.
  t.equal(await artifactChecksum(dir, '/rel/tree', signal), expected);
  t.equal(artifactVersion(expected, { '1.0': sha('x'), '2.0': expected }), '2.0');
  t.equal(artifactVersion(expected, undefined), `sha256:${expected.slice(0, 12)}`);

  const env = inventoryEnv(join(dir, 'work'), { host: createNodeHost({ root: dir }) });
  const out = await artifactCollector.collect(trackingConfig({ packages: [
    { name: 'app', manager: 'artifact', path: '/rel/tree', versions: { '2.0': expected } },
    { name: 'tarball', manager: 'artifact', path: '/rel/app.tar.gz' },
    { name: 'gone', manager: 'artifact', path: '/rel/nothing' },
    { name: 'linked', manager: 'artifact', path: '/rel/link' },
    { name: 'nopath', manager: 'artifact' },
  ] }), env);
  t.same(out.packages, [
    { name: 'app', manager: 'artifact', version: '2.0', sha256: expected },
    { name: 'tarball', manager: 'artifact', version: `sha256:${sha('archive bytes').slice(0, 12)}`, sha256: sha('archive bytes') },
    { name: 'gone', manager: 'artifact', version: null },
  ]);
  t.match(out.errors, [{ source: 'artifact:linked', message: /not followed/ }, { source: 'artifact:nopath' }]);
});
