/**
 * The Python audit: parses with @lezer/python (any error node refuses the script) and looks at
 * calls: shell commands given to os.system / subprocess / os.popen (audited with the shell
 * rules, recursively), shutil.rmtree and os.remove of critical paths, and exec/eval of code
 * fetched from the network. Imports with aliases (import subprocess as sp, from os import
 * system) are followed.
 */
import { parser } from '@lezer/python';
import type { SyntaxNode } from '@lezer/common';
import { childFrame, originalIndex, type AuditContext, type Frame } from '../context.js';
import { AuditLimitError } from '../limits.js';
import { isCriticalTarget } from '../shell/words.js';
import { decodeStringLiteral, piecesCollapsed, piecesToShell, type Piece } from './py-string.js';

export class PythonParseError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PythonParseError';
  }
}

const SHELL_CALLS: ReadonlySet<string> = new Set([
  'os.system', 'os.popen', 'subprocess.run', 'subprocess.call', 'subprocess.check_call', 'subprocess.check_output', 'subprocess.Popen',
  'subprocess.getoutput', 'subprocess.getstatusoutput', 'commands.getoutput', 'commands.getstatusoutput', 'pty.spawn', 'asyncio.create_subprocess_shell',
  'asyncio.create_subprocess_exec', 'os.spawnlp', 'os.spawnvp',
]);
const DELETE_CALLS: ReadonlySet<string> = new Set(['shutil.rmtree', 'os.remove', 'os.unlink', 'os.rmdir', 'os.removedirs']);
const CODE_CALLS: ReadonlySet<string> = new Set(['exec', 'eval', 'builtins.exec', 'builtins.eval', 'compile']);
const DOWNLOAD_CALLS: ReadonlySet<string> = new Set([
  'urllib.request.urlopen', 'urllib2.urlopen', 'urllib.urlopen', 'requests.get', 'requests.post', 'requests.request', 'httpx.get', 'httpx.post',
  'urllib.request.urlretrieve', 'urllib3.request', 'urllib3.PoolManager.request',
]);

export function auditPython(ctx: AuditContext, frame: Frame): void {
  if (frame.nesting > ctx.limits.maxNestedScripts) throw new AuditLimitError(`scripts are nested more than ${ctx.limits.maxNestedScripts} deep`, frame.anchor);
  const tree = parser.parse(frame.text);
  let error: number | undefined;
  tree.iterate({
    enter: (n) => {
      ctx.tick(originalIndex(frame, n.from));
      if (n.type.isError && error === undefined) error = n.from;
      return error === undefined;
    },
  });
  if (error !== undefined) {
    if (frame.nesting === 0) throw new PythonParseError(syntaxMessage(frame.text, error), error);
    ctx.report('parse-error', originalIndex(frame, error), `the nested Python code does not parse: ${syntaxMessage(frame.text, error)}`);
    return;
  }
  new PythonAudit(ctx, frame).run(tree.topNode);
}

function syntaxMessage(text: string, at: number): string {
  const near = text.slice(at, at + 20).split('\n')[0] ?? '';
  return near.trim() === '' ? 'invalid syntax (unexpected end of line or input)' : `invalid syntax near "${near.trim()}"`;
}

class PythonAudit {
  private readonly aliases = new Map<string, string>();
  private readonly tainted = new Set<string>();

  constructor(
    private readonly ctx: AuditContext,
    private readonly frame: Frame,
  ) {}

  run(top: SyntaxNode): void {
    this.each(top, (n) => {
      if (n.name === 'ImportStatement') this.importStatement(n);
    });
    this.each(top, (n) => {
      if (n.name === 'AssignStatement') this.assignment(n);
    });
    this.each(top, (n) => {
      if (n.name === 'CallExpression') this.call(n);
    });
  }

