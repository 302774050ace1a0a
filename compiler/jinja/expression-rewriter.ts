/**
 * Tokenizer and rewriter for Jinja2 expressions (the inside of `{{ … }}` and of `{% … %}` tags),
 * producing nunjucks syntax that PythonCompiler compiles with Python semantics:
 *   - `True` / `False` / `None` literals; Python string escapes; float literals stay floats;
 *   - `x is divisibleby 3` (a test argument without parentheses) and FQCN test/filter names;
 *   - `x[1:-1]`, `x[::2]` slices; `foo.0` item access; `{'k': v, key_var: 1}` dict literals
 *     (keys are expressions, as in Python); `(a, b)` tuples;
 * and refuses what nunjucks would run differently (`*args` calls, reserved `__j_` names).
 */

export interface Tok {
  readonly type: 'name' | 'int' | 'float' | 'string' | 'op';
  readonly value: string;
  /** Offset of the token in the tag body. */
  readonly pos: number;
}

export class RewriteError extends Error {
  constructor(
    message: string,
    readonly kind: 'SYNTAX' | 'UNSUPPORTED' | 'SECURITY' = 'SYNTAX',
    readonly offset = 0,
  ) {
    super(message);
  }
}

const OPS = ['**', '//', '==', '!=', '<=', '>=', '+', '-', '*', '/', '%', '~', '<', '>', '=', '.', ',', ':', '|', '(', ')', '[', ']', '{', '}', ';'];
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);
const FQCN = /^(?:ansible\.(?:builtin|netcommon|utils|posix|windows)|community\.general)\./;

/** Decode a Python string literal body the way Jinja2 does (`unicode-escape`; unknown escapes kept). */
export function decodePyString(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const nx = body[i + 1];
    if (nx === undefined) {
      out += '\\';
      break;
    }
    i++;
    switch (nx) {
      case '\n':
        break;
      case '\\':
        out += '\\';
        break;
      case "'":
        out += "'";
        break;
      case '"':
        out += '"';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x': {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new RewriteError('truncated \\xXX escape in string');
        out += String.fromCharCode(parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const n = nx === 'u' ? 4 : 8;
        const h = body.slice(i + 1, i + 1 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new RewriteError(`truncated \\${nx} escape in string`);
        out += String.fromCodePoint(parseInt(h, 16));
        i += n;
        break;
      }
      default:
        if (/[0-7]/.test(nx)) {
          let oct = nx;
          while (oct.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) oct += body[++i];
          out += String.fromCharCode(parseInt(oct, 8));
        } else out += '\\' + nx;
    }
  }
  return out;
}

/** A JS-string literal nunjucks' lexer reads back exactly (it knows \n \t \r and `\x` → x). */
export function nunjucksString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') + '"';
}

export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== ch) j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new RewriteError('unterminated string', 'SYNTAX', i);
      const value = decodePyString(src.slice(i + 1, j));
      const last = toks[toks.length - 1];
      // Adjacent string literals concatenate, as in Python: 'it''s' is "its".
      if (last?.type === 'string') toks[toks.length - 1] = { ...last, value: last.value + value };
      else toks.push({ type: 'string', value, pos: i });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      const prevDot = toks.length > 0 && toks[toks.length - 1]?.value === '.' && toks[toks.length - 1]?.type === 'op';
      const m = prevDot ? /^[0-9][0-9_]*/.exec(src.slice(i)) : /^[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
      const text = (m as RegExpExecArray)[0];
      const isFloat = /[.eE]/.test(text);
      toks.push({ type: isFloat ? 'float' : 'int', value: text.replace(/_/g, ''), pos: i });
      i += text.length;
      continue;
    }
    const nm = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i));
    if (nm) {
      toks.push({ type: 'name', value: nm[0], pos: i });
      i += nm[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op || op === ';') throw new RewriteError(`unexpected character ${JSON.stringify(ch)}`, 'SYNTAX', i);
    toks.push({ type: 'op', value: op, pos: i });
    i += op.length;
  }
  return toks;
}

const CLOSE: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Index of the bracket closing the one at `open`. */
function matching(toks: readonly Tok[], open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    const t = toks[i] as Tok;
    if (t.type !== 'op') continue;
    if (t.value === '(' || t.value === '[' || t.value === '{') depth++;
    else if (t.value === ')' || t.value === ']' || t.value === '}') {
      depth--;
      if (depth === 0) {
        if (t.value !== CLOSE[(toks[open] as Tok).value]) throw new RewriteError(`unexpected '${t.value}'`, 'SYNTAX', t.pos);
        return i;
      }
    }
  }
  throw new RewriteError(`unclosed '${(toks[open] as Tok).value}'`, 'SYNTAX', (toks[open] as Tok).pos);
}

/** Split [start, end) at top-level occurrences of `sep` (an op). */
export function splitTop(toks: readonly Tok[], start: number, end: number, sep: string): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let from = start;
  for (let i = start; i < end; i++) {
    const t = toks[i] as Tok;
    if (t.type === 'op') {
      if (t.value === '(' || t.value === '[' || t.value === '{') depth++;
      else if (t.value === ')' || t.value === ']' || t.value === '}') depth--;
      else if (depth === 0 && t.value === sep) {
        parts.push([from, i]);
        from = i + 1;
      }
    }
  }
  parts.push([from, end]);
  return parts;
}

