/**
 * Jinja2 template source → nunjucks template source, plus a map back to original lines.
 *
 * A small lexer over Jinja2's template syntax (text, `{{ }}`, `{% %}`, `{# #}`, `{% raw %}`)
 * applies Jinja2's whitespace rules itself — `-`/`+` modifiers, trim_blocks (after block tags
 * *and* comments, unlike nunjucks), lstrip_blocks, keep_trailing_newline — so nunjucks runs with
 * all of its own whitespace handling off. Every expression goes through expression-rewriter.ts;
 * statements nunjucks lacks or runs differently are rewritten (`for … if …`, `set ns.attr`,
 * `do`) or refused with the template name and line (`with`, `break`, `continue`, `trans`, …).
 */
import { RewriteError, nunjucksString, rewrite, splitTop, tokenize, type Tok } from './expression-rewriter.js';

export interface WhitespaceOptions {
  readonly trimBlocks: boolean;
  readonly lstripBlocks: boolean;
  readonly keepTrailingNewline: boolean;
}

export const ANSIBLE_WHITESPACE: WhitespaceOptions = { trimBlocks: true, lstripBlocks: false, keepTrailingNewline: false };

export interface Preprocessed {
  /** nunjucks source. */
  readonly source: string;
  /** Maps a position in `source` (0-based line, 0-based column) to the 1-based original line. */
  readonly lineAt: (line0: number, col0: number) => number;
}

/** Raised for a problem found while preprocessing; `line` is 1-based in the original source. */
export class PreprocessError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly kind: 'SYNTAX' | 'UNSUPPORTED' | 'SECURITY',
  ) {
    super(message);
  }
}

type TagKind = 'var' | 'block' | 'comment';

interface TextPart {
  readonly kind: 'text';
  start: number;
  end: number;
  /** True when this text begins at the start of a line (of the source, or after a trimmed newline). */
  lineStart: boolean;
}

interface TagPart {
  readonly kind: TagKind;
  readonly body: string;
  readonly bodyOffset: number;
  readonly start: number;
  readonly left: '' | '-' | '+';
  readonly right: '' | '-' | '+';
}

interface RawPart {
  readonly kind: 'raw';
  start: number;
  end: number;
  lineStart: boolean;
}

type Part = TextPart | TagPart | RawPart;

const ALLOWED_PASSTHROUGH = new Set(['else', 'endif', 'endfilter', 'extends', 'block', 'endblock']);

/** Per-template state of the statement rewriter. */
interface RewriteState {
  counter: number;
  /** Open for loops and macros/call blocks (break/continue must be directly inside a loop). */
  loops: ('for' | 'macro')[];
  /** Open `{% set x %}` blocks; an entry with filters was `{% set x | f %}`. */
  setBlocks: ({ target: string; filters: string } | undefined)[];
}
const REFUSED: Record<string, string> = {
  trans: '{% trans %} (i18n) is not supported',
  pluralize: '{% trans %} (i18n) is not supported',
  endtrans: '{% trans %} (i18n) is not supported',
  autoescape: '{% autoescape %} is not supported (output is never escaped)',
  endautoescape: '{% autoescape %} is not supported (output is never escaped)',
};

