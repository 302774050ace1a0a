/**
 * YAML parsing that keeps positions: a parsed document plus a `locate(pointer)` that maps a
 * JSON pointer (as ajv and the semantic checks report it) back to a line and column. Lines
 * and columns are computed only when something asks for one (a problem to report): the parse
 * records no line starts, and the first `locate` indexes the text's line breaks once
 * (docs/adr/0013), giving the positions yaml's LineCounter would.
 * Syntax errors, duplicate keys, unknown tags and prototype-polluting keys ("__proto__",
 * "constructor", "prototype"; security.md D2) are reported as problems, all in one pass.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { pointerSegment, splitPointer, type ManifestProblem, type SourceLocation } from './manifest-problem.js';

/** Map keys refused anywhere in a manifest: they would poison a naive merge of variables. */
export const forbiddenKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Alias expansion limit: a "billion laughs" document fails instead of exhausting memory. */
const maxAliasCount = 1000;

export interface YamlSource {
  readonly file: string;
  /** The plain data, or undefined when the document could not be parsed. */
  readonly data: unknown;
  /** Errors and warnings from parsing, in document order. */
  readonly problems: ManifestProblem[];
  /** Where the value at `pointer` is; with `key: true`, where its map key is (unknown properties). */
  locate(pointer: string, opts?: { key?: boolean }): SourceLocation;
  /** The source text of the value at `pointer`, as written (e.g. "0644" for a number). */
  sourceText(pointer: string): string | undefined;
}

/** Parses one YAML document with positions. Never throws. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const problems: ManifestProblem[] = [];
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  let lines: LineIndex | undefined;
  const at = (offset: number): { line: number; column: number } => (lines ??= new LineIndex(text)).position(offset);

  for (const e of doc.errors) {
    const { line, column } = at(e.pos[0]);
    const duplicate = e.code === 'DUPLICATE_KEY';
    const key = duplicate ? keyTextAt(text, e.pos[0]) : undefined;
    problems.push({
      file,
      line,
      column,
      path: '',
      code: duplicate ? 'DUPLICATE_KEY' : 'YAML_SYNTAX',
      message: duplicate
        ? `duplicate key${key ? ` "${key}"` : ''}: a key may appear only once in a map (the second one would silently win)`
        : yamlMessage(e.code, e.message),
      severity: 'error',
    });
  }
  for (const w of doc.warnings) {
    const { line, column } = at(w.pos[0]);
    const unknownTag = w.code === 'TAG_RESOLVE_FAILED';
    problems.push({
      file,
      line,
      column,
      path: '',
      code: 'YAML_SYNTAX',
      message: unknownTag ? `${w.message}: tags other than the standard YAML ones are not allowed in manifests` : w.message,
      severity: unknownTag ? 'error' : 'warning',
    });
  }

  const locateNode = (pointer: string, key: boolean): { offset: number; found: boolean } => {
    let node: unknown = doc.contents;
    let keyOffset: number | undefined;
    let lastOffset = rangeStart(node) ?? 0;
    for (const seg of splitPointer(pointer)) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === seg);
        if (!pair) return { offset: lastOffset, found: false };
        keyOffset = rangeStart(pair.key) ?? lastOffset;
        node = pair.value;
        lastOffset = rangeStart(node) ?? keyOffset;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) return { offset: lastOffset, found: false };
        keyOffset = undefined;
        node = item;
        lastOffset = rangeStart(node) ?? lastOffset;
      } else {
        return { offset: lastOffset, found: false };
      }
    }
    return { offset: key && keyOffset !== undefined ? keyOffset : lastOffset, found: true };
  };

  let data: unknown;
  if (doc.errors.length === 0) {
    problems.push(...forbiddenKeyProblems(doc, file, at));
    try {
      data = doc.toJS({ maxAliasCount }) as unknown;
    } catch (err) {
      const { line, column } = at(0);
      problems.push({ file, line, column, path: '', code: 'YAML_SYNTAX', message: `cannot read the document: ${(err as Error).message}`, severity: 'error' });
    }
  }

  return {
    file,
    data,
    problems,
    locate(pointer, opts) {
      const { offset } = locateNode(pointer, opts?.key === true);
      return { file, ...at(offset), path: pointer };
    },
    sourceText(pointer) {
      let node: unknown = doc.contents;
      for (const seg of splitPointer(pointer)) {
        if (isMap(node)) node = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === seg)?.value;
        else if (isSeq(node)) node = node.items[Number(seg)];
        else return undefined;
      }
      const r = (node as Node | undefined)?.range;
      return r ? text.slice(r[0], r[1]).trim() : undefined;
    },
  };
}

/**
 * Offsets → 1-based line and column, as yaml's LineCounter reports them (a line starts at 0 and
 * after every "\n"), built from the text on first use instead of during the parse.
 */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }

  position(offset: number): { line: number; column: number } {
    const starts = this.#starts;
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (offset < starts[mid]!) high = mid;
      else low = mid + 1;
    }
    if (low === 0) return { line: 0, column: offset };
    return { line: low, column: offset - starts[low - 1]! + 1 };
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

/** The key written at `offset` (for duplicate-key messages), e.g. `path` from `path: /x`. */
function keyTextAt(text: string, offset: number): string | undefined {
  const m = /^["']?([^"':\n]+)["']?\s*:/.exec(text.slice(offset, offset + 200));
  return m?.[1]?.trim();
}

/** yaml's messages, with a hint for the mistakes people make most. */
function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  switch (code) {
    case 'TAB_AS_INDENT':
      return `${first}: indent with spaces`;
    case 'MULTIPLE_DOCS':
      return 'a manifest file holds one YAML document; remove the "---" separator or split the file';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `${first} (check the indentation and quoting on this line)`;
    default:
      return `YAML syntax: ${first}`;
  }
}

/** Every map key that could pollute Object.prototype when the data is merged naively. */
function forbiddenKeyProblems(
  doc: Document.Parsed,
  file: string,
  at: (offset: number) => { line: number; column: number },
): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, pointer: string): void => {
    if (node === null || typeof node !== 'object' || seen.has(node) || isAlias(node)) return;
    seen.add(node);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined && forbiddenKeys.has(key)) {
          const { line, column } = at(rangeStart(pair.key) ?? 0);
          out.push({
            file,
            line,
            column,
            path: `${pointer}/${pointerSegment(key)}`,
            code: 'FORBIDDEN_KEY',
            message: `the key "${key}" is not allowed in a manifest (it could alter every object when variables are merged); rename it`,
            severity: 'error',
          });
          continue;
        }
        walk(pair.value, `${pointer}/${pointerSegment(key ?? '?')}`);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, `${pointer}/${i}`));
    }
  };
  walk(doc.contents, '');
  return out;
}
