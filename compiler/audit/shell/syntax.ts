/**
 * The shell parser: mvdan-sh (the parser of shfmt, compiled from Go), bash dialect. This file
 * is the only one that touches it; it gives the rest of the audit typed nodes and turns Go's
 * UTF-8 byte offsets into UTF-16 indices of the parsed text.
 */
import { createRequire } from 'node:module';

/** The slice of mvdan-sh's API the audit uses (the package ships no types). */
interface MvdanSyntax {
  NewParser(...opts: unknown[]): { Parse(src: string, name: string): unknown };
  Variant(v: unknown): unknown;
  LangBash: unknown;
}

const { syntax } = createRequire(import.meta.url)('mvdan-sh') as { syntax: MvdanSyntax };

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
  return (n as Plain | null)?.__type ?? '';
}

/** Visits every node depth-first; `enter` returns false to skip the children. `leave` runs after them. */
export function walk(root: unknown, enter: (n: ShNode) => boolean, leave: () => void): void {
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const node = v as Plain;
    if (node.__type === undefined || !('Pos' in node)) {
      // a container that is not a node (a parameter expansion's operator and word): its children
      for (const k of node.__children) visit(node[k]);
      return;
    }
    if (enter(node as unknown as ShNode)) for (const k of node.__children) visit(node[k]);
    leave();
  };
  visit(root);
}

/**
 * mvdan-sh hands out reflection wrappers that cost hundreds of microseconds per node. The
 * GopherJS values behind them (`__internal_object__`) are plain objects: the tree is copied
 * from them once into plain nodes with the same field names, arrays for slices, null for nil,
 * and Pos()/End() answering Offset(), Line() and Col().
 */
interface Plain {
  __type: string | undefined;
  __children: string[];
  [field: string]: unknown;
}

interface GoValue {
  constructor: { string?: string; nil?: unknown };
  $array?: unknown[];
  $offset?: number;
  $length?: number;
  Pos?: () => { Offset(): number; Line(): number; Col(): number };
  End?: () => { Offset(): number; Line(): number; Col(): number };
  [k: string]: unknown;
}

function posOf(p: { Offset(): number; Line(): number; Col(): number }): ShPos {
  const o = p.Offset();
  const l = p.Line();
  const c = p.Col();
  return { Offset: () => o, Line: () => l, Col: () => c };
}

function toPlain(v: unknown, depth: number): unknown {
  if (v === null || v === undefined || typeof v !== 'object') return v ?? null;
  if (depth > 10_000) throw new RangeError('syntax tree too deep');
  const g = v as GoValue;
  if (g.$array !== undefined) {
    const out: unknown[] = [];
    for (let i = 0; i < (g.$length ?? 0); i++) out.push(toPlain(g.$array[(g.$offset ?? 0) + i], depth + 1));
    return out;
  }
  const typeName = g.constructor?.string ?? '';
  if (!typeName.startsWith('*syntax.')) return null; // positions and other values the rules never read
  if (g === g.constructor.nil) return null;
  const node: Plain = { __type: typeName.slice('*syntax.'.length), __children: [] };
  if (typeof g.Pos === 'function' && typeof g.End === 'function') {
    const pos = posOf(g.Pos());
    const end = posOf(g.End());
    node['Pos'] = () => pos;
    node['End'] = () => end;
    if (node.__type === 'Redirect' && (g['OpPos'] as { constructor?: unknown } | undefined) !== undefined) node['OpPos'] = pos;
  }
  for (const k of Object.keys(g)) {
    if (k === '$val' || k === 'Comments') continue;
    const x = g[k];
    if (x === null || x === undefined || typeof x !== 'object') {
      node[k] = x ?? null;
      continue;
    }
    const conv = toPlain(x, depth + 1);
    node[k] = conv;
    if (conv !== null && typeof conv === 'object') node.__children.push(k);
  }
  return node;
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
  const plain = toPlain((file as { __internal_object__?: unknown }).__internal_object__, 0);
  // A different mvdan-sh build could hide its values: fail loudly rather than audit an empty tree.
  if (nodeType(plain) !== 'File') throw new Error('mvdan-sh did not expose its syntax tree; the audit cannot read shell scripts with this version');
  return { file: plain as ShFile, index };
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