class LineIndex {
  private readonly starts: number[] = [0];
  constructor(src: string) {
    for (let i = 0; i < src.length; i++) if (src[i] === '\n') this.starts.push(i + 1);
  }
  /** 1-based line of offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

/** Split off Ansible's `#jinja2: trim_blocks: False, lstrip_blocks: True` first line. */
export function parseHeader(source: string): { overrides: Partial<WhitespaceOptions>; body: string; headerLines: number } {
  if (!source.startsWith('#jinja2:')) return { overrides: {}, body: source, headerLines: 0 };
  const eol = source.indexOf('\n');
  const line = source.slice('#jinja2:'.length, eol < 0 ? undefined : eol);
  const body = eol < 0 ? '' : source.slice(eol + 1);
  const overrides: { -readonly [K in keyof WhitespaceOptions]?: boolean } = {};
  const names: Record<string, keyof WhitespaceOptions> = { trim_blocks: 'trimBlocks', lstrip_blocks: 'lstripBlocks', keep_trailing_newline: 'keepTrailingNewline' };
  for (const pair of line.split(',')) {
    if (pair.trim() === '') continue;
    const k = pair.indexOf(':');
    const key = (k < 0 ? pair : pair.slice(0, k)).trim();
    const val = k < 0 ? '' : pair.slice(k + 1).trim();
    const opt = names[key];
    if (!opt) throw new PreprocessError(`#jinja2 header: setting '${key}' is not supported (supported: ${Object.keys(names).join(', ')})`, 1, 'UNSUPPORTED');
    if (val !== 'True' && val !== 'False' && val !== 'true' && val !== 'false') throw new PreprocessError(`#jinja2 header: ${key} must be True or False`, 1, 'SYNTAX');
    overrides[opt] = val === 'True' || val === 'true';
  }
  return { overrides, body, headerLines: 1 };
}

/** Lex Jinja2 template source into text, tag and raw parts. */
function lex(src: string, lines: LineIndex): Part[] {
  const parts: Part[] = [];
  let i = 0;
  const startRe = /\{[{%#]/g;
  while (i <= src.length) {
    startRe.lastIndex = i;
    const m = startRe.exec(src);
    const k = m ? m.index : src.length;
    if (k > i || !m) parts.push({ kind: 'text', start: i, end: k, lineStart: i === 0 || src[i - 1] === '\n' });
    if (!m) break;
    const open = m[0];
    let p = k + 2;
    const leftCh = src[p];
    const left: '' | '-' | '+' = leftCh === '-' || leftCh === '+' ? leftCh : '';
    if (left) p++;
    if (open === '{#') {
      const close = src.indexOf('#}', p);
      if (close < 0) throw new PreprocessError('unterminated comment', lines.lineOf(k), 'SYNTAX');
      const r = src[close - 1];
      const right: '' | '-' | '+' = close - 1 >= p && (r === '-' || r === '+') ? r : '';
      parts.push({ kind: 'comment', body: '', bodyOffset: p, start: k, left, right });
      i = close + 2;
      continue;
    }
    const closeTok = open === '{{' ? '}}' : '%}';
    // Scan to the closing delimiter at bracket depth 0, outside strings.
    let depth = 0;
    let j = p;
    let found = -1;
    while (j < src.length) {
      const c = src[j] as string;
      if (c === "'" || c === '"') {
        let q = j + 1;
        while (q < src.length && src[q] !== c) q += src[q] === '\\' ? 2 : 1;
        j = q + 1;
        continue;
      }
      if (depth === 0 && src.startsWith(closeTok, j)) {
        found = j;
        break;
      }
      if (depth === 0 && (c === '-' || c === '+') && src.startsWith(closeTok, j + 1)) {
        found = j;
        break;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
      j++;
    }
    if (found < 0) throw new PreprocessError(`unclosed '${open}'`, lines.lineOf(k), 'SYNTAX');
    const bodyEnd = found;
    let right: '' | '-' | '+' = '';
    if (src[found] === '-' || src[found] === '+') {
      right = src[found] as '-' | '+';
      j = found + 1;
    } else j = found;
    const body = src.slice(p, bodyEnd);
    const tag: TagPart = { kind: open === '{{' ? 'var' : 'block', body, bodyOffset: p, start: k, left, right };
    parts.push(tag);
    i = j + 2;
    if (tag.kind === 'block' && /^\s*raw\s*$/.test(body)) {
      const endRe = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;
      endRe.lastIndex = i;
      const e = endRe.exec(src);
      if (!e) throw new PreprocessError("missing {% endraw %}", lines.lineOf(k), 'SYNTAX');
      parts.push({ kind: 'raw', start: i, end: e.index, lineStart: i === 0 || src[i - 1] === '\n' });
      const el = (e[1] ?? '') as '' | '-' | '+';
      const er = (e[2] ?? '') as '' | '-' | '+';
      parts.push({ kind: 'block', body: 'endraw', bodyOffset: e.index + 2, start: e.index, left: el, right: er });
      i = e.index + e[0].length;
    }
  }
  return parts;
}

/** Apply Jinja2's whitespace control to the text parts around tags, in place. */
function applyWhitespace(parts: Part[], src: string, ws: WhitespaceOptions): void {
  for (let n = 0; n < parts.length; n++) {
    const tag = parts[n] as Part;
    if (tag.kind === 'text' || tag.kind === 'raw') continue;
    const prev = parts[n - 1];
    const next = parts[n + 1];
    const isBlockLike = tag.kind === 'block' || tag.kind === 'comment';
    if (prev && (prev.kind === 'text' || prev.kind === 'raw')) {
      if (tag.left === '-') {
        while (prev.end > prev.start && /\s/.test(src[prev.end - 1] as string)) prev.end--;
      } else if (ws.lstripBlocks && isBlockLike && tag.left !== '+') {
        const text = src.slice(prev.start, prev.end);
        const nl = text.lastIndexOf('\n');
        const tail = text.slice(nl + 1);
        if ((nl >= 0 || prev.lineStart) && /^[ \t]*$/.test(tail)) prev.end -= tail.length;
      }
    }
    if (next && (next.kind === 'text' || next.kind === 'raw')) {
      if (tag.right === '-') {
        const from = next.start;
        while (next.start < next.end && /\s/.test(src[next.start] as string)) next.start++;
        // Jinja2's lexer counts a line as started when the consumed whitespace ended in a newline.
        if (next.start > from && src[next.start - 1] === '\n') next.lineStart = true;
      } else if (ws.trimBlocks && isBlockLike && tag.right !== '+') {
        if (src[next.start] === '\n') {
          next.start++;
          next.lineStart = true;
        }
      }
    }
  }
}

class Emitter {
  private readonly chunks: string[] = [];
  /** Per output line: [outCol, origLine] breakpoints. */
  private readonly breaks: [number, number][][] = [[]];
  private col = 0;
  constructor(private readonly lines: LineIndex) {}

  /** Emit text that contains no newline, coming from original offset `origin`. */
  piece(s: string, origin: number): void {
    (this.breaks[this.breaks.length - 1] as [number, number][]).push([this.col, this.lines.lineOf(origin)]);
    this.chunks.push(s);
    this.col += s.length;
  }

  /** Emit template text verbatim, tracking its newlines. */
  text(src: string, start: number, end: number): void {
    let from = start;
    for (let i = start; i < end; i++) {
      if (src[i] === '\n') {
        if (i > from) this.piece(src.slice(from, i), from);
        this.chunks.push('\n');
        this.breaks.push([]);
        this.col = 0;
        (this.breaks[this.breaks.length - 1] as [number, number][]).push([0, this.lines.lineOf(i + 1)]);
        from = i + 1;
      }
    }
    if (end > from) this.piece(src.slice(from, end), from);
  }

  source(): string {
    return this.chunks.join('');
  }

  lineAt(line0: number, col0: number): number {
    const bps = this.breaks[Math.min(Math.max(line0, 0), this.breaks.length - 1)] ?? [];
    let best = bps[0]?.[1] ?? 1;
    for (const [c, l] of bps) if (c <= col0) best = l;
    return best;
  }
}

function toksOf(body: string, bodyOffset: number, lines: LineIndex): Tok[] {
  try {
    const toks = tokenize(body);
    const bad = toks.find((t, i) => t.type === 'name' && t.value === '__proto__' && toks[i - 1]?.value !== '.');
    if (bad) throw new RewriteError("the name '__proto__' is not allowed", 'SECURITY', bad.pos);
    return toks;
  } catch (e) {
    if (e instanceof RewriteError) throw new PreprocessError(e.message, lines.lineOf(bodyOffset + e.offset), e.kind);
    throw e;
  }
}

/** Rewrite one `{% … %}` statement into nunjucks tag source (possibly several tags). */
function statement(tag: TagPart, lines: LineIndex, state: RewriteState): string {
  const line = lines.lineOf(tag.start);
  const toks = toksOf(tag.body, tag.bodyOffset, lines);
  const head = toks[0];
  if (!head || head.type !== 'name') throw new PreprocessError('expected a statement name', line, 'SYNTAX');
  const name = head.value;
  const rest = (from: number, to = toks.length): string => rewrite(toks, from, to);
  const findName = (value: string, from: number): number => {
    let depth = 0;
    for (let i = from; i < toks.length; i++) {
      const t = toks[i] as Tok;
      if (t.type === 'op' && '([{'.includes(t.value)) depth++;
      else if (t.type === 'op' && ')]}'.includes(t.value)) depth--;
      else if (depth === 0 && t.type === 'name' && t.value === value) return i;
    }
    return -1;
  };
  const words = (from: number): string => toks.slice(from).map((t) => t.value).join(' ');
  // Names that go into nunjucks source as they are must be plain identifiers.
  const ident = (tok: Tok | undefined, what: string): string => {
    if (!tok || tok.type !== 'name') throw new PreprocessError(`expected a name for ${what}`, line, 'SYNTAX');
    return tok.value;
  };
  if (Object.hasOwn(REFUSED, name)) throw new PreprocessError(REFUSED[name] as string, line, 'UNSUPPORTED');
  switch (name) {
    case 'if':
    case 'elif':
      return `{% ${name} ${rest(1)} %}`;
    case 'for': {
      state.loops.push('for');
      const inAt = findName('in', 1);
      if (inAt < 0) throw new PreprocessError("expected 'in' in for loop", line, 'SYNTAX');
      let tStart = 1;
      let tEnd = inAt;
      if (toks[1]?.value === '(' && toks[inAt - 1]?.value === ')') {
        tStart = 2;
        tEnd = inAt - 1;
      }
      const targetNames = splitTop(toks, tStart, tEnd, ',').map(([a, b]) => {
        if (b - a !== 1 || toks[a]?.type !== 'name') throw new PreprocessError('for loop targets must be names', line, 'UNSUPPORTED');
        return (toks[a] as Tok).value;
      });
      let end = toks.length;
      if (toks[end - 1]?.type === 'name' && toks[end - 1]?.value === 'recursive') {
        throw new PreprocessError('recursive loops (loop(…)) are not supported', line, 'UNSUPPORTED');
      }
      const ifAt = findName('if', inAt + 1);
      const tgt = targetNames.join(', ');
      if (ifAt < 0) return `{% for ${tgt} in ${rest(inAt + 1, end)} %}`;
      end = toks.length;
      const iter = rest(inAt + 1, ifAt);
      const cond = rest(ifAt + 1, end);
      const list = `__j_lf${++state.counter}`;
      const item = targetNames.length === 1 ? (targetNames[0] as string) : `[${tgt}]`;
      // Filter first (so loop.index/length/last count only the kept items), then loop.
      return (
        `{% set ${list} = [] %}{% for ${tgt} in ${iter} %}{% if ${cond} %}{{ ${list}.append(${item}) }}{% endif %}{% endfor %}` +
        `{% for ${tgt} in ${list} %}`
      );
    }
    case 'set': {
      const eq = toks.findIndex((t) => t.type === 'op' && t.value === '=');
      if (eq < 0) {
        const target = ident(toks[1], 'set');
        if (toks.length === 2) {
          state.setBlocks.push(undefined);
          return `{% set ${target} %}`;
        }
        if (toks[2]?.value === '|') {
          // {% set x | filter %}…{% endset %}: capture, then filter at endset.
          state.setBlocks.push({ target, filters: rewrite(toks, 2) });
          return `{% set ${target} %}`;
        }
        throw new PreprocessError('invalid {% set %}', line, 'SYNTAX');
      }
      const lhs = toks.slice(1, eq);
      if (lhs.length === 3 && lhs[0]?.type === 'name' && lhs[1]?.value === '.' && lhs[2]?.type === 'name') {
        return `{{ __j_setattr(${lhs[0].value}, ${JSON.stringify(lhs[2].value)}, ${rest(eq + 1)}) }}`;
      }
      if (lhs.length > 1) {
        // {% set a, b = expr %}: unpack like Python (the lengths must match).
        let l0 = 1;
        let l1 = eq;
        if (toks[1]?.value === '(' && toks[eq - 1]?.value === ')') {
          l0 = 2;
          l1 = eq - 1;
        }
        const names = splitTop(toks, l0, l1, ',')
          .filter(([a, b]) => b > a)
          .map(([a, b]) => {
            if (b - a !== 1) throw new PreprocessError('{% set %} targets must be names', line, 'UNSUPPORTED');
            return ident(toks[a], 'set');
          });
        const rhsParts = splitTop(toks, eq + 1, toks.length, ',');
        const value = rhsParts.length > 1 ? `[${rhsParts.filter(([a, b]) => b > a).map(([a, b]) => rewrite(toks, a, b)).join(', ')}]` : rest(eq + 1);
        const tmp = `__j_un${++state.counter}`;
        return `{% set ${tmp} = __j_unpack(${value}, ${names.length}) %}` + names.map((n, k) => `{% set ${n} = ${tmp}[${k}] %}`).join('');
      }
      if (lhs.length !== 1 || lhs[0]?.type !== 'name') {
        throw new PreprocessError('invalid {% set %} target', line, 'SYNTAX');
      }
      const rhs = splitTop(toks, eq + 1, toks.length, ',');
      const value = rhs.length > 1 ? `[${rhs.filter(([a, b]) => b > a).map(([a, b]) => rewrite(toks, a, b)).join(', ')}]` : rest(eq + 1);
      return `{% set ${lhs[0].value} = ${value} %}`;
    }
    case 'break':
    case 'continue':
      if (state.loops.length === 0 || state.loops[state.loops.length - 1] !== 'for') {
        throw new PreprocessError(`{% ${name} %} outside a loop (or inside a with/macro/call block within one, which is not supported)`, line, 'SYNTAX');
      }
      return `{{ __j_${name}() }}`;
    case 'with': {
      // A scope: a one-iteration loop over the values (evaluated outside, in order), the names
      // bound inside, and the enclosing `loop` restored.
      const n = ++state.counter;
      const assigns = splitTop(toks, 1, toks.length, ',')
        .filter(([a, b]) => b > a)
        .map(([a, b]) => {
          if (toks[a]?.type !== 'name' || toks[a + 1]?.value !== '=') throw new PreprocessError('{% with %} takes name = value pairs', line, 'SYNTAX');
          return { name: ident(toks[a], 'with'), value: rewrite(toks, a + 2, b) };
        });
      const values = `[${assigns.map((x) => x.value).join(', ')}]`;
      const binds = assigns.map((x, k) => `{% set ${x.name} = __j_w${n}[${k}] %}`).join('');
      state.loops.push('macro');
      return `{% set __j_wl${n} = __j_outer_loop(loop) %}{% for __j_w${n} in [${values}] %}{% set loop = __j_wl${n} %}${binds}`;
    }
    case 'endwith':
      state.loops.pop();
      return '{% endfor %}';
    case 'do':
      return `{{ __j_do(${rest(1)}) }}`;
    case 'macro':
    case 'call':
      state.loops.push('macro');
      return `{% ${name} ${rest(1)} %}`;
    case 'filter':
      return `{% ${name} ${rest(1)} %}`;
    case 'endfor':
    case 'endmacro':
    case 'endcall':
      state.loops.pop();
      return `{% ${name} %}`;
    case 'include': {
      let end = toks.length;
      let suffix = '';
      const w = words(1);
      if (/ without context$/.test(w)) throw new PreprocessError('include … without context is not supported', line, 'UNSUPPORTED');
      if (/ with context$/.test(w)) end -= 2;
      if (toks[end - 1]?.value === 'missing' && toks[end - 2]?.value === 'ignore') {
        end -= 2;
        suffix = ' ignore missing';
      }
      return `{% include ${rest(1, end)}${suffix} %}`;
    }
    case 'import': {
      const asAt = findName('as', 1);
      if (asAt < 0) throw new PreprocessError("expected 'as' in import", line, 'SYNTAX');
      const ctx = / with context$/.test(words(1)) ? ' with context' : '';
      const target = ident(toks[asAt + 1], 'import … as');
      return `{% import ${rest(1, asAt)} as ${target}${ctx} %}`;
    }
    case 'from': {
      const impAt = findName('import', 1);
      if (impAt < 0) throw new PreprocessError("expected 'import' in from", line, 'SYNTAX');
      let names = toks.slice(impAt + 1);
      let ctx = '';
      const tail = names.map((t) => t.value).join(' ');
      if (/(^| )with context$/.test(tail)) {
        names = names.slice(0, -2);
        ctx = ' with context';
      } else if (/(^| )without context$/.test(tail)) names = names.slice(0, -2);
      const items = splitTop(names, 0, names.length, ',').map(([a, b]) => {
        const part = names.slice(a, b);
        if (part.length === 1) return ident(part[0], 'from … import');
        if (part.length === 3 && part[1]?.type === 'name' && part[1].value === 'as') return `${ident(part[0], 'from … import')} as ${ident(part[2], 'from … import … as')}`;
        throw new PreprocessError('expected names in from … import', line, 'SYNTAX');
      });
      return `{% from ${rest(1, impAt)} import ${items.join(', ')}${ctx} %}`;
    }
    case 'endraw':
      return '';
    case 'endset': {
      const block = state.setBlocks.pop();
      return block ? `{% endset %}{% set ${block.target} = ${block.target} ${block.filters} %}` : '{% endset %}';
    }
    default:
      if (ALLOWED_PASSTHROUGH.has(name)) {
        if (name === 'block') {
          return `{% block ${ident(toks[1], 'block')} %}`;
        }
        if (name === 'endblock') return '{% endblock %}';
        if (name === 'extends') return `{% extends ${rest(1)} %}`;
        return `{% ${name} %}`;
      }
      throw new PreprocessError(`unknown tag '${name}'`, line, 'SYNTAX');
  }
}

/**
 * Convert Jinja2 source to nunjucks source. `source` must not contain the `#jinja2:` header line
 * (see parseHeader); `firstLine` is the original line number of its first line.
 */
export function preprocess(source: string, ws: WhitespaceOptions, firstLine = 1): Preprocessed {
  const key = `${ws.trimBlocks ? 1 : 0}${ws.lstripBlocks ? 1 : 0}${ws.keepTrailingNewline ? 1 : 0}:${firstLine}:${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const result = preprocessUncached(source, ws, firstLine);
  if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
  cache.set(key, result);
  return result;
}

/** Preprocessing is a pure function of (source, options); results are shared by every renderer. */
const cache = new Map<string, Preprocessed>();
const MAX_CACHE = 2000;

function preprocessUncached(source: string, ws: WhitespaceOptions, firstLine: number): Preprocessed {
  let src = source.replace(/\r\n?/g, '\n');
  if (!ws.keepTrailingNewline && src.endsWith('\n')) src = src.slice(0, -1);
  // Line numbers are reported relative to the full file: pad with the header's lines.
  const pad = '\n'.repeat(Math.max(0, firstLine - 1));
  const full = pad + src;
  const lines = new LineIndex(full);
  const parts = lex(full, lines).filter((p) => !(p.kind === 'text' && p.start < pad.length && p.end <= pad.length));
  for (const p of parts) if ((p.kind === 'text' || p.kind === 'raw') && p.start < pad.length) p.start = pad.length;
  applyWhitespace(parts, full, ws);
  const em = new Emitter(lines);
  const state: RewriteState = { counter: 0, loops: [], setBlocks: [] };
  for (const p of parts) {
    if (p.kind === 'text') {
      let end = p.end;
      // A text ending in '{' followed by a tag would make nunjucks see '{{' / '{%'.
      const trailingBrace = end > p.start && full[end - 1] === '{';
      if (trailingBrace) end--;
      em.text(full, p.start, end);
      if (trailingBrace) em.piece('{{ "{" }}', end);
    } else if (p.kind === 'raw') {
      const content = full.slice(p.start, p.end);
      if (content) em.piece(`{{ ${nunjucksString(content)} }}`, p.start);
    } else if (p.kind === 'comment') {
      continue;
    } else if (p.kind === 'var') {
      const toks = toksOf(p.body, p.bodyOffset, lines);
      if (toks.length === 0) throw new PreprocessError('expected an expression in {{ }}', lines.lineOf(p.start), 'SYNTAX');
      let expr: string;
      try {
        expr = rewrite(toks);
      } catch (e) {
        if (e instanceof RewriteError) throw new PreprocessError(e.message, lines.lineOf(p.bodyOffset + e.offset), e.kind);
        throw e;
      }
      em.piece(`{{ ${expr} }}`, p.start);
    } else {
      if (/^\s*raw\s*$/.test(p.body)) continue;
      let stmt: string;
      try {
        stmt = statement(p, lines, state);
      } catch (e) {
        if (e instanceof RewriteError) throw new PreprocessError(e.message, lines.lineOf(p.bodyOffset + e.offset), e.kind);
        throw e;
      }
      if (stmt) em.piece(stmt, p.start);
    }
  }
  return { source: em.source(), lineAt: (l, c) => em.lineAt(l, c) };
}
