/**
 * Version ordering per package manager (ADR 0018 §6): the one place both the agent (its apt
 * provider) and the server (software tables) compare versions (DESIGN §5: schemas/ imports
 * neither side).
 *
 *   dpkg      Debian's algorithm (Debian Policy §5.6.12, dpkg's lib/dpkg/version.c)
 *   rpm       rpmvercmp over epoch:version-release (rpm's rpmio/rpmvercmp.c, with "~" and "^")
 *   npm       Semantic Versioning 2.0.0 (build metadata ignored)
 *   pip       PEP 440 (normalised spellings, epochs, pre/post/dev releases, local versions)
 *   artifact  equal or not equal only
 *
 * Hand-written on purpose: the npm packages that claim to do dpkg get "~" or epochs wrong, and
 * pulling three libraries into the agent for this is not worth it. Every comparator is tested
 * against the real tool where the machine has it (dpkg --compare-versions).
 */

/** The managers whose versions this module orders (schemas/api/software.ts `packageManager`). */
export type VersionManager = 'dpkg' | 'rpm' | 'npm' | 'pip' | 'artifact';

// ---------------------------------------------------------------------------------------------
// dpkg
// ---------------------------------------------------------------------------------------------

/** A parsed Debian version. `revision` is "" when the version has none. */
export interface DebianVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/** Thrown by parseDebianVersion for a string dpkg would refuse; `code` is stable. */
export class DebianVersionError extends Error {
  readonly code = 'BAD_VERSION';
  constructor(message: string) {
    super(message);
    this.name = 'DebianVersionError';
  }
}

const upstreamChars = /^[A-Za-z0-9.+~:-]*$/;
const revisionChars = /^[A-Za-z0-9.+~]*$/;

/**
 * Parses a version the way dpkg's parseversion() does (leading/trailing blanks ignored).
 * Throws DebianVersionError for an empty version, a non-numeric epoch, an empty part after ":"
 * or "-", embedded blanks, an upstream part not starting with a digit, or a forbidden character.
 */
export function parseDebianVersion(text: string): DebianVersion {
  const s = text.trim();
  if (s === '') throw new DebianVersionError('version string is empty');
  if (/\s/.test(s)) throw new DebianVersionError(`version "${s}" has embedded spaces`);
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^[0-9]+$/.test(e)) throw new DebianVersionError(`epoch "${e}" in version "${s}" is not a number`);
    epoch = Number(e);
    if (!Number.isSafeInteger(epoch) || epoch > 2147483647) throw new DebianVersionError(`epoch in version "${s}" is too big`);
    rest = s.slice(colon + 1);
    if (rest === '') throw new DebianVersionError(`nothing after colon in version "${s}"`);
  }
  let upstream = rest;
  let revision = '';
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) {
    upstream = rest.slice(0, dash);
    revision = rest.slice(dash + 1);
    if (revision === '') throw new DebianVersionError(`revision number is empty in version "${s}"`);
  }
  if (upstream === '') throw new DebianVersionError(`upstream version is empty in version "${s}"`);
  if (!/^[0-9]/.test(upstream)) throw new DebianVersionError(`version "${s}" does not start with a digit`);
  if (!upstreamChars.test(upstream) || (colon < 0 && upstream.includes(':'))) {
    throw new DebianVersionError(`invalid character in version number "${s}"`);
  }
  if (!revisionChars.test(revision)) throw new DebianVersionError(`invalid character in revision number "${s}"`);
  return { epoch, upstream, revision };
}

/** dpkg's order(): digits 0, letters their code, "~" before everything (even the end), others after letters. */
function order(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (c >= 48 && c <= 57) return 0;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  if (c === 126) return -1;
  return c + 256;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** dpkg's verrevcmp(): alternating non-digit and digit runs; negative, zero or positive. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a, i)) || (j < b.length && !isDigit(b, j))) {
      const ac = order(a, i);
      const bc = order(b, j);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && j < b.length && isDigit(a, i) && isDigit(b, j)) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a, i)) return 1;
    if (j < b.length && isDigit(b, j)) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/**
 * Compares two Debian versions: negative when a < b, 0 when equal ("1.0" equals "0:1.0" and
 * "1.0-0"), positive when a > b. Throws DebianVersionError when either is not a valid version.
 */