  /** Depth-first over every node, bounded by the nesting limit. */
  private each(top: SyntaxNode, f: (n: SyntaxNode) => void): void {
    const go = (n: SyntaxNode, depth: number): void => {
      this.ctx.tick(this.at(n));
      this.ctx.checkDepth(depth, this.at(n));
      f(n);
      for (let c = n.firstChild; c; c = c.nextSibling) go(c, depth + 1);
    };
    go(top, 0);
  }

  private at(n: SyntaxNode | number): number {
    return originalIndex(this.frame, typeof n === 'number' ? n : n.from);
  }

  private text(n: SyntaxNode): string {
    return this.frame.text.slice(n.from, n.to);
  }

  private children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  private importStatement(n: SyntaxNode): void {
    const kids = this.children(n);
    const isFrom = kids[0]?.name === 'from';
    let module = '';
    let i = 1;
    if (isFrom) {
      for (; i < kids.length && kids[i]!.name !== 'import'; i++) module += this.text(kids[i]!);
      i++;
    }
    // Names separated by commas, each "a.b.c" optionally followed by "as x".
    let dotted = '';
    for (; i <= kids.length; i++) {
      const k = kids[i];
      if (k === undefined || k.name === ',') {
        if (dotted !== '') this.aliases.set(isFrom ? dotted : dotted.split('.')[0]!, isFrom ? `${module}.${dotted}` : dotted.split('.')[0]!);
        dotted = '';
        continue;
      }
      if (k.name === 'as') {
        const alias = kids[i + 1];
        if (alias) this.aliases.set(this.text(alias), isFrom ? `${module}.${dotted}` : dotted);
        dotted = '';
        i++;
        continue;
      }
      if (k.name === 'VariableName' || k.name === '.' || k.name === '*') dotted += this.text(k);
    }
  }

  /** The dotted name a callee stands for, imports resolved ("sp.run" → "subprocess.run"). */
  private qualified(n: SyntaxNode): string | undefined {
    if (n.name === 'VariableName') {
      const t = this.text(n);
      return this.aliases.get(t) ?? t;
    }
    if (n.name === 'MemberExpression') {
      const obj = n.firstChild;
      const prop = n.lastChild;
      if (!obj || !prop || prop.name !== 'PropertyName') return undefined;
      const base = this.qualified(obj);
      return base === undefined ? undefined : `${base}.${this.text(prop)}`;
    }
    if (n.name === 'CallExpression') {
      // urllib3.PoolManager().request: the class, then the method
      const callee = n.firstChild;
      return callee ? this.qualified(callee) : undefined;
    }
    return undefined;
  }

  private assignment(n: SyntaxNode): void {
    const kids = this.children(n);
    const value = kids[kids.length - 1];
    if (!value || !this.fetchesCode(value)) return;
    for (const k of kids.slice(0, -1)) if (k.name === 'VariableName') this.tainted.add(this.text(k));
  }

  /** Whether an expression calls a download function or uses a value that came from one. */
  private fetchesCode(n: SyntaxNode): boolean {
    let found = false;
    this.each(n, (m) => {
      if (found) return;
      if (m.name === 'CallExpression' && m.firstChild) {
        const q = this.qualified(m.firstChild);
        if (q !== undefined && (DOWNLOAD_CALLS.has(q) || q.endsWith('.urlopen') || q === 'urlopen')) found = true;
      }
      if (m.name === 'VariableName' && this.tainted.has(this.text(m))) found = true;
    });
    return found;
  }

  private call(n: SyntaxNode): void {
    const callee = n.firstChild;
    const argList = n.getChild('ArgList');
    if (!callee || !argList) return;
    const q = this.qualified(callee);
    if (q === undefined) return;
    const args = this.children(argList).filter((c) => !['(', ')', ','].includes(c.name));
    const first = args[0];
    if (!first || first.nextSibling?.name === 'AssignOp') return;
    if (SHELL_CALLS.has(q)) this.shellArgument(first);
    else if (DELETE_CALLS.has(q)) this.deletion(q, first);
    else if (CODE_CALLS.has(q)) {
      if (this.fetchesCode(first)) this.ctx.report('download-exec', this.at(n), `${q}() runs code fetched from the network`);
      else if (q !== 'compile') this.codeLiteral(first);
    }
  }

