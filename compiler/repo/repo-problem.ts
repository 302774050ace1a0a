/** Building and printing located repository problems. */
import type { RepoProblem } from '../../schemas/repo/problem.js';
import type { KeySegment } from '../vars/key-path.js';
import type { SourcePosition } from '../vars/var-layer.js';
import { toPointer } from './yaml-file.js';

/** A problem at `path` inside `file`, positioned with `locate` when given. */
export function problemAt(
  file: string,
  locate: ((p: readonly KeySegment[]) => SourcePosition | undefined) | undefined,
  path: readonly KeySegment[],
  code: string,
  message: string,
  extra: { severity?: 'error' | 'warning'; host?: string } = {},
): RepoProblem {
  const pos = locate?.(path);
  return {
    code,
    severity: extra.severity ?? 'error',
    file,
    ...(pos ? { line: pos.line, column: pos.column } : {}),
    path: toPointer(path),
    ...(extra.host !== undefined ? { host: extra.host } : {}),
    message,
  };
}

/** "file:line:col path: message" (the form editors and CI logs understand), with the host when known. */
export function formatRepoProblem(p: RepoProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  const host = p.host !== undefined ? ` [host ${p.host}]` : '';
  return `${where}: ${p.path || '/'}: ${tag}${p.message}${host}`;
}

export function hasRepoErrors(problems: readonly RepoProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Sorted by file, line, column, then message; exact duplicates (same place, code, message) dropped. */
export function normalizeProblems(problems: readonly RepoProblem[]): RepoProblem[] {
  const seen = new Set<string>();
  const out: RepoProblem[] = [];
  for (const p of problems) {
    const k = `${p.file}\u0000${p.line ?? 0}\u0000${p.column ?? 0}\u0000${p.path ?? ''}\u0000${p.code}\u0000${p.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
