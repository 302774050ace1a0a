/**
 * Debian version strings ("[epoch:]upstream[-revision]") and their ordering, as dpkg defines
 * them (Debian Policy §5.6.12, dpkg's lib/dpkg/version.c). Hand-written on purpose: the npm
 * packages that claim to do this get "~" or epochs wrong. Tested against `dpkg --compare-versions`.
 */

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
