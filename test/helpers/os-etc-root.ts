/**
 * A root directory with a minimal /etc for the shadow tools (useradd -P <root> …): passwd, group,
 * shadow, gshadow with a few system accounts, login.defs copied from the machine when it has one.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Why the shadow tools cannot be used here, or undefined. */
export function shadowUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the shadow tools need root';
  for (const tool of ['useradd', 'usermod', 'userdel', 'groupadd', 'groupmod', 'groupdel']) {
    const r = spawnSync(tool, ['--help'], { encoding: 'utf8' });
    if (r.error) return `${tool} is not installed`;
    if (!`${r.stdout}${r.stderr}`.includes('--prefix')) return `${tool} has no --prefix option`;
  }
  return undefined;
}

/** Fills `root` with the minimal /etc and an empty /home. */
export function makeEtcRoot(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'home'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nusers:x:100:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\ndaemon:*::\nusers:*::\n', { mode: 0o640 });
  if (existsSync('/etc/login.defs')) copyFileSync('/etc/login.defs', join(root, 'etc/login.defs'));
  else writeFileSync(join(root, 'etc/login.defs'), 'UID_MIN 1000\nUID_MAX 60000\nSYS_UID_MIN 100\nSYS_UID_MAX 999\nGID_MIN 1000\nGID_MAX 60000\nSYS_GID_MIN 100\nSYS_GID_MAX 999\nUSERGROUPS_ENAB yes\n');
}
