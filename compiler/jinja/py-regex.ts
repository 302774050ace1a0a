/**
 * Python `re` patterns and replacement strings over the compiler's one regex engine
 * (compiler/regex/bounded-regex.ts: RE2 semantics, linear time, a work budget per render).
 * Translated: named groups `(?P<n>…)`, leading inline flags `(?i)` `(?m)` `(?s)` `(?x)`, scoped
 * flags `(?i:…)`, `\Z`, `\uXXXX`, `{,n}`, `(?#…)` comments; `\1` / `\g<1>` / `\g<name>` in
 * replacements. Constructs RE2 cannot run in linear time (backreferences, lookahead, atomic
 * groups, conditionals) raise an UNSUPPORTED error instead of matching differently.
 */
import { BoundedRegex, RegexBudget, RegexError, type RegexMatch } from '../regex/bounded-regex.js';
import { JinjaRuntimeError } from './py-values.js';

export interface PyRegexFlags {
  readonly ignorecase?: boolean;
  readonly multiline?: boolean;
}

/** A Python pattern compiled for the bounded engine. Throws JinjaRuntimeError. */
export function pyRegex(pattern: string, flags: PyRegexFlags = {}, wrap: (src: string) => string = (s) => s): BoundedRegex {
  return asJinja(() => {
    const { source, ignoreCase, multiline, dotAll } = translate(pattern, flags);
    return BoundedRegex.compile(wrap(source), { ignoreCase, multiline, dotAll }, pattern);
  });
}

/** Runs `f`, turning the engine's RegexError into the renderer's JinjaRuntimeError. */
export function asJinja<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RegexError) throw new JinjaRuntimeError(e.message, e.kind === 'SYNTAX' ? 'RUNTIME' : e.kind);
    throw e;
  }
}

function translate(pattern: string, flags: PyRegexFlags): { source: string; ignoreCase: boolean; multiline: boolean; dotAll: boolean } {
  let src = pattern;
  let ignoreCase = flags.ignorecase === true;
  let multiline = flags.multiline === true;
  let dotAll = false;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const c of inline[1] as string) {
      if (c === 'i') ignoreCase = true;
      else if (c === 'm') multiline = true;
      else if (c === 's') dotAll = true;
      else if (c === 'x') src = stripVerbose(src);
    }
  }
  const unsupported = (what: string): never => {
    throw new RegexError(`regular expression ${JSON.stringify(pattern)}: ${what} is not supported; Stead matches regular expressions with RE2 semantics (linear time, see docs/templates.md)`, 'UNSUPPORTED');
  };
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i] as string;
    if (ch === '\\') {
      const nx = src[i + 1];
      if (nx === undefined) throw new RegexError(`invalid regular expression ${JSON.stringify(pattern)}: bad escape (end of pattern)`, 'SYNTAX');
      if (!inClass && nx === 'Z') out += '\\z';
      else if (nx === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
        out += `\\x{${src.slice(i + 2, i + 6)}}`;
        i += 4;
      } else if (nx === 'U' && /^[0-9a-fA-F]{8}$/.test(src.slice(i + 2, i + 10))) {
        out += `\\x{${src.slice(i + 2, i + 10)}}`;
        i += 8;
      } else if (nx === 'N') unsupported('\\N{…} (a character by name)');
      else if (!inClass && /[1-9]/.test(nx)) unsupported(`the backreference \\${nx}`);
      else out += ch + nx;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '{' && i > 0) {
      const m = /^\{,(\d+)\}/.exec(src.slice(i));
      if (m) {
        out += `{0,${m[1]}}`;
        i += m[0].length - 1;
        continue;
      }
    }
    if (ch === '(' && src[i + 1] === '?') {
      const rest = src.slice(i);
      if (rest.startsWith('(?P=')) unsupported('the backreference (?P=name)');
      if (rest.startsWith('(?=') || rest.startsWith('(?!')) unsupported('lookahead ((?=…), (?!…))');
      if (rest.startsWith('(?>')) unsupported('an atomic group (?>…)');
      if (rest.startsWith('(?(')) unsupported('a conditional group (?(…)…)');
      if (rest.startsWith('(?#')) {
        const end = src.indexOf(')', i);
        if (end < 0) throw new RegexError(`invalid regular expression ${JSON.stringify(pattern)}: missing ), unterminated comment`, 'SYNTAX');
        i = end;
        continue;
      }
      const scoped = /^\(\?([aiLmsux]*)(?:-([imsx]+))?:/.exec(rest);
      if (scoped && (scoped[1] || scoped[2])) {
        if ((scoped[1] + (scoped[2] ?? '')).includes('x')) unsupported('a scoped verbose flag (?x:…)');
        const on = (scoped[1] as string).replace(/[aLu]/g, '');
        out += `(?${on}${scoped[2] ? `-${scoped[2]}` : ''}:`;
        i += scoped[0].length - 1;
        continue;
      }
      if (/^\(\?[aiLmsux-]+\)/.test(rest)) {
        throw new RegexError(`regular expression ${JSON.stringify(pattern)}: inline flags in the middle of a pattern are not supported (Python 3.11 refuses them too); put them at the start`, 'UNSUPPORTED');
      }
    }
    out += ch;
  }
  return { source: out, ignoreCase, multiline, dotAll };
}

