/**
 * Package collectors (ADR 0018 §5): installed versions of the tracked packages, one collector per
 * manager. A tracked package that is not installed is reported with version null; when the
 * manager's tool is missing or fails, its packages are left out (their state is unknown, not
 * "not installed") and an `errors` entry says why.
 *
 *   dpkg  dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\t${Version}\t${Architecture}\n' -- NAMES
 *         (--admindir=<root>/var/lib/dpkg under --root)
 *   rpm   rpm -q --qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n' -- NAMES   (--root under --root)
 *   npm   npm ls -g --json --depth=0
 *   pip   python3 -m pip list --format json --disable-pip-version-check
 */
import type { TrackingConfig } from '../../schemas/index.js';
import { errorEntry, messageOf, runTool, SAFE_PACKAGE_NAME, type CollectorOutput, type ErrorEntry, type InventoryCollector, type PackageEntry } from './collector.js';

type Manager = PackageEntry['manager'];
type Tracked = TrackingConfig['packages'][number];

/** Names per command line (argv stays far below any limit). */
const BATCH = 200;

function trackedOf(config: TrackingConfig, manager: Manager): Tracked[] {
  return config.packages.filter((p) => p.manager === manager);
}

/** Splits tracked names into safe ones and errors for the rest. */
function safeNames(source: string, tracked: readonly Tracked[]): { names: string[]; errors: ErrorEntry[] } {
  const names: string[] = [];
  const errors: ErrorEntry[] = [];
  for (const p of tracked) {
    if (SAFE_PACKAGE_NAME.test(p.name)) names.push(p.name);
    else errors.push(errorEntry(source, `tracked package name ${JSON.stringify(p.name.slice(0, 64))} is not a valid package name; not looked up`));
  }
  return { names: [...new Set(names)], errors };
}

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** Parses dpkg-query lines "name\tStatus-Abbrev\tversion\tarch": the installed ones (state letter "i" in the second column). */
export function parseDpkgQuery(text: string): Map<string, { version: string; arch: string }> {
  const out = new Map<string, { version: string; arch: string }>();
  for (const line of text.split('\n')) {
    const [name, status, version, arch] = line.split('\t');
    if (!name || status === undefined || !version) continue;
    // db:Status-Abbrev: desired, current state, error flag ("ii ", "rc ", "iU "…). Installed: "i",
    // or triggers-awaited/pending ("W", "t": installed, a trigger still to run). Config files only,
    // unpacked or half-installed/-configured is not an installed version.
    if (!['i', 'W', 't'].includes(status[1] ?? '')) continue;
    if (!out.has(name)) out.set(name, { version, arch: arch ?? '' });
  }
  return out;
}

/** Parses `rpm -q --qf` lines "name\tepoch\tversion\trelease\tarch" (lines of missing packages have no tabs). */
export function parseRpmQuery(text: string): Map<string, { version: string; arch: string }> {
  const out = new Map<string, { version: string; arch: string }>();
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length !== 5) continue;
    const [name, epoch, version, release, arch] = f as [string, string, string, string, string];
    if (!name || !version) continue;
    const full = `${epoch && epoch !== '(none)' ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}`;
    if (!out.has(name)) out.set(name, { version: full, arch });
  }
  return out;
}

/** Parses `npm ls -g --json --depth=0`: { dependencies: { name: { version } } }. */
export function parseNpmLs(text: string): Map<string, string> {
  const data = JSON.parse(text) as { dependencies?: Record<string, { version?: unknown }> };
  const out = new Map<string, string>();
  for (const [name, d] of Object.entries(data.dependencies ?? {})) if (typeof d?.version === 'string') out.set(name, d.version);
  return out;
}

/** PEP 503 name normalisation (pip matches names this way). */
export function normalizePipName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Parses `pip list --format json`: [{ name, version }], keyed by normalised name. */
export function parsePipList(text: string): Map<string, string> {
  const data = JSON.parse(text) as unknown;
  if (!Array.isArray(data)) throw new Error('pip list did not print a JSON array');
  const out = new Map<string, string>();
  for (const d of data as { name?: unknown; version?: unknown }[]) if (typeof d?.name === 'string' && typeof d.version === 'string') out.set(normalizePipName(d.name), d.version);
  return out;
}

