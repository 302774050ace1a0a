/**
 * GET /api/v1/revisions/:a/diff/:b: what changes from revision a to revision b, file by file,
 * as unified diffs. Bounded: files over 1 MiB or binary are reported without a diff, each diff
 * is cut at 64 KiB, at most 2000 files are listed and the whole answer holds at most 4 MiB of diffs.
 */
import { createTwoFilesPatch } from 'diff';

export const maxDiffFileBytes = 1024 * 1024;
export const maxDiffBytes = 64 * 1024;
export const maxDiffTotalBytes = 4 * 1024 * 1024;
export const maxDiffFiles = 2000;

export interface FileDiff {
  readonly path: string;
  readonly status: 'added' | 'removed' | 'modified';
  readonly diff: string;
}

function isBinary(b: Buffer): boolean {
  return b.subarray(0, 8000).includes(0);
}

export function diffRevisions(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): { files: FileDiff[]; truncated: boolean } {
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const files: FileDiff[] = [];
  let total = 0;
  let truncated = false;
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    if (x && y && x.equals(y)) continue;
    if (files.length >= maxDiffFiles) {
      truncated = true;
      break;
    }
    const status = !x ? 'added' : !y ? 'removed' : 'modified';
    let diff: string;
    if ((x && (x.length > maxDiffFileBytes || isBinary(x))) || (y && (y.length > maxDiffFileBytes || isBinary(y)))) {
      diff = `Binary or large file ${path} differs (${x?.length ?? 0} → ${y?.length ?? 0} bytes)\n`;
    } else if (total >= maxDiffTotalBytes) {
      diff = '(diff left out: the answer is at its size limit)\n';
      truncated = true;
    } else {
      const patch = createTwoFilesPatch(x ? `a/${path}` : '/dev/null', y ? `b/${path}` : '/dev/null', x?.toString('utf8') ?? '', y?.toString('utf8') ?? '', undefined, undefined, { context: 3, timeout: 2000 });
      diff = patch === undefined ? '(diff left out: too slow to compute)\n' : patch.replace(/^=+\n/m, '');
      if (diff.length > maxDiffBytes) {
        diff = `${diff.slice(0, maxDiffBytes)}\n… (diff cut at ${maxDiffBytes} bytes)\n`;
        truncated = true;
      }
    }
    total += diff.length;
    files.push({ path, status, diff });
  }
  return { files, truncated };
}