  /** A command given to os.system / subprocess: a string is a shell command, a list is argv. */
  private shellArgument(arg: SyntaxNode): void {
    if (arg.name === 'ArrayExpression' || arg.name === 'TupleExpression') {
      const words = this.children(arg).filter((c) => !['[', ']', '(', ')', ','].includes(c.name));
      const shell = words.map((w) => {
        const pieces = this.pieces(w);
        return pieces.every((p) => 'text' in p) ? `'${piecesCollapsed(pieces).value.replace(/'/g, `'\\''`)}'` : `"${piecesToShell(pieces)}"`;
      });
      this.ctx.nested('shell', childFrame(this.frame, shell.join(' '), arg.from, false));
      return;
    }
    this.nestedCode(arg, 'shell');
  }

  /** exec("…") with a literal: the literal is Python code. */
  private codeLiteral(arg: SyntaxNode): void {
    if (arg.name === 'String' || arg.name === 'ContinuedString') this.nestedCode(arg, 'python');
  }

  private nestedCode(arg: SyntaxNode, lang: 'shell' | 'python'): void {
    if (arg.name === 'String') {
      const d = decodeStringLiteral(this.text(arg));
      this.ctx.nested(lang, childFrame(this.frame, d.value, arg.from + d.contentStart, d.verbatim));
      return;
    }
    const pieces = this.pieces(arg);
    if (pieces.every((p) => !('text' in p))) return; // nothing literal to read
    this.ctx.nested(lang, childFrame(this.frame, lang === 'shell' ? piecesToShell(pieces) : piecesCollapsed(pieces).value, arg.from, false));
  }

  private deletion(q: string, arg: SyntaxNode): void {
    const { value, holes } = piecesCollapsed(this.pieces(arg));
    if (!isCriticalTarget(value)) return;
    if (!holes) this.ctx.report('rm-root', this.at(arg), `${q}() deletes ${value}`);
    else if (value.startsWith('/')) this.ctx.report('rm-empty-var', this.at(arg), `${q}() of a path that is ${value} when an interpolated value is empty`);
  }

  /** A string expression as literal pieces and holes: strings, f-strings, "a" "b", a + b. */
  private pieces(n: SyntaxNode): Piece[] {
    switch (n.name) {
      case 'String':
        return [{ text: decodeStringLiteral(this.text(n)).value }];
      case 'ContinuedString':
        return this.children(n).flatMap((c) => this.pieces(c));
      case 'FormatString': {
        const raw = this.text(n);
        const d = decodeStringLiteral(raw.replace(/\{[^{}]*\}/g, ''));
        const out: Piece[] = [];
        let pos = n.from + d.contentStart;
        const end = n.to;
        for (let c = n.firstChild; c; c = c.nextSibling) {
          if (c.name !== 'FormatReplacement') continue;
          if (c.from > pos) out.push({ text: decodeStringLiteral(`"${this.frame.text.slice(pos, c.from)}"`).value });
          out.push({ hole: true });
          pos = c.to;
        }
        const closing = /('''|"""|'|")$/.exec(raw)?.[1]?.length ?? 0;
        const tail = this.frame.text.slice(pos, Math.max(pos, end - closing));
        if (tail) out.push({ text: decodeStringLiteral(`"${tail}"`).value });
        return out;
      }
      case 'BinaryExpression': {
        const kids = this.children(n);
        if (kids.length === 3 && kids[1]!.name === 'ArithOp' && this.text(kids[1]!) === '+') return [...this.pieces(kids[0]!), ...this.pieces(kids[2]!)];
        return [{ hole: true }];
      }
      case 'ParenthesizedExpression': {
        const inner = this.children(n).filter((c) => c.name !== '(' && c.name !== ')');
        return inner.length === 1 ? this.pieces(inner[0]!) : [{ hole: true }];
      }
      default:
        return [{ hole: true }];
    }
  }
}
