/**
 * The dpkg/apt package provider (Debian, Ubuntu).
 *
 * Commands (argv arrays through ctx.host.exec, C locale):
 * - installed: `dpkg-query -W -f '${db:Status-Abbrev}\t${Version}\n' -- NAME`
 * - candidate: `apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= policy NAME` (the local
 *              index, no cache file written; this provider never runs `apt-get update`)
 * - install:   `apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
 *               -o Dpkg::Options::=--force-confold [--allow-downgrades] install NAME[=VERSION]`
 *               with DEBIAN_FRONTEND=noninteractive
 * - remove:    `apt-get -q -y … remove NAME`
 * When ctx.host.root is not "/", everything is confined under it (see apt-confine.ts).
 */
import type { ResourceContext } from '../resources/resource.js';
import { aptConfineArgs, writeAptConfineFile } from './apt-confine.js';
import { compareDebianVersions, parseDebianVersion } from '../../schemas/version-order.js';
import { runCommand } from './run-command.js';
import { ProviderError, type PackageProvider } from './types.js';

const aptEnv = { DEBIAN_FRONTEND: 'noninteractive', APT_LISTCHANGES_FRONTEND: 'none', NEEDRESTART_MODE: 'l' } as const;

function confined(ctx: ResourceContext): boolean {
  return ctx.host.root !== '/';
}

function rootDir(ctx: ResourceContext): string {
  return ctx.host.realPath('/').replace(/\/+$/, '') || '/';
}

/** Parses dpkg-query output: the version of the first line whose state is installed. */
export function parseDpkgQuery(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const status = line.slice(0, tab);
    const version = line.slice(tab + 1).trim();
    // Status-Abbrev: want, state, error. State i = installed; t/W = installed with triggers pending.
    const state = status[1];
    if ((state === 'i' || state === 't' || state === 'W') && version !== '') return version;
  }
  return undefined;
}

/** Parses `apt-cache policy` output: the Candidate line; undefined for "(none)" or no such package. */
export function parseAptCachePolicy(stdout: string): string | undefined {
  const m = /^\s*Candidate:\s*(\S+)\s*$/m.exec(stdout);
  if (!m?.[1] || m[1] === '(none)') return undefined;
  return m[1];
}

async function aptGet(ctx: ResourceContext, args: string[]): Promise<void> {
  const env: Record<string, string> = { ...aptEnv };
  if (confined(ctx)) {
    env.APT_CONFIG = await writeAptConfineFile(ctx.stateDir, rootDir(ctx));
    // apt writes its own logs under the root's var/log/apt and fails when it is missing.
    await ctx.host.mkdir('/var/log/apt', { recursive: true, mode: 0o755 });
  }
  await runCommand(ctx, 'apt-get', ['-q', '-y', '-o', 'DPkg::Lock::Timeout=300', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', ...args], { env });
}

export const aptProvider: PackageProvider = {
  name: 'apt',

  async installed(name, ctx) {
    const admin = confined(ctx) ? [`--admindir=${rootDir(ctx)}/var/lib/dpkg`] : [];
    const r = await runCommand(ctx, 'dpkg-query', [...admin, '-W', '-f=${db:Status-Abbrev}\t${Version}\n', '--', name], { okCodes: [0, 1] });
    return parseDpkgQuery(r.stdout);
  },

  async candidate(name, ctx) {
    const opts = confined(ctx) ? aptConfineArgs(rootDir(ctx)) : [];
    // Empty cache file names: apt-cache builds its cache in memory and writes nothing (read never writes).
    const r = await runCommand(ctx, 'apt-cache', [...opts, '-o', 'Dir::Cache::pkgcache=', '-o', 'Dir::Cache::srcpkgcache=', 'policy', name]);
    return parseAptCachePolicy(r.stdout);
  },

  async install(name, version, ctx) {
    await aptGet(ctx, version === undefined ? ['install', name] : ['--allow-downgrades', 'install', `${name}=${version}`]);
  },

  async remove(name, ctx) {
    await aptGet(ctx, ['remove', name]);
  },

  compareVersions: compareDebianVersions,

  checkVersion(version) {
    try {
      parseDebianVersion(version);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  },
};

/** Facts that decide the package provider; gathered by detectPackageFacts, decided by pickPackageProvider. */
export interface PackageFacts {
  /** The provider the manifest names, if any. */
  readonly requested: 'apt' | undefined;
  /** <root>/var/lib/dpkg/status exists. */
  readonly hasDpkg: boolean;
  /** <root>/var/lib/rpm exists. */
  readonly hasRpm: boolean;
}

/** Pure: the provider for these facts, or a ProviderError NO_PROVIDER saying why there is none. */
export function pickPackageProvider(facts: PackageFacts): PackageProvider | ProviderError {
  if (facts.requested === 'apt') {
    return facts.hasDpkg ? aptProvider : new ProviderError('NO_PROVIDER', 'provider apt was requested but this host has no dpkg database (/var/lib/dpkg/status)');
  }
  if (facts.hasDpkg) return aptProvider;
  if (facts.hasRpm) return new ProviderError('NO_PROVIDER', 'this host uses rpm; the rpm/dnf package provider is not implemented yet');
  return new ProviderError('NO_PROVIDER', 'no package provider fits this host: neither a dpkg nor an rpm database was found');
}

/** Reads the facts for pickPackageProvider from the root (lstat only). */
export async function detectPackageFacts(requested: 'apt' | undefined, ctx: ResourceContext): Promise<PackageFacts> {
  const [dpkg, rpm] = await Promise.all([ctx.host.lstat('/var/lib/dpkg/status'), ctx.host.lstat('/var/lib/rpm')]);
  return { requested, hasDpkg: dpkg?.kind === 'file', hasRpm: rpm?.kind === 'directory' };
}