export function compareDebianVersions(a: string, b: string): number {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  const u = verrevcmp(va.upstream, vb.upstream);
  if (u !== 0) return u;
  return verrevcmp(va.revision, vb.revision);
}

// ---------------------------------------------------------------------------------------------
// rpm
// ---------------------------------------------------------------------------------------------

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * rpm's rpmvercmp() on one version or release string: separators are skipped, "~" sorts before
 * everything (even the end), "^" sorts after the end but before anything else, digit runs compare
 * numerically (leading zeros ignored) and beat letter runs, letter runs compare as strings.
 */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const n = a.length;
  const m = b.length;
  while (i < n || j < m) {
    while (i < n && !isAlnum(a.charCodeAt(i)) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < m && !isAlnum(b.charCodeAt(j)) && b[j] !== '~' && b[j] !== '^') j++;
    // "~": older than anything, including the end.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // "^": newer than the end, older than anything else.
    if (a[i] === '^' || b[j] === '^') {
      if (i >= n) return -1;
      if (j >= m) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < n && j < m)) break;
    const numeric = isDigit(a, i);
    let ie = i;
    let je = j;
    if (numeric) {
      while (ie < n && isDigit(a, ie)) ie++;
      while (je < m && isDigit(b, je)) je++;
    } else {
      while (ie < n && isAlpha(a.charCodeAt(ie))) ie++;
      while (je < m && isAlpha(b.charCodeAt(je))) je++;
    }
    // A digit run against a letter run (b's segment empty of a's type): the numeric one is newer.
    if (je === j) return numeric ? 1 : -1;
    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= n && j >= m) return 0;
  // Whichever has something left is newer.
  return i < n ? 1 : -1;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** An rpm EVR: epoch (0 when absent), version, release (undefined when absent). */
export interface RpmVersion {
  readonly epoch: number;
  readonly version: string;
  readonly release: string | undefined;
}

/** Splits "[epoch:]version[-release]" as rpm's rpmverParse does (the release is after the last "-"). */
export function parseRpmVersion(text: string): RpmVersion {
  const s = text.trim();
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0 && /^[0-9]+$/.test(s.slice(0, colon))) {
    epoch = Number(s.slice(0, colon));
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash < 0) return { epoch, version: rest, release: undefined };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

/**
 * Compares two rpm EVR strings like rpm's rpmVersionCompare: epoch, then version, then release
 * only when both have one ("1.0" matches any release of 1.0, as rpm -q and dnf treat it).
 */
export function compareRpmVersions(a: string, b: string): number {
  const va = parseRpmVersion(a);
  const vb = parseRpmVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  const v = rpmvercmp(va.version, vb.version);
  if (v !== 0) return v;
  if (va.release === undefined || vb.release === undefined) return 0;
  return rpmvercmp(va.release, vb.release);
}

// ---------------------------------------------------------------------------------------------
// npm (semver 2.0.0)
// ---------------------------------------------------------------------------------------------

/** A parsed semantic version; `prerelease` is empty for a release. */
export interface SemVer {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly prerelease: readonly (string | bigint)[];
}

