/**
 * A confined Debian package world for tests: tiny .deb packages built with `dpkg-deb --build`, a
 * flat local repository with a hand-written Packages index, and a root directory with an empty
 * dpkg database and apt directories whose sources.list points at the repository
 * (`deb [trusted=yes] file:/… ./`). Nothing touches the machine's own package state.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptConfineFile } from '../../agent/providers/apt-confine.js';

export interface TestDeb {
  readonly name: string;
  readonly version: string;
  /** Files the package ships: manifest path → content. */
  readonly files: Readonly<Record<string, string>>;
  /** Maintainer scripts (preinst, postinst, prerm, postrm): name → script text (made executable). */
  readonly scripts?: Readonly<Record<string, string>>;
}

/** Why the apt world cannot be built here, or undefined when dpkg-deb, dpkg and apt-get exist. */
export function aptUnavailable(): string | undefined {
  for (const tool of ['dpkg-deb', 'dpkg', 'dpkg-query', 'apt-get', 'apt-cache']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed`;
  }
  if (process.getuid?.() !== 0) return 'apt/dpkg under a root need to run as root';
  return undefined;
}

/** Builds `debs` into `<dir>/repo`, writes its Packages index and returns the repository directory. */
export function buildRepo(dir: string, debs: readonly TestDeb[]): string {
  const repo = join(dir, 'repo');
  mkdirSync(repo, { recursive: true });
  const index: string[] = [];
  for (const d of debs) {
    const tree = join(dir, 'build', `${d.name}_${d.version}`);
    mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
    writeFileSync(
      join(tree, 'DEBIAN', 'control'),
      `Package: ${d.name}\nVersion: ${d.version}\nArchitecture: all\nMaintainer: Stead Tests <tests@stead.invalid>\nDescription: Stead test package\n`,
    );
    for (const [path, content] of Object.entries(d.files)) {
      const real = join(tree, path);
      mkdirSync(join(real, '..'), { recursive: true });
      writeFileSync(real, content);
    }
    for (const [name, text] of Object.entries(d.scripts ?? {})) writeFileSync(join(tree, 'DEBIAN', name), text, { mode: 0o755 });
    const file = `${d.name}_${d.version}_all.deb`;
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', tree, join(repo, file)], { stdio: 'ignore' });
    const bytes = readFileSync(join(repo, file));
    const control = execFileSync('dpkg-deb', ['--field', join(repo, file)], { encoding: 'utf8' }).trimEnd();
    index.push(`${control}\nFilename: ./${file}\nSize: ${statSync(join(repo, file)).size}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  writeFileSync(join(repo, 'Packages'), index.join('\n'));
  return repo;
}

/** Creates an empty Debian root at `root` (its parent must be a scratch directory too) whose apt sources list only `repo`, and runs `apt-get update` confined to it. */
export function makeAptRoot(root: string, repo: string): void {
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'var/log/apt']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  writeFileSync(join(root, 'etc/apt/sources.list'), `deb [trusted=yes] file:${repo} ./\n`);
  // APT_CONFIG (read before /etc/apt/apt.conf.d) keeps the host's update hooks out of it.
  const conf = join(root, '..', 'apt-update.conf');
  writeFileSync(conf, aptConfineFile(root));
  execFileSync('apt-get', ['-q', 'update'], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C', APT_CONFIG: conf } });
}

/** sha256 of a file's bytes (to prove the machine's own files did not change). */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
