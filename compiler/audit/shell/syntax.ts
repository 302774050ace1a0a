/**
 * The shell parser: mvdan-sh (the parser of shfmt, compiled from Go), bash dialect. This file
 * is the only one that touches it; it gives the rest of the audit typed nodes and turns Go's
 * UTF-8 byte offsets into UTF-16 indices of the parsed text.
 */
import sh from 'mvdan-sh';

const { syntax } = sh;

export interface ShPos {
  Offset(): number;
  Line(): number;
  Col(): number;
}
export interface ShNode {
  Pos(): ShPos;
  End(): ShPos;
}
export interface Lit extends ShNode { Value: string }
export interface SglQuoted extends ShNode { Value: string; Dollar: boolean }
export interface DblQuoted extends ShNode { Parts: ShNode[]; Dollar: boolean }
export interface ParamExp extends ShNode {
  Param: Lit | null;
  Short: boolean;
  Length: boolean;
  Excl: boolean;
  Index: unknown;
  Slice: unknown;
  Repl: unknown;
  Exp: { Op: number; Word: Word | null } | null;
}
export interface CmdSubst extends ShNode { Stmts: Stmt[] }
export interface ProcSubst extends ShNode { Op: number; Stmts: Stmt[] }
export interface Word extends ShNode { Parts: ShNode[] }
export interface Assign extends ShNode { Name: Lit | null; Value: Word | null; Append: boolean; Naked: boolean }
export interface CallExpr extends ShNode { Assigns: Assign[]; Args: Word[] }
export interface Redirect extends ShNode { Op: number; N: Lit | null; Word: Word | null; Hdoc: Word | null; OpPos: ShPos }
export interface Stmt extends ShNode { Cmd: ShNode | null; Background: boolean; Redirs: Redirect[]; Negated: boolean; Coprocess: boolean }
export interface BinaryCmd extends ShNode { Op: number; X: Stmt; Y: Stmt }
export interface FuncDecl extends ShNode { Name: Lit; Body: Stmt }
export interface ShFile extends ShNode { Stmts: Stmt[] }

/** mvdan/sh token values (syntax/tokens.go, as compiled into mvdan-sh 0.10.1). */
export const Tok = {
  andAnd: 10,
  orOr: 11,
  pipe: 12,
  pipeAll: 13,
  rdrOut: 54,
  appOut: 55,
  rdrIn: 56,
  rdrInOut: 57,
  dplOut: 59,
  clbOut: 60,
  hdoc: 61,
  dashHdoc: 62,
  wordHdoc: 63,
  rdrAll: 64,
  appAll: 65,
  // parameter expansion operators
  altUnset: 68, // ${x+w}
  altUnsetOrNull: 69, // ${x:+w}
  defUnset: 70, // ${x-w}
  defUnsetOrNull: 71, // ${x:-w}
  errUnset: 72, // ${x?w}
  errUnsetOrNull: 73, // ${x:?w}
  assgnUnset: 74, // ${x=w}
  assgnUnsetOrNull: 75, // ${x:=w}
} as const;

export function nodeType(n: unknown): string {
  return syntax.NodeType(n);
}

/** Visits every node depth-first; `enter` returns false to skip the children. `leave` runs after them. */
export function walk(root: unknown, enter: (n: ShNode) => boolean, leave: () => void): void {
  syntax.Walk(root, (n) => {
    if (n === null || n === undefined) {
      leave();
      return true;
    }
    return enter(n as ShNode);
  });
}

export class ShellParseError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ShellParseError';
  }
}

/** Parses bash; throws ShellParseError (offset in UTF-16 units of `text`) when it does not parse. */
export function parseShell(text: string): { file: ShFile; index: (byteOffset: number) => number } {
  const index = byteToIndex(text);
  let file: unknown;
  try {
    file = syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(text, '');
  } catch (err) {
    if (err instanceof RangeError) throw new ShellParseError('the script nests too deeply to parse', 0);
    const e = err as { Text?: unknown; Pos?: ShPos; Error?: () => string };
    const message = typeof e.Text === 'string' ? e.Text : String(e.Error?.() ?? err);
    const offset = e.Pos && typeof e.Pos.Offset === 'function' ? index(e.Pos.Offset()) : 0;
    throw new ShellParseError(message, offset);
  }
  return { file: file as ShFile, index };
}

/** Go reports UTF-8 byte offsets; the audit works in UTF-16 indices. */
function byteToIndex(text: string): (byteOffset: number) => number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return (b) => Math.min(b, text.length);
  const bytes = Buffer.byteLength(text, 'utf8');
  const map = new Int32Array(bytes + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (let k = 0; k < len; k++) map[b + k] = i;
    b += len;
    if (c >= 0x10000) i++;
  }
  map[bytes] = text.length;
  return (off) => map[Math.max(0, Math.min(off, bytes))]!;
}
