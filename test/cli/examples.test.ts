/**
 * The sandbox-safe examples are applied for real into a temporary --root: the first run
 * converges, the second has nothing to do (detailed exit code 0).
 */
import { join } from 'node:path';
import t from 'tap';
import { repoRoot, runStead } from '../helpers/cli.js';

const sandboxSafe = ['file.yaml', 'directory.yaml', 'link.yaml', 'archive.yaml', 'exec.yaml', 'demo.yaml'];

for (const f of sandboxSafe) {
  t.test(f, async (t) => {
    const root = t.testdir({});
    const manifest = join(repoRoot, 'manifests', 'examples', f);
    const first = await runStead(['apply', manifest, '--root', root, '--host', 'example-1', '--detailed-exitcodes']);
    t.equal(first.code, 2, `first run changes the sandbox\n${first.stdout}${first.stderr}`);
    const second = await runStead(['apply', manifest, '--root', root, '--host', 'example-1', '--detailed-exitcodes']);
    t.equal(second.code, 0, `second run has nothing to do\n${second.stdout}${second.stderr}`);
  });
}
