/**
 * The shell audit: parses a script with mvdan-sh and runs the rules over every simple command,
 * redirection, pipeline and function. Scripts inside the script (sh -c '…', bash -c, su -c,
 * eval, python -c, a heredoc or echo piped into a shell) are audited recursively, in frames
 * that map their positions back to the original source.
 */
import { AuditLimitError } from '../limits.js';
import { childFrame, originalIndex, type AuditContext, type Frame } from '../context.js';
import { toCommand, type Arg, type Command } from './command.js';
import { checkCommand } from './command-rules.js';
import { DOWNLOADERS, isInterpreter, scriptSource } from './interpreters.js';
import { nodeType, parseShell, ShellParseError, Tok, walk, type Assign, type BinaryCmd, type CallExpr, type DblQuoted, type FuncDecl, type Lit, type Redirect, type ShNode, type SglQuoted, type Stmt, type Word } from './syntax.js';
import { isBlockDevice, isCriticalFile, literalOf, wordValue, type VarFacts } from './words.js';

export function auditShell(ctx: AuditContext, frame: Frame): void {
  if (frame.nesting > ctx.limits.maxNestedScripts) throw new AuditLimitError(`scripts are nested more than ${ctx.limits.maxNestedScripts} deep`, frame.anchor);
  let parsed: ReturnType<typeof parseShell>;
  try {
    parsed = parseShell(frame.text);
  } catch (err) {
    if (!(err instanceof ShellParseError) || frame.nesting === 0) throw err;
    ctx.report('parse-error', originalIndex(frame, err.offset), `the nested shell script does not parse: ${err.message}`);
    return;
  }
  new ShellAudit(ctx, frame, parsed.index).run(parsed.file);
}

class ShellAudit {
  private readonly vars: VarFacts;
  private readonly assigned = new Map<string, boolean>();
  /** Pipelines already handled as part of an enclosing pipeline, by "start:end". */
  private readonly innerPipes = new Set<string>();

  constructor(
    private readonly ctx: AuditContext,
    private readonly frame: Frame,
    private readonly index: (byteOffset: number) => number,
  ) {
    this.vars = { isNonEmpty: (name) => this.assigned.get(name) === true };
  }

  run(file: ShNode): void {
    // First pass: which variables are only ever given non-empty literal values.
    const assigns: Assign[] = [];
    walk(file, (n) => {
      this.ctx.tick(this.at(n));
      if (nodeType(n) === 'Assign') assigns.push(n as Assign);
      return true;
    }, () => undefined);
    for (const a of assigns) {
      const name = a.Name?.Value;
      if (name === undefined) continue;
      const v = a.Value ? wordValue(a.Value, { isNonEmpty: () => false }) : undefined;
      const nonEmpty = !a.Naked && v !== undefined && !v.mayBeEmptyPart && v.collapsed !== '';
      this.assigned.set(name, (this.assigned.get(name) ?? true) && nonEmpty);
    }
    let depth = 0;
    walk(file, (n) => {
      this.ctx.tick(this.at(n));
      depth++;
      this.ctx.checkDepth(depth, this.at(n));
      this.visit(n);
      return true;
    }, () => {
      depth--;
    });
  }

  private at(n: ShNode): number {
    return originalIndex(this.frame, this.index(n.Pos().Offset()));
  }

  private report(rule: string, n: ShNode, message: string): void {
    this.ctx.report(rule, this.at(n), message);
  }

  private visit(n: ShNode): void {
    switch (nodeType(n)) {
      case 'Stmt':
        this.stmt(n as Stmt);
        break;
      case 'CallExpr':
        this.call(n as CallExpr);
        break;
      case 'BinaryCmd':
        this.binary(n as BinaryCmd);
        break;
      case 'FuncDecl':
        this.func(n as FuncDecl);
        break;
    }
  }

  private command(call: CallExpr): Command {
    return toCommand(call, this.vars);
  }

  private call(call: CallExpr): void {
    const cmd = this.command(call);
    for (const f of checkCommand(cmd)) this.report(f.rule, call, f.message);
    const name = cmd.name;
    if (name === undefined) return;
    if (isInterpreter(name)) {
      const src = scriptSource(cmd);
      if (src.kind === 'inline') this.nested(src.arg.word, src.lang);
      if (cmd.args.some((a) => this.downloads(a.word))) this.report('download-exec', call, `${name} runs code fetched by a download`);
    } else if (name === 'eval' || name === 'source' || name === '.') {
      if (cmd.args.some((a) => this.downloads(a.word))) this.report('download-exec', call, `${name} runs code fetched by a download`);
      else if (name === 'eval' && cmd.args.length > 0) this.nestedArgs(cmd.args, 'shell');
    } else if (name === 'su' || name === 'runuser') {
      const i = cmd.args.findIndex((a) => a.value.literal === '-c' || a.value.literal === '--command');
      const code = i === -1 ? undefined : cmd.args[i + 1];
      if (code) this.nested(code.word, 'shell');
    }
  }

