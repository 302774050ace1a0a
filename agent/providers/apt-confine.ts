/**
 * Confining dpkg and apt under a root directory (stead apply --root, tests).
 *
 * dpkg takes --root/--admindir/--log. apt reads the host's /etc/apt/apt.conf.d before any `-o`
 * option, so its hooks (DPkg::Pre-Invoke, etckeeper, dpkg-preconfigure …) would run on the real
 * host; only APT_CONFIG, read first, can point the whole configuration elsewhere. apt-get
 * therefore runs with APT_CONFIG naming a small file in the agent's state directory (a regular
 * file: apt refuses pipes) that sets Dir to the root, so the root's own etc/apt is used.
 * apt-cache (read-only, no hooks) gets the same settings as `-o` options, so read() writes nothing.
 */
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProviderError } from './types.js';

/** The settings that point apt and dpkg at `root` (a real absolute path, not "/"). */
export function aptConfineSettings(root: string): [string, string][] {
  checkRoot(root);
  const r = root.replace(/\/+$/, '');
  return [
    ['Dir', `${r}/`],
    ['Dir::State::status', `${r}/var/lib/dpkg/status`],
    ['APT::Sandbox::User', 'root'],
    ['DPkg::Options::', `--root=${r}`],
    ['DPkg::Options::', `--admindir=${r}/var/lib/dpkg`],
    ['DPkg::Options::', `--log=${r}/var/log/dpkg.log`],
    ['DPkg::Options::', '--force-script-chrootless'],
  ];
}

/** `-o name=value` arguments for the confinement settings. */
export function aptConfineArgs(root: string): string[] {
  return aptConfineSettings(root).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** The same settings as an apt.conf file body. */
export function aptConfineFile(root: string): string {
  return aptConfineSettings(root)
    .map(([k, v]) => (k.endsWith('::') ? `${k.slice(0, -2)} { "${v}"; };` : `${k} "${v}";`))
    .join('\n')
    .concat('\n');
}

/**
 * Writes the apt configuration for `root` under `stateDir`/apt (mode 0600) and returns its path,
 * for APT_CONFIG. The name is derived from the root, so concurrent runs on other roots do not clash.
 */
export async function writeAptConfineFile(stateDir: string, root: string): Promise<string> {
  const body = aptConfineFile(root);
  const dir = join(stateDir, 'apt');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `confine-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.conf`);
  // Written beside and renamed into place: a concurrent reader (another run confining the same
  // root) sees the old or the new file, never an empty one that would let apt fall back to the
  // host's own configuration.
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, body, { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return file;
}

function checkRoot(root: string): void {
  if (!root.startsWith('/') || /["\n\r{};\\]/.test(root)) {
    throw new ProviderError('UNSUPPORTED', `apt cannot be confined under root ${JSON.stringify(root)}: it must be an absolute path without quotes, braces, semicolons, backslashes or newlines`);
  }
}
