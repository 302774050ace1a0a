/**
 * The package resource: what a package's state should be. How is the provider's job
 * (agent/providers/apt.ts; rpm/dnf would implement the same PackageProvider).
 *
 * ensure: "present" (default; any version), "absent", "latest" (the repository candidate when it is
 * newer than what is installed; the local index is used as is — run `apt-get update` with an exec
 * resource when it must be fresh), or an exact version ("1.22.1-9"), installed by upgrade or downgrade.
 */
import type { PackageResource } from '../../schemas/resources/package.js';
import { aptProvider, detectPackageFacts, pickPackageProvider } from '../providers/apt.js';
import { compareDebianVersions } from '../../schemas/version-order.js';
import type { PackageProvider } from '../providers/types.js';
import type { Change, Problem, ResourceContext, ResourceImpl } from './resource.js';

/** What read() found: the installed version, and the candidate when ensure is "latest". */
export interface PackageActual {
  readonly provider: PackageProvider['name'];
  readonly version: string;
  readonly candidate?: string;
}

const keywords = new Set(['present', 'absent', 'latest']);

/** Version order per provider, so diff stays pure. */
const comparators: Record<PackageProvider['name'], (a: string, b: string) => number> = { apt: compareDebianVersions };

async function provider(desired: PackageResource, ctx: ResourceContext): Promise<PackageProvider> {
  const picked = pickPackageProvider(await detectPackageFacts(desired.provider, ctx));
  if (picked instanceof Error) throw picked;
  return picked;
}

export const packageResource = {
  type: 'package',

  validate(desired): Problem[] {
    const ensure = desired.ensure ?? 'present';
    if (keywords.has(ensure)) return [];
    // Only apt exists today, so an exact version is checked against Debian's syntax.
    const bad = aptProvider.checkVersion(ensure);
    return bad === undefined
      ? []
      : [{ path: '/ensure', message: `ensure must be "present", "absent", "latest" or a package version: ${bad}` }];
  },

  async read(desired, ctx) {
    const p = await provider(desired, ctx);
    const version = await p.installed(desired.name, ctx);
    if (version === undefined) return undefined;
    if (desired.ensure === 'latest') {
      const candidate = await p.candidate(desired.name, ctx);
      if (candidate === undefined) ctx.log('package has no candidate in the configured repositories; keeping the installed version', { package: desired.name, version });
      return candidate === undefined ? { provider: p.name, version } : { provider: p.name, version, candidate };
    }
    return { provider: p.name, version };
  },

  diff(desired, actual): Change[] {
    const ensure = desired.ensure ?? 'present';
    if (actual === undefined) return ensure === 'absent' ? [] : [{ property: 'ensure', after: ensure }];
    if (ensure === 'absent') return [{ property: 'ensure', before: actual.version, after: 'absent' }];
    if (ensure === 'present') return [];
    const cmp = comparators[actual.provider];
    if (ensure === 'latest') {
      return actual.candidate !== undefined && cmp(actual.version, actual.candidate) < 0
        ? [{ property: 'ensure', before: actual.version, after: actual.candidate }]
        : [];
    }
    return cmp(actual.version, ensure) === 0 ? [] : [{ property: 'ensure', before: actual.version, after: ensure }];
  },

  async apply({ desired, actual }, ctx) {
    const p = await provider(desired, ctx);
    const ensure = desired.ensure ?? 'present';
    if (ensure === 'absent') {
      await p.remove(desired.name, ctx);
    } else if (ensure === 'present') {
      await p.install(desired.name, undefined, ctx);
    } else if (ensure === 'latest') {
      // Install exactly the candidate read() saw, so the report says what happened.
      await p.install(desired.name, actual?.candidate, ctx);
    } else {
      await p.install(desired.name, ensure, ctx);
    }
  },
} satisfies ResourceImpl<'package', PackageActual>;

