/**
 * What a shell word is worth to the rules: its exact value when it has no expansion, and its
 * value when every expansion that may be empty is empty (the form that turns "$DIR/"* into /*).
 */
import { nodeType, Tok, type DblQuoted, type Lit, type ParamExp, type ShNode, type SglQuoted, type Word } from './syntax.js';

/** Shell variables that are never empty in a running script. */
const ALWAYS_SET: ReadonlySet<string> = new Set(['HOME', 'PWD', '$', '?', '#', '0', 'RANDOM', 'UID', 'EUID', 'PPID', 'SECONDS', 'BASHPID', 'LINENO', 'HOSTNAME']);

/** Stands for an expansion known not to be empty: a path built from it is not the root. */
const NON_EMPTY = '\u0001';

export interface WordValue {
  /** The exact value when the word has no expansion at all. */
  readonly literal: string | undefined;
  /** The value with every possibly-empty expansion taken as empty (others as a non-empty stand-in). */
  readonly collapsed: string;
  /** Whether some expansion in it may be empty. */
  readonly mayBeEmptyPart: boolean;
}

export interface VarFacts {
  /** Variables assigned only non-empty literals before use (flow-insensitive). */
  isNonEmpty(name: string): boolean;
}

export function wordValue(word: Word, vars: VarFacts): WordValue {
  const acc = { literal: true, collapsed: '', mayBeEmpty: false };
  for (const p of word.Parts) partValue(p, vars, acc);
  return { literal: acc.literal ? acc.collapsed : undefined, collapsed: acc.collapsed, mayBeEmptyPart: acc.mayBeEmpty };
}

/** The literal value of a word, or undefined when it has an expansion. */
export function literalOf(word: Word | null | undefined): string | undefined {
  if (!word) return undefined;
  return wordValue(word, { isNonEmpty: () => false }).literal;
}

function partValue(p: ShNode, vars: VarFacts, acc: { literal: boolean; collapsed: string; mayBeEmpty: boolean }): void {
  switch (nodeType(p)) {
    case 'Lit':
      acc.collapsed += unescapeLit((p as Lit).Value);
      return;
    case 'SglQuoted':
      acc.collapsed += (p as SglQuoted).Value;
      if ((p as SglQuoted).Dollar) acc.literal = false;
      return;
    case 'DblQuoted':
      for (const q of (p as DblQuoted).Parts) partValue(q, vars, acc);
      return;
    case 'ParamExp': {
      acc.literal = false;
      if (paramMayBeEmpty(p as ParamExp, vars)) acc.mayBeEmpty = true;
      else acc.collapsed += NON_EMPTY;
      return;
    }
    default:
      // command substitution, arithmetic, process substitution, extended globs: output may be empty
      acc.literal = false;
      acc.mayBeEmpty = true;
  }
}

/** Backslash escapes outside quotes: "\ " is a space, "\\\n" a line continuation (already gone). */
function unescapeLit(v: string): string {
  return v.includes('\\') ? v.replace(/\\(.)/gs, '$1') : v;
}

function paramMayBeEmpty(pe: ParamExp, vars: VarFacts): boolean {
  if (pe.Length) return false; // ${#X} is a number
  const name = pe.Param?.Value ?? '';
  const op = pe.Exp?.Op;
  if (op === Tok.errUnsetOrNull) return false; // ${X:?} fails when empty
  if ((op === Tok.defUnsetOrNull || op === Tok.assgnUnsetOrNull) && pe.Exp?.Word) {
    const w = wordValue(pe.Exp.Word, vars);
    return w.collapsed === '' || w.mayBeEmptyPart;
  }
  if (pe.Excl || pe.Index || pe.Slice || pe.Repl || op !== undefined) return true;
  return !(ALWAYS_SET.has(name) || vars.isNonEmpty(name));
}

const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  'bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib32', 'lib64', 'libx32', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'usr', 'var',
  'usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'usr/local', 'usr/share', 'var/lib', 'var/log',
]);

/** "/", "/*", "/.*", a top-level system directory or its contents ("/etc", "/usr/*"). */
export function isCriticalTarget(path: string): boolean {
  if (path.includes(NON_EMPTY)) return false;
  let p = path.replace(/\/+/g, '/').replace(/(\/\.)+$/, '/');
  if (!p.startsWith('/')) return false;
  if (p === '/' || /^\/(\*|\.\*|\.\[[^\]]*\]\*)$/.test(p)) return true;
  p = p.replace(/\/\*$/, '').replace(/\/+$/, '');
  return SYSTEM_DIRS.has(p.slice(1));
}

/** Block devices: disks, partitions, device-mapper, md, loop, and /dev/disk/ links. */
export function isBlockDevice(path: string): boolean {
  return /^\/dev\/(sd|hd|vd|xvd|nvme|mmcblk|dm-|md|loop|mapper\/|disk\/|root$|sr\d)/.test(path.replace(/\/+/g, '/'));
}

const CRITICAL_FILES: ReadonlySet<string> = new Set(['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/sudoers', '/etc/fstab']);

export function isCriticalFile(path: string): boolean {
  return CRITICAL_FILES.has(path.replace(/\/+/g, '/'));
}
