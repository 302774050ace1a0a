/** Parsing of /etc/passwd and /etc/group lines (pure; the Host reads the files). */

/** One account: `id` is the uid (passwd) or gid (group); `gid` and `home` only for passwd. */
export interface AccountEntry {
  readonly name: string;
  readonly id: number;
  readonly gid?: number;
  readonly home?: string;
}

/** Parses passwd or group text into entries by name; malformed lines are ignored, the first entry of a name wins. */
export function parseAccountFile(text: string): Map<string, AccountEntry> {
  const out = new Map<string, AccountEntry>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const name = f[0];
    const id = Number(f[2]);
    if (!name || f[2] === undefined || f[2] === '' || !Number.isInteger(id) || id < 0) continue;
    if (out.has(name)) continue;
    // passwd: name:x:uid:gid:gecos:home:shell ; group: name:x:gid:members
    if (f.length >= 7) {
      const gid = Number(f[3]);
      out.set(name, { name, id, ...(Number.isInteger(gid) ? { gid } : {}), ...(f[5] ? { home: f[5] } : {}) });
    } else {
      out.set(name, { name, id });
    }
  }
  return out;
}
