/**
 * One YAML file of a manifest repository, parsed with positions. Values are built by our own
 * converter, not `toJS()`: map keys are set with defineProperty (no prototype pollution),
 * `!secret <ciphertext>` scalars become SecretValue with their file:line, any other tag is an
 * error (no `!!js/function` surprises), and alias expansion is bounded (no billion laughs).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { RepoProblem } from '../../schemas/repo/problem.js';
import type { KeySegment } from '../vars/key-path.js';
import { setOwn, type VarMap } from '../vars/merge.js';
import { SecretValue } from '../vars/secret-value.js';
import type { SourcePosition } from '../vars/var-layer.js';

/** `!secret <ciphertext>`: kept as its string here; convert() turns the tagged scalar into a SecretValue. */
const secretTag = { tag: '!secret', resolve: (s: string): string => s };

/** Most values one file may expand to (aliases included). */
const MAX_NODES = 200_000;

export interface YamlFile {
  /** Path relative to the repository root, with "/" separators. */
  readonly path: string;
  /** The document's value; undefined when it could not be parsed. */
  readonly value: unknown;
  /** Problems found while parsing (syntax, unknown tags). */
  readonly problems: readonly RepoProblem[];
  /** Where a key path sits in the file: the key itself for a map entry, else the value. */
  locate(path: readonly KeySegment[]): SourcePosition | undefined;
}

/** JSON pointer of a key path ("/hosts/web-1/vars"). */
export function toPointer(path: readonly KeySegment[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Key path of a JSON pointer. */
export function fromPointer(pointer: string): KeySegment[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

export function parseYamlFile(path: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, merge: false, strict: true, customTags: [secretTag] });
  const problems: RepoProblem[] = [];
  const pos = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  for (const e of [...doc.errors, ...doc.warnings]) {
    const p = pos(e.pos[0]);
    const code = e.code === 'TAG_RESOLVE_FAILED' ? 'YAML_UNKNOWN_TAG' : 'YAML_SYNTAX';
    problems.push({ code, severity: 'error', file: path, line: p.line, column: p.column, path: '', message: firstLine(e.message) });
  }
  let value: unknown;
  if (doc.errors.length === 0) {
    const ctx: ConvertContext = { doc, path, pos, problems, count: 0 };
    try {
      value = convert(doc.contents, ctx, []);
    } catch (e) {
      if (!(e instanceof TooLargeError)) throw e;
      problems.push({ code: 'YAML_TOO_LARGE', severity: 'error', file: path, line: 1, column: 1, path: '', message: `document expands to more than ${MAX_NODES} values (alias bomb?)` });
      value = undefined;
    }
  }
  return {
    path,
    value,
    problems,
    locate: (keyPath) => locateIn(doc, keyPath, pos),
  };
}

interface ConvertContext {
  readonly doc: Document;
  readonly path: string;
  readonly pos: (offset: number) => SourcePosition;
  readonly problems: RepoProblem[];
  count: number;
}

class TooLargeError extends Error {}

function convert(node: unknown, ctx: ConvertContext, at: KeySegment[]): unknown {
  if (++ctx.count > MAX_NODES) throw new TooLargeError();
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return convert(node.resolve(ctx.doc), ctx, at);
  if (isScalar(node)) {
    if (node.tag === '!secret') {
      const p = node.range ? ctx.pos(node.range[0]) : { line: 1, column: 1 };
      if (typeof node.value !== 'string' || node.value.trim() === '') {
        problem(ctx, node, at, 'SECRET_MALFORMED', '!secret needs the ciphertext as a string (produce it with `stead vars encrypt`)');
        return null;
      }
      return new SecretValue(node.value.trim(), `${ctx.path}:${p.line}`);
    }
    if (node.tag && !node.tag.startsWith('tag:yaml.org,2002:')) {
      problem(ctx, node, at, 'YAML_UNKNOWN_TAG', `unknown tag ${node.tag} (only !secret is understood)`);
    }
    return node.value;
  }
  if (isSeq(node)) return node.items.map((item, i) => convert(item, ctx, [...at, i]));
  if (isMap(node)) {
    const out: VarMap = {};
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key;
      let key: string;
      if (isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number' || typeof k.value === 'boolean')) key = String(k.value);
      else if (k === null) key = '';
      else {
        problem(ctx, k as Node, at, 'YAML_COMPLEX_KEY', 'map keys must be plain strings');
        continue;
      }
      setOwn(out, key, convert(pair.value, ctx, [...at, key]));
    }
    return out;
  }
  problem(ctx, node as Node, at, 'YAML_UNSUPPORTED', 'unsupported YAML node');
  return null;
}

function problem(ctx: ConvertContext, node: Node, at: KeySegment[], code: string, message: string): void {
  const p = node.range ? ctx.pos(node.range[0]) : { line: 1, column: 1 };
  ctx.problems.push({ code, severity: 'error', file: ctx.path, line: p.line, column: p.column, path: toPointer(at), message });
}

function locateIn(doc: Document, path: readonly KeySegment[], pos: (o: number) => SourcePosition): SourcePosition | undefined {
  let node: unknown = doc.contents;
  let best: SourcePosition | undefined = rangeStart(node, pos);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return best;
      const last = i === path.length - 1;
      const target = last ? pair.key : (pair.value ?? pair.key);
      best = rangeStart(target, pos) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return best;
      best = rangeStart(item, pos) ?? best;
      node = item;
    } else return best;
  }
  return best;
}

function rangeStart(node: unknown, pos: (o: number) => SourcePosition): SourcePosition | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? pos(range[0]) : undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
