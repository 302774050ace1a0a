/** How a shell or Python interpreter gets its script: from -c, from stdin, or from a file. */
import type { Arg, Command } from './command.js';

export const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'rbash']);
const OTHER_INTERPRETERS: ReadonlySet<string> = new Set(['perl', 'ruby', 'node', 'nodejs', 'php', 'lua', 'tclsh']);
export const DOWNLOADERS: ReadonlySet<string> = new Set(['curl', 'wget', 'fetch', 'aria2c', 'http', 'https', 'lwp-download', 'lwp-request', 'GET']);

export function isPython(name: string): boolean {
  return /^python[0-9.]*$/.test(name) || name === 'pypy' || name === 'pypy3';
}

export function isInterpreter(name: string): boolean {
  return SHELLS.has(name) || isPython(name) || OTHER_INTERPRETERS.has(name);
}

export type ScriptSource =
  | { readonly kind: 'inline'; readonly lang: 'shell' | 'python'; readonly arg: Arg }
  | { readonly kind: 'stdin'; readonly lang: 'shell' | 'python' | 'other' }
  | { readonly kind: 'file' | 'unknown' };

/** Where the interpreter `cmd` reads its script from. */
export function scriptSource(cmd: Command): ScriptSource {
  const name = cmd.name ?? '';
  if (SHELLS.has(name)) return shellSource(cmd.args);
  if (isPython(name)) return pythonSource(cmd.args);
  if (OTHER_INTERPRETERS.has(name)) {
    const ops = cmd.args.filter((a) => !(a.value.literal ?? 'x').startsWith('-'));
    const inline = cmd.args.some((a) => a.value.literal === '-e' || a.value.literal === '-r');
    return ops.length === 0 && !inline ? { kind: 'stdin', lang: 'other' } : { kind: 'unknown' };
  }
  return { kind: 'unknown' };
}

function shellSource(args: readonly Arg[]): ScriptSource {
  let inline = false;
  let stdin = false;
  for (let i = 0; i < args.length; i++) {
    const v = args[i]!.value.literal;
    if (v === undefined) return inline ? { kind: 'inline', lang: 'shell', arg: args[i]! } : { kind: 'file' };
    if (v === '--') {
      const next = args[i + 1];
      if (inline && next) return { kind: 'inline', lang: 'shell', arg: next };
      return !next || stdin ? { kind: 'stdin', lang: 'shell' } : { kind: 'file' };
    }
    if (v === '-') return { kind: 'stdin', lang: 'shell' };
    if (v === '-o' || v === '+o' || v === '-O' || v === '+O' || v === '--rcfile' || v === '--init-file') {
      i++;
      continue;
    }
    if (v.startsWith('--')) continue;
    if ((v.startsWith('-') || v.startsWith('+')) && v.length > 1) {
      if (v.slice(1).includes('c')) inline = true;
      if (v.slice(1).includes('s')) stdin = true;
      continue;
    }
    if (inline) return { kind: 'inline', lang: 'shell', arg: args[i]! };
    return stdin ? { kind: 'stdin', lang: 'shell' } : { kind: 'file' };
  }
  return inline ? { kind: 'unknown' } : { kind: 'stdin', lang: 'shell' };
}

function pythonSource(args: readonly Arg[]): ScriptSource {
  for (let i = 0; i < args.length; i++) {
    const v = args[i]!.value.literal;
    if (v === undefined) return { kind: 'file' };
    if (v === '-c') {
      const code = args[i + 1];
      return code ? { kind: 'inline', lang: 'python', arg: code } : { kind: 'unknown' };
    }
    if (v === '-m') return { kind: 'file' };
    if (v === '-W' || v === '-X') {
      i++;
      continue;
    }
    if (v === '-') return { kind: 'stdin', lang: 'python' };
    if (v.startsWith('-') && v.length > 1) continue;
    return { kind: 'file' };
  }
  return { kind: 'stdin', lang: 'python' };
}