function stripVerbose(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i] as string;
    if (ch === '\\') {
      out += ch + (src[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
    } else if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (!/\s/.test(ch)) out += ch;
  }
  return out;
}

/** Expand a Python replacement template (`\1`, `\g<name>`, `\n`) for one match. */
export function expandReplacement(repl: string, m: RegexMatch): string {
  const g = m.groups;
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const ch = repl[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const nx = repl[i + 1];
    if (nx === undefined) throw new JinjaRuntimeError('bad escape (end of replacement)');
    if (/[0-9]/.test(nx)) {
      let num = nx;
      if (/[0-9]/.test(repl[i + 2] ?? '')) num += repl[i + 2];
      const n = Number(num);
      if (n >= g.length) {
        if (num.length === 2 && Number(nx) < g.length) {
          out += g[Number(nx)] ?? '';
          i += 1;
          continue;
        }
        throw new JinjaRuntimeError(`invalid group reference ${num}`);
      }
      out += g[n] ?? '';
      i += num.length;
      continue;
    }
    if (nx === 'g' && repl[i + 2] === '<') {
      const end = repl.indexOf('>', i);
      const name = repl.slice(i + 3, end);
      if (/^\d+$/.test(name)) out += g[Number(name)] ?? '';
      else if (name in m.named) out += m.named[name] ?? '';
      else throw new JinjaRuntimeError(`unknown group name '${name}'`);
      i = end;
      continue;
    }
    const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', f: '\f', v: '\v', a: '\x07', b: '\b' };
    if (nx in esc) out += esc[nx];
    else if (/[A-Za-z]/.test(nx)) throw new JinjaRuntimeError(`bad escape \\${nx} in replacement`);
    else out += '\\' + nx;
    i++;
  }
  return out;
}

/** Python `re.sub(pattern, repl, s, count)`, returning the new string and the number of substitutions. */
export function pySub(re: BoundedRegex, repl: string, s: string, count: number, budget: RegexBudget, maxOutput: number): { out: string; n: number } {
  return asJinja(() => {
    let n = 0;
    let out = '';
    let last = 0;
    for (const m of re.findAll(s, budget)) {
      if (count > 0 && n >= count) break;
      out += s.slice(last, m.index) + expandReplacement(repl, m);
      if (out.length > maxOutput) throw new JinjaRuntimeError('regex_replace: result exceeds the output limit', 'LIMIT');
      last = m.end;
      n++;
    }
    return { out: out + s.slice(last), n };
  });
}

/** Python `re.findall`: whole matches, the one group, or tuples of groups. */
export function pyFindall(re: BoundedRegex, s: string, budget: RegexBudget): (string | (string | undefined)[])[] {
  return asJinja(() => {
    const out: (string | (string | undefined)[])[] = [];
    for (const m of re.findAll(s, budget)) {
      const g = m.groups;
      out.push(g.length <= 1 ? (g[0] as string) : g.length === 2 ? (g[1] ?? '') : g.slice(1).map((x) => x ?? ''));
    }
    return out;
  });
}

export { RegexBudget };