function isPostfixPosition(prev: Tok | undefined): boolean {
  if (!prev) return false;
  if (prev.type === 'name') return !KEYWORDS.has(prev.value);
  if (prev.type === 'string') return true;
  return prev.type === 'op' && (prev.value === ')' || prev.value === ']' || prev.value === '}');
}

/** End (exclusive) of a primary expression plus postfix operators starting at `i` (Jinja's parse_primary + parse_postfix). */
function primaryEnd(toks: readonly Tok[], i: number, end: number): number {
  const t = toks[i] as Tok;
  let j: number;
  if (t.type === 'op' && (t.value === '(' || t.value === '[' || t.value === '{')) j = matching(toks, i, end) + 1;
  else if (t.type === 'op' && t.value === '-' && i + 1 < end) return primaryEnd(toks, i + 1, end);
  else j = i + 1;
  while (j < end) {
    const n = toks[j] as Tok;
    if (n.type === 'op' && n.value === '.' && j + 1 < end) j += 2;
    else if (n.type === 'op' && (n.value === '[' || n.value === '(')) j = matching(toks, j, end) + 1;
    else break;
  }
  return j;
}

function collapseFqcn(toks: readonly Tok[], i: number, end: number): { name: string; next: number } {
  let name = (toks[i] as Tok).value;
  let j = i + 1;
  while (j + 1 < end && toks[j]?.type === 'op' && toks[j]?.value === '.' && toks[j + 1]?.type === 'name') {
    name += '.' + (toks[j + 1] as Tok).value;
    j += 2;
  }
  return { name: name.replace(FQCN, ''), next: j };
}

function topLevelName(toks: readonly Tok[], start: number, end: number, name: string): number {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const t = toks[i] as Tok;
    if (t.type === 'op' && (t.value === '(' || t.value === '[' || t.value === '{')) depth++;
    else if (t.type === 'op' && (t.value === ')' || t.value === ']' || t.value === '}')) depth--;
    else if (depth === 0 && t.type === 'name' && t.value === name) return i;
  }
  return -1;
}

/** Call arguments: `*xs` and `**kw` become runtime markers that env.py.call / filter expand. */
function rewriteArgs(toks: readonly Tok[], start: number, end: number): string {
  return splitTop(toks, start, end, ',')
    .filter(([a, b]) => b > a)
    .map(([a, b]) => {
      const first = toks[a] as Tok;
      if (first.type === 'op' && first.value === '*') return `__j_star(${rewrite(toks, a + 1, b)})`;
      if (first.type === 'op' && first.value === '**') return `__j_kwstar(${rewrite(toks, a + 1, b)})`;
      return rewrite(toks, a, b);
    })
    .join(', ');
}