const VERSION_MAX = 128;
function entry(name: string, manager: Manager, version: string | null, arch?: string): PackageEntry {
  const v = version === null ? null : version.slice(0, VERSION_MAX);
  return { name, manager, version: v, ...(arch ? { arch: arch.slice(0, 32) } : {}) };
}

/** dpkg and rpm: one query per batch of names. */
function nativeCollector(manager: 'dpkg' | 'rpm'): InventoryCollector {
  return {
    source: manager,
    wanted: (config) => trackedOf(config, manager).length > 0,
    async collect(config, env): Promise<CollectorOutput> {
      const { names, errors } = safeNames(manager, trackedOf(config, manager));
      const confined = env.host.root !== '/';
      const found = new Map<string, { version: string; arch: string }>();
      try {
        for (const batch of batches(names)) {
          if (manager === 'dpkg') {
            const admin = confined ? [`--admindir=${env.host.root}/var/lib/dpkg`] : [];
            // Exit 1: some names are unknown to dpkg (never installed): they are simply absent from the output.
            const r = await runTool(env, 'dpkg-query', [...admin, '-W', '-f=${Package}\t${db:Status-Abbrev}\t${Version}\t${Architecture}\n', '--', ...batch], { okCodes: [0, 1] });
            for (const [k, v] of parseDpkgQuery(r.stdout)) found.set(k, v);
          } else {
            const root = confined ? ['--root', env.host.root] : [];
            // rpm -q exits with the number of packages not installed.
            const r = await runTool(env, 'rpm', [...root, '-q', '--qf', '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n', '--', ...batch], { okCodes: Array.from({ length: 256 }, (_, i) => i) });
            for (const [k, v] of parseRpmQuery(r.stdout)) found.set(k, v);
          }
        }
      } catch (err) {
        return { errors: [...errors, errorEntry(manager, messageOf(err))] };
      }
      return { packages: names.map((n) => (found.has(n) ? entry(n, manager, found.get(n)!.version, found.get(n)!.arch) : entry(n, manager, null))), errors };
    },
  };
}

export const dpkgCollector = nativeCollector('dpkg');
export const rpmCollector = nativeCollector('rpm');

export const npmCollector: InventoryCollector = {
  source: 'npm',
  wanted: (config) => trackedOf(config, 'npm').length > 0,
  async collect(config, env) {
    const { names, errors } = safeNames('npm', trackedOf(config, 'npm'));
    let found: Map<string, string>;
    try {
      // Exit 1 with JSON on stdout: npm found a problem in the tree (extraneous, invalid); the list still holds.
      const r = await runTool(env, 'npm', ['ls', '-g', '--json', '--depth=0'], { okCodes: [0, 1] });
      found = parseNpmLs(r.stdout);
    } catch (err) {
      return { errors: [...errors, errorEntry('npm', messageOf(err))] };
    }
    return { packages: names.map((n) => entry(n, 'npm', found.get(n) ?? null)), errors };
  },
};

export const pipCollector: InventoryCollector = {
  source: 'pip',
  wanted: (config) => trackedOf(config, 'pip').length > 0,
  async collect(config, env) {
    const { names, errors } = safeNames('pip', trackedOf(config, 'pip'));
    let found: Map<string, string>;
    try {
      const r = await runTool(env, 'python3', ['-m', 'pip', 'list', '--format', 'json', '--disable-pip-version-check', '--no-color'], {});
      found = parsePipList(r.stdout);
    } catch (err) {
      return { errors: [...errors, errorEntry('pip', messageOf(err))] };
    }
    return { packages: names.map((n) => entry(n, 'pip', found.get(normalizePipName(n)) ?? null)), errors };
  },
};
