/**
 * A simple command as the rules see it: its program name (basename, after wrappers such as
 * sudo, env, nohup, timeout, xargs) and its arguments, each with its value.
 */
import type { CallExpr, Word } from './syntax.js';
import { wordValue, type VarFacts, type WordValue } from './words.js';

export interface Arg {
  readonly word: Word;
  readonly value: WordValue;
}

export interface Command {
  /** Basename of the program, when written literally. */
  readonly name: string | undefined;
  readonly args: readonly Arg[];
  /** The word naming the program (for positions). */
  readonly nameWord: Word | undefined;
}

/** Wrappers run the command that follows them; the value is the options that take an argument. */
const WRAPPERS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['sudo', new Set(['-u', '-g', '-p', '-C', '-U', '-r', '-t', '-D', '-R', '-h'])],
  ['doas', new Set(['-u', '-C'])],
  ['env', new Set(['-u', '-C', '-S', '--unset', '--chdir'])],
  ['nohup', new Set()],
  ['exec', new Set(['-a'])],
  ['command', new Set()],
  ['builtin', new Set()],
  ['time', new Set(['-f', '-o'])],
  ['nice', new Set(['-n'])],
  ['ionice', new Set(['-c', '-n', '-p', '-t'])],
  ['setsid', new Set()],
  ['stdbuf', new Set(['-i', '-o', '-e'])],
  ['unbuffer', new Set()],
  ['chroot', new Set(['--userspec', '--groups'])],
  ['timeout', new Set(['-s', '-k', '--signal', '--kill-after'])],
  ['xargs', new Set(['-I', '-n', '-P', '-d', '-L', '-s', '-a', '-E', '-i'])],
  ['flock', new Set(['-w', '-E', '-c'])],
]);

/** Programs whose first operand is not the command (timeout's duration, chroot's root, flock's lock file). */
const SKIP_FIRST_OPERAND: ReadonlySet<string> = new Set(['timeout', 'chroot', 'flock']);

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
}

export function toCommand(call: CallExpr, vars: VarFacts): Command {
  const args: Arg[] = call.Args.map((word) => ({ word, value: wordValue(word, vars) }));
  let i = 0;
  for (let guard = 0; guard < 16 && i < args.length; guard++) {
    const lit = args[i]!.value.literal;
    if (lit === undefined) break;
    const name = basename(lit);
    const withArg = WRAPPERS.get(name);
    if (withArg === undefined) break;
    if (name === 'command' && args.slice(i + 1).some((a) => a.value.literal === '-v' || a.value.literal === '-V')) return { name: undefined, args: [], nameWord: undefined };
    i++;
    let skippedOperand = !SKIP_FIRST_OPERAND.has(name);
    while (i < args.length) {
      const v = args[i]!.value.literal;
      if (v === undefined) break;
      if (v === '--') {
        i++;
        break;
      }
      if (name === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) {
        i++;
        continue;
      }
      if (v.startsWith('-') && v.length > 1) {
        i += withArg.has(v) ? 2 : 1;
        continue;
      }
      if (name === 'nice' && /^-?\d+$/.test(v)) {
        i++;
        continue;
      }
      if (!skippedOperand) {
        skippedOperand = true;
        i++;
        continue;
      }
      break;
    }
  }
  const nameArg = args[i];
  const lit = nameArg?.value.literal;
  return { name: lit === undefined ? undefined : basename(lit), args: args.slice(i + 1), nameWord: nameArg?.word };
}

/** Splits arguments into options and operands ("--" ends the options). */
export function splitOptions(args: readonly Arg[]): { options: string[]; operands: Arg[] } {
  const options: string[] = [];
  const operands: Arg[] = [];
  let done = false;
  for (const a of args) {
    const v = a.value.literal;
    if (!done && v === '--') {
      done = true;
      continue;
    }
    if (!done && v !== undefined && v.startsWith('-') && v.length > 1) options.push(v);
    else operands.push(a);
  }
  return { options, operands };
}

/** Whether a short-option cluster ("-rf") or a long option names the flag. */
export function hasFlag(options: readonly string[], short: string, long?: string): boolean {
  return options.some((o) => (o.startsWith('--') ? long !== undefined && (o === long || o.startsWith(`${long}=`)) : o.slice(1).includes(short)));
}
