/**
 * Host facts, collected cheaply (no commands run; node:os, /etc/os-release, /proc/mounts and
 * statfs): hostname, IP addresses, OS, kernel, CPU, memory, disks and uptime. The server
 * stores them and the compiler exposes them to templates as `facts`.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';

export interface FactsSources {
  /** Path of os-release. Default /etc/os-release (then /usr/lib/os-release). */
  readonly osReleasePaths?: readonly string[];
  /** Path of the mount table. Default /proc/mounts. */
  readonly mountsPath?: string;
}

/** Filesystem types that are real storage (the rest — proc, tmpfs, cgroup… — are left out). */
const DISK_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'vfat', 'exfat', 'ntfs', 'f2fs', 'jfs', 'reiserfs', 'overlay', 'nfs', 'nfs4', 'cifs', 'fuseblk']);
const MAX_DISKS = 64;

/** Parses os-release (KEY=value, optionally quoted) into a map. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    out[m[1]!] = v;
  }
  return out;
}

/** Unescapes the octal escapes (\040 for a space) of /proc/mounts fields. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

async function osRelease(paths: readonly string[]): Promise<Record<string, string>> {
  for (const p of paths) {
    try {
      return parseOsRelease(await fsp.readFile(p, 'utf8'));
    } catch {
      // try the next one
    }
  }
  return {};
}

async function disks(mountsPath: string): Promise<{ mount: string; device: string; fstype: string; totalBytes: number; freeBytes: number }[]> {
  let text: string;
  try {
    text = await fsp.readFile(mountsPath, 'utf8');
  } catch {
    return [];
  }
  const seen = new Set<string>();
  const out: { mount: string; device: string; fstype: string; totalBytes: number; freeBytes: number }[] = [];
  for (const line of text.split('\n')) {
    const [dev, mnt, fstype] = line.split(' ');
    if (!dev || !mnt || !fstype || !DISK_FS.has(fstype)) continue;
    const mount = unescapeMount(mnt);
    if (seen.has(mount) || out.length >= MAX_DISKS) continue;
    seen.add(mount);
    try {
      const st = await fsp.statfs(mount);
      out.push({ mount, device: unescapeMount(dev), fstype, totalBytes: st.blocks * st.bsize, freeBytes: st.bavail * st.bsize });
    } catch {
      // unreadable mount point (permissions, stale NFS): skip it
    }
  }
  return out.sort((a, b) => a.mount.localeCompare(b.mount));
}

/** Collects the facts of the machine the agent runs on. */
export async function collectFacts(sources: FactsSources = {}) {
  const rel = await osRelease(sources.osReleasePaths ?? ['/etc/os-release', '/usr/lib/os-release']);
  const ips: { interface: string; family: 'IPv4' | 'IPv6'; address: string }[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      ips.push({ interface: name, family: a.family, address: a.address });
    }
  }
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    fqdn: os.hostname(),
    ips,
    ipv4: ips.filter((i) => i.family === 'IPv4').map((i) => i.address),
    os: {
      id: rel.ID ?? os.platform(),
      family: (rel.ID_LIKE ?? rel.ID ?? os.platform()).split(' ')[0] ?? os.platform(),
      name: rel.NAME ?? os.type(),
      version: rel.VERSION ?? '',
      versionId: rel.VERSION_ID ?? '',
      prettyName: rel.PRETTY_NAME ?? `${os.type()} ${os.release()}`,
    },
    kernel: { name: os.type(), release: os.release(), arch: os.arch() },
    cpu: { count: cpus.length, model: cpus[0]?.model.trim() ?? 'unknown' },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    disks: await disks(sources.mountsPath ?? '/proc/mounts'),
    uptimeSeconds: Math.floor(os.uptime()),
  };
}

export type Facts = Awaited<ReturnType<typeof collectFacts>>;

/**
 * A hash of the facts that matter for change detection: everything except values that move
 * on their own (uptime, free memory, free disk space). Facts are sent only when this changes.
 */
export function factsFingerprint(facts: Facts): string {
  const stable = {
    ...facts,
    uptimeSeconds: undefined,
    memory: { totalBytes: facts.memory.totalBytes },
    disks: facts.disks.map((d) => ({ mount: d.mount, device: d.device, fstype: d.fstype, totalBytes: d.totalBytes })),
  };
  return createHash('sha256').update(canonicalJson(stable)).digest('hex');
}

/** JSON with sorted keys and undefined members left out. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
