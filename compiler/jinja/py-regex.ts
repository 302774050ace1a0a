/**
 * Python `re` patterns and replacement strings translated to JavaScript RegExp. Covers what
 * templates use: named groups `(?P<n>…)` / `(?P=n)`, leading inline flags `(?i)` `(?m)` `(?s)`
 * `(?x)`, `\A` / `\Z`, and `\1` / `\g<1>` / `\g<name>` in replacements. Constructs JS cannot express
 * raise instead of matching differently.
 */
import { JinjaRuntimeError } from './py-values.js';

const MAX_PATTERN = 4096;

export function pyRegex(pattern: string, flags: { ignorecase?: boolean; multiline?: boolean; global?: boolean } = {}): RegExp {
  if (pattern.length > MAX_PATTERN) throw new JinjaRuntimeError('regular expression too long', 'LIMIT');
  let src = pattern;
  let f = '';
  if (flags.ignorecase) f += 'i';
  if (flags.multiline) f += 'm';
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const c of inline[1] as string) {
      if (c === 'i' && !f.includes('i')) f += 'i';
      else if (c === 'm' && !f.includes('m')) f += 'm';
      else if (c === 's') f += 's';
      else if (c === 'x') src = stripVerbose(src);
      else if (c === 'L' || c === 'u' || c === 'a') continue;
    }
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i] as string;
    if (ch === '\\') {
      const nx = src[i + 1];
      if (nx === undefined) throw new JinjaRuntimeError('bad escape (end of pattern)');
      if (!inClass && nx === 'A') out += '^';
      else if (!inClass && nx === 'Z') out += '$(?![\\s\\S])';
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
    if (ch === '(' && src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (ch === '(' && src.startsWith('(?P=', i)) {
      const end = src.indexOf(')', i);
      out += `\\k<${src.slice(i + 4, end)}>`;
      i = end;
      continue;
    }
    if (ch === '(' && /^\(\?[aiLmsux-]+[:)]/.test(src.slice(i))) {
      throw new JinjaRuntimeError(`regular expression: inline flags in the middle of a pattern are not supported: ${pattern}`, 'UNSUPPORTED');
    }
    out += ch;
  }
  if (flags.global) f += 'g';
  try {
    return new RegExp(out, f + 'u');
  } catch {
    try {
      return new RegExp(out, f);
    } catch (e) {
      throw new JinjaRuntimeError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
    }
  }
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
export function expandReplacement(repl: string, m: RegExpExecArray | string[], groups?: Record<string, string | undefined>): string {
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
      if (n >= m.length) {
        if (num.length === 2 && Number(nx) < m.length) {
          out += m[Number(nx)] ?? '';
          i += 1;
          continue;
        }
        throw new JinjaRuntimeError(`invalid group reference ${num}`);
      }
      out += m[n] ?? '';
      i += num.length;
      continue;
    }
    if (nx === 'g' && repl[i + 2] === '<') {
      const end = repl.indexOf('>', i);
      const name = repl.slice(i + 3, end);
      if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
      else if (groups && name in groups) out += groups[name] ?? '';
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
export function pySub(re: RegExp, repl: string, s: string, count: number): { out: string; n: number } {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let n = 0;
  let out = '';
  let last = 0;
  let prevEmptyEnd = -1;
  for (let m = g.exec(s); m; m = g.exec(s)) {
    if (count > 0 && n >= count) break;
    if (m[0] === '' && m.index === prevEmptyEnd) {
      g.lastIndex++;
      continue;
    }
    out += s.slice(last, m.index) + expandReplacement(repl, m, m.groups);
    last = m.index + m[0].length;
    n++;
    if (m[0] === '') {
      prevEmptyEnd = last;
      g.lastIndex++;
    }
    if (g.lastIndex > s.length) break;
  }
  return { out: out + s.slice(last), n };
}
