/** Unified diffs of file content for reports: text files under 1 MiB only. */
import { createTwoFilesPatch } from 'diff';

export const MAX_DIFF_BYTES = 1024 * 1024;

function isText(b: Buffer): boolean {
  return !b.subarray(0, 8192).includes(0);
}

/** A unified diff from `before` (undefined: no file) to `after`; undefined for binary or big content. */
export function unifiedDiff(path: string, before: Buffer | undefined, after: Buffer | undefined): string | undefined {
  const a = before ?? Buffer.alloc(0);
  const b = after ?? Buffer.alloc(0);
  if (a.length > MAX_DIFF_BYTES || b.length > MAX_DIFF_BYTES || !isText(a) || !isText(b)) return undefined;
  return createTwoFilesPatch(before ? path : '/dev/null', after ? path : '/dev/null', a.toString('utf8'), b.toString('utf8'), '', '', { context: 3 });
}