  private stmt(stmt: Stmt): void {
    for (const r of stmt.Redirs) this.redirect(r);
    const cmd = stmt.Cmd && nodeType(stmt.Cmd) === 'CallExpr' ? this.command(stmt.Cmd as CallExpr) : undefined;
    if (!cmd?.name || !isInterpreter(cmd.name)) return;
    const src = scriptSource(cmd);
    if (src.kind !== 'stdin') return;
    for (const r of stmt.Redirs) {
      if ((r.Op === Tok.hdoc || r.Op === Tok.dashHdoc) && r.Hdoc && src.lang !== 'other') this.nestedRaw(r.Hdoc, src.lang);
      else if (r.Op === Tok.wordHdoc && r.Word && src.lang !== 'other') this.nested(r.Word, src.lang);
      else if (r.Op === Tok.rdrIn && r.Word && this.downloads(r.Word)) this.report('download-exec', stmt, `${cmd.name} runs code fetched by a download`);
    }
  }

  private redirect(r: Redirect): void {
    if (![Tok.rdrOut, Tok.appOut, Tok.clbOut, Tok.rdrAll, Tok.appAll, Tok.rdrInOut].includes(r.Op as never) || !r.Word) return;
    const target = literalOf(r.Word);
    if (target === undefined) return;
    if (isBlockDevice(target)) this.report('write-block-device', r, `output redirected onto the block device ${target}`);
    else if (isCriticalFile(target) && (r.Op === Tok.rdrOut || r.Op === Tok.clbOut || r.Op === Tok.rdrAll)) this.report('truncate-critical-file', r, `> truncates ${target}`);
  }

  private binary(b: BinaryCmd): void {
    if (b.Op !== Tok.pipe && b.Op !== Tok.pipeAll) return;
    const key = `${b.Pos().Offset()}:${b.End().Offset()}`;
    if (this.innerPipes.has(key)) return;
    const stages = this.flatten(b);
    const cmds = stages.map((s) => (s.Cmd && nodeType(s.Cmd) === 'CallExpr' ? this.command(s.Cmd as CallExpr) : undefined));
    const download = cmds.findIndex((c) => c?.name !== undefined && DOWNLOADERS.has(c.name));
    for (let j = 1; j < stages.length; j++) {
      const c = cmds[j];
      if (!c?.name || !isInterpreter(c.name)) continue;
      const src = scriptSource(c);
      if (src.kind !== 'stdin') continue;
      if (download !== -1 && download < j) {
        this.report('download-exec', stages[0]!, `the output of ${cmds[download]!.name} is piped into ${c.name}`);
        continue;
      }
      if (src.lang !== 'other') this.producedScript(stages[j - 1]!, cmds[j - 1], src.lang);
    }
  }

  /** The stages of a pipeline, left to right. */
  private flatten(b: BinaryCmd): Stmt[] {
    const out: Stmt[] = [];
    const add = (s: Stmt): void => {
      const c = s.Cmd;
      if (c && nodeType(c) === 'BinaryCmd' && ((c as BinaryCmd).Op === Tok.pipe || (c as BinaryCmd).Op === Tok.pipeAll) && out.length < 1000) {
        this.innerPipes.add(`${c.Pos().Offset()}:${c.End().Offset()}`);
        add((c as BinaryCmd).X);
        add((c as BinaryCmd).Y);
      } else out.push(s);
    };
    add(b.X);
    add(b.Y);
    return out;
  }

  /** A script written to a pipe by echo, printf, or cat with a heredoc. */
  private producedScript(stage: Stmt, cmd: Command | undefined, lang: 'shell' | 'python'): void {
    if (!cmd?.name) return;
    if (cmd.name === 'echo' || cmd.name === 'printf') {
      let args = cmd.args;
      if (cmd.name === 'echo') while (args.length > 0 && /^-[neE]+$/.test(args[0]!.value.literal ?? '')) args = args.slice(1);
      else if (args.length > 1) args = args.slice(1);
      if (args.length > 0) this.nestedArgs(args, lang);
    } else if (cmd.name === 'cat' && cmd.args.length === 0) {
      for (const r of stage.Redirs) {
        if ((r.Op === Tok.hdoc || r.Op === Tok.dashHdoc) && r.Hdoc) this.nestedRaw(r.Hdoc, lang);
        else if (r.Op === Tok.wordHdoc && r.Word) this.nested(r.Word, lang);
      }
    }
  }