const semverPattern = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Parses a semantic version (a leading "v" is accepted, as npm does); undefined when it is not one. */
export function parseSemver(text: string): SemVer | undefined {
  const m = semverPattern.exec(text.trim());
  if (!m) return undefined;
  const prerelease = m[4] === undefined ? [] : m[4].split('.').map((p) => (/^[0-9]+$/.test(p) ? BigInt(p) : p));
  return { major: BigInt(m[1]!), minor: BigInt(m[2]!), patch: BigInt(m[3]!), prerelease };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Semver precedence (§11): major, minor, patch; a pre-release is older than its release;
 * pre-release identifiers compare numerically when numeric, numeric before alphanumeric, ASCII
 * otherwise, a shorter list first. Build metadata is ignored. Undefined when either is not semver.
 */
export function compareSemver(a: string, b: string): number | undefined {
  const va = parseSemver(a);
  const vb = parseSemver(b);
  if (!va || !vb) return undefined;
  const core = cmpBig(va.major, vb.major) || cmpBig(va.minor, vb.minor) || cmpBig(va.patch, vb.patch);
  if (core !== 0) return core;
  const pa = va.prerelease;
  const pb = vb.prerelease;
  if (pa.length === 0 || pb.length === 0) return pa.length === pb.length ? 0 : pa.length === 0 ? 1 : -1;
  for (let k = 0; k < Math.min(pa.length, pb.length); k++) {
    const x = pa[k]!;
    const y = pb[k]!;
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      const c = cmpBig(x, y);
      if (c !== 0) return c;
    } else if (typeof x === 'bigint') {
      return -1;
    } else if (typeof y === 'bigint') {
      return 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return pa.length === pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// pip (PEP 440)
// ---------------------------------------------------------------------------------------------

/** A parsed PEP 440 version (normalised). */
export interface Pep440Version {
  readonly epoch: bigint;
  readonly release: readonly bigint[];
  readonly pre: readonly ['a' | 'b' | 'rc', bigint] | undefined;
  readonly post: bigint | undefined;
  readonly dev: bigint | undefined;
  readonly local: readonly (string | bigint)[] | undefined;
}

// The "permissive" grammar of PEP 440's appendix (what `packaging` accepts), case-insensitive.
const pep440Pattern = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?:[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?' +
    '(?:-(?<postN1>[0-9]+)|[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?)?' +
    '(?:[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

/** Parses a PEP 440 version, normalising alternative spellings; undefined when it is not one. */
export function parsePep440(text: string): Pep440Version | undefined {
  if (text.length > 256) return undefined;
  const m = pep440Pattern.exec(text);
  const g = m?.groups;
  if (!g) return undefined;
  let pre: Pep440Version['pre'];
  if (g['preL'] !== undefined) {
    const l = g['preL'].toLowerCase();
    const letter = l === 'alpha' || l === 'a' ? 'a' : l === 'beta' || l === 'b' ? 'b' : 'rc';
    pre = [letter, BigInt(g['preN'] ?? '0')];
  }
  let post: bigint | undefined;
  if (g['postN1'] !== undefined) post = BigInt(g['postN1']);
  else if (g['postL'] !== undefined) post = BigInt(g['postN2'] ?? '0');
  const dev = g['devL'] !== undefined ? BigInt(g['devN'] ?? '0') : undefined;
  const local = g['local']?.toLowerCase().split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? BigInt(p) : p));
  return { epoch: BigInt(g['epoch'] ?? '0'), release: g['release']!.split('.').map((p) => BigInt(p)), pre, post, dev, local };
}

const preRank = { a: 0, b: 1, rc: 2 } as const;

/**
 * PEP 440 ordering (as `packaging.version.Version` sorts): epoch; release with trailing zeros
 * ignored; then a ".devN" of a release before its pre-releases, pre-releases (a < b < rc) before
 * the release, post-releases after it, ".devN" before what it is a dev release of; a local
 * version after the same public version, its segments compared numerically when numeric
 * (numbers after words). Undefined when either is not PEP 440.
 */
export function comparePep440(a: string, b: string): number | undefined {
  const va = parsePep440(a);
  const vb = parsePep440(b);
  if (!va || !vb) return undefined;
  const e = cmpBig(va.epoch, vb.epoch);
  if (e !== 0) return e;
  const len = Math.max(va.release.length, vb.release.length);
  for (let k = 0; k < len; k++) {
    const c = cmpBig(va.release[k] ?? 0n, vb.release[k] ?? 0n);
    if (c !== 0) return c;
  }
  // Pre-release key: a dev release of a final (no pre, no post) sorts before every pre-release.
  const preKey = (v: Pep440Version): [number, bigint] => {
    if (v.pre) return [preRank[v.pre[0]], v.pre[1]];
    if (v.post === undefined && v.dev !== undefined) return [-1, 0n];
    return [3, 0n];
  };
  const [ra, na] = preKey(va);
  const [rb, nb] = preKey(vb);
  if (ra !== rb) return ra < rb ? -1 : 1;
  const p = cmpBig(na, nb);
  if (p !== 0) return p;
  if (va.post !== vb.post) {
    if (va.post === undefined) return -1;
    if (vb.post === undefined) return 1;
    return cmpBig(va.post, vb.post);
  }
  if (va.dev !== vb.dev) {
    if (va.dev === undefined) return 1;
    if (vb.dev === undefined) return -1;
    return cmpBig(va.dev, vb.dev);
  }
  const la = va.local;
  const lb = vb.local;
  if (la === undefined || lb === undefined) return la === lb ? 0 : la === undefined ? -1 : 1;
  for (let k = 0; k < Math.min(la.length, lb.length); k++) {
    const x = la[k]!;
    const y = lb[k]!;
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      const c = cmpBig(x, y);
      if (c !== 0) return c;
    } else if (typeof x === 'bigint') {
      return 1;
    } else if (typeof y === 'bigint') {
      return -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return la.length === lb.length ? 0 : la.length < lb.length ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// Per manager
// ---------------------------------------------------------------------------------------------

/**
 * Compares `a` and `b` as `manager` orders them: -1, 0 or 1, or undefined when they cannot be
 * ordered (either is not a valid version for that manager; artifact versions that differ).
 */
export function compareVersions(manager: VersionManager, a: string, b: string): -1 | 0 | 1 | undefined {
  let c: number | undefined;
  switch (manager) {
    case 'dpkg':
      try {
        c = compareDebianVersions(a, b);
      } catch {
        c = undefined;
      }
      break;
    case 'rpm':
      c = a.trim() === '' || b.trim() === '' ? undefined : compareRpmVersions(a, b);
      break;
    case 'npm':
      c = compareSemver(a, b);
      break;
    case 'pip':
      c = comparePep440(a, b);
      break;
    case 'artifact':
      c = a === b ? 0 : undefined;
      break;
  }
  return c === undefined ? undefined : c < 0 ? -1 : c > 0 ? 1 : 0;
}

/** A package's state against its approved version (schemas/api/software.ts `packageStatus`). */
export type VersionStatus = 'up-to-date' | 'outdated' | 'ahead' | 'missing' | 'unknown';

/**
 * The status of `installed` (null: not installed) against `approved`: up-to-date, outdated
 * (older), ahead (newer), missing, or unknown (no approved version, or not comparable). An
 * artifact whose version differs from the approved one is "outdated": artifacts are not ordered,
 * and anything other than the approved release is what "upgrade to approved" replaces.
 */
export function versionStatus(manager: VersionManager, installed: string | null, approved: string | undefined): VersionStatus {
  if (installed === null) return 'missing';
  if (approved === undefined) return 'unknown';
  if (manager === 'artifact') return installed === approved ? 'up-to-date' : 'outdated';
  const c = compareVersions(manager, installed, approved);
  return c === undefined ? 'unknown' : c === 0 ? 'up-to-date' : c < 0 ? 'outdated' : 'ahead';
}

/**
 * Sorts versions newest first as `manager` orders them; versions that cannot be ordered against
 * the others (and null, "not installed") come last, in string order, so the result is stable.
 */
export function sortNewestFirst<T extends string | null>(manager: VersionManager, versions: readonly T[]): T[] {
  const valid = (v: string): boolean => compareVersions(manager, v, v) === 0;
  const ordered = versions.filter((v): v is T => v !== null && manager !== 'artifact' && valid(v));
  const rest = versions.filter((v) => !ordered.includes(v));
  ordered.sort((x, y) => compareVersions(manager, y as string, x as string) ?? 0);
  rest.sort((x, y) => (x === null ? 1 : y === null ? -1 : x < y ? -1 : x > y ? 1 : 0));
  return [...ordered, ...rest];
}