/** Rewrite tokens [start, end) into nunjucks expression source. */
export function rewrite(toks: readonly Tok[], start = 0, end = toks.length): string {
  // Jinja2 allows `a if x else b if y else c`; nunjucks only takes an or-expression after
  // `else`, so the else branch is parenthesised (recursively).
  const elseAt = topLevelName(toks, start, end, 'else');
  if (elseAt > start && topLevelName(toks, start, elseAt, 'if') > start) {
    return `${rewrite(toks, start, elseAt)} else ( ${rewrite(toks, elseAt + 1, end)} )`;
  }
  const out: string[] = [];
  let prev: Tok | undefined;
  let i = start;
  while (i < end) {
    const t = toks[i] as Tok;
    if (t.type === 'string') {
      out.push(nunjucksString(t.value));
    } else if (t.type === 'int') {
      out.push(t.value);
    } else if (t.type === 'float') {
      out.push(`__j_float(${nunjucksString(t.value)})`);
    } else if (t.type === 'name') {
      const afterDot = prev?.type === 'op' && prev.value === '.';
      if (t.value === '__proto__' && !afterDot) throw new RewriteError(`the name '__proto__' is not allowed`, 'SECURITY', t.pos);
      if (t.value.startsWith('__j')) throw new RewriteError(`the name '${t.value}' is reserved`, 'SECURITY', t.pos);
      if (afterDot) {
        if (['true', 'false', 'none', 'null', 'True', 'False', 'None'].includes(t.value)) {
          out.pop();
          out.push(`[${nunjucksString(t.value)}]`);
        } else out.push(t.value);
      } else if (t.value === 'True' || t.value === 'true') out.push('true');
      else if (t.value === 'False' || t.value === 'false') out.push('false');
      else if (t.value === 'None' || t.value === 'none') out.push('none');
      else if (t.value === 'null') throw new RewriteError("'null' is not a Jinja2 literal (Jinja2 writes none/None); nunjucks would read it as none", 'UNSUPPORTED', t.pos);
      else if (t.value === 'is') {
        // `x is [not] test args` becomes a filter-style call so it binds exactly like Jinja2's
        // filter/test chain: `x is string | ternary(a, b)` is `(x is string) | ternary(a, b)`.
        let j = i + 1;
        let negate = false;
        if (toks[j]?.type === 'name' && toks[j]?.value === 'not') {
          negate = true;
          j++;
        }
        const nameTok = toks[j];
        if (!nameTok || nameTok.type !== 'name') throw new RewriteError("expected a test name after 'is'", 'SYNTAX', t.pos);
        const { name, next } = collapseFqcn(toks, j, end);
        if (name.includes('.')) throw new RewriteError(`unknown test '${name}'`, 'UNSUPPORTED', nameTok.pos);
        j = next;
        const head = `| ${negate ? '__jtestnot' : '__jtest'}(${nunjucksString(name)}`;
        const a = toks[j];
        if (a && j < end && a.type === 'op' && a.value === '(') {
          const close = matching(toks, j, end);
          const inner = close > j + 1 ? ', ' + rewriteArgs(toks, j + 1, close) : '';
          out.push(head + inner + ')');
          prev = toks[close];
          i = close + 1;
          continue;
        }
        if (a && j < end) {
          const startsPrimary =
            (a.type === 'name' && !['else', 'or', 'and', 'if', 'in', 'is', 'not'].includes(a.value)) ||
            a.type === 'string' ||
            a.type === 'int' ||
            a.type === 'float' ||
            (a.type === 'op' && (a.value === '[' || a.value === '{'));
          if (startsPrimary) {
            const e = primaryEnd(toks, j, end);
            out.push(`${head}, ${rewrite(toks, j, e)})`);
            prev = { type: 'op', value: ')', pos: t.pos };
            i = e;
            continue;
          }
        }
        out.push(head + ')');
        prev = { type: 'op', value: ')', pos: t.pos };
        i = j;
        continue;
      } else out.push(t.value);
    } else {
      // operators
      const v = t.value;
      if (v === '|') {
        const nameTok = toks[i + 1];
        if (!nameTok || nameTok.type !== 'name') throw new RewriteError("expected a filter name after '|'", 'SYNTAX', t.pos);
        const { name, next } = collapseFqcn(toks, i + 1, end);
        if (name.includes('.')) throw new RewriteError(`unknown filter '${name}'`, 'UNSUPPORTED', nameTok.pos);
        if (name.startsWith('__j')) throw new RewriteError(`the name '${name}' is reserved`, 'SECURITY', nameTok.pos);
        out.push('|', name);
        prev = toks[next - 1];
        i = next;
        continue;
      }
      if (v === '.' && toks[i + 1]?.type === 'int') {
        out.push(`[${(toks[i + 1] as Tok).value}]`);
        prev = { type: 'op', value: ']', pos: t.pos };
        i += 2;
        continue;
      }
      if (v === '(' || v === '[' || v === '{') {
        const close = matching(toks, i, end);
        const postfix = isPostfixPosition(prev);
        if (v === '(') {
          if (postfix) out.push('(', close > i + 1 ? rewriteArgs(toks, i + 1, close) : '', ')');
          else {
            const parts = splitTop(toks, i + 1, close, ',');
            const tuple = parts.length > 1;
            if (tuple) {
              const items = parts.filter(([a, b]) => b > a).map(([a, b]) => rewrite(toks, a, b));
              out.push('__j_tuple([', items.join(', '), '])');
            } else out.push('(', rewrite(toks, i + 1, close), ')');
          }
        } else if (v === '[') {
          if (postfix) {
            const parts = splitTop(toks, i + 1, close, ':');
            if (parts.length > 1) {
              if (parts.length > 3) throw new RewriteError('invalid slice', 'SYNTAX', t.pos);
              const exprs = [0, 1, 2].map((k) => {
                const p = parts[k];
                return p && p[1] > p[0] ? rewrite(toks, p[0], p[1]) : 'none';
              });
              out.push(`[__j_slice(${exprs.join(', ')})]`);
            } else out.push('[', rewrite(toks, i + 1, close), ']');
          } else {
            const items = splitTop(toks, i + 1, close, ',')
              .filter(([a, b]) => b > a)
              .map(([a, b]) => rewrite(toks, a, b));
            out.push('[', items.join(', '), ']');
          }
        } else {
          const pairs = splitTop(toks, i + 1, close, ',')
            .filter(([a, b]) => b > a)
            .map(([a, b]) => {
              const kv = splitTop(toks, a, b, ':');
              if (kv.length !== 2) throw new RewriteError('dict items must be key: value', 'SYNTAX', (toks[a] as Tok).pos);
              const [k, val] = kv as [[number, number], [number, number]];
              return `[${rewrite(toks, k[0], k[1])}, ${rewrite(toks, val[0], val[1])}]`;
            });
          out.push(`__j_dict([${pairs.join(', ')}])`);
        }
        prev = toks[close];
        i = close + 1;
        continue;
      }
      out.push(v);
    }
    prev = t;
    i++;
  }
  return out.join(' ');
}
