/**
 * A test directory that another user can reach: tap's `t.testdir()` lives under the checkout
 * (.tap/fixtures), and a checkout under a 0700 directory (a home directory, CI's work folder)
 * cannot be traversed by the unprivileged user a run-as test switches to. This one is made
 * under the system's temporary directory, mode 0755, filled like `t.testdir` (a string is a
 * file, an object a directory) and removed when the test ends.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixtureTree { [name: string]: string | FixtureTree }

interface Teardown { teardown(fn: () => void): void }

export function worldDir(t: Teardown, tree: FixtureTree = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'stead-world-'));
  chmodSync(dir, 0o755);
  fill(dir, tree);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fill(dir: string, tree: FixtureTree): void {
  for (const [name, entry] of Object.entries(tree)) {
    const p = join(dir, name);
    if (typeof entry === 'string') writeFileSync(p, entry);
    else {
      mkdirSync(p, { mode: 0o755 });
      chmodSync(p, 0o755); // the umask does not narrow it
      fill(p, entry);
    }
  }
}
