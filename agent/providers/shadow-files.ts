/**
 * Parsers for the account files the shadow tools maintain: /etc/passwd, /etc/shadow and
 * /etc/group. Pure; the shadow provider reads the files through the Host (under its root).
 * Comment, blank and NIS compat ("+"/"-") lines are skipped.
 */
import type { AccountDb, GroupEntry, PasswdEntry } from './types.js';
import { ProviderError } from './types.js';

function lines(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('+') && !l.startsWith('-'))
    .map((l) => l.split(':'));
}

function id(value: string | undefined, file: string, name: string): number {
  if (value === undefined || !/^[0-9]+$/.test(value)) throw new ProviderError('BAD_STATE', `${file}: entry ${JSON.stringify(name)} has a bad numeric id ${JSON.stringify(value)}`);
  return Number(value);
}

/** name → hash, from /etc/shadow text. */
export function parseShadow(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of lines(text)) if (f[0] && f[1] !== undefined && !out.has(f[0])) out.set(f[0], f[1]);
  return out;
}

/** Entries of /etc/passwd text, joined with hashes from parseShadow (first entry wins for a name). */
export function parsePasswd(text: string, shadow: ReadonlyMap<string, string> = new Map()): PasswdEntry[] {
  const seen = new Set<string>();
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const name = f[0] ?? '';
    if (name === '' || seen.has(name)) continue;
    if (f.length < 7) throw new ProviderError('BAD_STATE', `/etc/passwd: entry ${JSON.stringify(name)} has ${f.length} fields, not 7`);
    seen.add(name);
    out.push({
      name,
      uid: id(f[2], '/etc/passwd', name),
      gid: id(f[3], '/etc/passwd', name),
      comment: f[4] ?? '',
      home: f[5] ?? '',
      shell: f[6] ?? '',
      password: shadow.get(name),
    });
  }
  return out;
}

/** Entries of /etc/group text (first entry wins for a name). */
export function parseGroup(text: string): GroupEntry[] {
  const seen = new Set<string>();
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const name = f[0] ?? '';
    if (name === '' || seen.has(name)) continue;
    if (f.length < 4) throw new ProviderError('BAD_STATE', `/etc/group: entry ${JSON.stringify(name)} has ${f.length} fields, not 4`);
    seen.add(name);
    out.push({ name, gid: id(f[2], '/etc/group', name), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '') });
  }
  return out;
}

/** Supplementary groups of `user`: the groups that list it as a member, sorted. */
export function supplementaryGroups(db: AccountDb, user: string): string[] {
  return db.groups.filter((g) => g.members.includes(user)).map((g) => g.name).sort();
}

/**
 * Returns passwd text with the primary gid of `user` replaced; everything else byte for byte.
 * Throws NOT_FOUND when the user has no line.
 */
export function setPrimaryGid(passwdText: string, user: string, gid: number): string {
  let found = false;
  const out = passwdText.split('\n').map((line) => {
    const f = line.split(':');
    if (found || f[0] !== user || f.length < 7) return line;
    found = true;
    f[3] = String(gid);
    return f.join(':');
  });
  if (!found) throw new ProviderError('NOT_FOUND', `/etc/passwd has no entry for ${user}`);
  return out.join('\n');
}