  private fromBytes(n: ShNode): { start: number; end: number } {
    return { start: this.index(n.Pos().Offset()), end: this.index(n.End().Offset()) };
  }

  /** A heredoc body, audited as written (its positions are exact). */
  private nestedRaw(body: Word, lang: 'shell' | 'python'): void {
    if (body.Pos().Line() === 0) return;
    const { start, end } = this.fromBytes(body);
    this.ctx.nested(lang, childFrame(this.frame, this.frame.text.slice(start, end), start, true));
  }

  /** One word that holds a script (the argument of sh -c, eval, python -c). */
  private nested(word: Word, lang: 'shell' | 'python'): void {
    const parts = word.Parts;
    if (parts.length === 1) {
      const p = parts[0]!;
      const t = nodeType(p);
      const { start, end } = this.fromBytes(p);
      if (t === 'SglQuoted' && !(p as SglQuoted).Dollar) {
        this.ctx.nested(lang, childFrame(this.frame, (p as SglQuoted).Value, start + 1, true));
        return;
      }
      if ((t === 'DblQuoted' && !(p as DblQuoted).Dollar) || t === 'Lit') {
        const s = t === 'Lit' ? start : start + 1;
        const raw = this.frame.text.slice(s, t === 'Lit' ? end : end - 1);
        // Without a backslash the text is what the inner shell gets, position for position.
        const text = raw.includes('\\') ? (t === 'Lit' ? unescapeBare(raw) : unescapeDouble(raw)) : raw;
        this.ctx.nested(lang, childFrame(this.frame, text, s, text === raw));
        return;
      }
    }
    this.ctx.nested(lang, childFrame(this.frame, this.decoded(word), this.fromBytes(word).start, false));
  }

  /** Several words joined by spaces (eval a b c, echo a b | sh). */
  private nestedArgs(args: readonly Arg[], lang: 'shell' | 'python'): void {
    if (args.length === 1) {
      this.nested(args[0]!.word, lang);
      return;
    }
    const text = args.map((a) => this.decoded(a.word)).join(' ');
    this.ctx.nested(lang, childFrame(this.frame, text, this.fromBytes(args[0]!.word).start, false));
  }

  /** A word's text as the inner shell would see it: quotes removed, expansions kept as written. */
  private decoded(word: Word): string {
    let out = '';
    for (const p of word.Parts) {
      const t = nodeType(p);
      const { start, end } = this.fromBytes(p);
      if (t === 'SglQuoted') out += (p as SglQuoted).Value;
      else if (t === 'DblQuoted') out += unescapeDouble(this.frame.text.slice(start + 1, end - 1));
      else if (t === 'Lit') out += unescapeBare((p as Lit).Value);
      else out += this.frame.text.slice(start, end);
    }
    return out;
  }

  /** Whether a word runs a downloader in a command or process substitution. */
  private downloads(word: Word | null): boolean {
    if (!word) return false;
    let found = false;
    walk(word, (n) => {
      this.ctx.tick(this.at(n));
      if (found) return false;
      const t = nodeType(n);
      if (t === 'CallExpr') {
        const c = this.command(n as CallExpr);
        if (c.name !== undefined && DOWNLOADERS.has(c.name)) found = true;
      }
      return t !== 'SglQuoted';
    }, () => undefined);
    return found;
  }

  private func(f: FuncDecl): void {
    const name = f.Name.Value;
    let selfCalls = 0;
    let background = false;
    walk(f.Body, (n) => {
      this.ctx.tick(this.at(n));
      const t = nodeType(n);
      if (t === 'CallExpr' && this.command(n as CallExpr).name === name) selfCalls++;
      if (t === 'Stmt' && (n as Stmt).Background && this.callsSelf(n as Stmt, name)) background = true;
      return true;
    }, () => undefined);
    if (selfCalls >= 2 && background) this.report('fork-bomb', f, `function ${name} calls itself ${selfCalls} times in the background: a fork bomb`);
  }

  private callsSelf(s: Stmt, name: string): boolean {
    let found = false;
    walk(s, (n) => {
      if (nodeType(n) === 'CallExpr' && this.command(n as CallExpr).name === name) found = true;
      return !found;
    }, () => undefined);
    return found;
  }
}


/** Inside double quotes a backslash escapes only $ ` " \\ and a newline. */
function unescapeDouble(raw: string): string {
  return raw.replace(/\\([$`"\\\n])/g, (_, c: string) => (c === '\n' ? '' : c));
}

/** Outside quotes a backslash escapes any character (and joins lines). */
function unescapeBare(raw: string): string {
  return raw.replace(/\\(.)/gs, (_, c: string) => (c === '\n' ? '' : c));
}
